"""The SQL mapping: per-format SQL from ``sql/mapping/`` plus one validation layer derived from the FOCUS model.

``mapped_select(fmt)`` is a single SELECT over ``{source}`` that yields every FOCUS-table column in its exact
type, plus ``_reasons`` (why the row cannot be loaded; empty when it can), ``_unmapped`` and ``_raw``. The bulk
loader runs it over files; a streaming materialized view can run it over a raw table.
"""

from __future__ import annotations

from functools import cache

from app.core import schema, settings
from app.ingest.tables import FOCUS_TABLE
from app.models.focus import MANDATORY_COLUMNS
from app.models.rules import ALLOWED_VALUES, CURRENCY_COLUMNS, ISO_4217

SOURCE = "{source}"
LOOKUPS = ("pricing_units", "regions", "services")
MAPPING_FILES = {"azure-focus": "focus"}
"""Formats sharing another's mapping: Microsoft FocusCost exports are FOCUS files with Microsoft's x_ columns."""
EXTRA_COLUMNS = (("_reasons", "Array(String)"), ("_unmapped", "Array(String)"), ("_raw", "String"))


def lookup_table(name: str) -> str:
    """Warehouse table holding lookup ``name`` (loaded from ``sql/lookups/{name}.csv``)."""
    return f"lookup_{name}"


@cache
def format_sql(fmt: str) -> str:
    """The per-format mapping SELECT (``sql/mapping/<fmt>.sql``) with lookup tables resolved."""
    path = settings.SQL_DIR / "mapping" / f"{MAPPING_FILES.get(fmt, fmt).replace('-', '_')}.sql"
    text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("--"))
    for name in LOOKUPS:
        text = text.replace("{lookup_" + name + "}", lookup_table(name))
    return text


def _literal_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "\\'") + "'" for v in values) + "]"


def rule_checks() -> list[str]:
    """Per-row FOCUS checks as SQL expressions yielding a reason or ''."""
    checks = [f"if({c} IS NULL, '{c}: mandatory value missing', '')" for c in MANDATORY_COLUMNS]
    for column, allowed in ALLOWED_VALUES.items():
        checks.append(f"if({column} IS NOT NULL AND NOT has({_literal_list(allowed)}, {column}), "
                      f"concat('{column}: not an allowed value: ', toJSONString({column})), '')")
    for column in CURRENCY_COLUMNS:
        checks.append(f"if({column} IS NOT NULL AND NOT has({_literal_list(ISO_4217)}, {column}), "
                      f"concat('{column}: not an ISO 4217 currency code: ', toJSONString({column})), '')")
    for period in ("ChargePeriod", "BillingPeriod"):
        checks.append(f"if({period}End <= {period}Start, '{period}End: not after {period}Start', '')")
    return checks


def _typed(name: str, ch_type: str) -> str:
    if name in MANDATORY_COLUMNS:
        default = {"String": "''", "DateTime": "toDateTime(0)"}.get(ch_type.removeprefix("LowCardinality(")
                                                                       .rstrip(")"), "0")
        return f"CAST(ifNull({name}, {default}) AS {ch_type}) AS {name}"
    return f"CAST({name} AS {ch_type}) AS {name}"


@cache
def mapped_select(fmt: str) -> str:
    """Mapping plus validation for ``fmt``: the exact FOCUS table columns, ``_reasons``, ``_unmapped``, ``_raw``."""
    columns = ",\n    ".join(_typed(n, t) for n, t in schema.columns(FOCUS_TABLE))
    checks = ",\n        ".join(rule_checks())
    return (f"SELECT\n    {columns},\n"
            f"    arrayConcat(_errors, arrayFilter(e -> e != '', [\n        {checks}\n    ])) AS _reasons,\n"
            f"    _unmapped,\n    if(empty(_reasons), '', _raw) AS _raw\n"
            f"FROM (\n{format_sql(fmt)}\n) AS mapped")


def mapped_columns() -> list[tuple[str, str]]:
    """Columns of the mapped stream: the FOCUS table's, then the routing columns."""
    return schema.columns(FOCUS_TABLE) + list(EXTRA_COLUMNS)
