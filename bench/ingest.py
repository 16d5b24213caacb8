"""Benchmark of ``abi ingest`` against a raw ClickHouse load of the same file, in the same run.

    .venv/bin/python bench/ingest.py [--rows 1000000]

Generates an EA actual-cost export of about N rows, then in fresh processes (each on a fresh data directory):
1. ``abi ingest FILE --json`` (mapping, validation, quarantine routing, partition replace);
2. the reference: ``CREATE TABLE … ENGINE = MergeTree … AS SELECT * FROM file(FILE, CSVWithNames)`` (no mapping).
Prints wall time, rows/s and peak memory (max RSS) of each, and the ratio ABI / raw.
"""

from __future__ import annotations

import argparse
import json
import resource
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


def run(cmd: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MiB) of the child, stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=PROJECT, env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) // 1024, out.stdout


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
        abi_s, _, out = run([sys.executable, "-m", "app.cli.main", "ingest", str(files.actual), "--json"],
                            env=env)
        abi_mem = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
        rows = json.loads(out)["files"][0]["rows_read"]
        raw_s, raw_mem, raw_out = run([sys.executable, "-c", RAW_LOAD, str(work / "raw"), str(files.actual)])
        raw_rows = int(raw_out.strip())
    print(f"rows: {rows:,} (raw load: {raw_rows:,})")
    print(f"abi ingest : {abi_s:7.2f} s  {rows / abi_s:>12,.0f} rows/s  peak RSS <= {abi_mem:,} MiB")
    print(f"raw load   : {raw_s:7.2f} s  {raw_rows / raw_s:>12,.0f} rows/s  peak RSS <= {raw_mem:,} MiB")
    print(f"ratio (abi rows/s ÷ raw rows/s): {(rows / abi_s) / (raw_rows / raw_s):.2f}  (target >= 0.9)")


if __name__ == "__main__":
    main()
