"""Billing files: reading headers, detecting the source format, and the SQL relation that reads a file.

A file's format is detected from its header (or forced with ``--source``); its columns are matched to the
format's canonical names case-insensitively, and the relation exposes exactly those names as trimmed
``Nullable(String)`` values ('' and the literal ``NULL`` read as NULL), plus row number, raw row and lineage.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.core import archives, conventions, encodings, formats, spaced_csv
from app.core.conventions import Conventions
from app.core.encodings import open_binary
from app.core.files import BILLING_SUFFIXES
from app.core.headers import detect_source, given_columns, match_columns, unknown_header
from app.core.numbers import file_layout
from app.core.parquet import JSON_AS_TEXT, first_parquet_rows, parquet_kinds, parquet_named_copy, parquet_names
from app.core.source_error import SourceError, not_a_file

log = logging.getLogger(__name__)

SOURCES = ("azure-cost", "azure-focus", "focus")
SUFFIXES = BILLING_SUFFIXES
DELIMITERS = (",", ";", "\t")
"""CSV field separators, in order of preference: a header with a comma is comma-separated."""
PREAMBLE_LINES = 10
"""Lines a title or notes may take above the header (e.g. a report name and its date)."""
HEADER_MAX_CHARS = 1 << 20


@dataclass
class SourceFile:
    """A billing file with its detected format, dataset and column mapping."""

    path: Path
    source: str
    dataset: str
    header: list[str]
    columns: dict[str, int] = field(default_factory=dict)
    """canonical name → 0-based position in the file."""
    extras: dict[str, int] = field(default_factory=dict)
    """original name → position, for columns with no canonical home (kept in x_SourceColumns)."""
    nested: frozenset[int] = frozenset()
    """Positions of Parquet columns holding maps, lists or structs (their text is JSON, e.g. Tags as a map)."""
    typed: frozenset[int] = frozenset()
    """Positions of Parquet columns that are not text (decimals, floats, timestamps…): ``conventions`` are not
    theirs."""
    zones: dict[int, str] = field(default_factory=dict)
    """Positions of Parquet timestamp columns with a time zone → the zone (``+01:00``, ``Europe/Paris``)."""
    delimiter: str = ","
    """The CSV field separator: ``,``, or ``;`` / tab when the header holds those and no comma."""
    encoding: str = "utf-8"
    """``utf-8``, or ``cp1252`` when the file's bytes are not UTF-8 (saved by a Windows spreadsheet:
    ``encodings.detect``)."""
    utf8_checked: bool = True
    """False when only the first bytes of a UTF-8 file were checked (``encodings.detect``): its values that are not
    UTF-8 are read as Windows-1252."""
    header_line: int = 0
    """0-based line of the header: the lines above it (a preamble) are skipped."""
    conventions: Conventions = Conventions()
    """How the file writes numbers and dates (decimal comma, day-first dates), read from its first rows."""
    data_path: Path | None = None
    """A copy the engine reads instead of ``path``: a UTF-16 file's UTF-8 copy (``encodings``), or a member
    extracted from a ZIP archive (``archives``); ``discard`` removes it."""
    given: dict[str, str] = field(default_factory=dict)
    """canonical name → a value given by the user (``abi ingest --set``) for a column the file lacks or leaves
    empty (an old EA usage file has no currency column)."""

    def conventions_at(self, i: int) -> Conventions:
        """How the column at position ``i`` writes numbers and dates (a typed Parquet column: as its type says)."""
        return Conventions() if i in self.typed else self.conventions

    @property
    def readable(self) -> Path:
        """The file the readers open: ``path``, or its copy."""
        return self.data_path or self.path

    def discard(self) -> None:
        """Remove the copy, if one was made."""
        if self.data_path is not None:
            encodings.discard(self.data_path)
            self.data_path = None

    @property
    def is_parquet(self) -> bool:
        return self.path.suffix.lower() == ".parquet"

    @property
    def clickhouse_format(self) -> str:
        return "Parquet" if self.is_parquet else "CSVWithNames"

    @property
    def read_settings(self) -> dict[str, str]:
        """Settings the engine needs to read this file beyond ``warehouse.FILE_SETTINGS``: a Parquet file is read
        ahead up to 256 MiB, not 4 GiB (1 M rows in 333 k-row groups: peak RSS 1.81-1.95 GB instead of 2.26-2.51);
        a CSV file's delimiter and title lines (no file is trimmed by the reader: ``warehouse.FILE_SETTINGS``); a
        Parquet JSON column as text (``parquet.JSON_AS_TEXT``)."""
        if self.is_parquet:
            return {"input_format_parquet_memory_high_watermark": str(256 * 2**20), **JSON_AS_TEXT}
        preamble = {"input_format_csv_skip_first_lines": str(self.header_line)} if self.header_line else {}
        if self.delimiter == ",":
            return preamble
        tab = {"input_format_csv_allow_whitespace_or_tab_as_delimiter": "1"} if self.delimiter.isspace() else {}
        return {"format_csv_delimiter": self.delimiter, **tab, **preamble}

    @property
    def canonical(self) -> dict[str, tuple[str, ...]]:
        return formats.AZURE_COST_COLUMNS if self.source == "azure-cost" else formats.FOCUS_SOURCE_COLUMNS


def read_header(path: Path) -> list[str]:
    """Column names of a CSV (plain or gzip, BOM stripped, any ``DELIMITERS``) or Parquet file."""
    return _read_header(path)[0]


def _read_header(path: Path, encoding: str = "utf-8", origin: Path | None = None) -> tuple[list[str], str, int]:
    """Column names, the field separator (``,`` for Parquet) and the header's line (0-based): the first line of
    the first ``PREAMBLE_LINES + 1`` that is a billing header (a title or notes may precede it), else the first.
    ``origin``: the file to name in errors when ``path`` is its UTF-8 copy."""
    shown = origin or path
    if path.suffix.lower() == ".parquet":
        return parquet_names(path, shown), ",", 0
    if what := encodings.container(path):
        raise SourceError(shown, what)
    try:
        with open_text(path, encoding) as text:
            lines = [text.readline(HEADER_MAX_CHARS) for _ in range(PREAMBLE_LINES + 1)]
        candidates = [(*_cells(line), i) for i, line in enumerate(lines)]
    except gzip.BadGzipFile as exc:
        raise SourceError(shown, "named .gz but not gzip-compressed: rename it without .gz if it is CSV text") from exc
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(shown, f"cannot be read ({exc.__class__.__name__}: {exc})") from exc
    header, delimiter, line = next((c for c in candidates if detect_source(c[0])), candidates[0])
    if not any(header):
        raise SourceError(shown, "empty file: no header row")
    if any("\ufffd" in name for name in header):
        raise SourceError(shown, "cannot be read (the header is not text)")
    return header, delimiter, line


def _cells(line: str) -> tuple[list[str], str]:
    """A header line's names (trimmed, BOM stripped) and its field separator."""
    delimiter = next((d for d in DELIMITERS if d in line), ",")
    cells = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])  # ``a, "b"``: b
    return [cell.strip().lstrip("\ufeff").strip() for cell in cells], delimiter


def open_text(path: Path, encoding: str = "utf-8") -> io.TextIOBase:
    """The file as text; a byte its encoding does not define reads as U+FFFD (here only: the engine reads bytes)."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig" if encoding == "utf-8" else encoding,
                            newline="", errors="replace")


def first_rows(sf: SourceFile, limit: int) -> Iterator[list[str]]:
    """Up to ``limit`` data rows after the header as text (bytes that are not UTF-8 read as U+FFFD here)."""
    if sf.is_parquet:
        yield from first_parquet_rows(sf.readable, sf.path, sf.header, set(sf.columns.values()) - sf.nested, limit)
        return
    try:
        with open_text(sf.readable, sf.encoding) as text:
            for _ in range(sf.header_line):
                text.readline()
            reader = csv.reader(text, delimiter=sf.delimiter)
            next(reader, None)
            yield from (row for _, row in zip(range(limit), reader, strict=False))
    except (OSError, EOFError, zlib.error, csv.Error) as exc:
        raise SourceError(sf.path, f"cannot be read ({exc.__class__.__name__}: {exc})") from exc


def _sniff_conventions(sf: SourceFile) -> Conventions:
    """The file's number and date conventions, from its first ``conventions.SAMPLE_ROWS`` rows (of a Parquet file,
    only its text columns: a file converted from a locale's CSV with every column as text writes them so)."""
    numbers, dates = conventions.typed_columns(sf.source)
    text = {i for i in sf.columns.values() if i not in sf.typed}
    periods = tuple(sf.columns.get(n) if sf.columns.get(n) in text else None
                    for n in conventions.PERIOD_COLUMNS.get(sf.source, ()))
    number_at = [i for n, i in sf.columns.items() if n in numbers and i in text]
    date_at = [i for n, i in sf.columns.items() if n in dates and i in text]
    if not sf.is_parquet:
        sample = first_rows(sf, conventions.SAMPLE_ROWS)
    elif number_at or date_at:
        sample = first_parquet_rows(sf.readable, sf.path, sf.header, {*number_at, *date_at, *periods} - {None},
                                    conventions.SAMPLE_ROWS)
    else:  # every number and date typed: nothing to read
        return Conventions()
    return conventions.sniff(sample, number_at, date_at, periods or (None, None, None),
                             file_layout(sf.source, sf.columns, text, sf.delimiter))


def open_source(path: Path, forced_source: str | None = None, forced_dataset: str | None = None,
                given: dict[str, str] | None = None) -> SourceFile:
    """Read a file's header and detect its format; refuse files that are not billing data. ``given``: values for
    columns the file lacks or leaves empty, by any spelling of the format's column names. ``path`` may name a
    member of a ZIP archive (``usage.zip/cost.csv``: ``archives``), read through an extracted copy."""
    try:
        copy = None if path.exists() else archives.member_copy(path)
        if archives.is_archive(path):  # ``loader.ingest`` loads its members instead
            archives.members(path, refuse_empty=True)
            raise archives.ArchiveError(f"{path}: a ZIP archive: its CSV and Parquet files load one by one")
    except archives.ArchiveError as exc:
        raise SourceError(path, str(exc).removeprefix(f"{path}: ")) from exc
    except PermissionError as exc:  # a name below a folder that cannot be read
        raise SourceError(path, "cannot be read (permission denied)") from exc
    physical = copy or path
    if not physical.is_file():
        raise SourceError(path, not_a_file(physical))
    try:
        encoding, checked = ("utf-8", True) if path.suffix.lower() == ".parquet" else encodings.detect(physical)
        copy = _first_copy(path, physical, encoding, copy)
        sf = _open(path, copy, "utf-8" if encodings.is_utf16(encoding) else encoding, forced_source, given)
        if not sf.is_parquet and spaced_csv.quoted_after_space(sf.readable, sf.encoding, sf.delimiter):
            plain = _plain_copy(sf)
            if copy:
                encodings.discard(copy)
            copy = plain
            sf = _open(path, copy, "utf-8", forced_source, given)
        sf.utf8_checked = checked or sf.encoding != "utf-8"
        from app.core.datasets import detect_dataset  # it samples rows with this module's readers

        sf.dataset = detect_dataset(sf, forced_dataset)
    except BaseException:
        if copy:
            encodings.discard(copy)
        raise
    return sf


def _first_copy(path: Path, physical: Path, encoding: str, copy: Path | None) -> Path | None:
    """The copy the engine reads: a UTF-16 file's UTF-8 copy, a Parquet file's with its blank column names named
    (``parquet_named_copy``), else ``copy`` (a ZIP member's, or None); the member's is removed when replaced."""
    if encodings.is_utf16(encoding):
        made = _utf8_copy(physical, path, encoding)
    else:
        made = parquet_named_copy(physical, path) if path.suffix.lower() == ".parquet" else None
    if made and copy:
        archives.discard(copy)
    return made or copy


def _utf8_copy(path: Path, shown: Path, encoding: str) -> Path:
    try:
        return encodings.utf8_copy(path, encoding)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise SourceError(shown, f"cannot be read as UTF-16 text ({exc.__class__.__name__}: {exc})") from exc


def _plain_copy(sf: SourceFile) -> Path:
    log.warning("%s: values quoted after a space (`, \"`): read through a plain CSV copy", sf.path)
    try:
        return spaced_csv.plain_copy(sf.readable, sf.encoding, sf.delimiter)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(sf.path, f"cannot be read ({exc.__class__.__name__}: {exc})") from exc


def _open(path: Path, copy: Path | None, encoding: str, forced_source: str | None,
          given: dict[str, str] | None) -> SourceFile:
    """The SourceFile of ``path`` (read through ``copy`` when given), its dataset not yet known."""
    header, delimiter, header_line = _read_header(copy or path, encoding, origin=path)
    source = forced_source or detect_source(header)
    if source is None:
        raise SourceError(path, unknown_header(header))
    sf = SourceFile(path=path, source=source, dataset="", header=header, delimiter=delimiter,
                    encoding=encoding, header_line=header_line, data_path=copy)
    if sf.is_parquet:
        sf.nested, sf.typed, sf.zones = parquet_kinds(sf.readable, path)
    sf.columns, sf.extras = match_columns(header, sf.canonical)
    try:
        sf.given = given_columns(given or {}, sf.canonical)
    except KeyError as exc:
        raise SourceError(path, f"--set {exc.args[0]}: not a column of {source} files") from None
    sf.conventions = _sniff_conventions(sf)
    missing = _missing_required(sf)
    if missing:
        raise SourceError(path, f"not {'an' if source.startswith('a') else 'a'} {source} file: required columns "
                                f"missing: {', '.join(missing)}")
    return sf


def _missing_required(sf: SourceFile) -> list[str]:
    required = ("CostInBillingCurrency", "Date") if sf.source == "azure-cost" else ("BilledCost",)
    return [c for c in required if c not in sf.columns and c not in sf.given]
