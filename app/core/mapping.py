"""The SQL mapping: per-format SQL from ``sql/mapping/`` plus one validation layer derived from the FOCUS model.

``mapped_select(fmt)`` is a single SELECT over ``{source}`` that yields every FOCUS-table column in its exact
type, plus ``_reasons`` (why the row cannot be loaded; empty when it can) and ``_unmapped``. The bulk
loader runs it over files; a streaming materialized view can run it over a raw table.
"""

from __future__ import annotations

from functools import cache

from app.core import json_values, schema, settings
from app.core.relation import EMPTY_FIELDS, EMPTY_LINE, REPEATED_HEADER
from app.models.columns import MANDATORY_COLUMNS
from app.models.names import FOCUS_TABLE
from app.models.rules import ALLOWED_VALUES, CURRENCY_COLUMNS, ISO_4217, SERVICE_SUBCATEGORIES

SOURCE = "{source}"
PERIOD_BOUNDS = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
DATES_FROM, DATES_TO = "toDateTime('1971-01-01 00:00:00', 'UTC')", "toDateTime('2106-01-01 00:00:00', 'UTC')"
"""Charge and billing periods stored as they are written: a date outside them is a placeholder or a typo."""
LOOKUPS = ("pricing_units", "regions", "services", "resource_types")
SERVICE_ATTRIBUTES = (("service_name", "String"), ("service_category", "String"), ("service_subcategory", "String"))
DICTIONARIES: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "pricing_units": ("pricing_units", "unit_of_measure",
                      (("pricing_unit", "String"), ("block_size", "Decimal(38, 18)"))),
    "regions": ("regions", "location", (("region_id", "String"), ("region_name", "String"))),
    "services_by_resource_type": ("services", "resource_type", SERVICE_ATTRIBUTES),
    "services_by_consumed_service": ("services", "consumed_service", SERVICE_ATTRIBUTES),
    "services_by_meter_category": ("services", "meter_category", SERVICE_ATTRIBUTES),
    "services_by_name": ("services", "service_name", SERVICE_ATTRIBUTES[1:]),
    "resource_types": ("resource_types", "resource_type", (("resource_type_name", "String"),)),
}
"""Dictionaries over the lookup tables: name → (lookup, key column, attributes). Services are keyed three ways,
most specific first (ARM resource type, then consumed service, then meter category); by name for FOCUS files."""
MAPPING_FILES = {"azure-focus": "focus"}
"""Formats sharing another's mapping: Microsoft FocusCost exports are FOCUS files with Microsoft's x_ columns."""
SOURCE_TOTALS = (("_source_period", "String"), ("_source_billed", "Nullable(Decimal(38, 18))"),
                 ("_source_effective", "Nullable(Decimal(38, 18))"), ("_source_currency", "String"))
"""The file's own costs per row (before any rule), summed per billing month and currency for reconciliation."""
EXTRA_COLUMNS = (("_reasons", "Array(String)"), ("_unmapped", "Array(String)"), *SOURCE_TOTALS)
"""Routing columns after the FOCUS ones; then ``json_values.routing_columns()``."""


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
    for name in DICTIONARIES:
        text = text.replace("{dictionary_" + name + "}", f"dict_{name}")
    for fragment in sorted((settings.SQL_DIR / "fragments").glob("*.sql")):  # expressions both mappings use
        code = " ".join(line.strip() for line in fragment.read_text().splitlines() if not line.startswith("--"))
        text = text.replace("{fragment_" + fragment.stem + "}", f"({code})")
    return text.replace("{service_attributes}", "('service_name', 'service_category', 'service_subcategory')")


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join("'" + v.replace("'", "\\'") + "'" for v in values) + ")"


def rule_checks() -> list[tuple[str, str]]:
    """Per-row FOCUS checks as (failure condition, reason expression) SQL pairs."""
    checks = [(f"{c} IS NULL", f"'{c}: mandatory value missing'") for c in MANDATORY_COLUMNS]
    for column, allowed in ALLOWED_VALUES.items():
        checks.append((f"{column} IS NOT NULL AND NOT {_in_list(column, allowed)}",
                       f"concat('{column}: not an allowed value: ', toJSONString({column}))"))
    for column in CURRENCY_COLUMNS:  # prices may be in a virtual currency (FOCUS 1.2: "Credits"), a bill never
        virtual = f" AND match({column}, '^[A-Za-z]{{3}}$')" if column == "PricingCurrency" else ""
        checks.append((f"{column} IS NOT NULL{virtual} AND NOT {_in_list(column, ISO_4217)}",
                       f"concat('{column}: not an ISO 4217 currency code: ', toJSONString({column}))"))
    for period in ("ChargePeriod", "BillingPeriod"):
        checks.append((f"{period}End <= {period}Start", f"'{period}End: not after {period}Start'"))
    for column in PERIOD_BOUNDS:  # the engine clamps a date it cannot store (1/1/0001, 12/30/1899, 9999-12-31)
        checks.append((f"{column} IS NOT NULL AND NOT ({column} BETWEEN {DATES_FROM} AND {DATES_TO})",
                       f"'{column}: out of range (a date before 1971 or after 2105)'"))
    return checks


def reasons_sql() -> str:
    """``_reasons``: the format's parse errors plus failed checks; the reasons array is built only for bad rows (an
    empty line, or one of separators only, gets that one reason, not every rule it fails)."""
    checks = rule_checks()
    failed = " OR ".join(f"ifNull({cond}, false)" for cond, _ in checks)
    messages = ",\n            ".join(f"if(ifNull({cond}, false), {msg}, '')" for cond, msg in checks)
    return (f"multiIf(empty(_errors) AND NOT ({failed}), CAST([], 'Array(String)'),\n"
            f"        _errors[1] IN ('{EMPTY_LINE}', '{EMPTY_FIELDS}', '{REPEATED_HEADER}'), [_errors[1]],\n"
            f"        arrayConcat(_errors, arrayFilter(e -> e != '', [\n            {messages}\n        ])))")


def _subcategory_ok() -> str:
    pairs = ", ".join(f"('{c}', '{sub}')" for c, subs in SERVICE_SUBCATEGORIES.items() for sub in subs)
    return f"(ServiceCategory, ServiceSubcategory) IN ({pairs})"


SUBCATEGORY = ("if({ok}, ServiceSubcategory, if(ServiceCategory IS NULL, NULL, "
               "concat('Other (', ServiceCategory, ')')))")
"""A subcategory not allowed under its category in FOCUS 1.2 (e.g. a FOCUS 1.1 name) becomes Other (<category>)."""


def _typed(name: str, ch_type: str, parsed_json: bool = False) -> str:
    if parsed_json and ch_type == "JSON":
        return f"{json_values.typed_sql(name)} AS {name}"
    if name == "ServiceSubcategory":
        return f"CAST(ifNull({SUBCATEGORY.format(ok=_subcategory_ok())}, 'Other (Other)') AS {ch_type}) AS {name}"
    if name == "x_SourceColumns":  # a subcategory replaced by Other (<category>) is kept as the file wrote it
        given = "map('ServiceSubcategory', toString(assumeNotNull(ServiceSubcategory)))"
        return (f"CAST(if(ServiceSubcategory IS NULL OR {_subcategory_ok()}, {name}, "
                f"mapUpdate(CAST({name} AS Map(String, String)), {given})) AS {ch_type}) AS {name}")
    if name in MANDATORY_COLUMNS or ch_type == "JSON":
        # A NULL here fails a rule (mandatory) or came from a value that does not parse (JSON): the row is
        # quarantined for it, so the placeholder never reaches the FOCUS table.
        base = ch_type.removeprefix("LowCardinality(").removesuffix(")") if ch_type.startswith("Low") else ch_type
        default = {"String": "''", "JSON": "'{}'"}.get(base, "toDateTime(0)" if base.startswith("DateTime") else "0")
        return f"CAST(ifNull({name}, {default}) AS {ch_type}) AS {name}"
    return f"CAST({name} AS {ch_type}) AS {name}"


@cache
def mapped_select(fmt: str, json_table: str | None = None) -> str:
    """Mapping plus validation for ``fmt``: the exact FOCUS table columns, ``_reasons`` and ``_unmapped``.
    ``json_table``: JSON values parsed ahead (``json_values.prepare``), joined instead of cast row by row (a row
    whose texts were not parsed ahead has ``json_values.HIT`` 0: the stage casts them, ``staging.FileStage``)."""
    columns = ",\n    ".join(_typed(n, t, json_table is not None) for n, t in schema.columns(FOCUS_TABLE))
    join = f"\n{json_values.join_sql(json_table)}" if json_table else ""
    return (f"SELECT\n    {columns},\n"
            f"    {reasons_sql()} AS _reasons,\n"
            f"    if(ServiceSubcategory IS NULL OR {_subcategory_ok()}, _unmapped,\n"
            f"       arrayPushBack(_unmapped, concat('subcategory:', ServiceSubcategory))) AS _unmapped,\n"
            f"    {', '.join(f'CAST({n} AS {t}) AS {n}' for n, t in SOURCE_TOTALS)},\n"
            f"    {json_values.routing_sql(json_table is not None)}\n"
            f"FROM (\n{format_sql(fmt)}\n) AS mapped{join}")


def mapped_columns() -> list[tuple[str, str]]:
    """Columns of the mapped stream: the FOCUS table's, then the routing columns."""
    return schema.columns(FOCUS_TABLE) + list(EXTRA_COLUMNS) + json_values.routing_columns()
