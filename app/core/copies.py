"""Copies in one load: files holding the same data (``cost.csv`` and its re-download ``cost (1).csv``, a file beside
its gzip copy or a ZIP archive holding it). The first is loaded and the others skipped with the reason: loading both
would count every cost twice, and a load's files are all kept (they replace only earlier loads).

Only files of equal data size are compared (a gzip file's own trailer gives its size, a ZIP member's the archive's
directory), so a load of files of distinct sizes reads nothing more; equal sizes are read and hashed whole.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.core import archives, encodings

CHUNK = 4 * 2**20


def same_content(paths: list[Path]) -> dict[Path, Path]:
    """Each file of ``paths`` holding the same data as an earlier one of ``paths``, with that earlier file."""
    by_size: dict[int, list[Path]] = defaultdict(list)
    for path in paths:
        if (size := data_size(path)) > 0:
            by_size[size].append(path)
    copied: dict[Path, Path] = {}
    for group in (g for g in by_size.values() if len(g) > 1):
        first: dict[str, Path] = {}
        for path in group:
            if (digest := _digest(path)) is not None:
                copied.update({path: first[digest]} if digest in first else {})
                first.setdefault(digest, path)
    return copied


def skipped_copy(copy: Path, first: Path) -> str:
    """Why ``copy`` is skipped."""
    return f"{copy}: skipped: the same data as {first}, loaded in this load (a copy: loading both would count its " \
           "costs twice)"


def refused_copies(files: list, copied: dict[Path, Path]) -> None:
    """A copy of a file the load refused is refused for the same reason (``files``: the load's ``FileResult``)."""
    by_path = {f.path: f for f in files}
    for copy, first in copied.items():
        if (origin := by_path[str(first)]).error:
            by_path[str(copy)].skipped = None
            by_path[str(copy)].error = origin.error.replace(origin.path, str(copy))


def data_size(path: Path) -> int:
    """The bytes of data ``path`` holds once decompressed: a gzip file's from its trailer (modulo 4 GiB), a ZIP
    member's from its archive; -1 when unknown."""
    if archives.split(path) is not None:
        return archives.size(path)
    try:
        if path.suffix.lower() != ".gz":
            return path.stat().st_size
        with open(path, "rb") as raw:
            raw.seek(-4, io.SEEK_END)
            return int.from_bytes(raw.read(4), "little")
    except OSError:
        return -1


def _digest(path: Path) -> str | None:
    """A hash of the data ``path`` holds (decompressed); None when it cannot be read whole (the load says why)."""
    digest = hashlib.blake2b(digest_size=20)
    try:
        with _open(path) as data:
            while chunk := data.read(CHUNK):
                digest.update(chunk)
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, gzip.BadGzipFile, zlib.error):
        return None
    return digest.hexdigest()


@contextmanager
def _open(path: Path) -> Iterator[io.BufferedIOBase]:
    if (where := archives.split(path)) is None:
        with encodings.open_binary(path) as data:
            yield data
        return
    with zipfile.ZipFile(where[0]) as archive, archive.open(where[1]) as member:
        yield member
