"""Inputs and outputs of the workflows and their activities: plain dataclasses (Temporal's JSON converter and
Moose's tasks both carry them), importable inside Temporal's workflow sandbox (standard library only)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Optional

DAILY, BACKFILL, QUALITY = "daily-extraction", "backfill", "data-quality"
WORKFLOWS = (DAILY, BACKFILL, QUALITY)
DEFAULT_CRON = "0 2 * * *"
MAX_BACKFILL_MONTHS = 13
TASK_QUEUE = "abi-workflows"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def quality_periods(start: Optional[str], end: Optional[str], today: date) -> list[str]:
    """The billing months (``YYYY-MM``) a data-quality run checks: ``start`` to ``end`` (``start``: the previous
    month by default; ``end``: ``start``), at most ``MAX_BACKFILL_MONTHS``; ValueError names a bad month or range."""
    if not start:
        start = f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"
    (year, month), (last_year, last_month) = _month(start, "start"), _month(end or start, "end")
    count = (last_year - year) * 12 + last_month - month + 1
    if count < 1:
        raise ValueError(f"end {end} is before start {start}")
    if count > MAX_BACKFILL_MONTHS:
        raise ValueError(f"a data-quality run covers at most {MAX_BACKFILL_MONTHS} months; {start}..{end} is {count}")
    return [f"{year + (month - 1 + i) // 12:04d}-{(month - 1 + i) % 12 + 1:02d}" for i in range(count)]


def _month(text: str, name: str) -> tuple[int, int]:
    found = _MONTH.match(text)
    if not found:
        raise ValueError(f"{name}: {text!r} is not a month (YYYY-MM)")
    return int(found[1]), int(found[2])


@dataclass
class RetrySettings:
    """Activity retries (capped exponential backoff) and timeouts."""

    initial_interval_s: float = 5.0
    backoff: float = 2.0
    max_interval_s: float = 300.0
    max_attempts: int = 6
    start_to_close_s: float = 4 * 3600.0
    heartbeat_s: float = 60.0
    throttle_delay_s: float = 600.0
    """Wait before the next attempt when the source throttled us past the plugin's own retry budget."""


@dataclass
class AnomalySettings:
    window_days: int = 28
    z_threshold: float = 3.5
    min_abs_change: float = 50.0
    """Currency units: a smaller change never alerts, whatever its z-score."""
    method: str = "auto"
    """robust_z, seasonal, or auto (seasonal when the window holds at least three weeks)."""


@dataclass
class QualitySettings:
    tolerance: float = 0.01
    """Largest |source − FOCUS| that passes a reconciliation (billing currency units)."""
    quarantine_warn: float = 0.001
    quarantine_fail: float = 0.05
    freshness_days: float = 3.0
    """A billing account whose latest charge ends more than this many days before today is stale."""
    anomalies: AnomalySettings = field(default_factory=AnomalySettings)


@dataclass
class DailyInput:
    connector: Optional[str] = None
    """None: every enabled connector."""
    months: int = 2
    """Billing months refreshed, ending with the current one (2 = the previous and the current month)."""
    today: Optional[str] = None
    """YYYY-MM-DD; default: the workflow's current date (UTC)."""
    max_parallel: int = 2
    retry: RetrySettings = field(default_factory=RetrySettings)
    quality: QualitySettings = field(default_factory=QualitySettings)


@dataclass
class BackfillInput:
    connector: str
    start: str
    """YYYY-MM."""
    end: str
    max_parallel: int = 3
    resume_key: Optional[str] = None
    """Months completed under this key are not redone (``abi workflows retry`` passes the failed run's key)."""
    full: bool = True
    """Reload units even when their source fingerprint did not change."""
    retry: RetrySettings = field(default_factory=RetrySettings)
    quality: QualitySettings = field(default_factory=QualitySettings)


@dataclass
class QualityInput:
    connector: Optional[str] = None
    start: Optional[str] = None
    """YYYY-MM; default: the previous month."""
    end: Optional[str] = None
    today: Optional[str] = None
    quality: QualitySettings = field(default_factory=QualitySettings)
    retry: RetrySettings = field(default_factory=RetrySettings)


@dataclass
class RunEvent:
    run_id: str
    temporal_run_id: str
    workflow: str
    connector: str
    parameters: str
    status: str
    started_at: str
    ended_at: Optional[str] = None
    rows_processed: int = 0
    error: Optional[str] = None


@dataclass
class MonthTask:
    run_id: str
    run_key: str
    workflow: str
    connector: str
    month: str
    full: bool = False
    throttle_delay_s: float = 600.0


@dataclass
class SourceTotal:
    billing_period: str
    metric: str
    """BilledCost (actual cost) or EffectiveCost (amortized cost)."""
    total: str
    """Exact decimal text."""
    currency: str = ""
    """The billing currency the total is in (amounts in two currencies are never added)."""


@dataclass
class MonthLoad:
    connector: str
    month: str
    status: str
    """loaded, unchanged (nothing new), or skipped (completed earlier under the same run key)."""
    units: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    files: list[str] = field(default_factory=list)
    totals: list[SourceTotal] = field(default_factory=list)
    billing_periods: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    """Where the time went: extract (source, download), load (core data path, aggregates included)."""


@dataclass
class PlanInput:
    run_key: str
    connector: str
    start: str
    end: str


@dataclass
class CheckInput:
    run_id: str
    connector: str
    loads: list[MonthLoad] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    """Billing periods (YYYY-MM) whose anomalies are evaluated (those of the loads when empty)."""
    today: Optional[str] = None
    settings: QualitySettings = field(default_factory=QualitySettings)


@dataclass
class QualityReport:
    checks: int = 0
    failed: int = 0
    warnings: int = 0
    anomalies: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class RunReport:
    """What a run did: its months, rows and data-quality outcome."""

    run_id: str
    workflow: str
    connectors: list[str] = field(default_factory=list)
    loads: list[MonthLoad] = field(default_factory=list)
    quality: QualityReport = field(default_factory=QualityReport)

    @property
    def rows(self) -> int:
        return sum(load.rows_read for load in self.loads)
