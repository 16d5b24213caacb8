"""Benchmark of ``abi ingest`` against a raw ClickHouse load of the same file, in the same run.

    .venv/bin/python bench/ingest.py [--rows 1000000]

Generates an EA actual-cost export of about N rows, derives ABI's cached declaration facts (once per code version),
then in fresh processes (each on a fresh data directory):
1. ``abi ingest FILE --json`` (mapping, validation, quarantine routing, partition replace);
2. the reference: ``CREATE TABLE … ENGINE = MergeTree … AS SELECT * FROM file(FILE, CSVWithNames)`` (no mapping);
3. a breakdown: the file read as text alone, then read + mapping + validation with no write.
Prints wall time, rows/s, peak memory (max RSS) and CPU seconds of each, the ratio ABI / raw, and where ABI's time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
RAW_LOAD = """
import sys
from chdb import session
s = session.Session(sys.argv[1])
source = "file('" + sys.argv[2] + "', CSVWithNames)"
s.query("CREATE TABLE raw ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM " + source)
print(s.query("SELECT count() FROM raw", "CSV").bytes().decode().strip())
"""

BREAKDOWN = """
import sys, time
from pathlib import Path
from app.core import loader, mapping, relation, warehouse
from app.core.sources import open_source
wh = warehouse.EmbeddedWarehouse(Path(sys.argv[1]))
loader.ensure_schema(wh)
sf = open_source(Path(sys.argv[2]))
q = warehouse.quote
read = f"file({q(str(sf.path))}, {q(sf.clickhouse_format)}, {q(relation.structure(sf))})"
lineage = {"_ingestion_id": "bench", "_ingested_at": "2026-01-01 00:00:00.000", "_source_file": str(sf.path),
           "_dataset": sf.dataset, "_format": sf.source}
mapped = mapping.mapped_select(sf.source).replace(mapping.SOURCE, relation.relation_sql(sf, lineage).replace(
    relation.FILE, read))
settings = "SETTINGS " + ", ".join(f"{k} = {q(v)}" for k, v in warehouse.FILE_SETTINGS.items())
for name, sql in (("read", f"SELECT * FROM {read}"), ("map", mapped)):
    start = time.perf_counter()
    wh.command(f"{sql} FORMAT Null {settings}")
    print(name, time.perf_counter() - start)
"""
"""Where the time goes: the file read as text alone, then read + mapping + validation (no write), in one process."""

WARM_UP = "from app.core import schema; from app.models import columns; schema.infra_tables(); columns.ALL_COLUMNS"
"""Derives the cached declaration facts (app.core.derived) so the timing measures the load, not a first run."""


def run(cmd: list[str], env: dict | None = None) -> tuple[float, int, str, float]:
    """Wall seconds, peak RSS (MiB) of this child alone (from wait4), stdout, CPU seconds (user + system)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd[:4]} failed with exit code {proc.returncode}")
    return seconds, usage.ru_maxrss // 1024, out, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    from app.core.demo import SERVICES, generate

    with tempfile.TemporaryDirectory(prefix="abi-bench-") as tmp:
        work = Path(tmp)
        scale = max(1, round(args.rows / (len(SERVICES) * 31)))
        t0 = time.perf_counter()
        files = generate(work / "data", scale=scale)
        print(f"generated {files.actual.name} ({files.actual.stat().st_size / 2**20:.0f} MiB) "
              f"in {time.perf_counter() - t0:.1f}s")
        env = {"ABI_DATA_DIR": str(work / "abi"), "PATH": "/usr/bin:/bin"}
        run([sys.executable, "-c", WARM_UP], env=env)  # once per code version, as any earlier abi command does
        abi_s, abi_mem, out, abi_cpu = run(
            [sys.executable, "-m", "app.cli.main", "ingest", str(files.actual), "--json"], env=env)
        rows = json.loads(out)["files"][0]["rows_read"]
        raw_s, raw_mem, raw_out, raw_cpu = run(
            [sys.executable, "-c", RAW_LOAD, str(work / "raw"), str(files.actual)])
        raw_rows = int(raw_out.strip())
        parts_s, _, parts_out, _ = run(
            [sys.executable, "-c", BREAKDOWN, str(work / "parts"), str(files.actual)], env=env)
        parts = {k: float(v) for k, v in (line.split() for line in parts_out.splitlines())}
        parts["start"] = parts_s - parts["read"] - parts["map"]  # interpreter, engine and schema: ABI's too
    print(f"rows: {rows:,} (raw load: {raw_rows:,})")
    for name, s, n, mem, cpu in (("abi ingest", abi_s, rows, abi_mem, abi_cpu), ("raw load", raw_s, raw_rows, raw_mem,
                                                                                  raw_cpu)):
        print(f"{name:11}: {s:7.2f} s  {n / s:>12,.0f} rows/s  peak RSS {mem:,} MiB  CPU {cpu:.1f} s")
    print(f"ratio (abi rows/s ÷ raw rows/s): {(rows / abi_s) / (raw_rows / raw_s):.2f}  (target >= 0.9)")
    print(f"where abi's time goes: start {parts['start']:.2f} s, reading the text {parts['read']:.2f} s, "
          f"mapping + validation {parts['map'] - parts['read']:.2f} s, writing FOCUS + quarantine and publishing "
          f"{abi_s - parts['start'] - parts['map']:.2f} s")


if __name__ == "__main__":
    main()
