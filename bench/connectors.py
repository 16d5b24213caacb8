"""Benchmark: a connector sync from the loopback fake of Azure (Cost Details API) against the bulk ``ingest`` of the
same report blobs (one call per dataset). Prints wall times, rows/s, MB downloaded and peak memory.

    .venv/bin/python bench/connectors.py --months 2 --scale 20 --blobs 4 --compress
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.connectors import http  # noqa: E402
from app.connectors.base import add_months  # noqa: E402
from app.connectors.registry import Registry  # noqa: E402
from app.connectors.service import ConnectorService  # noqa: E402
from app.core.loader import ingest  # noqa: E402
from app.core.warehouse import EmbeddedWarehouse  # noqa: E402
from app.testing.fake_azure import FakeAzure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=2)
    parser.add_argument("--scale", type=int, default=20, help="demo resources multiplier (rows per month ~ 550×)")
    parser.add_argument("--blobs", type=int, default=4)
    parser.add_argument("--compress", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="abi-bench-connectors-"))
    fake, first, last = start_fake(work, args)
    service = ConnectorService(Registry(f"sqlite:///{work / 'registry.db'}"),
                               warehouse=lambda: EmbeddedWarehouse(work / "wh-sync"))
    service.add("bench", "azure-cost-details", {
        "scope": f"/providers/Microsoft.Billing/billingAccounts/{fake.enrollment}", "tenant_id": fake.tenant,
        "client_id": fake.client_id, "client_secret": "env:BENCH_SECRET", "management_url": fake.url,
        "authority_host": fake.url, "ca_bundle": fake.ca_file})
    started = time.perf_counter()
    result = service.sync("bench", f"{first:%Y-%m}", f"{last:%Y-%m}")
    sync_s = time.perf_counter() - started
    downloaded = sum(p.stat().st_size for p in (work / "fake" / "data" / "reports").rglob("part_*"))
    wh = EmbeddedWarehouse(work / "wh-bulk")
    started = time.perf_counter()  # the same blobs, bulk: one ingest per dataset
    bulk = [ingest(wh, [b for r in fake.reports.values() if r.metric == metric for b in r.blobs], None, metric)
            for metric in ("ActualCost", "AmortizedCost")]
    bulk_s = time.perf_counter() - started
    wh.close()
    fake.stop()
    report(args, result, bulk, {"sync": sync_s, "bulk": bulk_s, "downloaded": downloaded})


def start_fake(work: Path, args: argparse.Namespace) -> tuple[FakeAzure, date, date]:
    """The fake Azure with the months' demo data generated ahead (outside the timings); its secret in the env."""
    http.sleep = lambda _s: None  # the fake answers Retry-After: 0; no waiting to measure
    fake = FakeAzure(work / "fake", scale=args.scale, blobs_per_report=args.blobs, compress=args.compress).start()
    first, last = add_months(time_today(), -args.months), add_months(time_today(), -1)
    for m in range(args.months):
        for metric in ("ActualCost", "AmortizedCost"):
            fake.data.month_file(add_months(first, m), metric)
    os.environ["BENCH_SECRET"] = fake.client_secret
    return fake, first, last


def report(args: argparse.Namespace, result: dict, bulk: list, measured: dict[str, float]) -> None:
    """Prints the figures as one JSON object."""
    rows, sync_s, bulk_s = result["rows_read"], measured["sync"], measured["bulk"]
    print(json.dumps({
        "months": args.months, "scale": args.scale, "blobs_per_report": args.blobs, "compress": args.compress,
        "ok": result["ok"] and all(b.ok for b in bulk), "rows": rows,
        "bulk_rows": sum(f.rows_read for b in bulk for f in b.files),
        "sync_seconds": round(sync_s, 2), "sync_rows_per_s": round(rows / sync_s), "MB_downloaded":
        round(measured["downloaded"] / 1e6, 1), "bulk_ingest_seconds": round(bulk_s, 2),
        "sync_overhead_pct": round(100 * (sync_s - bulk_s) / bulk_s, 1),
        "sync_extract_seconds": round(sum(u["extract_seconds"] for u in result["units"]), 2),
        "sync_load_seconds": round(sum(u["load_seconds"] for u in result["units"]), 2),
        "peak_rss_MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }, indent=2))


def time_today() -> date:
    return date.today()


if __name__ == "__main__":
    main()
