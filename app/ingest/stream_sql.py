"""SQL of the streaming path: the bulk path's mapping (``mapping.mapped_select``) over a raw ingest table.

Two materialized views per source format read each block the topic-to-table sync inserts into the raw table:
valid rows go to ``focus_cost``, invalid rows (every reason, and the posted row as JSON) to ``focus_quarantine``.
Nothing here maps a column: the relation only presents the raw table the way the bulk reader presents a file.
"""

from __future__ import annotations

from app.core import mapping
from app.core.conventions import NATIVE_DAY_FIRST, Conventions, normalized, typed_columns
from app.core.redaction import NAME_RULES
from app.core.relation import text_value
from app.core.warehouse import SESSION_SETTINGS, quote
from app.ingest.raw import SOURCE_COLUMNS
from app.models.focus import ALL_COLUMNS
from app.models.names import FOCUS_TABLE, QUARANTINE_TABLE

MAPPING_SETTINGS = ("session_timezone", "prefer_column_name_to_alias", "json_type_escape_dots_in_keys",
                    "short_circuit_function_evaluation", "input_format_try_infer_dates",
                    "input_format_try_infer_datetimes")
"""Settings the mapping relies on; a materialized view applies its SELECT's SETTINGS clause on every insert."""

STREAM_INGESTION_ID = "ingest-api"
DAY_FIRST = "^(1[3-9]|2[0-9]|3[01])[/.-][0-9]{1,2}[/.-][0-9]{2,4}"
MONTH_FIRST = "^[0-9]{1,2}[/.-](1[3-9]|2[0-9]|3[01])[/.-][0-9]{2,4}"
"""A short date whose first (second) number is over 12: its row's dates are written day (month) first."""
LINEAGE_TEXT = ("x_SourceFile", "x_SourceDataset", "x_IngestionId")
"""Lineage a client writes as text: stored with its credentials masked (``redaction.NAME_RULES``)."""
NOT_CONTENT = ("x_SourceFile", "x_SourceRow", "x_IngestionId", "x_IngestedAt")
"""What a FOCUS row's content leaves out: its identity, and when and in which batch it came."""
ROW_KEY = 9007199254740991
"""A hash as a row number: below 2^53, exact in JSON."""


def settings_clause() -> str:
    return "SETTINGS " + ", ".join(f"{k} = {quote(SESSION_SETTINGS[k])}" for k in MAPPING_SETTINGS)


def _value(column: str) -> str:
    return text_value(f"`{column}`")


def _dataset(fmt: str) -> str:
    if fmt != "azure-cost":
        return "'FOCUS'"
    return "if(lower(ifNull(x_SourceDataset, '')) LIKE 'amorti%', 'AmortizedCost', 'ActualCost')"


def redacted(expr: str) -> str:
    """``expr`` (a name) with what ``redaction.redact_name`` masks masked: the same patterns, run by RE2."""
    for pattern, replacement in NAME_RULES:
        expr = f"replaceRegexpAll({expr}, {quote(pattern.pattern)}, {quote(replacement)})"
    return expr


def _lineage(table: str) -> str:
    """The raw table with the lineage text a client posted redacted: a signed URL is stored (and its file known)
    without its signature, so two posts of one file signed twice are the same file."""
    masked = ", ".join(f"{redacted(f'`{n}`')} AS `{n}`" for n in LINEAGE_TEXT)
    return f"(SELECT * REPLACE ({masked}) FROM {table})"


def _source_file(table: str) -> str:
    return f"ifNull(x_SourceFile, '{STREAM_INGESTION_ID}/{table}')"


def _posted_files(table: str) -> str:
    return f"(SELECT DISTINCT {_source_file(table)} FROM {_lineage(table)})"


def _new_rows(table: str, target: str, file: str, row: str) -> str:
    """A condition keeping rows whose lineage (source file, source row) ``target`` does not hold yet: posting a row
    again (a client's retry, the sync's at-least-once delivery) adds nothing."""
    return (f"(x_SourceFile, x_SourceRow) NOT IN (SELECT {file}, {row} FROM {target} "
            f"WHERE {file} IN {_posted_files(table)})")


def raw_content(raw: str) -> str:
    """The content of a posted row (its JSON ``raw``, values as strings) but its batch id, hashed."""
    return f"cityHash64(arrayFilter(kv -> kv.1 != 'x_IngestionId', JSONExtractKeysAndValues({raw}, 'String')))"


def focus_content() -> str:
    """The content of a FOCUS row (``NOT_CONTENT`` left out), hashed: what tells two rows of one identity apart."""
    return "cityHash64(toString(tuple(" + ", ".join(f"`{c}`" for c in ALL_COLUMNS if c not in NOT_CONTENT) + ")))"


def _normalized(fmt: str, column: str) -> str:
    """A posted value (trimmed: ``_posted``) as the bulk reader reads a plain file's (``conventions.normalized``); a
    short date in the order its row shows (``_day_first`` / ``_month_first``), else the format's own."""
    if column not in typed_columns(fmt)[1]:
        return normalized(fmt, Conventions(), column, f"`{column}`")
    value = f"`{column}`"  # its month name read in ``_posted``
    day_first = not NATIVE_DAY_FIRST[fmt]  # the order the format's mapping does not read by itself
    shows, parse = ("_day_first AND NOT _month_first", "parseDateTimeBestEffortOrNull") if day_first else (
        "_month_first AND NOT _day_first", "parseDateTimeBestEffortUSOrNull")
    return f"if({shows}, ifNull(toString({parse}({value})), {value}), {value})"


def _posted(fmt: str, table: str) -> str:
    """The raw table's rows: each value trimmed (NULL when empty or a literal null), the posted row as JSON
    (``_raw``), and whether the row's short dates show day first (``31/10/2026``) or month first (``10/31/2026``):
    one row has no file around it to tell, and every date of a row is written alike."""
    names = list(SOURCE_COLUMNS[fmt]) + ["x_SourceFile", "x_SourceRow", "x_SourceDataset", "x_IngestionId"]
    pairs = ", ".join(f"'{n}', toString(`{n}`)" for n in names)
    dates = "[" + ", ".join(f"ifNull({_value(c)}, '')" for c in SOURCE_COLUMNS[fmt] if c in typed_columns(fmt)[1]) + "]"
    cols = [f"{normalized(fmt, Conventions(), c, _value(c)) if c in typed_columns(fmt)[1] else _value(c)} AS `{c}`"
            for c in SOURCE_COLUMNS[fmt]]
    cols += ["x_SourceFile", "x_SourceRow", "x_SourceDataset", "x_IngestionId",
             f"toJSONString(mapFilter((k, v) -> v IS NOT NULL, map({pairs}))) AS _raw",
             f"arrayExists(d -> match(d, '{DAY_FIRST}'), {dates}) AS _day_first",
             f"arrayExists(d -> match(d, '{MONTH_FIRST}'), {dates}) AS _month_first",
             f"{raw_content('_raw')} AS _content"]
    return "(SELECT " + ", ".join(cols) + f" FROM {_lineage(table)})"


def relation(fmt: str, table: str, keyed: bool = False) -> str:
    """The raw table as the bulk relation: canonical columns (trimmed, '' and 'NULL' as NULL, normalized) and
    lineage; ``keyed``: each posted row's ``_key`` (a hash of the whole posted row) as its ``_row``, and its row
    number in ``_posted_row``, so that a mapped row finds the row it came from.

    Defaults: ``x_IngestionId`` → 'ingest-api', ``x_SourceFile`` → 'ingest-api/<table>', ``x_SourceRow`` → a
    content hash of the row but its batch id (identical rows share it), ``x_SourceDataset`` → ActualCost (Azure
    cost rows).
    """
    posted_row = f"toInt64(ifNull(x_SourceRow, toInt64(_content % {ROW_KEY})))"
    cols = [f"{_normalized(fmt, c)} AS `{c}`" for c in SOURCE_COLUMNS[fmt]]
    cols += [
        "CAST(map(), 'Map(String, String)') AS _extra",
        "CAST([], 'Array(String)') AS _row_errors",
        "_raw",
        "_content",
        f"toInt64(cityHash64(_raw) % {ROW_KEY}) AS _key",
        f"{posted_row} AS _posted_row",
        f"{'_key' if keyed else posted_row} AS _row",
        f"ifNull(x_IngestionId, '{STREAM_INGESTION_ID}') AS _ingestion_id",
        f"{_source_file(table)} AS _source_file",
        f"{_dataset(fmt)} AS _dataset",
        f"'{fmt}' AS _format",
        "toString(now64(3, 'UTC')) AS _ingested_at",
    ]
    return "(SELECT\n        " + ",\n        ".join(cols) + f"\n    FROM {_posted(fmt, table)})"


def mapped(fmt: str, table: str, keyed: bool = False) -> str:
    """The bulk path's mapping and validation over the raw table (``keyed``: ``x_SourceRow`` is the row's key)."""
    return mapping.mapped_select(fmt).replace(mapping.SOURCE, relation(fmt, table, keyed))


def focus_select(fmt: str, table: str) -> str:
    """Valid rows, as ``focus_cost`` rows: each source file and row once, and never again once held. Rows of one
    identity posted together: the one of least content (``focus_content``), then batch id, whatever their order."""
    columns = ", ".join(f"`{c}`" for c in ALL_COLUMNS)
    return (f"SELECT {columns}\nFROM (\n{mapped(fmt, table)}\n)\n"
            f"WHERE empty(_reasons) AND {_new_rows(table, FOCUS_TABLE, 'x_SourceFile', 'x_SourceRow')}\n"
            f"ORDER BY {focus_content()}, x_IngestionId\n"
            f"LIMIT 1 BY x_SourceFile, x_SourceRow\n{settings_clause()}")


def _conflict(table: str) -> str:
    """Whether a valid row is not the one its identity keeps: another content is held (``focus_cost``), or else
    another content of it posted with it is kept (``focus_select``'s choice, ``_kept``)."""
    held = f"FROM {FOCUS_TABLE} WHERE x_SourceFile IN {_posted_files(table)}"
    return (f"empty(_reasons) AND if((source_file, source_row) IN (SELECT x_SourceFile, x_SourceRow {held}),\n"
            f"    (source_file, source_row, _content) NOT IN (SELECT x_SourceFile, x_SourceRow, {focus_content()} "
            f"{held}),\n    _content != _kept)")


def _quarantined(fmt: str, table: str) -> str:
    """Every posted row mapped, with its posted row number, batch id and JSON found by its key (rows of one key
    were posted alike), its content (``focus_content``) and the content its identity keeps among its block's."""
    return (
        "SELECT r._ingestion_id AS ingestion_id, m.x_SourceFile AS source_file, r._posted_row AS source_row,\n"
        "       m.x_SourceFormat AS source_format, m._reasons AS _reasons, r._raw AS raw_row,\n"
        "       m.x_IngestedAt AS quarantined_at, r._content AS _posted_content, m._content AS _content,\n"
        "       minIf(m._content, empty(m._reasons)) OVER (PARTITION BY source_file, source_row) AS _kept\n"
        f"FROM (SELECT *, {focus_content()} AS _content FROM (\n{mapped(fmt, table, keyed=True)}\n)) AS m\n"
        f"ANY INNER JOIN (SELECT _key, _posted_row, _ingestion_id, _raw, _content FROM {relation(fmt, table, True)})"
        " AS r ON r._key = m.x_SourceRow")


def quarantine_select(fmt: str, table: str) -> str:
    """Invalid rows, as ``focus_quarantine`` rows, with every reason and the posted row as JSON, and valid rows of
    an identity that keeps another content (the first post of a row stays), with that reason: each source file,
    row and posted content (``raw_content``) once, and never again once quarantined.

    The JSON comes from a second read of the same inserted block (a view's subqueries over its source table
    read the block, not the table), joined on the row's key (``relation``).
    """
    conflict = ("[concat('x_SourceRow: ', source_file, ' row ', toString(source_row), ' is held with other content "
                "(the first post of a row stays: load its file in bulk, or abi remove it, to replace it)')]")
    held = (f"(SELECT source_file, source_row, {raw_content('raw_row')} FROM {QUARANTINE_TABLE} "
            f"WHERE source_file IN {_posted_files(table)})")
    return (
        "SELECT ingestion_id, source_file, source_row, source_format,\n"
        f"       if(empty(_reasons), {conflict}, _reasons) AS reasons, raw_row, quarantined_at\n"
        f"FROM (SELECT * FROM (\n{_quarantined(fmt, table)}\n)\nWHERE notEmpty(_reasons) OR {_conflict(table)})\n"
        f"WHERE (source_file, source_row, _posted_content) NOT IN {held}\n"
        "ORDER BY ingestion_id, raw_row\n"
        "LIMIT 1 BY source_file, source_row, _posted_content\n"
        f"{settings_clause()}"
    )
