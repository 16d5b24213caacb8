"""Shared fixtures of the plugin and connector tests: the loopback fakes, registries, and per-plugin harnesses."""

from __future__ import annotations

import csv
import gzip
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import pytest

from app.connectors import http
from app.connectors.base import add_months, month_end, utc_today
from app.connectors.registry import Registry
from app.connectors.secrets import seal, unseal
from app.core.demo import generate
from app.testing.fake_azure import FakeAzure
from app.testing.servers import PostgresServer, S3Server

SECRET_ENV = "T_ABI_AZURE_SECRET"
EA_KEY_ENV = "T_ABI_EA_KEY"
S3_SECRET_ENV = "T_ABI_S3_SECRET"
RECORDINGS = Path(__file__).parent / "plugins" / "recordings"


DAY_MARGIN_S = 300.0
"""No test that reads today's date begins closer than this to a UTC midnight (ten times the longest such test)."""


def settled_today(margin_s: float = DAY_MARGIN_S) -> date:
    """Today in UTC, as the connectors count; within ``margin_s`` of the next UTC midnight, the new day once it has
    begun. The connectors, workers and fake Azure read the clock themselves (real dates): a test begun now ends on
    the day it began, so they agree with it (a day, or a month, begun mid-test would not)."""
    now = datetime.now(UTC)
    left = (datetime.combine(now.date() + timedelta(days=1), dt_time(), UTC) - now).total_seconds()
    if left < margin_s:
        time.sleep(left + 1)  # until the next day: a wall-clock instant, not a guess of how long something takes
    return utc_today()


@pytest.fixture
def today() -> date:
    """This test's UTC day, evaluated once (``settled_today``)."""
    return settled_today()


@pytest.fixture
def months_ago(today: date) -> Callable[[int], date]:
    """``months_ago(n)``: the first day of the month ``n`` months before this test's UTC month (tests stay within the
    API's 13 months)."""
    return lambda n: add_months(today, -n)


@pytest.fixture
def fake_azure(tmp_path: Path) -> Iterator[FakeAzure]:
    fake = FakeAzure(tmp_path / "fake-azure").start()
    yield fake
    fake.stop()


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Every retry/poll wait the connectors asked for (recorded instead of slept)."""
    seen: list[float] = []
    monkeypatch.setattr(http, "sleep", seen.append)
    return seen


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def registry(request, tmp_path: Path) -> Iterator[Registry]:
    """A fresh registry in SQLite and in a real PostgreSQL server (same code)."""
    if request.param == "sqlite":
        reg = Registry(f"sqlite:///{tmp_path / 'registry.db'}")
    else:
        import psycopg

        url = request.getfixturevalue("pg").url
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS plugin_registry CASCADE")
        reg = Registry(url)
    yield reg
    reg.close()


@pytest.fixture
def sqlite_registry(tmp_path: Path) -> Iterator[Registry]:
    reg = Registry(f"sqlite:///{tmp_path / 'registry.db'}")
    yield reg
    reg.close()


def cost_details_config(fake: FakeAzure, monkeypatch, **overrides: Any) -> dict[str, Any]:
    """A valid azure-cost-details config against the fake (secret through an env reference)."""
    monkeypatch.setenv(SECRET_ENV, fake.client_secret)
    return {"scope": f"/providers/Microsoft.Billing/billingAccounts/{fake.enrollment}", "auth": "client_secret",
            "tenant_id": fake.tenant, "client_id": fake.client_id, "client_secret": f"env:{SECRET_ENV}",
            "management_url": fake.url, "authority_host": fake.url, "ca_bundle": fake.ca_file, **overrides}


def ea_config(fake: FakeAzure, monkeypatch, **overrides: Any) -> dict[str, Any]:
    monkeypatch.setenv(EA_KEY_ENV, fake.ea_api_key)
    return {"enrollment": fake.enrollment, "api_key": f"env:{EA_KEY_ENV}", "base_url": fake.url,
            "ca_bundle": fake.ca_file, **overrides}


def s3_config(server: S3Server, bucket: str, monkeypatch, **overrides: Any) -> dict[str, Any]:
    monkeypatch.setenv(S3_SECRET_ENV, server.secret_key)
    return {"endpoint_url": server.url, "access_key_id": server.access_key, "secret_access_key": f"env:{S3_SECRET_ENV}",
            "bucket": bucket, "region": "us-east-1", **overrides}


def write_export_run(root: Path, export: str, kind: str, month: date, run_id: str, submitted: str,
                     source: Path, parts: int = 2, compress: bool = True, run_time: str = "") -> list[Path]:
    """A Cost Management export run as delivered to storage: parts (with headers) and manifest.json (``run_time``:
    in a folder of the run's time, ``<YYYYMMDD-YYYYMMDD>/<YYYYMMDDHHMM>/<run id>/``)."""
    folder = root / "exports" / export / f"{month:%Y%m%d}-{month_end(month):%Y%m%d}" / run_time / run_id
    folder.mkdir(parents=True)
    names = [folder / f"part_0_{i + 1:04d}.csv{'.gz' if compress else ''}" for i in range(parts)]
    handles = [gzip.open(p, "wt", newline="") if compress else open(p, "w", newline="") for p in names]
    with open(source, newline="", encoding="utf-8-sig") as src:
        reader = csv.reader(src)
        header = next(reader)
        writers = [csv.writer(h) for h in handles]
        for w in writers:
            w.writerow(header)
        for n, row in enumerate(reader):
            writers[n % parts].writerow(row)
    for h in handles:
        h.close()
    blobs = [{"blobName": p.relative_to(root).as_posix(), "byteCount": p.stat().st_size} for p in names]
    manifest = {"manifestVersion": "2024-04-01", "blobCount": parts, "byteCount": sum(b["byteCount"] for b in blobs),
                "exportConfig": {"exportName": export, "type": kind, "dataVersion": "2023-12-01-preview"},
                "deliveryConfig": {"partitionData": True, "fileFormat": "Csv",
                                   "compressionMode": "gzip" if compress else "None"},
                "runInfo": {"executionType": "Scheduled", "submittedTime": submitted, "runId": run_id,
                            "startDate": f"{month}T00:00:00", "endDate": f"{month_end(month)}T00:00:00Z"},
                "blobs": blobs}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return names


def per_subscription_runs(tmp_path: Path, root: Path, month: date, source: Path, resource: bool) -> list[Path]:
    """One ``daily-actual`` export per subscription of ``source`` (the same name on each scope, as Azure allows), each
    in its own folder of ``root`` (``sub-N/exports/daily-actual/…``); ``resource``: each manifest names its scope's
    ``exportConfig.resourceId``. Returns the parts."""
    with open(source, newline="", encoding="utf-8-sig") as src:
        header, *rows = list(csv.reader(src))
    column, parts = header.index("SubscriptionId"), []
    for n, sub in enumerate(sorted({r[column] for r in rows})):
        mine = tmp_path / f"sub{n}.csv"
        with open(mine, "w", newline="") as out:
            csv.writer(out).writerows([header, *(r for r in rows if r[column] == sub)])
        made = write_export_run(root / f"sub-{n}", "daily-actual", "ActualCost", month, f"run-{n}",
                                f"2026-11-01T05:0{n}:00Z", mine)
        if resource:
            manifest = made[0].parent / "manifest.json"
            data = json.loads(manifest.read_text())
            data["exportConfig"]["resourceId"] = f"/subscriptions/{sub}/providers/Microsoft.CostManagement/exports/x"
            manifest.write_text(json.dumps(data))
        parts += made
    return parts


def demo_month(tmp_path: Path, month: date):
    return generate(tmp_path / f"demo-{month:%Y%m}", month=month, scale=1)


# harnesses: for each installed plugin, a working config against a real-protocol double and a broken one
Harness = Callable[[pytest.FixtureRequest, Path], tuple[dict[str, Any], dict[str, Any]]]


def _cost_details(request, tmp_path):
    fake, mp = request.getfixturevalue("fake_azure"), request.getfixturevalue("monkeypatch")
    good = cost_details_config(fake, mp)
    return good, {**good, "management_url": "https://127.0.0.1:9", "max_attempts": 1}


def _ea(request, tmp_path):
    fake, mp = request.getfixturevalue("fake_azure"), request.getfixturevalue("monkeypatch")
    mp.setenv("T_ABI_WRONG_KEY", "not-the-key")
    good = ea_config(fake, mp)
    return good, {**good, "api_key": "env:T_ABI_WRONG_KEY"}


def _exports(request, tmp_path):
    month = request.getfixturevalue("months_ago")(1)
    files = demo_month(tmp_path, month)
    write_export_run(tmp_path / "container", "daily-actual", "ActualCost", month, "run-1",
                     "2026-01-01T00:00:00Z", files.actual)
    return {"storage": "local", "path": str(tmp_path / "container")}, {"storage": "local", "path": str(tmp_path / "x")}


def _s3(request, tmp_path):
    server, mp = request.getfixturevalue("s3"), request.getfixturevalue("monkeypatch")
    bucket = f"contract-{uuid.uuid4().hex[:12]}"
    client = server.client()
    client.create_bucket(Bucket=bucket)
    month = request.getfixturevalue("months_ago")(1)
    files = demo_month(tmp_path, month)
    client.upload_file(str(files.actual), bucket, f"azure/{month:%Y%m}/{files.actual.name}")
    good = s3_config(server, bucket, mp, prefix="azure/")
    return good, {**good, "access_key_id": "AKIAUNKNOWNUNKNOWN00"}


def _focus(request, tmp_path):
    samples = request.getfixturevalue("samples") / "focus-spec-examples"
    return {"paths": [str(samples)], "filter_by_path_date": False}, {"paths": [str(tmp_path / "none")]}


HARNESSES: dict[str, Harness] = {"azure-cost-details": _cost_details, "azure-ea": _ea, "azure-exports": _exports,
                                 "s3-minio": _s3, "focus-file": _focus}


def resolved(plugin, config: dict[str, Any]) -> dict[str, Any]:
    """A config as a plugin receives it from a connector: validated, sealed, unsealed (secrets as Secret)."""
    schema = plugin.info.config_schema
    return plugin.validate_config(unseal(schema, seal(schema, plugin.validate_config(config))))


class NoClose:
    """A borrowed warehouse: the service's ``close()`` leaves it open for the test."""

    def __init__(self, wh) -> None:
        self._wh = wh

    def __getattr__(self, name: str):
        return getattr(self._wh, name)

    def close(self) -> None:
        pass
