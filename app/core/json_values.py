"""JSON columns parsed once per distinct value: a file's distinct Tags and SkuPriceDetails, cast before the load.

Casting text to ClickHouse's ``JSON`` type costs ~0.7 µs per key per row (Tags with 3 keys: 2.3 CPU-s a million
rows, with 8 keys: 5.8), while copying a parsed value costs ~0.2 µs. A billing file repeats the same few tag sets
and price details on every row of a resource, so before the load ABI reads only those columns (by header name,
the other fields skipped), maps them with the format's own SQL, and casts each distinct pair once into a small
table; the load joins each row to it (``mapping.mapped_select``). A row whose text is not in the table (a value first
seen past the rows read ahead) is routed to a view that casts its text (``HIT``), so the join only saves work.
"""

from __future__ import annotations

import logging
from functools import cache

from app.core import schema
from app.core.relation import FILE, NAMED_READ, columns_relation_sql, named_structure
from app.core.sources import SourceFile
from app.core.warehouse import Warehouse, WarehouseError
from app.models.names import FOCUS_TABLE

log = logging.getLogger(__name__)

SOURCE_COLUMNS = {"azure-cost": ("Tags", "AdditionalInfo"), "azure-focus": ("Tags", "SkuPriceDetails"),
                  "focus": ("Tags", "SkuPriceDetails")}
"""The source columns each format's mapping makes its JSON columns from (``sql/mapping/``)."""
SAMPLE_ROWS = 200_000
"""Rows read ahead: an export repeats each resource's tags and details every day, so its first rows hold nearly all
of them (reading the whole file's two columns cost as much as the casts it saved); values first seen later are
cast row by row."""
MAX_DISTINCT = 50_000
"""More distinct pairs than this (tags unique to each row) and the file is cast row by row, as without the table."""
MIN_BYTES = 8 * 2**20
"""Smaller files are cast row by row: reading the columns first would cost more than it saves."""


@cache
def json_columns() -> tuple[str, ...]:
    """The FOCUS table's JSON columns (Tags, SkuPriceDetails), from the declaration."""
    return tuple(name for name, ch_type in schema.columns(FOCUS_TABLE) if ch_type == "JSON")


def key(column: str) -> str:
    """The text a load casts to JSON for ``column`` of a mapped row: the join key."""
    return f"ifNull(`{column}`, '{{}}')"


def prepare(wh: Warehouse, sf: SourceFile, table: str) -> bool:
    """Create ``table`` (database-qualified) holding each distinct pair of JSON column texts of ``sf`` with its
    parsed values; False (and no table) when the file is small, lacks the columns, or has too many pairs."""
    from app.core import mapping  # mapping joins to the table this makes

    names = [n for n in SOURCE_COLUMNS.get(sf.source, ()) if n in sf.columns]
    if not names or sf.readable.stat().st_size < MIN_BYTES:
        return False
    keys = ", ".join(f"{key(c)} AS `_key_{c}`" for c in json_columns())
    distinct = (f"SELECT DISTINCT {keys} FROM ({mapping.format_sql(sf.source)}) AS mapped "
                f"LIMIT {MAX_DISTINCT + 1}").replace(mapping.SOURCE, columns_relation_sql(sf, names, SAMPLE_ROWS))
    parsed = ", ".join(f"`_key_{c}`, CAST(`_key_{c}` AS JSON) AS `_json_{c}`" for c in json_columns())
    create = f"CREATE TABLE {table} ENGINE = Memory AS SELECT {parsed}, toUInt8(1) AS _hit FROM ({distinct})"
    structure = "" if sf.is_parquet else named_structure(sf, names)
    try:
        wh.insert_file(create, FILE, sf.readable, sf.clickhouse_format, structure, {**sf.read_settings, **NAMED_READ})
        pairs = int(wh.scalar(f"SELECT count() FROM {table}"))
    except WarehouseError as exc:  # a value the load's own cast refuses is reported by the load
        log.debug("%s: JSON values not parsed ahead: %s", sf.path, exc)
        pairs = MAX_DISTINCT + 1
    if pairs > MAX_DISTINCT:
        wh.command(f"DROP TABLE IF EXISTS {table}")
        return False
    log.debug("%s: %d distinct JSON value pairs parsed ahead", sf.path, pairs)
    return True


def join_sql(table: str) -> str:
    """The join of mapped rows to ``table`` (made by ``prepare``)."""
    on = " AND ".join(f"{key(c).replace('`' + c + '`', 'mapped.`' + c + '`')} = _json.`_key_{c}`"
                      for c in json_columns())
    return f"LEFT ANY JOIN {table} AS _json ON {on}"


def typed_sql(column: str) -> str:
    """JSON column ``column`` of a mapped row: its value parsed ahead (the type's empty value where its text was not
    in the table: such a row is routed by ``HIT`` to a view that casts ``text_column(column)``)."""
    return f"_json.`_json_{column}`"


HIT = "_json_hit"
"""Routing column of a mapped row: 1 when its JSON values were parsed ahead (or cast in the row), 0 when they must
be cast from their texts: copying parsed values through ``if()`` per row cost 2.5 CPU-s a million rows."""


def text_column(column: str) -> str:
    """Routing column holding the text to cast for JSON column ``column`` where ``HIT`` is 0."""
    return f"_json_text_{column}"


def routing_columns() -> list[tuple[str, str]]:
    """The routing columns of a mapped row: ``HIT`` and each JSON column's text."""
    return [(HIT, "UInt8")] + [(text_column(c), "String") for c in json_columns()]


def routing_sql(joined: bool) -> str:
    """SQL of the routing columns: from the join to the table ``prepare`` made, or (values cast in the row) a hit."""
    if not joined:
        return ", ".join([f"toUInt8(1) AS {HIT}"] + [f"'' AS {text_column(c)}" for c in json_columns()])
    texts = [f"{key(c).replace('`' + c + '`', 'mapped.`' + c + '`')} AS {text_column(c)}" for c in json_columns()]
    return ", ".join([f"_json._hit AS {HIT}"] + texts)


def cast_columns(columns: list[str]) -> str:
    """The select list of ``columns`` of a mapped row whose JSON values are cast from their texts (``HIT`` 0)."""
    json = set(json_columns())
    return ", ".join(f"CAST({text_column(c)} AS JSON) AS `{c}`" if c in json else f"`{c}`" for c in columns)
