"""File names the engine reads and writes: plain names for files whose names it would read as globs, several files
linked under one directory, and outputs that appear only once written whole."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from app.core import scratch
from app.core.settings import LOCALE_NAME, engine_text

GLOB_CHARACTERS = re.compile(r"[*?{}\[\]]")
BILLING_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".gz")
"""Names of files that load (on disk, in buckets and inside ZIP archives)."""


@contextmanager
def written_whole(out: Path, check: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """A hidden file beside ``out`` to write, renamed to ``out`` when the block succeeds, removed when it fails.
    Before the rename the file is synced to disk, ``check`` is called on it (it raises ``OSError`` when the file
    is not whole: the embedded engine does not report a short write on a full disk) and it gets the permissions of
    the file it replaces. A link is written through (the
    file it names is replaced, the link kept); a named pipe, device or socket is refused (``OSError``): renaming over
    it would replace it with a plain file that no reader sees."""
    named, out = Path(os.path.abspath(out)), out.resolve() if out.is_symlink() else out
    if {named.parts[1:2], out.parts[1:2]} & {("dev",), ("proc",)} or (out.exists() and not out.is_file()):
        raise OSError(f"{named} is {_kind(out)}, not a regular file: name a file to write")
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.partial")
    try:
        yield part
        _synced(part)
        if check is not None:
            check(part)
        _same_access(part, out)
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)


def _same_access(part: Path, out: Path) -> None:
    """Give ``part`` the permission bits (and, as root, the owner) of the file ``out`` it replaces: a private export
    (mode 600) stays private."""
    try:
        held = out.stat()
    except FileNotFoundError:
        return  # a new file: the umask's permissions
    if os.geteuid() == 0 and (held.st_uid, held.st_gid) != (0, 0):
        with suppress(PermissionError):  # root squashed on a network file system: the bits still hold
            os.chown(part, held.st_uid, held.st_gid)
    os.chmod(part, stat.S_IMODE(held.st_mode))


def _synced(path: Path) -> None:
    """Flush ``path`` to disk (a file system may report a full disk only then)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def whole_output(path: Path, fmt: str, rows: int | None) -> None:
    """Raise ``OSError`` unless ``path`` holds a whole output of format ``fmt`` (of ``rows`` rows, when known): a
    Parquet file's footer (written last) with that row count; a text file ending its last line, with a line per row
    at least (a value holding a line break adds lines)."""
    if fmt == "Parquet":
        import pyarrow.parquet as pq

        try:
            found = pq.read_metadata(path).num_rows
        except (OSError, ValueError):  # no footer: pyarrow's ArrowInvalid is a ValueError
            found = None
        if found is None or (rows is not None and found != rows):
            _incomplete(path, f"{found or 0} of {rows} rows" if rows is not None else "no Parquet footer")
        return
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 1))
        if path.stat().st_size and f.read(1) != b"\n":
            _incomplete(path, "its last line is cut short")
        if rows is None:
            return
        f.seek(0)
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        if lines < rows + ("WithNames" in fmt):
            _incomplete(path, f"{lines} lines for {rows} rows")


def _incomplete(path: Path, how: str) -> None:
    """Raise the error of a written file found incomplete: a full disk when its file system has no room left."""
    space = os.statvfs(path.parent)
    if space.f_bavail * space.f_frsize < 1 << 20:
        raise OSError(f"no space left on device: the written file is incomplete ({how})")
    raise OSError(f"the written file is incomplete ({how})")


def text_name(path: Path) -> bool:
    """Whether ``path`` is text the engine can take: a name whose bytes are not UTF-8 (``r\xe9sum\xe9.csv``, written
    in Latin-1) holds lone surrogates in Python, which no query, log table or JSON string can carry."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_name(path: Path) -> str:
    """``path`` as text, its bytes that are not UTF-8 shown as ``\\xe9``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def engine_name(path: Path) -> bool:
    """Whether the engine can be handed ``path``: UTF-8 text (``text_name``) that names the file in this locale."""
    return text_name(path) and engine_text(path)


def untext_name(path: Path) -> str:
    """Why a file whose name is not UTF-8 text, or not in this locale's encoding, is refused."""
    if text_name(path) or _utf8(os.fsencode(path)):
        return f"{shown_name(path)}: {LOCALE_NAME}"
    return f"{shown_name(path)}: its name is not UTF-8 text (written in another encoding): rename the file to load it"


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _kind(path: Path) -> str:
    if not path.exists():
        return "a descriptor"  # /dev/stdout on a pipe: /proc/<pid>/fd/pipe:[…]
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return "a descriptor"  # /dev/stdout redirected to a file
    return ("a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "a device")


@contextmanager
def glob_free(path: Path) -> Iterator[Path]:
    """``path``, or a link to it with a plain name when it holds characters ``file()`` reads as a glob
    (``*?{}[]``: ``cost {2024}.csv`` would otherwise name no file, and load nothing)."""
    if not GLOB_CHARACTERS.search(str(path)) and engine_text(path):  # else also a scratch copy in a Latin-1 TMPDIR
        yield path
        return
    with scratch.temporary("file") as tmp, plain_folder(tmp) as plain:
        link = tmp / f"billing{_suffix(path)}"
        link.symlink_to(path.resolve())
        yield plain / link.name


@contextmanager
def plain_folder(folder: Path) -> Iterator[Path]:
    """``folder`` named without glob characters for the engine's ``file()``: itself, or when its path holds some (a
    scratch folder in a ``TMPDIR`` such as ``/tmp/{a,b}``) ``/proc/self/fd/N``, this process's descriptor of it (the
    engine runs in this process)."""
    if not GLOB_CHARACTERS.search(str(folder)) and engine_text(folder):  # else also a non-ASCII TMPDIR, Latin-1
        yield folder
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield Path(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def _suffix(path: Path) -> str:
    """The suffix the engine reads a billing file's format and compression from."""
    name = path.name.lower()
    return ".parquet" if name.endswith(".parquet") else ".csv.gz" if name.endswith(".gz") else ".csv"


def linked_names(paths: list[Path]) -> list[str]:
    """Plain names (``f0.csv``, ``f1.csv.gz``…) under which ``insert_files`` reads ``paths``, in order."""
    return [f"f{i}{_suffix(path)}" for i, path in enumerate(paths)]
