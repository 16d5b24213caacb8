"""CSV text that puts spaces between a separator and a quoted value (``a, "b, c", d``): written by hand, by some
scripts and report tools. The engine's CSV reader takes such a value's quotes as text and splits it at its commas
(its own whitespace trimming, which would read it, misread or crashed the engine on padded values), so such a file
is read through a copy in plain CSV: the same rows and lines, each value as Python's ``csv`` reads it with
``skipinitialspace``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from app.core.encodings import open_binary, temporary_copy

SAMPLE_LINES = 200
"""Lines looked at for a quoted value after spaces (the header and the first rows)."""
QUOTED_AFTER_SPACE = re.compile(r'^[ \t]+"')


def quoted_after_space(path: Path, encoding: str, delimiter: str) -> bool:
    """Some value among the first ``SAMPLE_LINES`` lines is quoted after spaces (read plainly, it starts ``  "``)."""
    if delimiter.isspace():
        return False  # a tab-separated file: spaces before a value are the value's
    with _text(path, encoding) as text:
        lines = [line for _, line in zip(range(SAMPLE_LINES), text, strict=False)]
    try:
        return any(QUOTED_AFTER_SPACE.match(cell) for row in csv.reader(lines, delimiter=delimiter) for cell in row)
    except csv.Error:
        return False  # not readable as CSV this way: the engine's reader names the problem


def plain_copy(path: Path, encoding: str, delimiter: str) -> Path:
    """The file as plain UTF-8 CSV (values quoted only where needed, none after spaces) in a new temporary folder
    (``encodings.discard`` removes it); ``OSError``, ``EOFError`` or ``csv.Error`` when it cannot be read whole."""
    def write(out: io.TextIOBase) -> None:
        with _text(path, encoding) as text:
            # the writer quotes a value holding a character of its line end only: a lone CR ends a line for the
            # engine, so with "\n" a value holding one would be written bare and split in two rows
            writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
            writer.writerows(csv.reader(text, delimiter=delimiter, skipinitialspace=True))
    return temporary_copy(path, "plain", write)


def _text(path: Path, encoding: str) -> io.TextIOWrapper:
    """The file as text; a byte its encoding does not define goes through to the copy as it is (surrogateescape)."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="",
                            errors="surrogateescape")
