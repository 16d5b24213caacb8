"""Benchmark of the consumption APIs on 10 million generated FOCUS rows in the embedded engine.

    .venv/bin/python bench/api.py [--rows 10000000] [--runs 50] [--data-dir D] [--no-moose-client]

1. Generates the rows in SQL (``bench/api_data.py``) into a staging table and publishes them like the bulk
   loader (``REPLACE PARTITION``, which the materialized view does not see), then refreshes the daily aggregate
   (``refresh_aggregates``), timing each step.
2. Measures p50/p95 latency of the SQL each API runs (built by ``app.apis.queries``, run on the warehouse):
   the targets are ``cost-breakdown`` and ``cost-trend`` for a month grouped by service (p95 < 100 ms).
3. The same requests through HTTP on loopback (``app.apis.server``: Moose's parameter mapping and handlers);
   the overhead is HTTP p50 minus SQL p50 (target < 20 ms).
4. Unless ``--no-moose-client``: the handlers through Moose's ``MooseClient`` (clickhouse-connect) against the
   project's ClickHouse HTTP server over the same data (the query path of ``moose dev`` on the local stack).
``--data-dir`` keeps the warehouse (a later run on the same directory skips the load). Prints figures only;
it is not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

PROJECT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT), str(PROJECT / "bench")]

from api_data import MONTH_IDS, insert_sql  # noqa: E402

from app.apis import endpoints, queries, service  # noqa: E402
from app.apis.params import (  # noqa: E402
    CostBreakdownQuery,
    CostTrendQuery,
    DataFreshnessQuery,
    PeriodComparisonQuery,
    TopResourcesQuery,
)
from app.core import schema  # noqa: E402
from app.core.loader import ensure_schema  # noqa: E402
from app.core.warehouse import EmbeddedWarehouse  # noqa: E402
from app.ingest.tables import FOCUS_TABLE  # noqa: E402
from app.views.refresh import ensure_views, refresh_aggregates  # noqa: E402

MONTH = {"start": "2026-10-01", "end": "2026-11-01"}
TARGETS = {  # name → (API, query parameters); the first two carry the targets
    "cost-breakdown month by service": ("cost-breakdown", {**MONTH, "group_by": "ServiceName"}),
    "cost-trend month daily by service": ("cost-trend", {**MONTH, "split_by": "ServiceName"}),
}
EXTRAS = {
    "cost-breakdown month by rg x region": ("cost-breakdown", {**MONTH, "group_by": ["x_ResourceGroupName",
                                                                                     "RegionName"]}),
    "cost-trend 3 months monthly": ("cost-trend", {"granularity": "monthly"}),
    "period-comparison by service": ("period-comparison", {"month": "2026-10"}),
    "cost-breakdown month by tag:team (focus_cost)": ("cost-breakdown", {**MONTH, "group_by": "tag:team"}),
    "top-resources month (focus_cost)": ("top-resources", {**MONTH}),
    "data-freshness (focus_cost)": ("data-freshness", {}),
}
MODELS = {"cost-breakdown": CostBreakdownQuery, "cost-trend": CostTrendQuery, "top-resources": TopResourcesQuery,
          "period-comparison": PeriodComparisonQuery, "data-freshness": DataFreshnessQuery}
BUILDERS = {"cost-breakdown": queries.cost_breakdown, "cost-trend": queries.cost_trend,
            "top-resources": queries.top_resources, "period-comparison": queries.period_comparison}


def timed(fn: Callable[[], object], runs: int, warmup: int = 3) -> tuple[float, float]:
    """(p50, p95) in milliseconds of ``runs`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


def params_of(api: str, query: dict) -> object:
    return MODELS[api](**{k: ([v] if k == "group_by" and api == "cost-breakdown" and isinstance(v, str) else v)
                          for k, v in query.items()})


def load(wh: EmbeddedWarehouse, rows: int) -> None:
    """Generate into a batch table, publish with REPLACE PARTITION, refresh the aggregate; print timings."""
    ensure_schema(wh)
    ensure_views(wh)
    batch = "_bench_batch"
    wh.command(schema.create_table_sql(FOCUS_TABLE, wh.database, name=batch))
    step = time.perf_counter()
    wh.command(insert_sql(f"{wh.database}.{batch}", rows))
    print(f"generated {rows:,} FOCUS rows in {time.perf_counter() - step:.1f}s")
    step = time.perf_counter()
    for pid in MONTH_IDS:
        wh.command(f"ALTER TABLE {wh.database}.{FOCUS_TABLE} REPLACE PARTITION ID '{pid}' FROM {wh.database}.{batch}")
    wh.command(f"DROP TABLE {wh.database}.{batch}")
    print(f"published {len(MONTH_IDS)} month partitions (REPLACE PARTITION) in {time.perf_counter() - step:.2f}s")
    step = time.perf_counter()
    refresh_aggregates(wh, MONTH_IDS)
    aggregated = wh.scalar(f"SELECT count() FROM {wh.database}.focus_daily_cost")
    print(f"refreshed the daily aggregate ({aggregated:,} rows, {rows / aggregated:.0f}x fewer) "
          f"in {time.perf_counter() - step:.1f}s")
    settle(wh)


def loaded_rows(wh: EmbeddedWarehouse) -> int:
    return int(wh.scalar(f"SELECT sum(rows) FROM system.parts WHERE database = '{wh.database}' "
                         f"AND table = '{FOCUS_TABLE}' AND active") or 0)


def settle(wh: EmbeddedWarehouse, limit_s: float = 600) -> None:
    """Wait until background merges are over, so that they do not share the 2 cores with the measurements."""
    step, deadline = time.perf_counter(), time.monotonic() + limit_s
    while wh.scalar("SELECT count() FROM system.merges") and time.monotonic() < deadline:
        time.sleep(0.5)  # polling interval
    parts = wh.scalar(f"SELECT count() FROM system.parts WHERE database = '{wh.database}' AND active")
    print(f"background merges settled in {time.perf_counter() - step:.1f}s ({parts} active parts)")


def sql_latencies(wh: EmbeddedWarehouse, cases: dict, runs: int) -> dict[str, tuple[float, float]]:
    execute = service.warehouse_execute(wh)
    out = {}
    for label, (api, query) in cases.items():
        params = params_of(api, query)
        if api == "data-freshness":
            out[label] = timed(partial(service.data_freshness, execute, params), runs)
        else:
            out[label] = timed(partial(execute, BUILDERS[api](params)), runs)
    return out


def http_latencies(base: str, cases: dict, runs: int) -> dict[str, tuple[float, float]]:
    def get(url: str) -> None:
        with urllib.request.urlopen(url, timeout=60) as resp:
            resp.read()

    return {label: timed(partial(get, f"{base}/api/{api}?{urlencode(query, doseq=True)}"), runs)
            for label, (api, query) in cases.items()}


def moose_client_latencies(data_dir: Path, cases: dict, runs: int) -> dict[str, tuple[float, float]]:
    """The Moose handlers through MooseClient → ClickHouse HTTP server (subprocess) over the same data."""
    import clickhouse_connect
    from moose_lib import MooseClient

    port_file = data_dir.parent / "port"
    cmd = [sys.executable, "-m", "app.stack.clickhouse_http", "--data-dir", str(data_dir / "chdb"), "--port", "0",
           "--port-file", str(port_file)]
    proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ClickHouse HTTP server did not start")
            time.sleep(0.1)  # polling interval
        client = MooseClient(clickhouse_connect.get_client(host="127.0.0.1", port=int(port_file.read_text()),
                                                           database="abi"))
        apis = {api.name: api for api in endpoints.APIS}
        return {label: timed(partial(apis[api].query_function, client, params_of(api, query)), runs)
                for label, (api, query) in cases.items()}
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def report(title: str, figures: dict[str, tuple[float, float]], base: dict | None = None) -> None:
    print(f"\n{title}")
    for label, (p50, p95) in figures.items():
        extra = f"   overhead p50 {p50 - base[label][0]:+.1f} ms" if base and label in base else ""
        print(f"  {label:<48} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--data-dir", type=Path, help="warehouse directory to keep (reused when loaded)")
    parser.add_argument("--no-moose-client", action="store_true")
    args = parser.parse_args()
    from app.apis.server import ApiServer

    with tempfile.TemporaryDirectory(prefix="abi-bench-api-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "warehouse"
        wh = EmbeddedWarehouse(data_dir)
        if loaded_rows(wh) >= args.rows:
            print(f"reusing {loaded_rows(wh):,} FOCUS rows in {data_dir}")
        else:
            load(wh, args.rows)
        cases = {**TARGETS, **EXTRAS}
        print(f"load average before measuring: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
              f"({os.cpu_count()} CPUs)")
        sql = sql_latencies(wh, cases, args.runs)
        report("SQL the API runs (embedded engine); targets: p95 < 100 ms for the first two", sql)
        server = ApiServer(wh)
        server.start()
        report("HTTP on loopback (Moose's parameter mapping + handler + JSON); target overhead < 20 ms",
               http_latencies(server.url, cases, args.runs), sql)
        server.shutdown()
        server.server_close()
        wh.close()
        if not args.no_moose_client:
            report("Moose handlers via MooseClient (clickhouse-connect) → ClickHouse HTTP server over chdb",
                   moose_client_latencies(data_dir, TARGETS, args.runs), sql)


if __name__ == "__main__":
    main()
