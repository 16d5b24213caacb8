"""Allow-lists of metrics and dimensions, and their SQL over ``focus_cost`` or the daily aggregate.

No value a caller sends is ever written into SQL text: dimensions and metrics are looked up in the lists below
(their SQL is fixed here), tag keys and every filter value become bound ``{name:Type}`` parameters.
"""

from __future__ import annotations

from app.ingest.tables import FOCUS_TABLE
from app.views.daily_cost import DAILY_COST_TABLE

METRICS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity")

FOCUS_ONLY = ("ResourceId", "ResourceName", "ResourceType", "x_ResourceType", "x_BillingAccountId")
"""Dimensions only the FOCUS table has (too many values for the daily aggregate)."""

AGGREGATED = (
    "ServiceCategory", "ServiceName", "SubAccountId", "SubAccountName", "x_ResourceGroupName", "RegionId",
    "RegionName", "ChargeCategory", "PricingCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountType", "CommitmentDiscountStatus", "BillingAccountId", "BillingCurrency",
)
"""Dimensions of the daily aggregate (``focus_daily_cost``)."""

DIMENSIONS = AGGREGATED + FOCUS_ONLY
TAG_PREFIX = "tag:"
MAX_TAG_KEY = 256

OTHERS = "(others)"
"""Dimension value of the row that folds every group beyond ``limit``."""


def is_dimension(name: str) -> bool:
    """An allowed dimension: a listed column or ``tag:<key>`` with a non-empty key."""
    if name.startswith(TAG_PREFIX):
        return 0 < len(name) - len(TAG_PREFIX) <= MAX_TAG_KEY
    return name in DIMENSIONS


class Sql:
    """Collects bound parameters while SQL fragments are built for one source table."""

    def __init__(self, aggregated: bool) -> None:
        self.aggregated = aggregated
        self.params: dict[str, object] = {}

    @property
    def table(self) -> str:
        return DAILY_COST_TABLE if self.aggregated else FOCUS_TABLE

    def bind(self, prefix: str, value: object, ch_type: str = "String") -> str:
        """A placeholder for ``value`` (a new parameter name each time)."""
        name = f"{prefix}_{len(self.params)}"
        self.params[name] = value
        return f"{{{name}:{ch_type}}}"

    def day(self) -> str:
        """The UTC charge day of a row."""
        return "ChargeDate" if self.aggregated else "toDate(ChargePeriodStart, 'UTC')"

    def key(self, dimension: str) -> str:
        """A dimension as a non-null String ('' when missing)."""
        if dimension.startswith(TAG_PREFIX):
            return self.tag(dimension[len(TAG_PREFIX):])
        if dimension not in DIMENSIONS or (self.aggregated and dimension not in AGGREGATED):
            raise ValueError(f"dimension {dimension!r} is not available from {self.table}")
        return f"toString({dimension})" if self.aggregated else f"toString(ifNull({dimension}, ''))"

    def tag(self, key: str) -> str:
        """A tag's value as a String ('' when absent). Keys with dots are read escaped and nested."""
        value = f"toString(getSubcolumn(Tags, {self.bind('tag', key.replace('.', '%2E'))}))"
        if "." in key:  # stored escaped by the bulk loader (json_type_escape_dots_in_keys), nested otherwise
            value = f"if({value} != '', {value}, toString(getSubcolumn(Tags, {self.bind('tag', key)})))"
        return value

    def metric(self, metric: str) -> str:
        """The metric's column (a Decimal sum operand)."""
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}")
        return f"ifNull({metric}, 0)" if metric == "ConsumedQuantity" and not self.aggregated else metric

    @staticmethod
    def amount_key(metric: str) -> str:
        """What a metric's amounts are in, never added across: the billing currency; ConsumedQuantity's unit."""
        return "ifNull(ConsumedUnit, '')" if metric == "ConsumedQuantity" else "BillingCurrency"

    def one_of(self, column: str, values: list[str]) -> str:
        """``column IN (…)`` over bound values."""
        return f"{column} IN ({', '.join(self.bind('v', v) for v in values)})"


def iso_time(expr: str) -> str:
    """SQL of a date-time as ISO 8601 text in UTC (``2026-10-31T23:59:59.000Z``), as BI tools parse it; null stays
    null."""
    return f"concat(replaceOne(toString({expr}, 'UTC'), ' ', 'T'), 'Z')"


def needs_focus(dimensions: list[str], tags: list[tuple[str, str]], metric: str = "") -> bool:
    """Whether a request must read ``focus_cost`` (a resource dimension, any tag, or ConsumedQuantity: the daily
    aggregate has no unit to keep quantities apart)."""
    return bool(tags) or metric == "ConsumedQuantity" or any(d.startswith(TAG_PREFIX) or d in FOCUS_ONLY
                                                               for d in dimensions)
