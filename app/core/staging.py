"""Per-file staging: one pass over a file routes each row to the FOCUS stage or the quarantine stage.

For each file ABI creates a Null-engine ``mapped`` table with four materialized views: valid rows to a FOCUS
stage, invalid rows (with every reason) to a pending quarantine stage, lookup misses to an unmapped stage, and the
file's own cost per billing month (every row, for reconciliation) to a totals stage. The
raw text of quarantined rows is fetched afterwards, for those rows only (so valid rows never pay for it). A file
that fails mid-read leaves nothing behind: its stage objects are dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.core import mapping, schema
from app.core.relation import FILE, relation_sql, structure
from app.core.sources import SourceFile
from app.core.warehouse import Warehouse
from app.models.columns import ALL_COLUMNS
from app.models.names import FOCUS_TABLE, QUARANTINE_TABLE

QUARANTINE_SELECT = (
    "x_IngestionId AS ingestion_id, x_SourceFile AS source_file, x_SourceRow AS source_row, "
    "x_SourceFormat AS source_format, _reasons AS reasons, '' AS raw_row, x_IngestedAt AS quarantined_at"
)

VIEWS = ("focus", "quarantine", "unmapped", "totals")
MONEY = "Nullable(Decimal(38, 18))"


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

    def _objects(self) -> list[str]:
        return [f"{self.prefix}_mv_{k}" for k in VIEWS] + [
            f"{self.prefix}_mapped", self.focus, self.quarantine, self.pending, self.unmapped, self.totals]

    def create(self) -> None:
        db, p = self.wh.database, self.prefix
        mapped_cols = ", ".join(f"`{n}` {t}" for n, t in mapping.mapped_columns())
        self.wh.command(f"CREATE TABLE {db}.{p}_mapped ({mapped_cols}) ENGINE = Null")
        self.wh.command(schema.create_table_sql(FOCUS_TABLE, db, name=self.focus))
        self.wh.command(schema.create_table_sql(QUARANTINE_TABLE, db, name=self.quarantine))
        self.wh.command(schema.create_table_sql(QUARANTINE_TABLE, db, name=self.pending))
        self.wh.command(f"CREATE TABLE {db}.{self.unmapped} (item String) ENGINE = MergeTree ORDER BY tuple()")
        self.wh.command(f"CREATE TABLE {db}.{self.totals} (period String, currency String, billed {MONEY}, "
                        f"effective {MONEY}) ENGINE = MergeTree ORDER BY tuple()")
        columns = ", ".join(f"`{c}`" for c in ALL_COLUMNS)
        self._view("focus", self.focus, f"SELECT {columns} FROM {db}.{p}_mapped WHERE empty(_reasons)")
        self._view("quarantine", self.pending,
                   f"SELECT {QUARANTINE_SELECT} FROM {db}.{p}_mapped WHERE notEmpty(_reasons)")
        self._view("unmapped", self.unmapped, f"SELECT arrayJoin(_unmapped) AS item FROM {db}.{p}_mapped")
        self._view("totals", self.totals, f"SELECT _source_period AS period, _source_currency AS currency, "
                   f"sum(_source_billed) AS billed, sum(_source_effective) AS effective FROM {db}.{p}_mapped "
                   "GROUP BY period, currency")

    def _view(self, kind: str, target: str, select: str) -> None:
        db = self.wh.database
        self.wh.command(f"CREATE MATERIALIZED VIEW {db}.{self.prefix}_mv_{kind} TO {db}.{target} AS {select}")

    def load(self, sf: SourceFile, lineage: dict[str, str]) -> None:
        """Map and route every row of ``sf`` (one read of the file)."""
        row_number = "_row_number + 1" if self.wh.embedded else "rowNumberInAllBlocks() + 1"
        source = relation_sql(sf, {**lineage, "_dataset": sf.dataset, "_format": sf.source}, row_number)
        select = mapping.mapped_select(sf.source).replace(mapping.SOURCE, source)
        insert = f"INSERT INTO {self.wh.database}.{self.prefix}_mapped\n{select}"
        self.wh.insert_file(insert, FILE, sf.readable, sf.clickhouse_format, structure(sf), sf.read_settings)
        if self.wh.scalar(f"SELECT count() FROM {self.wh.database}.{self.pending}"):
            self._attach_raw_rows(sf, source)

    def _attach_raw_rows(self, sf: SourceFile, source: str) -> None:
        """Second, mapping-free read of the file for the raw text of its quarantined rows only."""
        db, pending = self.wh.database, f"{self.wh.database}.{self.pending}"
        raw = (f"SELECT _row AS source_row, _raw AS raw_row FROM {source} "
               f"WHERE _row IN (SELECT source_row FROM {pending})")
        insert = (f"INSERT INTO {db}.{self.quarantine} SELECT q.ingestion_id, q.source_file, q.source_row, "
                  f"q.source_format, q.reasons, r.raw_row, q.quarantined_at FROM {pending} AS q "
                  f"LEFT ANY JOIN ({raw}) AS r ON r.source_row = q.source_row")
        self.wh.insert_file(insert, FILE, sf.readable, sf.clickhouse_format, structure(sf), sf.read_settings)

    def drop_views(self) -> None:
        """Detach the routing views (the stage tables stay for the commit)."""
        for name in self._objects()[:len(VIEWS) + 1]:
            self.wh.command(f"DROP TABLE IF EXISTS {self.wh.database}.{name}")

    def source_totals(self) -> list[dict[str, str]]:
        """The file's own cost by billing month, currency and the metrics it carries: ``[{"billing_period":
        "2026-10", "currency": "EUR", "metric": "BilledCost", "total": "12.5"}]`` (amounts in two currencies never
        add up)."""
        rows = self.wh.rows(f"SELECT period, currency, toString(sum(billed)) AS BilledCost, toString(sum(effective)) "
                            f"AS EffectiveCost FROM {self.wh.database}.{self.totals} GROUP BY period, currency "
                            "ORDER BY period, currency")
        return [{"billing_period": r["period"], "currency": r["currency"], "metric": metric, "total": r[metric]}
                for r in rows for metric in ("BilledCost", "EffectiveCost") if r[metric] is not None]

    def drop(self) -> None:
        for name in self._objects():
            self.wh.command(f"DROP TABLE IF EXISTS {self.wh.database}.{name}")


def summed_totals(totals: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """Source totals of several files (``FileStage.source_totals``) added up per billing month, currency, metric."""
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for t in totals:
        sums[(t["billing_period"], t["currency"], t["metric"])] += Decimal(t["total"])
    return [{"billing_period": p, "currency": c, "metric": m, "total": str(v)} for (p, c, m), v in sorted(sums.items())]
