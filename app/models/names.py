"""Names of ABI's tables and views, importable without moose-lib (the declarations in ``app/ingest`` and
``app/views`` use them; the command line's hot path needs only these)."""

from functools import cache

from app.core.settings import SQL_DIR

FOCUS_TABLE = "focus_cost"
QUARANTINE_TABLE = "focus_quarantine"
INGESTION_LOG_TABLE = "ingestion_log"
FOCUS_PARTITION_BY = "toYYYYMM(BillingPeriodStart)"
"""Billing month: a load replaces whole months (per scope), atomically."""

DAILY_COST_TABLE = "focus_daily_cost"
DAILY_COST_VIEW = "focus_daily_cost_mv"


@cache
def view_sql(name: str) -> str:
    """The SELECT of ``sql/views/<name>.sql`` (its header comment dropped)."""
    text = (SQL_DIR / "views" / f"{name}.sql").read_text()
    return "\n".join(line for line in text.splitlines() if not line.startswith("--")).strip()
