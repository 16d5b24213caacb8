"""Benchmark of ``abi ingest`` against a raw ClickHouse load of the same file, in the same run.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--rounds 3]

Generates an EA actual-cost export of about N rows, derives ABI's cached declaration facts (once per code version),
then, in alternated rounds (``--rounds``, default 3: the machine's speed drifts, so medians are compared), in fresh
processes each on a fresh data directory:
1. ``abi ingest FILE --json`` (mapping, validation, quarantine routing, partition replace);
2. the reference: ``CREATE TABLE … ENGINE = MergeTree … AS SELECT * FROM file(FILE, CSVWithNames)`` (no mapping);
3. once, a breakdown: Tags and SkuPriceDetails parsed ahead, the file read as text alone, then read + mapping +
   validation with no write.
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
from dataclasses import dataclass
from pathlib import Path
from statistics import median

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
from app.core import json_values, loader, mapping, relation, warehouse
from app.core.sources import open_source
wh = warehouse.EmbeddedWarehouse(Path(sys.argv[1]))
loader.ensure_schema(wh)
sf = open_source(Path(sys.argv[2]))
q = warehouse.quote
start = time.perf_counter()
table = wh.database + ".bench_json" if json_values.prepare(wh, sf, wh.database + ".bench_json") else None
print("ahead", time.perf_counter() - start)
fmt, read_settings = relation.numbered_read(sf)
read = f"file({q(str(sf.path))}, {q(fmt)}, {q(relation.structure(sf))})"
lineage = {"_ingestion_id": "bench", "_ingested_at": "2026-01-01 00:00:00.000", "_source_file": str(sf.path),
           "_dataset": sf.dataset, "_format": sf.source}
mapped = mapping.mapped_select(sf.source, table).replace(mapping.SOURCE, relation.relation_sql(sf, lineage).replace(
    relation.FILE, read))
settings = "SETTINGS " + ", ".join(f"{k} = {q(v)}" for k, v in {**warehouse.FILE_SETTINGS, **read_settings}.items())
for name, sql in (("read", f"SELECT * FROM {read}"), ("map", mapped)):
    start = time.perf_counter()
    wh.command(f"{sql} FORMAT Null {settings}")
    print(name, time.perf_counter() - start)
"""
"""Where the time goes: JSON values parsed ahead (``app.core.json_values``), the file read as text alone, then read +
mapping + validation (no write), in one process."""

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


@dataclass
class Load:
    """One timed load: wall seconds, rows, peak RSS (MiB), CPU seconds."""

    seconds: float
    rows: int
    rss: int
    cpu: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def one_round(work: Path, csv: Path, n: int) -> tuple[Load, Load]:
    """``abi ingest`` then the raw load of ``csv``, each in a fresh process on a fresh data directory."""
    env = {"ABI_DATA_DIR": str(work / f"abi{n}"), "PATH": "/usr/bin:/bin"}
    run([sys.executable, "-c", WARM_UP], env=env)  # once per code version, as any earlier abi command does
    seconds, rss, out, cpu = run([sys.executable, "-m", "app.cli.main", "ingest", str(csv), "--json"], env=env)
    abi = Load(seconds, json.loads(out)["files"][0]["rows_read"], rss, cpu)
    seconds, rss, out, cpu = run([sys.executable, "-c", RAW_LOAD, str(work / f"raw{n}"), str(csv)])
    return abi, Load(seconds, int(out.strip()), rss, cpu)


def breakdown(work: Path, csv: Path) -> dict[str, float]:
    """Seconds of ABI's start, its text read alone, and its read + mapping + validation with no write."""
    env = {"ABI_DATA_DIR": str(work / "parts"), "PATH": "/usr/bin:/bin"}
    seconds, _, out, _ = run([sys.executable, "-c", BREAKDOWN, str(work / "parts"), str(csv)], env=env)
    parts = {k: float(v) for k, v in (line.split() for line in out.splitlines())}
    parts["start"] = seconds - parts["ahead"] - parts["read"] - parts["map"]  # interpreter, engine, schema
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="alternated abi / raw rounds (the machine's speed "
                        "drifts: the medians are what to compare)")
    args = parser.parse_args()
    from app.core.demo import SERVICES, generate

    with tempfile.TemporaryDirectory(prefix="abi-bench-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        csv = generate(work / "data", scale=max(1, round(args.rows / (len(SERVICES) * 31)))).actual
        print(f"generated {csv.name} ({csv.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f}s")
        rounds = []
        for n in range(args.rounds):
            rounds.append(one_round(work, csv, n))
            abi, raw = rounds[-1]
            print(f"round {n + 1}: abi {abi.seconds:.2f} s, raw {raw.seconds:.2f} s, ratio {abi.rate / raw.rate:.2f}")
        parts = breakdown(work, csv)
    report(rounds, parts)


def report(rounds: list[tuple[Load, Load]], parts: dict[str, float]) -> None:
    abi_runs, raw_runs = [a for a, _ in rounds], [r for _, r in rounds]
    print(f"rows: {abi_runs[0].rows:,} (raw load: {raw_runs[0].rows:,}); medians of {len(rounds)} alternated rounds")
    for name, runs in (("abi ingest", abi_runs), ("raw load", raw_runs)):
        load = Load(*(median(getattr(r, f) for r in runs) for f in ("seconds", "rows", "rss", "cpu")))
        print(f"{name:11}: {load.seconds:7.2f} s  {load.rate:>12,.0f} rows/s  peak RSS {load.rss:,.0f} MiB "
              f"(max {max(r.rss for r in runs):,})  CPU {load.cpu:.1f} s")
    ratios = sorted(a.rate / r.rate for a, r in rounds)
    print(f"ratio (abi rows/s ÷ raw rows/s): {median(ratios):.2f}, rounds {ratios[0]:.2f}–{ratios[-1]:.2f}  "
          f"(target >= 0.9)")
    abi_s = median(a.seconds for a in abi_runs)
    print(f"where abi's time goes: start {parts['start']:.2f} s, JSON values parsed ahead {parts['ahead']:.2f} s, "
          f"reading the text {parts['read']:.2f} s, mapping + validation {parts['map'] - parts['read']:.2f} s, "
          f"writing FOCUS + quarantine and publishing {abi_s - parts['start'] - parts['ahead'] - parts['map']:.2f} s")


if __name__ == "__main__":
    main()
