"""The SQL relation that reads one billing file as the canonical, trimmed ``Nullable(String)`` columns."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from app.core.conventions import normalized
from app.core.headers import spelling
from app.core.sources import SourceFile, open_text
from app.core.warehouse import quote

EMPTY_LINE = "row: empty line"
EMPTY_FIELDS = "row: every field is empty"
"""A line of separators only (``,,,,``: rows a spreadsheet kept below the data): one reason, not every rule."""
REPEATED_HEADER = "row: the header line again (files joined into one?)"
"""A line that repeats the header (``cat part_*.csv > month.csv`` keeps each part's): one reason, not every rule."""
FILE = "{file`'}"
"""Placeholder for the table function that reads the file (``file(...)`` embedded, ``input(...)`` on a server): a
column name quoted into the SQL (as text: ``'`` escaped; as a name: `` ` `` escaped) can never spell it."""
FIXED_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")
"""A time zone that is an offset from UTC (Arrow's ``+01:00``)."""


def _cell(sf: SourceFile, i: int, by_name: bool = False) -> str:
    """The raw text of column ``i`` (``by_name``: a CSV file read by its header's names, ``named_structure``)."""
    if not sf.is_parquet:
        cell = quoted_name(sf.header[i]) if by_name else f"c{i + 1}"
        from_1252 = f"convertCharset({cell}, 'windows-1252', 'UTF-8')"
        if sf.encoding != "utf-8":
            return from_1252
        return cell if sf.utf8_checked else f"if(isValidUTF8({cell}), {cell}, {from_1252})"
    return f"{'toJSONString' if i in sf.nested else 'toString'}({_wall_clock(sf, i, quoted_name(sf.header[i]))})"


def _wall_clock(sf: SourceFile, i: int, column: str) -> str:
    """An Azure file's timestamp with a time zone (column ``i``) as the date and time written in that zone: an Azure
    date is a calendar day (midnight in Paris, 23:00 UTC the day before, is that day), as the text path keeps it
    (``conventions.OFFSET_SQL``). Other timestamps are the instants the engine reads (UTC): a FOCUS time is one."""
    zone = sf.zones.get(i) if sf.source == "azure-cost" else None
    if zone is None:
        return column
    if offset := FIXED_OFFSET.fullmatch(zone):  # the engine knows zones by name only: UTC, then the offset added
        seconds = (int(offset[2]) * 3600 + int(offset[3]) * 60) * (-1 if offset[1] == "-" else 1)
        return f"addSeconds(toTimeZone({column}, 'UTC'), {seconds})"
    return f"toTimeZone({column}, {quote(zone)})"


def quoted_name(name: str) -> str:
    """A column name as a SQL identifier."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def text_value(expr: str) -> str:
    """``expr`` as trimmed text, NULL when empty or a literal null (``NULL``, ``null``, ``Null``, ``\\N``): trimming
    every cell and testing once measured cheaper than testing which cells need it."""
    trimmed = f"trimBoth({expr})"
    return f"if({trimmed} IN ('', 'NULL', 'null', 'Null', '\\\\N'), NULL, {trimmed})"


def _value(sf: SourceFile, i: int, by_name: bool = False) -> str:
    """Column ``i``'s trimmed text or NULL; a Parquet list, map or struct with nothing in it is NULL too (a null
    list reads as an empty one)."""
    if sf.is_parquet and i in sf.nested:
        return f"nullIf(nullIf({text_value(_cell(sf, i))}, '[]'), '{{}}')"
    return text_value(_cell(sf, i, by_name))


def _given(sf: SourceFile, name: str, expr: str) -> str:
    """``expr``, or the value given for the column (``--set``) where it is NULL."""
    if name not in sf.given:
        return expr if expr != "NULL" else "CAST(NULL AS Nullable(String))"
    value = f"CAST({quote(sf.given[name])} AS Nullable(String))"
    return value if expr == "NULL" else f"ifNull({expr}, {value})"


def _last_named(sf: SourceFile) -> int:
    """Position (1-based) of the header's last named column: a header may end in commas."""
    return max((i + 1 for i, name in enumerate(sf.header) if name), default=1)


def structure(sf: SourceFile) -> str:
    """The column structure to read a CSV file by position (the header row is skipped, not matched), plus one
    overflow column that holds the first field beyond the header's (rows may have fewer or more fields).

    Only the columns that tell a row's shape are ``Nullable`` (the first, the last named one and the overflow: a
    missing field reads as NULL there, see ``warehouse.FILE_SETTINGS``); the others read as plain ``String``, which
    parses ~25 % faster, and a missing field there reads as ''."""
    if sf.is_parquet:
        return ""
    shape = {1, _last_named(sf), len(sf.header) + 1}
    return ", ".join(f"c{i} {'Nullable(String)' if i in shape else 'String'}" for i in range(1, len(sf.header) + 2))


def _row_errors(sf: SourceFile) -> str:
    """The row's shape problems: an empty line, fewer fields than the header, a non-empty field beyond it (a field
    missing from a short row reads as NULL, a present empty field as '': see ``warehouse.FILE_SETTINGS``)."""
    if sf.is_parquet:
        return "CAST([], 'Array(String)')"
    n, named = len(sf.header), _last_named(sf)
    blank = " AND ".join(f"ifNull(c{i}, '') = ''" for i in range(1, n + 2))  # also a short line of separators
    return (f"multiIf(c1 IS NULL, ['{EMPTY_LINE}'], {blank}, ['{EMPTY_FIELDS}'], c{named} IS NULL, ['row: fewer "
            f"fields than the {named} columns of the header'], "
            f"{_repeats_header(sf)}, ['{REPEATED_HEADER}'], ifNull(c{n + 1}, '') = '', CAST([], 'Array(String)'), "
            f"[concat('row: more fields than the {n} columns of the header (first extra field: ', "
            f"toJSONString({_cell(sf, n)}), ')')])")


def _twice_named(sf: SourceFile) -> str:
    """SQL: the row's reasons (an array) where a column the mapping reads is named twice in the header (``Cost`` at
    columns 1 and 12, or ``Cost`` and ``cost`` in a Parquet file) and the two hold different values: which one is
    the cost, nothing tells."""
    def text(k: int) -> str:  # a CSV field as read, a Parquet value as text
        return _cell(sf, k) if sf.is_parquet else f"c{k + 1}"

    checks = []
    for name, i in sf.columns.items():
        for j in (j for j, h in enumerate(sf.header) if j != i and spelling(h) == spelling(sf.header[i])):
            reason = (f"concat('{name}: the header names column {quote(sf.header[i])[1:-1]} twice (columns {i + 1} "
                      f"and {j + 1}) and they differ: ', toJSONString({_cell(sf, i)}), ' and ', "
                      f"toJSONString({_cell(sf, j)}))")
            checks.append(f"if(trimBoth(ifNull({text(i)}, '')) != trimBoth(ifNull({text(j)}, '')), {reason}, '')")
    return f"arrayFilter(e -> e != '', [{', '.join(checks)}])" if checks else ""


def _repeats_header(sf: SourceFile) -> str:
    """The row is the header again: its first, middle and last named fields are those names (a BOM before the
    first and spaces around the others allowed; the first test is a cheap one, the others run only where it holds)."""
    named = _last_named(sf)
    positions = dict.fromkeys((1, (named + 1) // 2, named))
    first, *others = [f"trimBoth(replaceOne(c{i}, '\\xEF\\xBB\\xBF', '')) = {quote(sf.header[i - 1])}"
                      for i in positions]
    return " AND ".join([f"endsWith(c1, {quote(sf.header[0])})", first, *others])


def numbered_read(sf: SourceFile) -> tuple[str, dict[str, str]]:
    """The format and settings of a read whose rows ``relation_sql`` numbers by default (the embedded engine's
    ``_row_number``): a CSV file is read as ``CSV`` from its first line, its title lines and header as rows that
    the relation leaves out. Lines the reader skips itself (``CSVWithNames``, ``input_format_csv_skip_first_lines``)
    are counted by the parallel parser in every chunk but the first (``min_chunk_bytes_for_parallel_parsing``,
    10 MiB): rows past it were numbered one too high per line skipped. Same speed (1 M rows, 750 MB)."""
    if sf.is_parquet:
        return sf.clickhouse_format, sf.read_settings
    if _open_quote_above_data(sf):  # skipped by the reader, read by one parser (no chunk counts them again)
        return sf.clickhouse_format, {**sf.read_settings, "input_format_parallel_parsing": "0"}
    settings = {k: v for k, v in sf.read_settings.items() if k != "input_format_csv_skip_first_lines"}
    return "CSV", {**settings, "input_format_csv_detect_header": "0"}


def server_read(sf: SourceFile) -> tuple[str, dict[str, str]]:
    """The format and settings of a server's read of the file's data rows (a body sent to ``input()``, rows numbered
    by their order): one parser when a line above the data opens a quote, as ``numbered_read`` does (the parallel
    segmenter, counting quotes from the first byte, would cut quoted values with line breaks into rows)."""
    if not sf.is_parquet and _open_quote_above_data(sf):
        return sf.clickhouse_format, {**sf.read_settings, "input_format_parallel_parsing": "0"}
    return sf.clickhouse_format, sf.read_settings


@functools.lru_cache(maxsize=64)
def _lines_with_open_quote(path: Path, encoding: str, lines: int) -> bool:
    with open_text(path, encoding) as text:
        return any(line.count('"') % 2 for _, line in zip(range(lines), text, strict=False))


def _open_quote_above_data(sf: SourceFile) -> bool:
    """A title line or header with an odd number of quotes (``Report "Contoso``): read as a CSV row it would
    open a quoted value that swallows the rows below, so such a file keeps its lines skipped by the reader."""
    return _lines_with_open_quote(sf.readable, sf.encoding, sf.header_line + 1)


def _numbered(sf: SourceFile) -> tuple[str, str]:
    """A row's number (1 = the first data row) in a ``numbered_read`` and the filter that leaves out the lines
    above the first data row."""
    if sf.is_parquet or _open_quote_above_data(sf):
        return "_row_number + 1", ""
    return f"toInt64(_row_number) - {sf.header_line}", f" WHERE _row_number > {sf.header_line}"


def relation_sql(sf: SourceFile, lineage: dict[str, str], row_number: str | None = None,
                 computed: dict[str, str] | None = None) -> str:
    """SELECT over ``{file}`` exposing the format's canonical columns, ``_extra``, ``_raw``, ``_row`` and lineage
    (``lineage``: values; ``computed``: SQL, e.g. the source file of each row when ``{file}`` reads several).
    ``{file}`` is a ``numbered_read``, or, with ``row_number`` (the SQL of a row's number), a read of the data
    rows alone (``SourceFile.clickhouse_format``, e.g. a ClickHouse server's)."""
    number, where = (row_number, "") if row_number else _numbered(sf)
    cols = [f"{_given(sf, name, normalized(sf.source, sf.conventions_at(i), name, _value(sf, i)))} AS `{name}`"
            for name, i in sf.columns.items()]
    cols += [f"{_given(sf, name, 'NULL')} AS `{name}`" for name in sf.canonical if name not in sf.columns]
    extras = ", ".join(f"{quote(name)}, ifNull({_value(sf, i)}, '')" for name, i in sf.extras.items())
    cols.append(f"mapFilter((k, v) -> v != '', map({extras})) AS _extra" if extras
                else "CAST(map(), 'Map(String, String)') AS _extra")
    twice = _twice_named(sf)
    cols.append(f"arrayConcat({_row_errors(sf)}, {twice}) AS _row_errors" if twice else
                f"{_row_errors(sf)} AS _row_errors")
    raw = ", ".join(f"{quote(h)}, {_cell(sf, i)}" for i, h in enumerate(sf.header))
    cols.append(f"toJSONString(map({raw})) AS _raw")
    cols.append(f"toInt64({number}) AS _row")
    cols += [f"{quote(value)} AS {name}" for name, value in lineage.items()]
    cols += [f"{sql} AS {name}" for name, sql in (computed or {}).items()]
    return "(SELECT\n        " + ",\n        ".join(cols) + f"\n    FROM {FILE}{where})"


def named_structure(sf: SourceFile, names: list[str]) -> str:
    """The structure that reads only canonical columns ``names`` of a CSV file, by its header's names (the other
    fields are skipped, not parsed: see ``NAMED_READ``)."""
    return ", ".join(f"{quoted_name(sf.header[sf.columns[name]])} String" for name in names)


NAMED_READ = {"input_format_with_names_use_header": "1", "input_format_skip_unknown_fields": "1"}
"""Settings of a read by ``named_structure``: a file's other columns are skipped (~2.5 times faster)."""


def columns_relation_sql(sf: SourceFile, names: list[str], rows: int) -> str:
    """A relation like ``relation_sql`` of the file's first ``rows`` rows, holding only canonical columns ``names``
    (the others NULL, lineage empty): what a mapping needs to work out those columns' values alone. A CSV file is
    read by ``named_structure``."""
    cols = [f"{_given(sf, name, normalized(sf.source, sf.conventions_at(i), name, _value(sf, i, by_name=True)))} "
            f"AS `{name}`" if name in names else f"{_given(sf, name, 'NULL')} AS `{name}`"
            for name, i in sf.columns.items()]
    cols += [f"{_given(sf, name, 'NULL')} AS `{name}`" for name in sf.canonical if name not in sf.columns]
    cols += ["CAST(map(), 'Map(String, String)') AS _extra", "CAST([], 'Array(String)') AS _row_errors",
             "'' AS _raw", "toInt64(0) AS _row"]
    cols += [f"'' AS {name}" for name in ("_ingestion_id", "_ingested_at", "_source_file")]
    cols += [f"{quote(sf.dataset)} AS _dataset", f"{quote(sf.source)} AS _format"]
    return "(SELECT\n        " + ",\n        ".join(cols) + f"\n    FROM (SELECT * FROM {FILE} LIMIT {rows}))"
