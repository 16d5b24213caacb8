"""Reconciliation after a run checks what the run loaded: a load of part of a billing period (anniversary periods,
a month re-loaded in halves) on its part, a unit every month of a run loads again once."""

from __future__ import annotations

from datetime import date

from abitest import first_days
from test_quality import month_load, reconciliation

from app.core.demo import generate
from app.core.loader import ingest
from app.workflows.quality import check
from app.workflows.store import ensure_workflow_schema
from app.workflows.types import CheckInput, QualitySettings

JUNE = date(2026, 6, 1)
SETTINGS = QualitySettings(freshness_days=10_000)


def test_a_load_of_part_of_a_billing_period_is_reconciled_on_its_part(wh, tmp_path):
    """The month held whole from an earlier load, this run loads its first half: the whole period's FOCUS
    against the half's files made a false difference of the other half."""
    ensure_workflow_schema(wh)
    files = generate(tmp_path / "demo", month=JUNE)
    assert ingest(wh, [files.actual, files.amortized]).ok
    halves = [first_days(f, tmp_path / f"half_{f.name}", 15) for f in (files.actual, files.amortized)]
    result = ingest(wh, halves)
    assert result.ok
    report = check(wh, CheckInput("half", "demo", [month_load(result)], today="2026-07-01", settings=SETTINGS))
    rows = reconciliation(wh, "half")
    assert report.failed == 0 and len(rows) == 2 and {r["status"] for r in rows.values()} == {"pass"}


def test_a_unit_loaded_again_in_the_same_run_is_reconciled_once(wh, tmp_path):
    """A folder without months in its names is the unit of every month's sync: its totals were added up once a
    month, three times the truth."""
    ensure_workflow_schema(wh)
    files = generate(tmp_path / "demo", month=JUNE)
    result = ingest(wh, [files.actual, files.amortized])
    load = month_load(result)
    report = check(wh, CheckInput("again", "demo", [load, load, load], today="2026-07-01", settings=SETTINGS))
    rows = reconciliation(wh, "again")
    assert report.failed == 0 and len(rows) == 2 and {r["status"] for r in rows.values()} == {"pass"}


def test_a_day_missing_from_a_month_is_reported_and_a_whole_month_is_not(wh, tmp_path):
    """A day the source lost passes reconciliation (the files lack it too): completeness names it."""
    ensure_workflow_schema(wh)
    files = generate(tmp_path / "demo", month=JUNE)
    result = ingest(wh, [files.actual, files.amortized])
    check(wh, CheckInput("whole", "demo", [month_load(result)], today="2026-07-01", settings=SETTINGS))
    wh.command("DELETE FROM abi.focus_cost WHERE toDate(ChargePeriodStart) = '2026-06-15'")
    report = check(wh, CheckInput("gap", "demo", [month_load(result)], today="2026-07-01", settings=SETTINGS))
    found = {r["run_id"]: r for r in wh.rows("SELECT run_id, status, details FROM abi.data_quality_results "
                                             "WHERE `check` = 'completeness'")}
    assert found["whole"]["status"] == "pass"
    assert found["gap"]["status"] == "warn" and "1 day(s) without usage" in found["gap"]["details"]
    assert "2026-06-15" in found["gap"]["details"] and report.warnings >= 1
