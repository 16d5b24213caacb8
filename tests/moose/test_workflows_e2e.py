"""``moose-cli dev --no-infra`` with ``[features] workflows = true`` on the local stack (``abi stack``): Moose
registers ABI's workflows on the stack's Temporal, runs ``daily-extraction`` on its schedule and ``data-quality`` /
``backfill`` on demand (``moose-cli workflow run``); the runs are recorded in the stack's ClickHouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from connectortest import SECRET_ENV
from moosetest import MooseApp, start_moose, stop_moose
from stacktest import running_stack
from workflowtest import cost_details, last

from app.connectors.registry import Registry
from app.connectors.service import ConnectorService
from app.stack import local
from app.testing.fake_azure import FakeAzure

pytestmark = pytest.mark.slow
WAIT_S = 90.0
SCHEDULE = "@every 10s"


@pytest.fixture(scope="module")
def moose(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MooseApp, FakeAzure]]:
    run_dir = tmp_path_factory.mktemp("moose-workflows")
    fake = FakeAzure(run_dir / "fake-azure").start()
    saved = dict(os.environ)
    os.environ.update({"ABI_DAILY_CRON": SCHEDULE, "ABI_DATA_DIR": str(run_dir / "abi"),
                       SECRET_ENV: fake.client_secret})
    os.environ.pop("ABI_CLICKHOUSE_URL", None)
    registry = Registry()
    ConnectorService(registry).add("azure", "azure-cost-details", cost_details(fake))
    registry.close()
    try:
        with running_stack(run_dir / "stack") as stack:
            app = start_moose(stack, run_dir, ["workflow_runs", "workflow_tasks", "data_quality_results"], [])
            try:
                yield app, fake
            finally:
                stop_moose(app)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        fake.stop()


def moose_cli(app: MooseApp, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **local.moose_env(app.stack, app.http_port, app.management_port, app.proxy_port),
           "HOME": str(app.home)}
    return subprocess.run([str(Path(sys.executable).parent / "moose-cli"), "workflow", *args], cwd=app.project,
                          env=env, capture_output=True, text=True, timeout=120)


def runs(app: MooseApp, workflow: str) -> list[dict]:
    return app.query(f"SELECT run_id, {last('status')} AS status, {last('rows_processed')} AS rows, "
                     f"{last('error')} AS error FROM workflow_runs AS r WHERE r.workflow = '{workflow}' "
                     "GROUP BY run_id ORDER BY min(r.started_at), run_id")


def ended(app: MooseApp, workflow: str) -> dict:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        done = [r for r in runs(app, workflow) if r["status"] in ("completed", "failed")]
        if done:
            return done[0]
        time.sleep(0.25)
    raise AssertionError(f"no {workflow} run ended in {WAIT_S}s:\n{app.logs(60)}")


def test_moose_registers_the_workflows_with_the_daily_schedule(moose):
    app, _ = moose
    listed = moose_cli(app, "list")
    assert listed.returncode == 0, listed.stderr
    for name in ("daily-extraction", "backfill", "data-quality"):
        assert name in listed.stdout
    assert SCHEDULE in listed.stdout


def test_the_scheduled_daily_extraction_runs_and_is_recorded(moose):
    app, _ = moose
    run = ended(app, "daily-extraction")
    assert run["status"] == "completed", run


def test_data_quality_runs_on_demand(moose, months_ago):
    app, _ = moose
    started = moose_cli(app, "run", "data-quality", "--input", json.dumps({"start": f"{months_ago(1):%Y-%m}"}))
    assert started.returncode == 0 and "started successfully" in started.stdout, started.stdout + started.stderr
    assert ended(app, "data-quality")["status"] == "completed"


def test_a_backfill_runs_on_demand(moose, months_ago):
    app, fake = moose
    month = f"{months_ago(1):%Y-%m}"
    started = moose_cli(app, "run", "backfill", "--input",
                        json.dumps({"connector": "azure", "start": month, "end": month}))
    assert started.returncode == 0, started.stdout + started.stderr
    run = ended(app, "backfill")
    assert run["status"] == "completed", run["error"]
    assert run["rows"] > 0 and int(app.query("SELECT count() AS n FROM focus_cost")[0]["n"]) > 0
    checks = app.query("SELECT status, count() AS n FROM data_quality_results WHERE `check` = 'reconciliation' "
                       "GROUP BY status")
    assert [c["status"] for c in checks] == ["pass"], checks  # source totals = FOCUS totals in Moose's ClickHouse
