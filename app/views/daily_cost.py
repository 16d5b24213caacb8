"""``focus_daily_cost``: daily sums of the FOCUS table by analyst dimension, kept by a materialized view.

The SELECT lives in ``sql/views/focus_daily_cost.sql``; Moose creates the table and the view from these
declarations (``moose dev``), the embedded engine from the infra map (:mod:`app.views.refresh`). A
materialized view only sees INSERTs: partitions swapped in by the bulk loader are rebuilt with
:func:`app.views.refresh.refresh_aggregates`.
"""

from datetime import date, datetime

from moose_lib import MaterializedView, MaterializedViewOptions, OlapConfig, OlapTable
from moose_lib.blocks import SummingMergeTreeEngine
from pydantic import BaseModel

from app.ingest.tables import FOCUS_PARTITION_BY, focus_cost
from app.models.names import DAILY_COST_TABLE, DAILY_COST_VIEW, view_sql
from app.models.types import Enum, Money

DAILY_COST_SQL = view_sql(DAILY_COST_TABLE)
"""The view's SELECT (``sql/views/focus_daily_cost.sql``, its header comment dropped)."""


class DailyCost(BaseModel):
    """One day of cost for one combination of dimensions ('' = missing value)."""

    ChargeDate: date
    BillingPeriodStart: datetime
    BillingAccountId: str
    BillingCurrency: Enum
    SubAccountId: str
    SubAccountName: str
    ServiceCategory: Enum
    ServiceName: Enum
    RegionId: Enum
    RegionName: Enum
    x_ResourceGroupName: str
    ChargeCategory: Enum
    PricingCategory: Enum
    CommitmentDiscountId: str
    CommitmentDiscountName: str
    CommitmentDiscountType: Enum
    CommitmentDiscountStatus: Enum
    BilledCost: Money
    EffectiveCost: Money
    ListCost: Money
    ContractedCost: Money
    ConsumedQuantity: Money
    RowCount: int


DAILY_COST_KEYS = [name for name in DailyCost.model_fields if name not in (
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity", "RowCount")]

focus_daily_cost = OlapTable[DailyCost](
    DAILY_COST_TABLE,
    OlapConfig(
        engine=SummingMergeTreeEngine(),
        order_by_fields=DAILY_COST_KEYS,
        partition_by=FOCUS_PARTITION_BY,
    ),
)

focus_daily_cost_mv = MaterializedView[DailyCost](
    MaterializedViewOptions(
        select_statement=DAILY_COST_SQL,
        select_tables=[focus_cost],
        materialized_view_name=DAILY_COST_VIEW,
    ),
    target_table=focus_daily_cost,
)
