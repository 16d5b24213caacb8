"""Models of what the workflows record: run history, per-month progress, data-quality results, cost anomalies.

Every table is append-only: a run's current state is its latest event (``argMax(…, recorded_at)``), a month of a
backfill is done once it has a ``completed`` row, checks keep their history, and anomaly detection replaces the
days it evaluates.
"""

from datetime import date
from typing import Optional

from pydantic import BaseModel

from app.models.types import Enum, Money, Timestamp


class WorkflowRunEvent(BaseModel):
    """One state of a workflow run (running, completed, failed, cancelled)."""

    run_id: str
    """Temporal workflow id (or the Moose run key)."""
    temporal_run_id: str
    workflow: Enum
    connector: str
    """'' for runs over every enabled connector."""
    parameters: str
    """The run's input as JSON."""
    status: Enum
    started_at: Timestamp
    ended_at: Optional[Timestamp] = None
    rows_processed: int
    error: Optional[str] = None
    recorded_at: Timestamp


class WorkflowTask(BaseModel):
    """One attempt at one month of one connector within a run (``run_key`` groups a run and its retries)."""

    run_key: str
    run_id: str
    workflow: Enum
    connector: str
    month: str
    """YYYY-MM."""
    status: Enum
    """completed or failed."""
    attempt: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    error: Optional[str] = None
    finished_at: Timestamp


class DataQualityResult(BaseModel):
    """One check: reconciliation (per billing period and metric), freshness (per billing account), quarantine
    rate (per billing period), completeness (per billing period and account)."""

    run_id: str
    check: Enum
    connector: str
    billing_period: str
    """YYYY-MM, '' when the check is not about a period."""
    subject: str
    """What was checked: 'BilledCost = actual cost', a billing account, 'rows'."""
    status: Enum
    """pass, warn or fail."""
    source_value: Optional[Money] = None
    focus_value: Optional[Money] = None
    difference: Optional[Money] = None
    value: float
    """The measured figure: |difference|, days behind, quarantined share."""
    threshold: float
    details: str
    checked_at: Timestamp


class CostAnomaly(BaseModel):
    """A day whose cost for one sub account and service departs from its trailing baseline."""

    day: date
    billing_account_id: str
    sub_account_id: str
    sub_account_name: str
    service_name: str
    currency: Enum
    cost: Money
    baseline: Money
    change: Money
    z_score: float
    method: Enum
    """robust_z (median/MAD of the trailing window) or seasonal (same weekday of the trailing weeks)."""
    direction: Enum
    """up or down."""
    window_days: int
    run_id: str
    detected_at: Timestamp
