"""The files a load names (paths, folders, globs), and ZIP archives of billing files: each CSV or Parquet member
loads as a file of its own, named ``<archive>/<member>``.

A month's usage is often passed around zipped (a portal download, a mail attachment, an export copied by hand).
``abi ingest usage.zip`` (or a folder or glob holding it) loads every billing member; each is extracted to a
temporary file only while it loads, and its rows' lineage names the archive and the member
(``/data/usage.zip/EA_ActualCost.csv``), so loading the archive again replaces them like any file.
"""

from __future__ import annotations

import glob
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from app.core import scratch
from app.core.files import BILLING_SUFFIXES

ZIP_SUFFIX = ".zip"
LOADABLE = (*BILLING_SUFFIXES, ZIP_SUFFIX)
"""Files a folder's walk picks up: billing files and ZIP archives of them."""
COPY_CHUNK = 1 << 20
EXTRACT_BATCH_BYTES = 2 << 30
"""Uncompressed bytes of ZIP members copied to ``$TMPDIR`` at once: a load opens members in batches of about this
size and removes a batch's copies before the next, so a large archive needs one batch's space, not its own."""


class ArchiveError(ValueError):
    """A ZIP archive or member that cannot be read; the message says why."""


def is_archive(path: Path) -> bool:
    return path.suffix.lower() == ZIP_SUFFIX and path.is_file()


def members(archive: Path, refuse_empty: bool = False) -> list[Path]:
    """The archive's billing members as ``archive / name`` paths, in name order; folders inside the archive are kept
    (``usage.zip/2026-10/part_1.csv``), macOS resource forks and hidden files skipped. ``refuse_empty``: an archive
    without any is an ``ArchiveError``."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArchiveError(f"{archive}: not a readable ZIP archive ({exc})") from exc
    wanted = [n for n in names if n.lower().endswith(BILLING_SUFFIXES) and not hidden(n)]
    if refuse_empty and not wanted:
        raise ArchiveError(f"{archive}: a ZIP archive with no CSV or Parquet file in it")
    return [archive.joinpath(*PurePosixPath(n).parts) for n in sorted(wanted)]


def hidden(name: str) -> bool:
    """A file no billing tool wrote: a dot file (macOS's ``._cost.csv`` AppleDouble companions, ``.DS_Store``), one
    in ``__MACOSX``, or an Office lock file (``~$cost.csv``, open in Excel)."""
    return any(part.startswith((".", "~$")) or part == "__MACOSX" for part in PurePosixPath(name).parts)


def split(path: Path) -> tuple[Path, str] | None:
    """``(archive, member name)`` when ``path`` names a member of a ZIP archive on disk, else None."""
    for parent in path.parents:
        if parent.suffix.lower() == ZIP_SUFFIX and parent.is_file():
            return parent, path.relative_to(parent).as_posix()
    return None


def read_small(path: Path) -> tuple[bytes, datetime] | None:
    """A small file's bytes and modification time, also of a ZIP member (``usage.zip/run/manifest.json``); None when
    there is no such file or member, or it cannot be read."""
    try:
        if (where := split(path)) is None:
            return (path.read_bytes(), datetime.fromtimestamp(path.stat().st_mtime, UTC)) if path.is_file() else None
        with zipfile.ZipFile(where[0]) as zf:
            info = zf.getinfo(where[1])
            return zf.read(info), datetime(*info.date_time, tzinfo=UTC)
    except (OSError, KeyError, ValueError, RuntimeError, zipfile.BadZipFile):
        return None


def member_copy(path: Path) -> Path | None:
    """The extracted copy of the member ``path`` names (``extract``), or None when it names no ZIP member."""
    return extract(path) if split(path) else None


def size(path: Path) -> int:
    """Bytes the engine reads for ``path``: a file's size, a ZIP member's uncompressed size; -1 when unknown."""
    try:
        if (where := split(path)) is None:
            return path.stat().st_size
        with zipfile.ZipFile(where[0]) as zf:
            return zf.getinfo(where[1]).file_size
    except (OSError, KeyError, zipfile.BadZipFile):
        return -1


def extract(path: Path) -> Path:
    """The member ``path`` names, copied to a new temporary folder under its own file name (``discard`` removes it);
    ``ArchiveError`` when the archive or the member cannot be read whole (missing, encrypted, corrupt)."""
    where = split(path)
    if where is None:
        raise ArchiveError(f"{path}: no such file")
    archive, name = where
    folder = scratch.folder("zip")
    copy = folder / PurePosixPath(name).name
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(name) as member, open(copy, "wb") as out:
            shutil.copyfileobj(member, out, COPY_CHUNK)
    except KeyError as exc:
        discard(copy)
        raise ArchiveError(f"{path}: no such member in {archive.name}") from exc
    except (OSError, RuntimeError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
        discard(copy)  # RuntimeError: encrypted; NotImplementedError: a compression method Python cannot read
        raise ArchiveError(f"{path}: cannot be extracted from {archive.name} ({exc})") from exc
    except BaseException:
        discard(copy)
        raise
    return copy


def in_batches[T](items: list[T], path: Callable[[T], Path]) -> Iterator[list[T]]:
    """``items`` in order, in batches whose ZIP members (``path(item)``) sum to at most ``EXTRACT_BATCH_BYTES``
    uncompressed; a larger member is a batch of its own, and files read in place count nothing."""
    batch: list[T] = []
    copied = 0
    for item in items:
        member = max(0, size(path(item))) if split(path(item)) else 0
        if batch and member and copied + member > EXTRACT_BATCH_BYTES:
            yield batch
            batch, copied = [], 0
        batch.append(item)
        copied += member
    if batch:
        yield batch


def discard(copy: Path) -> None:
    """Remove an extracted member and its temporary folder."""
    shutil.rmtree(copy.parent, ignore_errors=True)


def expand_paths(patterns: list[str]) -> list[Path]:
    """Files named by paths, directories (recursively) and globs; sorted, unique. A folder's walk and a glob's
    matches keep billing files and ZIP archives only, hidden files left out (``_SUCCESS``, ``README.txt``,
    ``.DS_Store``); a file named as it is loads or is refused whatever its name. A ZIP archive stands for its
    billing members (``usage.zip/cost.csv``). A folder that cannot be read, or holds no billing file, and a glob
    matching none stand for themselves (the load refuses them, naming why): nothing is passed over unsaid."""
    found: list[Path] = []
    for pattern in patterns:
        literal = Path(pattern)  # an existing name is itself, even with glob characters (``export[1].csv``)
        matches = [literal] if _exists(literal) else _globbed(pattern) or [literal]
        for path in matches:
            found += _walk(path) if _is_dir(path) else [path]
    return sorted({_resolved(p) for p in with_members(found)}, key=str)


def _globbed(pattern: str) -> list[Path]:
    """The folders and billing files (``LOADABLE``, not ``hidden`` below the pattern's fixed folders) it matches."""
    parts = Path(pattern).parts
    fixed = Path(*parts[:next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))])
    matches = [Path(p) for p in glob.glob(pattern, recursive=True)]
    return [p for p in matches if not hidden(p.relative_to(fixed).as_posix())
            and (_is_dir(p) or p.name.lower().endswith(LOADABLE))]


def _walk(folder: Path) -> list[Path]:
    """The billing files under ``folder``, and each folder below it that cannot be read; ``folder`` alone when
    that leaves nothing."""
    found: list[Path] = []
    unreadable: list[Path] = []
    for root, dirs, names in os.walk(folder, onerror=lambda exc: unreadable.append(Path(exc.filename))):
        dirs.sort()
        found.extend(Path(root, n) for n in sorted(names) if n.lower().endswith(LOADABLE)
                     and not hidden(Path(root, n).relative_to(folder).as_posix()))
    return found + unreadable or [folder]


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # below a folder that cannot be read: refused as a file, naming why
        return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name below a folder that cannot be read
        return True


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def with_members(paths: list[Path]) -> list[Path]:
    """``paths`` with each ZIP archive replaced by its billing members (an archive without any, or that cannot be
    read, stays: it is refused with the reason)."""
    return [m for p in paths for m in _members(p)]


def _members(path: Path) -> list[Path]:
    if not is_archive(path):
        return [path]
    try:
        return members(path) or [path]
    except ArchiveError:
        return [path]
