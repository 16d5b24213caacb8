"""SQL of the streaming path: the bulk path's mapping (``mapping.mapped_select``) over a raw ingest table.

Two materialized views per source format read each block the topic-to-table sync inserts into the raw table:
valid rows go to ``focus_cost``, invalid rows (every reason, and the posted row as JSON) to ``focus_quarantine``.
Nothing here maps a column: the relation only presents the raw table the way the bulk reader presents a file.
"""

from __future__ import annotations

from app.core import mapping
from app.core.conventions import NATIVE_DAY_FIRST, Conventions, normalized, typed_columns
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


def settings_clause() -> str:
    return "SETTINGS " + ", ".join(f"{k} = {quote(SESSION_SETTINGS[k])}" for k in MAPPING_SETTINGS)


def _value(column: str) -> str:
    return text_value(f"`{column}`")


def _dataset(fmt: str) -> str:
    if fmt != "azure-cost":
        return "'FOCUS'"
    return "if(lower(ifNull(x_SourceDataset, '')) LIKE 'amorti%', 'AmortizedCost', 'ActualCost')"


def _source_file(table: str) -> str:
    return f"ifNull(x_SourceFile, '{STREAM_INGESTION_ID}/{table}')"


def _new_rows(table: str, target: str, file: str, row: str) -> str:
    """A condition keeping rows whose lineage (source file, source row) ``target`` does not hold yet: posting a row
    again (a client's retry, the sync's at-least-once delivery) adds nothing."""
    return (f"(x_SourceFile, x_SourceRow) NOT IN (SELECT {file}, {row} FROM {target} "
            f"WHERE {file} IN (SELECT DISTINCT {_source_file(table)} FROM {table}))")


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
             f"arrayExists(d -> match(d, '{MONTH_FIRST}'), {dates}) AS _month_first"]
    return "(SELECT " + ", ".join(cols) + f" FROM {table})"


def relation(fmt: str, table: str) -> str:
    """The raw table as the bulk relation: canonical columns (trimmed, '' and 'NULL' as NULL, normalized) and
    lineage.

    Defaults: ``x_IngestionId`` → 'ingest-api', ``x_SourceFile`` → 'ingest-api/<table>', ``x_SourceRow`` → a
    content hash of the row (identical rows share it), ``x_SourceDataset`` → ActualCost (Azure cost rows).
    """
    cols = [f"{_normalized(fmt, c)} AS `{c}`" for c in SOURCE_COLUMNS[fmt]]
    cols += [
        "CAST(map(), 'Map(String, String)') AS _extra",
        "CAST([], 'Array(String)') AS _row_errors",
        "_raw",
        "toInt64(ifNull(x_SourceRow, toInt64(cityHash64(_raw) % 9007199254740991))) AS _row",
        f"ifNull(x_IngestionId, '{STREAM_INGESTION_ID}') AS _ingestion_id",
        f"{_source_file(table)} AS _source_file",
        f"{_dataset(fmt)} AS _dataset",
        f"'{fmt}' AS _format",
        "toString(now64(3, 'UTC')) AS _ingested_at",
    ]
    return "(SELECT\n        " + ",\n        ".join(cols) + f"\n    FROM {_posted(fmt, table)})"


def mapped(fmt: str, table: str) -> str:
    """The bulk path's mapping and validation over the raw table."""
    return mapping.mapped_select(fmt).replace(mapping.SOURCE, relation(fmt, table))


def focus_select(fmt: str, table: str) -> str:
    """Valid rows, as ``focus_cost`` rows: each source file and row once, and never again once held."""
    columns = ", ".join(f"`{c}`" for c in ALL_COLUMNS)
    return (f"SELECT {columns}\nFROM (\n{mapped(fmt, table)}\n)\n"
            f"WHERE empty(_reasons) AND {_new_rows(table, FOCUS_TABLE, 'x_SourceFile', 'x_SourceRow')}\n"
            f"LIMIT 1 BY x_SourceFile, x_SourceRow\n{settings_clause()}")


def quarantine_select(fmt: str, table: str) -> str:
    """Invalid rows, as ``focus_quarantine`` rows, with every reason and the posted row as JSON (each source file
    and row once, and never again once quarantined).

    The JSON comes from a second read of the same inserted block (a view's subqueries over its source table
    read the block, not the table), joined on the row's lineage.
    """
    return (
        "SELECT q.x_IngestionId AS ingestion_id, q.x_SourceFile AS source_file, q.x_SourceRow AS source_row,\n"
        "       q.x_SourceFormat AS source_format, q._reasons AS reasons, r._raw AS raw_row,\n"
        "       q.x_IngestedAt AS quarantined_at\n"
        "FROM (SELECT x_IngestionId, x_SourceFile, x_SourceRow, x_SourceFormat, _reasons, x_IngestedAt\n"
        f"      FROM (\n{mapped(fmt, table)}\n)\n"
        f"      WHERE notEmpty(_reasons) AND {_new_rows(table, QUARANTINE_TABLE, 'source_file', 'source_row')}\n"
        "      LIMIT 1 BY x_SourceFile, x_SourceRow) AS q\n"
        f"LEFT ANY JOIN (SELECT _ingestion_id, _source_file, _row, _raw FROM {relation(fmt, table)}) AS r\n"
        "    ON r._ingestion_id = q.x_IngestionId AND r._source_file = q.x_SourceFile AND r._row = q.x_SourceRow\n"
        f"{settings_clause()}"
    )
