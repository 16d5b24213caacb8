"""Response models of the consumption APIs (their JSON schema documents the responses) and CSV rendering.

Money leaves ClickHouse as exact decimal text and becomes a JSON number here (the nearest double).
Dimension values are strings, ``null`` when a row has no value, ``(others)`` in the row that folds the groups
beyond ``limit``.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Optional, Union

from pydantic import BaseModel, Field

Cell = Union[str, float, int, bool, None]
Row = dict[str, Cell]
MONEY = ("value", "current", "previous", "delta", "used_cost", "unused_cost", "purchased_cost", "savings")


def money_row(row: dict, drop: tuple[str, ...] = ("position",), money: tuple[str, ...] = MONEY) -> Row:
    """A SQL row with decimal text (the ``money`` columns) turned into numbers and helper columns dropped."""
    return {k: (float(v) if k in money and v is not None else v) for k, v in row.items() if k not in drop}


def renamed(row: Row, names: list[str]) -> Row:
    """``d0``, ``d1``… renamed to the requested dimensions (first, in order)."""
    dims = {f"d{i}": name for i, name in enumerate(names)}
    return {dims[k]: v for k, v in row.items() if k in dims} | {k: v for k, v in row.items() if k not in dims}


class Table(BaseModel):
    """A response with a main table (the CSV rendering)."""

    def csv_table(self) -> tuple[list[str], list[Row]]:
        raise NotImplementedError


class CostBreakdownResponse(Table):
    metric: str
    group_by: list[str]
    source: str = Field(description="Table that answered: focus_daily_cost (daily aggregate) or focus_cost")
    total: Optional[float] = Field(description="Sum of the metric over every group (others included); null when "
                                               "the groups are in several currencies (see totals)")
    totals: dict[str, float] = Field(description="The sum per billing currency (amounts in two never add)")
    rows: list[Row] = Field(description="Per group and currency: the group_by dimensions, value, share of its "
                                        "currency's total, currency, groups (how many groups the row folds: >1 only "
                                        "in an others row, one per currency)")

    def csv_table(self) -> tuple[list[str], list[Row]]:
        return [*self.group_by, "value", "share", "currency", "groups"], self.rows


class CostTrendResponse(Table):
    metric: str
    granularity: str
    split_by: Optional[str]
    source: str
    rows: list[Row] = Field(description="Per period (YYYY-MM-DD, first day) and split value: value, currency")

    def csv_table(self) -> tuple[list[str], list[Row]]:
        return ["period", *([self.split_by] if self.split_by else []), "value", "currency"], self.rows


class ResourceRow(BaseModel):
    ResourceId: str
    ResourceName: Optional[str] = None
    ResourceType: Optional[str] = None
    ServiceName: Optional[str] = None
    SubAccountId: Optional[str] = None
    SubAccountName: Optional[str] = None
    x_ResourceGroupName: Optional[str] = None
    RegionName: Optional[str] = None
    value: float
    currency: str


class TopResourcesResponse(Table):
    metric: str
    source: str
    rows: list[ResourceRow]

    def csv_table(self) -> tuple[list[str], list[Row]]:
        return list(ResourceRow.model_fields), [r.model_dump() for r in self.rows]


class ComparisonTotal(BaseModel):
    current: float
    previous: float
    delta: float
    delta_ratio: Optional[float] = Field(description="delta / |previous| (null when previous is 0)")


class PeriodComparisonResponse(Table):
    metric: str
    group_by: str
    month: str = Field(description="Compared month, YYYY-MM")
    previous_month: str
    source: str
    total: Optional[ComparisonTotal] = Field(description="Over every group; null when they are in several "
                                                         "currencies (see totals)")
    totals: dict[str, ComparisonTotal] = Field(description="Per billing currency (amounts in two never add)")
    rows: list[Row] = Field(description="Per group and currency: current, previous, delta, delta_ratio, currency, "
                                        "groups")

    def csv_table(self) -> tuple[list[str], list[Row]]:
        return [self.group_by, "current", "previous", "delta", "delta_ratio", "currency", "groups"], self.rows


class CommitmentRow(BaseModel):
    CommitmentDiscountId: str
    CommitmentDiscountName: Optional[str] = None
    CommitmentDiscountType: Optional[str] = None
    used_cost: float = Field(description="Amortized cost of usage the commitment covered (status Used)")
    unused_cost: float = Field(description="Amortized cost of the unused commitment (status Unused)")
    utilization: Optional[float] = Field(description="used / (used + unused)")
    purchased_cost: float = Field(description="Billed cost of purchases (and refunds) in the range")
    savings: float = Field(description="ContractedCost - EffectiveCost of the covered usage")
    currency: str


class CommitmentUtilizationResponse(Table):
    source: str
    rows: list[CommitmentRow]

    def csv_table(self) -> tuple[list[str], list[Row]]:
        return list(CommitmentRow.model_fields), [r.model_dump() for r in self.rows]


class SourceFreshness(BaseModel):
    BillingAccountId: str
    x_SourceDataset: str
    first_charge_start: str
    last_charge_end: str = Field(description="Latest ChargePeriodEnd (UTC)")
    last_billing_period_start: str
    row_count: int
    last_ingested_at: str


class IngestionFreshness(BaseModel):
    ingestion_id: str
    ingested_at: str
    datasets: list[str]
    rows_present: int = Field(description="Rows of this ingestion still in focus_cost")
    files: int = Field(description="Files in the ingestion log (0 for rows that came through streaming)")
    files_refused: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_superseded: int


class PartitionFreshness(BaseModel):
    partition: str
    focus_rows: int
    aggregated_rows: int
    in_sync: bool = Field(description="The daily aggregate covers exactly this month's focus_cost rows")


class DataFreshnessResponse(Table):
    sources: list[SourceFreshness]
    ingestions: list[IngestionFreshness]
    partitions: list[PartitionFreshness]

    def csv_table(self) -> tuple[list[str], list[Row]]:
        if not self.sources and self.ingestions:
            return list(IngestionFreshness.model_fields), [r.model_dump() for r in self.ingestions]
        return list(SourceFreshness.model_fields), [r.model_dump() for r in self.sources]


def to_csv(columns: list[str], rows: list[Row]) -> str:
    """RFC 4180 CSV with a header; null → empty, lists joined with ';'."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(map(str, value))
    return value


def decimal_total(rows: list[dict], column: str) -> Decimal:
    """Exact sum of a decimal-text column."""
    return sum((Decimal(r[column]) for r in rows if r[column] is not None), Decimal(0))


def currency_totals(rows: list[dict], column: str) -> dict[str, Decimal]:
    """Exact sum of a decimal-text column per ``currency`` (rows without one, e.g. filled periods, count nowhere)."""
    return {c: decimal_total([r for r in rows if r["currency"] == c], column)
            for c in sorted({r["currency"] for r in rows if r["currency"]})}
