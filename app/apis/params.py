"""Query parameters of the consumption APIs: validated pydantic models, documented in the OpenAPI schema.

Moose builds these models from the query string (repeat a parameter for a list: ``service=A&service=B``) and
answers HTTP 400 with pydantic's message, which names the parameter, when validation fails. (No
``from __future__ import annotations`` here: moose-lib reads the raw annotations to describe the parameters.)
"""

import re
from datetime import date
from typing import Literal, Optional

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from app.apis.dimensions import DIMENSIONS, MAX_TAG_KEY, TAG_PREFIX, is_dimension

Metric = Literal["BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity"]
Format = Literal["json", "csv"]
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
"""Matched whole (``fullmatch``: ``$`` lets a trailing newline through, ``\\d`` any script's digits)."""
MAX_VALUES, MAX_VALUE_LENGTH = 100, 1024
DIMENSION_HELP = f"one of {', '.join(DIMENSIONS)}, or {TAG_PREFIX}<key> for a tag"


def _values(name: str, values: list[str]) -> list[str]:
    if len(values) > MAX_VALUES:
        raise ValueError(f"{name}: at most {MAX_VALUES} values")
    if any(len(v) > MAX_VALUE_LENGTH for v in values):
        raise ValueError(f"{name}: values are at most {MAX_VALUE_LENGTH} characters")
    return values


def check_dimension(name: str, value: str) -> str:
    """A dimension from the allow-list (ValueError naming the parameter otherwise)."""
    if not is_dimension(value):
        raise ValueError(f"{name}: unknown dimension {value!r}; expected {DIMENSION_HELP}")
    return value


class AccountFilter(BaseModel):
    """The billing-account filter (every value is a bound parameter)."""

    billing_account: list[str] = Field(default_factory=list, description="BillingAccountId(s) to keep")
    format: Optional[Format] = Field("json", description="json (default) or csv")

    @field_validator("billing_account")
    @classmethod
    def _accounts(cls, values: list[str]) -> list[str]:
        return _values("billing_account", values)


class Filters(AccountFilter):
    """Filters shared by the cost APIs (every value is a bound parameter)."""

    sub_account: list[str] = Field(default_factory=list, description="SubAccountId(s) (subscriptions) to keep")
    service: list[str] = Field(default_factory=list, description="ServiceName(s) to keep")
    region: list[str] = Field(default_factory=list, description="RegionId(s) or RegionName(s) to keep")
    charge_category: list[str] = Field(default_factory=list, description="ChargeCategory values to keep")
    currency: list[str] = Field(default_factory=list, description="BillingCurrency values to keep")
    tag: list[str] = Field(default_factory=list, description="key=value; repeat for several (all must match)")

    @field_validator("sub_account", "service", "region", "charge_category", "currency", "tag")
    @classmethod
    def _bounded(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _values(info.field_name, values)

    @field_validator("tag")
    @classmethod
    def _tags(cls, values: list[str]) -> list[str]:
        for value in values:
            key, sep, _ = value.partition("=")
            if not sep or not key or len(key) > MAX_TAG_KEY:
                raise ValueError(f"tag: expected key=value with a key of 1 to {MAX_TAG_KEY} characters, got {value!r}")
        return values

    @property
    def tags(self) -> list[tuple[str, str]]:
        """The tag filters as (key, value) pairs."""
        return [(k, v) for k, _, v in (t.partition("=") for t in self.tag)]


FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2149, 5, 31)
"""The days ClickHouse's ``Date`` holds (to 2149-06-06), less a month so that the month after one is one too."""


MAX_DAILY_DAYS = 3_700
"""A daily series covers at most about ten years (each day a row, charges or not)."""


class DateRange(BaseModel):
    """A charge-day range: ``start`` inclusive, ``end`` exclusive (UTC days); either may be omitted."""

    start: Optional[date] = Field(None, description="First charge day, YYYY-MM-DD (inclusive)")
    end: Optional[date] = Field(None, description="Day after the last charge day, YYYY-MM-DD (exclusive)")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso_day(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str) and not DAY.fullmatch(value):
            raise ValueError(f"{info.field_name}: expected a date YYYY-MM-DD, got {value!r}")
        return value

    @field_validator("start", "end")
    @classmethod
    def _in_range(cls, day: Optional[date], info: ValidationInfo) -> Optional[date]:
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"{info.field_name}: {day} is outside the days the warehouse holds ({FIRST_DAY} to "
                             f"{LAST_DAY}); leave it out for no bound")
        return day

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: Optional[date], info: ValidationInfo) -> Optional[date]:
        start = info.data.get("start")
        if end is not None and start is not None and end <= start:
            raise ValueError(f"end: {end} must be after start {start} (end is exclusive)")
        return end


class DatedFilters(DateRange, Filters):
    """Filters with a charge-day range."""


class CostBreakdownQuery(DatedFilters):
    """A metric grouped by one or two dimensions, largest first, with an "others" row beyond ``limit``."""

    metric: Optional[Metric] = Field("EffectiveCost", description="Metric to sum")
    group_by: list[str] = Field(default_factory=lambda: ["ServiceName"],
                                description=f"One or two dimensions (repeat the parameter): {DIMENSION_HELP}")
    sort: Optional[Literal["value_desc", "value_asc", "key_asc", "key_desc"]] = Field(
        "value_desc", description="Order of the groups (the first `limit` are kept, the rest folded into others)")
    limit: Optional[int] = Field(20, ge=1, le=1000,
                                 description="Groups of each currency returned before its others row")

    @field_validator("group_by")
    @classmethod
    def _dimensions(cls, values: list[str]) -> list[str]:
        if not 1 <= len(values) <= 2 or len(set(values)) != len(values):
            raise ValueError(f"group_by: one or two different dimensions, got {values}")
        return [check_dimension("group_by", v) for v in values]


class CostTrendQuery(DatedFilters):
    """A metric as a daily or monthly series, optionally one series per value of a dimension."""

    metric: Optional[Metric] = Field("EffectiveCost", description="Metric to sum")
    granularity: Optional[Literal["daily", "monthly"]] = Field("daily", description="daily or monthly periods",
                                                               validate_default=True)
    split_by: Optional[str] = Field(None, description=f"Dimension giving one series per value: {DIMENSION_HELP}")
    limit: Optional[int] = Field(10, ge=1, le=100, description="Series of each currency kept (largest totals); "
                                 "the rest form (others)")

    @field_validator("granularity")
    @classmethod
    def _days(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        start, end = info.data.get("start"), info.data.get("end")
        if value == "daily" and start and end and (end - start).days > MAX_DAILY_DAYS:
            raise ValueError(f"granularity: a daily series of {(end - start).days} days (over {MAX_DAILY_DAYS}); "
                             "ask for granularity=monthly or a shorter range")
        return value

    @field_validator("split_by")
    @classmethod
    def _dimension(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else check_dimension("split_by", value)


class TopResourcesQuery(DatedFilters):
    """The resources with the largest metric."""

    metric: Optional[Metric] = Field("EffectiveCost", description="Metric to sum")
    limit: Optional[int] = Field(20, ge=1, le=1000, description="Resources returned")


class PeriodComparisonQuery(Filters):
    """A month against the month before, per value of a dimension, with deltas."""

    month: Optional[str] = Field(None, description="Month to compare, YYYY-MM (default: the current UTC month)")
    metric: Optional[Metric] = Field("EffectiveCost", description="Metric to sum")
    group_by: Optional[str] = Field("ServiceName", description=f"Dimension: {DIMENSION_HELP}")
    limit: Optional[int] = Field(20, ge=1, le=1000,
                                 description="Groups of each currency returned before its others row")

    @field_validator("month")
    @classmethod
    def _month(cls, value: Optional[str]) -> Optional[str]:
        match = MONTH.fullmatch(value) if value is not None else None
        if value is not None and not (match and 1 <= int(match.group(2)) <= 12):
            raise ValueError(f"month: expected YYYY-MM, got {value!r}")
        if value is not None and not f"{FIRST_DAY:%Y-%m}" < value < f"{LAST_DAY:%Y-%m}":  # the months around it too
            raise ValueError(f"month: {value} is outside the months the warehouse can compare (after "
                             f"{FIRST_DAY:%Y-%m}, before {LAST_DAY:%Y-%m})")
        return value

    @field_validator("group_by")
    @classmethod
    def _dimension(cls, value: str) -> str:
        return check_dimension("group_by", value)


class CommitmentUtilizationQuery(DateRange, AccountFilter):
    """Reservations and savings plans: used and unused amortized cost per commitment."""

    commitment_type: list[Literal["Reservation", "Savings Plan"]] = Field(
        default_factory=list, description="CommitmentDiscountType(s) to keep")


class DataFreshnessQuery(AccountFilter):
    """How current the data is per billing account and source, and what each ingestion brought."""

    limit: Optional[int] = Field(20, ge=1, le=500, description="Most recent ingestions returned")
    part: Optional[Literal["all", "sources", "ingestions"]] = Field(
        "all", description="Sections returned (csv returns sources unless part=ingestions)")
