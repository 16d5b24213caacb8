"""File names the engine reads and writes: plain names for files whose names it would read as globs, several files
linked under one directory, and outputs that appear only once written whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.core import scratch

GLOB_CHARACTERS = re.compile(r"[*?{}\[\]]")
BILLING_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".gz")
"""Names of files that load (on disk, in buckets and inside ZIP archives)."""


@contextmanager
def written_whole(out: Path) -> Iterator[Path]:
    """A hidden file beside ``out`` to write, renamed to ``out`` when the block succeeds, removed when it fails."""
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.partial")
    try:
        yield part
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)


@contextmanager
def glob_free(path: Path) -> Iterator[Path]:
    """``path``, or a link to it with a plain name when it holds characters ``file()`` reads as a glob
    (``*?{}[]``: ``cost {2024}.csv`` would otherwise name no file, and load nothing)."""
    if not GLOB_CHARACTERS.search(str(path)):
        yield path
        return
    with scratch.temporary("file") as tmp:
        link = tmp / f"billing{_suffix(path)}"
        link.symlink_to(path.resolve())
        yield link


def _suffix(path: Path) -> str:
    """The suffix the engine reads a billing file's format and compression from."""
    name = path.name.lower()
    return ".parquet" if name.endswith(".parquet") else ".csv.gz" if name.endswith(".gz") else ".csv"


def linked_names(paths: list[Path]) -> list[str]:
    """Plain names (``f0.csv``, ``f1.csv.gz``…) under which ``insert_files`` reads ``paths``, in order."""
    return [f"f{i}{_suffix(path)}" for i, path in enumerate(paths)]
