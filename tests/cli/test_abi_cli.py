"""The ``abi`` command line, run as a real subprocess on a temporary data directory."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
import zipfile

import pytest
from abitest import PROJECT, write_ea_usage


def abi(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "data")}
    env.pop("ABI_CLICKHOUSE_URL", None)
    return subprocess.run([sys.executable, "-m", "app.cli.main", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def demo_dir(tmp_path):
    out = abi(tmp_path, "demo", "--out", str(tmp_path / "demo"))
    assert out.returncode == 0, out.stderr
    assert "BilledCost" in out.stdout and "EffectiveCost" in out.stdout and "TOTAL" in out.stdout
    return tmp_path / "demo"


def test_ingest_json_contract_and_exit_codes(tmp_path, demo_dir):
    out = abi(tmp_path, "ingest", str(demo_dir), "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert set(payload) >= {"ingestion_id", "files"} and len(payload["files"]) == 2
    for f in payload["files"]:
        assert {"path", "source", "rows_read", "rows_loaded", "rows_quarantined"} <= set(f)
        assert f["source"] == "azure-cost"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    out = abi(tmp_path, "ingest", str(bad), "--json")
    assert out.returncode != 0 and str(bad) in out.stderr
    forced = abi(tmp_path, "ingest", str(demo_dir / "ea_actualcost_202610.csv"), "--source", "focus")
    assert forced.returncode != 0 and "not a focus file: required columns missing: BilledCost" in forced.stderr


def test_a_zip_archive_loads_and_is_removed_by_name(tmp_path, demo_dir):
    archive = tmp_path / "inbox" / "usage-2026-10.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(demo_dir.glob("*.csv")):
            zf.write(path, f"2026-10/{path.name}")
    out = abi(tmp_path, "ingest", str(archive.parent), "--json")
    assert out.returncode == 0, out.stderr
    files = json.loads(out.stdout)["files"]
    assert [f["path"] for f in files] == [f"{archive}/2026-10/{p.name}" for p in sorted(demo_dir.glob("*.csv"))]
    assert all(f["rows_loaded"] > 0 and f["error"] is None for f in files)
    removed = abi(tmp_path, "remove", archive.name)
    assert removed.returncode == 0 and removed.stderr.count(f"removed {archive}/2026-10/") == 2, removed.stderr
    left = abi(tmp_path, "sql", "SELECT count() AS n FROM focus_cost", "--format", "json")
    assert json.loads(left.stdout)["n"] == 0


def test_sql_reads_and_refuses_writes(tmp_path, demo_dir):
    out = abi(tmp_path, "sql", "SELECT count() AS n FROM focus_cost", "--format", "json")
    assert out.returncode == 0 and json.loads(out.stdout)["n"] > 0
    for query in ("DROP TABLE focus_cost", "INSERT INTO focus_cost SELECT * FROM focus_cost",
                  "SELECT 1; DROP TABLE focus_cost", "ALTER TABLE focus_cost DELETE WHERE 1",
                  f"SELECT 1 INTO OUTFILE '{tmp_path / 'written.csv'}' FORMAT CSV",
                  f"SELECT 1 /* ; */ into\n outfile '{tmp_path / 'written.csv'}'"):
        refused = abi(tmp_path, "sql", query)
        assert refused.returncode != 0 and "abi: " in refused.stderr, query
    assert not (tmp_path / "written.csv").exists()
    hidden = abi(tmp_path, "sql", "WITH 1 AS x INSERT INTO focus_cost SELECT * FROM focus_cost")
    assert hidden.returncode != 0 and "only one read-only query" in hidden.stderr
    typo = abi(tmp_path, "sql", "SELECT 1 +")  # the position is in the query as written, not in ABI's wrapping
    assert typo.returncode != 0 and "position 11 (end of query)" in typo.stderr and "OUTFILE" not in typo.stderr
    quoted = abi(tmp_path, "sql", "SELECT 'a;b' AS s, 'into outfile' AS t -- ; comment", "--format", "csv")
    assert quoted.returncode == 0 and quoted.stdout == '"s","t"\n"a;b","into outfile"\n', quoted.stderr
    assert json.loads(abi(tmp_path, "sql", "SELECT count() AS n FROM focus_cost", "--format", "json").stdout)["n"] > 0


def test_sql_reads_as_the_engine_parses_so_no_string_or_comment_hides_a_write(tmp_path, demo_dir):
    count = "SELECT count() AS n FROM focus_cost"
    before = json.loads(abi(tmp_path, "sql", count, "--format", "json").stdout)["n"]
    written = tmp_path / "written.txt"
    for query in ("SELECT $$'$$; INSERT INTO focus_cost SELECT * FROM focus_cost; SELECT 1 --'",
                  "SELECT $x$'$x$; ALTER TABLE focus_quarantine DELETE WHERE 1; SELECT 1 --'",
                  "SELECT 1 # '\n; INSERT INTO focus_cost SELECT * FROM focus_cost; SELECT 1 --'",
                  f"SELECT $$'$$; INSERT INTO FUNCTION file('{written}', 'CSV', 'x String') SELECT 'x'; SELECT 1 --'"):
        refused = abi(tmp_path, "sql", query)
        assert refused.returncode != 0 and "only one read-only query" in refused.stderr, (query, refused.stderr)
    assert json.loads(abi(tmp_path, "sql", count, "--format", "json").stdout)["n"] == before
    assert not written.exists()
    for query in ("SELECT * FROM file('/etc/hostname', 'LineAsString')", "SELECT * FROM filesystem('/etc/')",
                  "SELECT $$'$$ AS a, * FROM `url`('http://127.0.0.1:1/', 'LineAsString') --'"):
        outside = abi(tmp_path, "sql", query)
        assert outside.returncode != 0 and "abi sql reads the warehouse only" in outside.stderr, outside.stderr
    own = abi(tmp_path, "sql", f"{count} FORMAT JSONEachRow")
    assert own.returncode != 0 and "use --format csv|json|table" in own.stderr
    dollars = abi(tmp_path, "sql", "SELECT $$it's$$ AS s, 1 AS format # a comment\nORDER BY format DESC", "--format",
                  "csv")
    assert dollars.returncode == 0 and dollars.stdout == '"s","format"\n"it\'s",1\n', dollars.stderr


def test_export_csv_has_focus_columns_first(tmp_path, demo_dir):
    target = tmp_path / "focus.csv"
    out = abi(tmp_path, "export", "--format", "csv", "--out", str(target), "--billing-period", "2026-10")
    assert out.returncode == 0, out.stderr
    reader = csv.DictReader(io.StringIO(target.read_text()))
    header = reader.fieldnames
    assert header[0] == "AvailabilityZone" and all(c.startswith("x_") for c in header[57:])
    first = next(reader)
    assert first["ChargePeriodStart"].endswith("Z") and "T" in first["ChargePeriodStart"]
    assert abi(tmp_path, "export", "--format", "csv", "--out", str(target), "--billing-period", "2026-13").returncode
    empty = abi(tmp_path, "export", "--format", "csv", "--out", str(target), "--billing-period", "2025-01")
    assert empty.returncode == 0 and "holds no FOCUS rows of billing period 2025-01" in empty.stderr


def test_ingest_set_gives_a_column_the_file_lacks(tmp_path):
    path = write_ea_usage(tmp_path)
    out = abi(tmp_path, "ingest", str(path), "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["files"][0]["rows_quarantined"] == 3
    assert "--set BillingCurrency=VALUE" in out.stderr
    out = abi(tmp_path, "ingest", str(path), "--set", "BillingCurrency=EUR", "--set", "BillingAccountId=8611537",
              "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["files"][0]["rows_loaded"] == 3, out.stderr
    out = abi(tmp_path, "ingest", str(path), "--set", "BillingCurrency")
    assert out.returncode == 2 and "expected COLUMN=VALUE" in out.stderr


def test_reading_a_warehouse_that_does_not_exist_says_so_and_creates_none(tmp_path):
    for command in (["sql", "SELECT count() FROM focus_cost"], ["export", "--format", "csv", "--out", "x.csv"]):
        out = abi(tmp_path, *command)
        assert out.returncode == 2 and "no warehouse in" in out.stderr and "ABI_DATA_DIR" in out.stderr
    assert not (tmp_path / "data").exists()


def test_remove_takes_a_loaded_file_back_out(tmp_path, demo_dir):
    count = "SELECT count() AS n FROM focus_cost"
    before = json.loads(abi(tmp_path, "sql", count, "--format", "json").stdout)["n"]
    unknown = abi(tmp_path, "remove", "never-loaded.csv", str(demo_dir / "nothing.csv"))
    assert unknown.returncode == 2 and "never-loaded.csv" in unknown.stderr and "nothing removed" in unknown.stderr
    assert "abi files" in unknown.stderr  # where to see what is loaded
    held = [f["path"] for f in json.loads(abi(tmp_path, "files", "--json").stdout)["files"]]
    assert held == sorted(str(p.resolve()) for p in demo_dir.iterdir())
    assert json.loads(abi(tmp_path, "sql", count, "--format", "json").stdout)["n"] == before
    amortized = next(p for p in demo_dir.iterdir() if "amortized" in p.name.lower())
    out = abi(tmp_path, "remove", amortized.name, "--json")  # a name only one loaded file ends with
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert list(payload["rows"]) == [str(amortized.resolve())] and payload["notes"]
    after = json.loads(abi(tmp_path, "sql", count, "--format", "json").stdout)["n"]
    assert after == before - payload["rows"][str(amortized.resolve())]
    listed = abi(tmp_path, "files", "--billing-period", "2026-10")
    assert listed.returncode == 0 and str(amortized.resolve()) not in listed.stdout
    assert len(listed.stdout.splitlines()) == 2  # the heading and the actual file
    assert abi(tmp_path, "files", "--billing-period", "2026-13").returncode == 2


def test_ingest_drops_the_stage_tables_a_killed_load_left(tmp_path, samples):
    from app.core.warehouse import EmbeddedWarehouse

    wh = EmbeddedWarehouse(tmp_path / "data")
    wh.command("CREATE TABLE abi._abi_0123456789ab_0_focus (n UInt8) ENGINE = MergeTree ORDER BY n")
    wh.command("INSERT INTO abi._abi_0123456789ab_0_focus VALUES (1)")
    wh.close()
    out = abi(tmp_path, "ingest", str(samples / "azure" / "EA_ActualCost_Small.csv"), "--json")
    assert out.returncode == 0, out.stderr
    tables = abi(tmp_path, "sql", "SELECT name FROM system.tables WHERE database = 'abi' AND name LIKE '\\_abi\\_%'",
                 "--format", "csv")
    assert tables.returncode == 0 and tables.stdout == '"name"\n', tables.stdout


def test_a_reader_that_goes_away_ends_abi_quietly_and_logs_are_json_lines(tmp_path):
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "data")}
    env.pop("ABI_CLICKHOUSE_URL", None)
    bad = tmp_path / 'not "billing".csv'
    bad.write_text("a,b\n1,2\n")
    assert abi(tmp_path, "ingest", str(bad)).returncode == 1
    logged = [json.loads(line) for line in abi(tmp_path, "-v", "ingest", str(bad)).stderr.splitlines()
              if line.startswith("{")]  # the refusal is logged at INFO (the default level shows its abi: line only)
    assert any(entry["level"] == "INFO" and str(bad) in entry["msg"] for entry in logged)
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "sql", "SELECT number FROM numbers(2000000)",
                             "--format", "csv"], cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.readline() == b'"number"\n'
    proc.stdout.close()  # as `| head -1` does
    assert proc.wait(timeout=120) == 141 and b"Traceback" not in proc.stderr.read()


def test_a_warehouse_held_by_another_process_is_a_message_and_exit_3(tmp_path, demo_dir):
    from app.core.warehouse import EmbeddedWarehouse

    held = EmbeddedWarehouse(tmp_path / "data")  # as a workflow worker or the API server holds it
    try:
        for args in (["sql", "SELECT 1"], ["ingest", str(demo_dir / "ea_actualcost_202610.csv")], ["files"]):
            out = abi(tmp_path, *args)
            assert out.returncode == 3, out.stderr
            assert out.stderr.startswith("abi: ")
            assert f"in use by another ABI process (process {os.getpid()}, " in out.stderr
            assert "Traceback" not in out.stderr
        out = abi(tmp_path, "ingest", str(demo_dir / "ea_actualcost_202610.csv"), "--json")
        printed = json.loads(out.stdout)  # --json prints one object whatever the outcome
        assert out.returncode == 3 and printed["files"] == [] and "in use by another ABI process" in printed["error"]
    finally:
        held.close()
    (tmp_path / "a_file").write_text("")
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "a_file")}
    actual = str(demo_dir / "ea_actualcost_202610.csv")
    unusable = subprocess.run([sys.executable, "-m", "app.cli.main", "ingest", actual, "--json"], cwd=PROJECT, env=env,
                              capture_output=True, text=True, timeout=120)
    assert unusable.returncode == 2 and "is a file, not a folder" in json.loads(unusable.stdout)["error"]
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "data")}
    slow = "SELECT sleepEachRow(3) FROM numbers(60) SETTINGS max_block_size = 1"  # 3 min holding the warehouse
    first = subprocess.Popen([sys.executable, "-m", "app.cli.main", "sql", slow], cwd=PROJECT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # two abi sql at once: the second names the first (however long a loaded machine takes to start it)
        lock, deadline = tmp_path / "data" / ".abi.lock", time.monotonic() + 120
        while f"process {first.pid}," not in (lock.read_text() if lock.exists() else ""):
            assert first.poll() is None and time.monotonic() < deadline, "the first abi sql never held the warehouse"
            time.sleep(0.05)  # polling interval
        second = abi(tmp_path, "sql", "SELECT 1")
        assert second.returncode == 3 and f"(process {first.pid}, abi sql, since " in second.stderr, second.stderr
    finally:
        first.kill()  # it has held the warehouse long enough
        first.wait(timeout=120)
