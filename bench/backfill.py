"""Benchmark: a 12-month backfill from the loopback fake Azure through the workflow, against the bulk ``abi ingest``
of the same files, in the same run.

    .venv/bin/python bench/backfill.py                          # 12 months, >= 1,000,000 rows a month
    .venv/bin/python bench/backfill.py --rows-per-month 50000   # a quick run

Generates the months' EA actual and amortized exports (the fake's report data, outside the timings), then in fresh
processes, each on a fresh data directory:
1. bulk: ``abi ingest <the 24 files> --json``;
2. workflow: the fake Azure (own process) serving Cost Details reports, a Temporal dev server, ABI's worker and the
   ``backfill`` workflow over the 12 months (report requests, downloads, loads per month atomically, aggregates,
   reconciliation, quarantine rates, freshness, anomalies, run records).
Prints wall time, rows/s and peak memory (max RSS) of each, and the workflow's overhead over the bulk path.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from app.connectors.base import add_months  # noqa: E402
from app.testing.fake_azure_data import ReportData  # noqa: E402

METRICS = ("ActualCost", "AmortizedCost")


def month_list(count: int) -> list[date]:
    last = add_months(date.today(), -1)
    return [add_months(last, -n) for n in range(count - 1, -1, -1)]


def rows_of(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle) - 1


def calibrate(work: Path, target: int) -> int:
    """The demo scale whose shortest month (actual + amortized) has at least ``target`` rows (rows grow linearly
    with the scale and with the days of the month)."""
    month = month_list(1)[0]
    sizes = {}
    for scale in (1, 3):
        data = ReportData(work / f"calibrate-{scale}", scale)
        sizes[scale] = sum(rows_of(data.month_file(month, m)) for m in METRICS)
    per_scale = (sizes[3] - sizes[1]) / 2
    days = calendar.monthrange(month.year, month.month)[1]
    return max(1, math.ceil((target * days / 28 - (sizes[1] - per_scale)) / per_scale))


@contextmanager
def _workdir(given: str | None) -> Iterator[Path]:
    """``--work`` (kept: a second run reuses its generated data), else a temporary folder removed afterwards."""
    if given:
        root = Path(given)
        root.mkdir(parents=True, exist_ok=True)
        for stale in ("wh-bulk", "wh-workflow", "fake/data/reports"):
            shutil.rmtree(root / stale, ignore_errors=True)
        (root / "registry.db").unlink(missing_ok=True)
        yield root
        return
    with tempfile.TemporaryDirectory(prefix="abi-bench-backfill-") as tmp:
        yield Path(tmp)


def generate(work: Path, scale: int, months: list[date]) -> list[Path]:
    data = ReportData(work / "fake" / "data", scale)  # where the fake process looks for its month files
    return [data.month_file(m, metric) for m in months for metric in METRICS]


def child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, the child's peak RSS (MiB, from RUSAGE_CHILDREN: call children in increasing order), stdout."""
    start = time.perf_counter()
    out = subprocess.run(args, cwd=PROJECT, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if out.returncode:
        raise SystemExit(f"{' '.join(args[:4])} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, out.stdout


def bulk(work: Path, files: list[Path]) -> dict:
    seconds, peak, out = child([str(Path(sys.executable).parent / "abi"), "ingest", *map(str, files), "--json"],
                               {"ABI_DATA_DIR": str(work / "wh-bulk")})
    result = json.loads(out)
    rows = sum(f["rows_read"] for f in result["files"])
    return {"seconds": round(seconds, 2), "rows": rows, "rows_per_s": round(rows / seconds), "peak_rss_MB": peak,
            "ok": all(f["error"] is None for f in result["files"])}


def start_fake(work: Path, scale: int, blobs: int) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, "-m", "app.testing.fake_azure", "--workdir", str(work / "fake"),
                             "--scale", str(scale), "--blobs", str(blobs)], cwd=PROJECT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    return proc, json.loads(proc.stdout.readline())


async def backfill(work: Path, fake: dict, months: list[date], parallel: int) -> dict:
    """The workflow phase, in this process: dev server, worker, one backfill run."""
    from temporalio.testing import WorkflowEnvironment

    from app.stack.services import venv_binary
    from app.workflows.temporal.activities import AbiActivities
    from app.workflows.types import BACKFILL, TASK_QUEUE, BackfillInput, QualitySettings, RetrySettings, RunReport
    from app.workflows.worker import build_worker

    rt = open_runtime(work, fake)
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=venv_binary("temporal"),
                                                dev_server_log_level="error")
    acts = AbiActivities(lambda: rt, threads=parallel + 1)
    try:
        async with build_worker(env.client, acts, parallel=parallel + 1):
            inp = BackfillInput("bench", f"{months[0]:%Y-%m}", f"{months[-1]:%Y-%m}", max_parallel=parallel,
                                retry=RetrySettings(heartbeat_s=120), quality=QualitySettings(freshness_days=400))
            started = time.perf_counter()
            report = await env.client.execute_workflow(BACKFILL, inp, id="bench-backfill", task_queue=TASK_QUEUE,
                                                       result_type=RunReport)
            seconds = time.perf_counter() - started
    finally:
        await env.shutdown()
        acts._pool.shutdown(wait=True)
    out = summary(report, seconds)
    out["rows_in_focus"] = int(rt.wh.scalar("SELECT count() FROM abi.focus_cost"))
    rt.close()
    return out


def open_runtime(work: Path, fake: dict):
    """The workflow runtime on a fresh warehouse, with connector ``bench`` pointed at the fake Azure."""
    from app.connectors.registry import Registry
    from app.connectors.service import ConnectorService
    from app.core.warehouse import EmbeddedWarehouse
    from app.workflows.activities import Runtime

    os.environ["BENCH_SECRET"] = "fake-client-secret"
    rt = Runtime.open(EmbeddedWarehouse(work / "wh-workflow"), Registry(f"sqlite:///{work / 'registry.db'}"))
    ConnectorService(rt.registry).add("bench", "azure-cost-details", {
        "scope": "/providers/Microsoft.Billing/billingAccounts/8611537", "tenant_id": fake["tenant"],
        "client_id": fake["client_id"], "client_secret": "env:BENCH_SECRET", "management_url": fake["url"],
        "authority_host": fake["url"], "ca_bundle": fake["ca_file"]})
    return rt


def summary(report, seconds: float) -> dict:
    """The backfill's figures: rows, rate, summed extract and load seconds, months and quality results."""
    rows = sum(load.rows_read for load in report.loads)
    parts = {k: round(sum(load.seconds.get(k, 0.0) for load in report.loads), 1) for k in ("extract", "load")}
    quality = {"checks": report.quality.checks, "failed": report.quality.failed,
               "anomalies": report.quality.anomalies, "problems": report.quality.problems[:5]}
    return {"seconds": round(seconds, 2), "rows": rows, "rows_per_s": round(rows / seconds),
            "month_seconds_summed": parts, "months": len(report.loads), "quality": quality}


def workflow_phase(work: Path, scale: int, blobs: int, months: list[date], parallel: int) -> None:
    proc, fake = start_fake(work, scale, blobs)
    try:
        out = asyncio.run(backfill(work, fake, months, parallel))
    finally:
        proc.terminate()
        proc.wait(30)
    out["peak_rss_MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--rows-per-month", type=int, default=1_000_000, help="actual + amortized rows a month")
    parser.add_argument("--parallel", type=int, default=2, help="months loaded at once by the workflow")
    parser.add_argument("--blobs", type=int, default=1, help="blobs per Cost Details report (each is one more file)")
    parser.add_argument("--work", help="working folder, kept (default: a new temporary one, removed afterwards)")
    parser.add_argument("--phase", choices=["workflow"], help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    months = month_list(args.months)
    if args.phase == "workflow":
        return workflow_phase(Path(args.work), args.scale, args.blobs, months, args.parallel)
    with _workdir(args.work) as work:
        started = time.perf_counter()
        scale = calibrate(work, args.rows_per_month)
        files = generate(work, scale, months)
        generated = time.perf_counter() - started
        bulk_result = bulk(work, files)
        flags = ["--scale", str(scale), "--months", str(args.months), "--blobs", str(args.blobs),
                 "--parallel", str(args.parallel)]
        seconds, peak, out = child([sys.executable, __file__, "--phase", "workflow", "--work", str(work), *flags])
        flow = json.loads(out.strip().splitlines()[-1])
        print(json.dumps({
            "months": args.months, "scale": scale,
            "rows_per_month": round(bulk_result["rows"] / args.months),
            "generate_seconds": round(generated, 1), "bulk_abi_ingest": bulk_result, "workflow": flow,
            "workflow_overhead_pct": round(100 * (flow["seconds"] - bulk_result["seconds"]) / bulk_result["seconds"],
                                           1),
            "same_rows": flow["rows"] == bulk_result["rows"],
        }, indent=2))


if __name__ == "__main__":
    main()
