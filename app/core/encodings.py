"""Text encodings of billing files: UTF-8 (the engine reads it as is), Windows-1252 (converted in SQL), and
UTF-16 (Excel's "Unicode Text"), which the engine cannot read: such a file is read through a UTF-8 copy."""

from __future__ import annotations

import codecs
import gzip
import io
import re
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path

from app.core import scratch

ENCODING_SAMPLE_BYTES = 1 << 22
SCAN_CHUNK_BYTES = 1 << 20
"""Bytes read at a time when the rest of a file is scanned for UTF-8 (``detect``)."""
WINDOWS_1252 = "cp1252"
UTF_16 = "utf-16"
UTF_16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
CHUNK_CHARS = 1 << 20
UTF_8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
"""A character of two or more bytes in UTF-8: in a sample that is not UTF-8 as a whole, the mark of a file that mixes
UTF-8 and Windows-1252 (Windows-1252 text hardly ever holds one: ``Ã©`` is its spelling of ``é`` read wrongly)."""


def open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")  # noqa: SIM115


CONTAINERS = (
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook, not CSV text: save a sheet as CSV and load that; name an "
                     "archive *.zip to load the CSV and Parquet files in it"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive, not CSV text: extract its CSV files and load those"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook, not CSV text: save the sheet as CSV and load that"),
    (b"\x1f\x8b", "gzip-compressed text without a .gz name: name it *.csv.gz to load it"),
    (b"PAR1", "a Parquet file without a .parquet name: name it *.parquet to load it"),
)
"""Leading bytes of files often taken for billing exports, and what to do with them."""
GZIPPED_PARQUET = ("gzip-compressed Parquet: the engine reads a Parquet file as it is (compressed inside, page by "
                   "page): decompress it (gunzip) and load the .parquet file")


def container(path: Path) -> str | None:
    """What the file is and what to do, when it is an archive or a workbook (not text)."""
    try:
        with open_binary(path) as raw:
            head = raw.read(8)
    except (OSError, EOFError, zlib.error):
        return None
    if head.startswith(b"PAR1") and path.suffix.lower() == ".gz":
        return GZIPPED_PARQUET
    return next((what for magic, what in CONTAINERS if head.startswith(magic)), None)


def gzipped(path: Path) -> str | None:
    """What a file that should be Parquet is when it is gzip-compressed, and what to do; None when it is not."""
    try:
        with open(path, "rb") as raw:
            if raw.read(2) != b"\x1f\x8b":
                return None
        with gzip.open(path, "rb") as inflated:
            parquet = inflated.read(4) == b"PAR1"
    except (OSError, EOFError, zlib.error):
        parquet = False
    return GZIPPED_PARQUET if parquet else "gzip-compressed, not Parquet: decompress it (gunzip) and load what it holds"


def detect(path: Path) -> tuple[str, bool]:
    """The file's encoding, and whether every byte of it was checked: ``utf-16`` for a file that starts with a UTF-16
    byte order mark (``utf-16-le``/``-be`` for one without, ``_bomless_utf16``); Windows-1252 for one whose first
    ``ENCODING_SAMPLE_BYTES`` are not UTF-8; else ``utf-8``, unless that sample is ASCII alone (no byte order mark,
    no accent: it says nothing of the encoding) and the rest of the file is not UTF-8 either (a Windows
    spreadsheet's "CSV" whose first accent comes late). A sample that is not UTF-8 but holds UTF-8 characters too
    mixes the two: unchecked UTF-8. Unchecked: a UTF-8 file longer than the sample that neither says so (byte order
    mark) nor was scanned whole (a gzip file: inflating it in Python costs ~2 s a GB; a sample with accents): a
    value in it that is not UTF-8 is read as Windows-1252 (``relation``), as in a file that mixes the two."""
    try:
        with open_binary(path) as raw:
            head = raw.read(ENCODING_SAMPLE_BYTES)
            if head.startswith(UTF_16_BOMS):
                return UTF_16, True
            if bomless := _bomless_utf16(head):
                return bomless, True
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            if len(head) < ENCODING_SAMPLE_BYTES or head.startswith(codecs.BOM_UTF8):
                return "utf-8", True
            if head.isascii() and path.suffix.lower() != ".gz":
                _scan_utf8(raw)
                return "utf-8", True
    except UnicodeDecodeError:
        return ("utf-8", False) if UTF_8_SEQUENCE.search(head) else (WINDOWS_1252, True)  # mixed: value by value
    except (OSError, EOFError, zlib.error):
        return "utf-8", True  # unreadable: the header read names the problem
    return "utf-8", False


def _bomless_utf16(head: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` for UTF-16 text without a byte order mark (a header's ASCII letters: every
    other byte NUL, at odd or even positions), else None."""
    sample = head[:512 - 512 % 2] if len(head) >= 512 else head[:len(head) - len(head) % 2]
    even, odd = sample[0::2], sample[1::2]
    if len(even) < 8:
        return None
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _scan_utf8(raw: io.BufferedIOBase) -> None:
    """Read ``raw`` to its end, raising ``UnicodeDecodeError`` at bytes that are not UTF-8; ASCII chunks are only
    tested (``isascii``), read into one buffer: 788 MB in ~0.2 s, mostly the copy from the page cache."""
    decoder, buffer = codecs.getincrementaldecoder("utf-8")(), bytearray(SCAN_CHUNK_BYTES)
    while n := raw.readinto(buffer):
        chunk = buffer if n == len(buffer) else buffer[:n]
        if not chunk.isascii() or decoder.getstate()[0]:
            decoder.decode(chunk)
    decoder.decode(b"", final=True)


def is_utf16(encoding: str) -> bool:
    """``encoding`` is one of ``detect``'s UTF-16 ones (with a byte order mark, or without: ``utf-16-le``/``-be``)."""
    return encoding.startswith(UTF_16)


def utf8_copy(path: Path, encoding: str = UTF_16) -> Path:
    """The UTF-16 file ``path`` (plain or gzip, in ``encoding``) as a UTF-8 CSV in a new temporary folder (``discard``
    removes it); ``UnicodeDecodeError``, ``OSError`` or ``EOFError`` when it cannot be read whole."""
    def write(out: io.TextIOBase) -> None:
        with io.TextIOWrapper(open_binary(path), encoding=encoding, newline="") as text:
            while chunk := text.read(CHUNK_CHARS):
                out.write(chunk)
    return temporary_copy(path, "utf8", write)


def temporary_copy(path: Path, kind: str, write: Callable[[io.TextIOBase], None]) -> Path:
    """A UTF-8 file that ``write`` fills, named after ``path`` in a new temporary folder (``discard`` removes it,
    as does a failed ``write``)."""
    folder = scratch.folder(kind)
    copy = folder / f"{path.name.removesuffix('.gz')}.{kind}.csv"
    try:
        with open(copy, "w", encoding="utf-8", newline="", errors="surrogateescape") as out:
            write(out)
    except BaseException:
        discard(copy)
        raise
    return copy


def discard(copy: Path) -> None:
    """Remove a copy made by ``temporary_copy`` and its folder."""
    shutil.rmtree(copy.parent, ignore_errors=True)
