"""Staging: one pass over a file routes each row to the FOCUS stage or the quarantine stage.

For each file (or several small files of one layout, read as one relation: planning the mapping costs ~0.2 s a
statement) ABI creates a Null-engine ``mapped`` table with materialized views: valid rows to a FOCUS stage (by two
views: with their JSON values parsed ahead, or cast from their texts, ``json_values.HIT``), invalid rows (with every
reason) to a pending quarantine stage, lookup misses to an unmapped stage, and each file's own cost per billing
month and currency (every row, for reconciliation) to a totals stage. The raw text of
quarantined rows is fetched afterwards, for those rows only (so valid rows never pay for it). A file that fails
mid-read leaves nothing behind: its stage objects are dropped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal

from app.core import journal, json_values, mapping, schema
from app.core.files import linked_names
from app.core.headers import spelling
from app.core.json_values import HIT, cast_columns
from app.core.parquet import parquet_schema
from app.core.relation import FILE, numbered_read, relation_sql, server_read, structure
from app.core.sources import SourceFile
from app.core.warehouse import Warehouse, quote
from app.models.columns import ALL_COLUMNS
from app.models.names import FOCUS_TABLE, QUARANTINE_TABLE

log = logging.getLogger(__name__)

QUARANTINE_SELECT = (
    "x_IngestionId AS ingestion_id, x_SourceFile AS source_file, x_SourceRow AS source_row, "
    "x_SourceFormat AS source_format, _reasons AS reasons, '' AS raw_row, x_IngestedAt AS quarantined_at"
)

GROUP_BYTES, GROUP_TOTAL, GROUP_FILES = 32 * 2**20, 256 * 2**20, 50
"""Files up to 32 MiB of one layout are read by one statement, up to 50 and 256 MiB at a time: planning the mapping
costs ~0.2 s a statement, as much as reading 15 MiB (26 files of 31 MB: 12.8 s instead of 21.5; peak RSS 1.35 GB)."""

STAGE_SETTINGS = {
    "min_bytes_for_wide_part": str(2**40), "min_rows_for_wide_part": str(2**40),
    "max_bytes_to_merge_at_max_space_in_pool": "1", "max_bytes_to_merge_at_min_space_in_pool": "1",
    "parts_to_delay_insert": "1000000", "parts_to_throw_insert": "1000000",
}
"""The FOCUS stage writes compact parts (a few files each, not ~500: two files a column, a null map and size stream
for each nullable string, one per JSON path; creating the inodes cost a third of the load's CPU) and never merges
them (the stage is short-lived: merging it was work done again once published). 1 M rows, alternated on one hour:
8.7-9.8 s instead of 11.9-15.0, system CPU 1.9-2.1 s instead of 3-10. ``focus_cost`` merges the published parts
like any insert. A part is one insert block (64 k rows), so a file of 64 M rows makes 1,000: the stage never delays
or refuses inserts for its count of parts."""
VIEWS = ("focus", "cast", "quarantine", "unmapped", "totals")
MONEY = "Nullable(Decimal(38, 18))"
EXACT = Context(prec=80)
"""Sums of money values (38 digits each) without rounding: the default context keeps 28 digits, so a month of
12,345,678,901.123456789012345678 IDR would reconcile with a false difference."""


@dataclass
class FileStage:
    """The stage tables of one file; ``prefix`` names them."""

    wh: Warehouse
    prefix: str

    @property
    def focus(self) -> str:
        return f"{self.prefix}_focus"

    @property
    def quarantine(self) -> str:
        return f"{self.prefix}_quarantine"

    @property
    def pending(self) -> str:
        return f"{self.prefix}_pending"

    @property
    def unmapped(self) -> str:
        return f"{self.prefix}_unmapped"

    @property
    def totals(self) -> str:
        return f"{self.prefix}_totals"

    @property
    def json(self) -> str:
        return f"{self.prefix}_json"

    def _objects(self) -> list[str]:
        return [f"{self.prefix}_mv_{k}" for k in VIEWS] + [
            f"{self.prefix}_mapped", self.json, self.focus, self.quarantine, self.pending, self.unmapped, self.totals]

    def create(self) -> None:
        db, p = self.wh.database, self.prefix
        mapped_cols = ", ".join(f"`{n}` {t}" for n, t in mapping.mapped_columns())
        self.wh.command(f"CREATE TABLE {db}.{p}_mapped ({mapped_cols}) ENGINE = Null")
        self.wh.command(schema.create_table_sql(FOCUS_TABLE, db, name=self.focus, settings=STAGE_SETTINGS))
        self.wh.command(schema.create_table_sql(QUARANTINE_TABLE, db, name=self.quarantine))
        self.wh.command(schema.create_table_sql(QUARANTINE_TABLE, db, name=self.pending))
        self.wh.command(f"CREATE TABLE {db}.{self.unmapped} (file String, item String) ENGINE = MergeTree "
                        "ORDER BY tuple()")
        self.wh.command(f"CREATE TABLE {db}.{self.totals} (file String, period String, currency String, "
                        f"billed {MONEY}, effective {MONEY}) ENGINE = MergeTree ORDER BY tuple()")
        columns = ", ".join(f"`{c}`" for c in ALL_COLUMNS)
        self._view("focus", self.focus, f"SELECT {columns} FROM {db}.{p}_mapped WHERE empty(_reasons) AND {HIT}")
        self._view("cast", self.focus, f"SELECT {cast_columns(ALL_COLUMNS)} FROM {db}.{p}_mapped "
                   f"WHERE empty(_reasons) AND NOT {HIT}")  # JSON values not parsed ahead (json_values.HIT)
        self._view("quarantine", self.pending,
                   f"SELECT {QUARANTINE_SELECT} FROM {db}.{p}_mapped WHERE notEmpty(_reasons)")
        self._view("unmapped", self.unmapped,  # values that fell back in rows that load (not quarantined ones)
                   f"SELECT x_SourceFile AS file, arrayJoin(_unmapped) AS item FROM {db}.{p}_mapped "
                   "WHERE empty(_reasons)")
        self._view("totals", self.totals, f"SELECT x_SourceFile AS file, _source_period AS period, "
                   f"_source_currency AS currency, sum(_source_billed) AS billed, sum(_source_effective) AS "
                   f"effective FROM {db}.{p}_mapped GROUP BY file, period, currency")

    def _view(self, kind: str, target: str, select: str) -> None:
        db = self.wh.database
        self.wh.command(f"CREATE MATERIALIZED VIEW {db}.{self.prefix}_mv_{kind} TO {db}.{target} AS {select}")

    def load(self, files: list[SourceFile], lineage: dict[str, str]) -> None:
        """Map and route every row of ``files`` (one ``layout``; several are read as one relation, so the mapping is
        planned once), each read once; ``lineage``: the load's columns (``_source_file`` is each file's path)."""
        sf = files[0]
        row_number = None if self.wh.embedded else "rowNumberInAllBlocks() + 1"  # a server reads the data rows alone
        lineage = {**lineage, "_dataset": sf.dataset, "_format": sf.source}
        json_table = None
        if len(files) == 1:
            source = relation_sql(sf, {**lineage, "_source_file": str(sf.path)}, row_number)
            parsed = self.wh.embedded and json_values.prepare(self.wh, sf, f"{self.wh.database}.{self.json}")
            json_table = f"{self.wh.database}.{self.json}" if parsed else None
        else:  # the engine names each file by its link (files.linked_names)
            names = ", ".join(quote(n) for n in linked_names([f.readable for f in files]))
            paths = ", ".join(quote(str(f.path)) for f in files)
            source = relation_sql(sf, lineage, row_number, {"_source_file": f"transform(_file, [{names}], [{paths}])"})
        select = mapping.mapped_select(sf.source, json_table).replace(mapping.SOURCE, source)
        self._insert(f"INSERT INTO {self.wh.database}.{self.prefix}_mapped\n{select}", files)
        if self.wh.scalar(f"SELECT count() FROM {self.wh.database}.{self.pending}"):
            self._attach_raw_rows(files, source)

    def _insert(self, insert: str, files: list[SourceFile]) -> None:
        sf = files[0]
        fmt, settings = numbered_read(sf) if self.wh.embedded else server_read(sf)
        if len(files) == 1:
            self.wh.insert_file(insert, FILE, sf.readable, fmt, structure(sf), settings)
        else:
            self.wh.insert_files(insert, FILE, [f.readable for f in files], fmt, structure(sf), settings)

    def _attach_raw_rows(self, files: list[SourceFile], source: str) -> None:
        """Second, mapping-free read of the files for the raw text of their quarantined rows only."""
        db, pending = self.wh.database, f"{self.wh.database}.{self.pending}"
        raw = (f"SELECT _source_file AS source_file, _row AS source_row, _raw AS raw_row FROM {source} "
               f"WHERE (_source_file, _row) IN (SELECT source_file, source_row FROM {pending})")
        insert = (f"INSERT INTO {db}.{self.quarantine} SELECT q.ingestion_id, q.source_file, q.source_row, "
                  f"q.source_format, {_named_reasons(files[0])}, r.raw_row, q.quarantined_at FROM {pending} AS q "
                  f"LEFT ANY JOIN ({raw}) AS r ON r.source_file = q.source_file AND r.source_row = q.source_row")
        self._insert(insert, files)

    def drop_views(self) -> None:
        """Detach the routing views and drop the JSON values parsed ahead (the stage tables stay for the commit)."""
        for name in self._objects()[:len(VIEWS) + 2]:
            self.wh.command(f"DROP TABLE IF EXISTS {self.wh.database}.{name}")

    def source_totals(self, path: str) -> list[dict[str, str]]:
        """File ``path``'s own cost by billing month, currency and the metrics it carries: ``[{"billing_period":
        "2026-10", "currency": "EUR", "metric": "BilledCost", "total": "12.5"}]`` (amounts in two currencies never
        add up)."""
        rows = self.wh.rows(f"SELECT period, currency, toString(sum(billed)) AS BilledCost, toString(sum(effective)) "
                            f"AS EffectiveCost FROM {self.wh.database}.{self.totals} WHERE file = {quote(path)} "
                            "GROUP BY period, currency ORDER BY period, currency")
        return [{"billing_period": r["period"], "currency": r["currency"], "metric": metric, "total": r[metric]}
                for r in rows for metric in ("BilledCost", "EffectiveCost") if r[metric] is not None]

    def drop(self) -> None:
        for name in self._objects():
            self.wh.command(f"DROP TABLE IF EXISTS {self.wh.database}.{name}")


def _named_reasons(sf: SourceFile) -> str:
    """SQL: the quarantined row's reasons (``q.reasons``), a column the file spells otherwise named as its header
    does, the canonical name after it (``PreTaxCost (CostInBillingCurrency): not a number``)."""
    expr = "r"
    for name, i in sf.columns.items():
        if spelling(sf.header[i]) != spelling(name):
            expr = (f"if(startsWith(r, {quote(name + ':')}), concat({quote(f'{sf.header[i].strip()} ({name})')}, "
                    f"substring(r, {len(name) + 1})), {expr})")
    return "q.reasons" if expr == "r" else f"arrayMap(r -> {expr}, q.reasons)"


def summed_totals(totals: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """Source totals of several files (``FileStage.source_totals``) added up per billing month, currency, metric."""
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for t in totals:
        key = (t["billing_period"], t["currency"], t["metric"])
        sums[key] = EXACT.add(sums[key], Decimal(t["total"]))
    return [{"billing_period": p, "currency": c, "metric": m, "total": str(v)} for (p, c, m), v in sorted(sums.items())]


def layout(sf: SourceFile) -> tuple:
    """What files read by one statement share: format, dataset, columns and how the engine reads them (a Parquet
    file: its column types too, which the engine takes from the first file of a statement)."""
    return (sf.source, sf.dataset, sf.clickhouse_format, structure(sf), tuple(sorted(sf.read_settings.items())),
            relation_sql(sf, {}), parquet_schema(sf.readable) if sf.is_parquet else "")


def group_files[T](wh: Warehouse, opened: list[tuple[T, SourceFile]]) -> list[list[tuple[T, SourceFile]]]:
    """The files in the groups read by one statement each: small files of one layout together (up to
    ``GROUP_FILES`` and ``GROUP_TOTAL`` bytes); a larger file, or any file loaded into a ClickHouse server, alone."""
    groups: list[list[tuple[T, SourceFile]]] = []
    open_groups: dict[tuple, tuple[list[tuple[T, SourceFile]], list[int]]] = {}
    for item, sf in opened:
        size = sf.readable.stat().st_size
        if not wh.embedded or size > GROUP_BYTES:
            groups.append([(item, sf)])
            continue
        key = layout(sf)
        group, sizes = open_groups.get(key, ([], []))
        if not group or len(group) >= GROUP_FILES or sum(sizes) + size > GROUP_TOTAL:
            group, sizes = open_groups[key] = ([], [])
            groups.append(group)
        group.append((item, sf))
        sizes.append(size)
    return groups


def drop_stale_stages(wh: Warehouse) -> int:
    """Drop the stage tables a killed process left behind (``_abi_*``; never visible data). Only for a warehouse
    this process owns alone (the embedded engine, locked), before any load starts; a publication a killed load
    left open is completed first (``journal``: its batch is one of those tables)."""
    journal.recover(wh)
    names = [r["name"] for r in wh.rows("SELECT name FROM system.tables WHERE database = {db:String} "
                                        "AND startsWith(name, '_abi_')", {"db": wh.database})]
    for name in names:
        wh.command(f"DROP TABLE IF EXISTS {wh.database}.`{name}`")
    if names:
        log.info("dropped %d stage table(s) left by an interrupted load", len(names))
    return len(names)
