"""Restarting Moose on the local stack (``abi stack dev`` clears Moose's state, so every view is new to it) keeps
what the FOCUS tables hold: Moose's dev-mode backfill of a new view truncates the view's target first."""

from __future__ import annotations

from pathlib import Path

from moosetest import MooseApp, start_moose, stop_moose
from stacktest import running_stack

from app.ingest.pipelines import PIPELINES
from app.stack import local

ROW = {"BillingAccountId": "8611537", "BillingCurrencyCode": "USD", "Date": "2026-10-02",
       "ConsumedService": "Microsoft.Storage", "x_IngestionId": "restart", "x_SourceFile": "restart.csv"}
FOCUS = {"BilledCost": "5", "EffectiveCost": "5", "ListCost": "5", "ContractedCost": "5", "BillingAccountId": "BA-1",
         "BillingCurrency": "USD", "BillingPeriodStart": "2026-10-01T00:00:00Z",
         "BillingPeriodEnd": "2026-11-01T00:00:00Z", "ChargePeriodStart": "2026-10-05T00:00:00Z",
         "ChargePeriodEnd": "2026-10-06T00:00:00Z", "ChargeCategory": "Usage", "ServiceName": "Storage",
         "ServiceCategory": "Storage", "ProviderName": "AWS", "PublisherName": "AWS", "InvoiceIssuerName": "AWS",
         "x_SourceFile": "aws.csv", "x_SourceRow": 1}
STATE = ("SELECT (SELECT count() FROM focus_cost) AS rows, (SELECT toString(sum(BilledCost)) FROM focus_cost) AS "
         "billed, (SELECT count() FROM focus_quarantine) AS quarantined, "
         "(SELECT toString(sum(BilledCost)) FROM focus_daily_cost) AS daily")


def _start(stack, run_dir: Path) -> MooseApp:
    views = [p.to_focus.name for p in PIPELINES.values()] + [p.to_quarantine.name for p in PIPELINES.values()]
    return start_moose(stack, run_dir, views, [p.pipeline.name for p in PIPELINES.values()])


def _post_until_held(app: MooseApp, azure_rows: list[dict]) -> dict:
    """Post the rows, again (a client's retry: the same rows add nothing) until all are held: a record posted in the
    first seconds after Moose starts may precede its topic-to-table sync on the memory broker."""
    for _ in range(6):
        assert app.post("azure_cost_rows", azure_rows) == (200, "SUCCESS")
        assert app.post("focus_rows", [FOCUS]) == (200, "SUCCESS")
        try:
            return app.wait_for(STATE, lambda r: r[0]["rows"] == 4 and r[0]["quarantined"] == 1, timeout_s=20)[0]
        except AssertionError:
            continue
    raise AssertionError(f"rows never held: {app.query(STATE)}\n{app.logs()}")


def test_a_restart_keeps_the_focus_tables_and_the_daily_aggregate(tmp_path: Path) -> None:
    with running_stack(tmp_path / "stack") as stack:
        app = _start(stack, tmp_path / "first")
        try:
            rows = [{**ROW, "CostInBillingCurrency": "10", "x_SourceRow": n} for n in (1, 2, 3)]
            before = _post_until_held(app, rows + [{**ROW, "CostInBillingCurrency": "n/a", "x_SourceRow": 9}])
        finally:
            stop_moose(app)
        assert float(before["billed"]) == float(before["daily"]) == 35
        local.reset(stack)  # what ``abi stack dev`` does before each start
        app = _start(stack, tmp_path / "second")
        try:
            assert app.query(STATE)[0] == before
        finally:
            stop_moose(app)
