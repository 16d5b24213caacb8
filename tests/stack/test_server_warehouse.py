"""The core loader against a ClickHouse server: the local stack's HTTP endpoint over chdb.

``ServerWarehouse`` streams each file as ``INSERT … SELECT … FROM input(…) FORMAT …``; the endpoint runs that like a
server does (body read in order), so a server-side load gives exactly the embedded load's FOCUS rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from abitest import write_csv, write_focus_parts
from stacktest import Server, run_server

from app.connectors.registry import Registry
from app.core.export import export
from app.core.inventory import held_files
from app.core.loader import ingest
from app.core.server_warehouse import ServerWarehouse
from app.core.warehouse import EmbeddedWarehouse, WarehouseError

ROWS = "SELECT * EXCEPT (x_IngestionId, x_IngestedAt) FROM abi.focus_cost ORDER BY x_SourceFile, x_SourceRow"
QUARANTINE = "SELECT source_file, source_row, reasons, raw_row FROM abi.focus_quarantine ORDER BY source_row"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("chserver")
    with run_server(work / "data", work) as srv:
        yield srv


def test_a_file_sent_to_a_server_keeps_its_row_order(server: Server, tmp_path: Path) -> None:
    """A body of many blocks (the server parses it in parallel and, unless told, spreads the blocks over its
    threads): each row numbered by ``rowNumberInAllBlocks()`` as its line, every time."""
    wh = ServerWarehouse(f"http://127.0.0.1:{server.port}/input_test")
    wh.command("CREATE TABLE input_test.t (n UInt64, name String) ENGINE = MergeTree ORDER BY tuple()")
    path, rows = tmp_path / "body.csv", 1_000_000
    path.write_text("".join(f"row{i},{i * 7}\n" for i in range(rows)))
    work = "length(SHA256(repeat(c1, 30))) > 0"  # the work a mapping does on each row, after the numbering
    for _ in range(3):
        wh.insert_file(f"INSERT INTO input_test.t SELECT rowNumberInAllBlocks() + 1, c1 FROM {{file}} WHERE {work}",
                       "{file}", path, "CSV", "c1 String, c2 String")
        assert wh.scalar("SELECT count() FROM input_test.t WHERE name != concat('row', toString(n - 1))") == 0
        assert wh.scalar("SELECT count() FROM input_test.t") == rows
        wh.command("TRUNCATE TABLE input_test.t")


def test_server_load_equals_the_embedded_load(server: Server, samples: Path, tmp_path: Path) -> None:
    sample = samples / "azure" / "EA_ActualCost_Small.csv"
    with open(sample, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header, first = list(reader.fieldnames or []), next(reader)
    bad = write_csv(tmp_path / "bad.csv", header, [first, {**first, "Cost": "2,5O"}])
    semicolons = tmp_path / "semicolons" / "amortized.csv"  # another scope: a separator the server must be told
    semicolons.parent.mkdir()
    semicolons.write_text(sample.read_text(encoding="utf-8-sig").replace(",", ";"), encoding="utf-8")
    remote = ServerWarehouse(f"http://127.0.0.1:{server.port}/abi")
    local = EmbeddedWarehouse(tmp_path / "embedded")
    try:
        results = [ingest(wh, [sample, bad, semicolons]) for wh in (remote, local)]
        assert all(r.ok for r in results)
        assert [f.rows_quarantined for f in results[0].files] == [0, 1, 0], results[0].files
        assert results[0].files[2].rows_loaded == 11
        assert remote.rows(ROWS) == local.rows(ROWS)
        assert remote.rows(QUARANTINE) == local.rows(QUARANTINE)
        assert remote.rows(ROWS) and remote.rows(QUARANTINE)[0]["source_row"] == 2
        held = [[{k: v for k, v in f.items() if k != "last_loaded_at"} for f in held_files(wh)]
                for wh in (remote, local)]
        assert held[0] == held[1] and {f["path"]: f["rows_quarantined"] for f in held[0]} == {
            str(sample): 0, str(bad): 1, str(semicolons): 0}
        exported = {name: _without_run_ids(wh, tmp_path / f"{name}.csv") for name, wh in (("remote", remote),
                                                                                           ("local", local))}
        assert exported["remote"] == exported["local"] and len(exported["local"]) == 13  # the export streams
    finally:
        local.close()


def test_a_parquet_file_loads_into_the_server_as_into_the_embedded_engine(server: Server, tmp_path: Path) -> None:
    n = 3000  # three row groups, read in file order: each row keeps its number
    days = [dt.datetime(2026, 1, 1 + i % 28, tzinfo=dt.UTC) for i in range(n)]
    table = pa.table({
        "BilledCost": pa.array([i / 4 for i in range(n)], pa.float64()),
        "EffectiveCost": pa.array(list(range(n)), pa.int64()), "ListCost": [0.0] * n, "ContractedCost": [0.0] * n,
        "BillingAccountId": ["acct"] * n, "BillingAccountName": ["Acme"] * n, "BillingCurrency": ["USD"] * n,
        "BillingPeriodStart": pa.array([dt.datetime(2026, 1, 1, tzinfo=dt.UTC)] * n, pa.timestamp("us", tz="UTC")),
        "BillingPeriodEnd": pa.array([dt.datetime(2026, 2, 1, tzinfo=dt.UTC)] * n, pa.timestamp("us", tz="UTC")),
        "ChargePeriodStart": pa.array(days, pa.timestamp("us", tz="UTC")),
        "ChargePeriodEnd": pa.array([d + dt.timedelta(days=1) for d in days], pa.timestamp("us", tz="UTC")),
        "ChargeCategory": ["Bogus" if i == 2500 else "Usage" for i in range(n)], "ChargeFrequency": ["Usage-Based"] * n,
        "ChargeDescription": [f"row {i}" for i in range(n)], "InvoiceIssuerName": ["AWS"] * n,
        "ProviderName": ["AWS"] * n, "PublisherName": ["AWS"] * n, "ServiceName": ["Amazon EC2"] * n,
        "ServiceCategory": ["Compute"] * n,
        "Tags": pa.array([[("env", "prod"), ("n", str(i))] for i in range(n)], pa.map_(pa.string(), pa.string())),
    })
    path = tmp_path / "aws_focus.parquet"
    pq.write_table(table, path, row_group_size=1000)
    remote = ServerWarehouse(f"http://127.0.0.1:{server.port}/parquet")
    local = EmbeddedWarehouse(tmp_path / "embedded")
    rows = ROWS.replace("abi.", "parquet.")
    try:
        results = [ingest(wh, [path]) for wh in (remote, local)]
        assert all(r.ok for r in results), results[0].files[0].error
        assert [(r.files[0].rows_loaded, r.files[0].rows_quarantined) for r in results] == [(2999, 1)] * 2
        assert remote.rows(rows) == local.rows(ROWS)
        assert remote.rows(QUARANTINE.replace("abi.", "parquet.")) == local.rows(QUARANTINE)
        assert remote.scalar("SELECT count() FROM parquet.focus_cost WHERE ChargeDescription != "
                             "concat('row ', toString(x_SourceRow - 1)) OR Tags.n != toString(x_SourceRow - 1)") == 0
    finally:
        local.close()


def test_a_refused_part_keeps_its_earlier_rows_in_a_server_too(server: Server, tmp_path: Path) -> None:
    parts, remote = write_focus_parts(tmp_path / "export"), ServerWarehouse(f"http://127.0.0.1:{server.port}/kept")
    held = "SELECT count() AS n, toString(sum(BilledCost)) AS billed FROM kept.focus_cost"
    assert ingest(remote, parts).ok
    before, good = remote.rows(held), parts[1].read_bytes()
    parts[1].write_bytes(good[: len(good) // 2])
    again = ingest(remote, parts)
    assert [f.error is None for f in again.files] == [True, False, True, True] and remote.rows(held) == before
    assert {Path(e["path"]).name for e in again.earlier_files} == {"part-00000.parquet", "part-00002.parquet",
                                                                   "part-00003.parquet"}
    parts[1].write_bytes(good)
    assert ingest(remote, parts).ok and remote.rows(held) == before == [{"n": 28, "billed": "385"}]


def _without_run_ids(wh, out: Path) -> list[dict[str, str]]:
    """The exported rows by source file and row: an export reads a month part by part, and the engine's background
    merges (at their own time in each warehouse) change the parts' order."""
    assert export(wh, "csv", out) == 13
    with open(out, newline="", encoding="utf-8") as handle:
        rows = [{k: v for k, v in row.items() if k not in ("x_IngestionId", "x_IngestedAt")}
                for row in csv.DictReader(handle)]
    return sorted(rows, key=lambda r: (r["x_SourceFile"], int(r["x_SourceRow"])))


def test_a_failed_query_written_to_a_file_leaves_the_earlier_file_and_no_part(server: Server,
                                                                             tmp_path: Path) -> None:
    remote, out = ServerWarehouse(f"http://127.0.0.1:{server.port}/abi"), tmp_path / "out.csv"
    remote.write_file("SELECT number FROM numbers(3)", "CSV", out)
    assert out.read_text() == "0\n1\n2\n"
    with pytest.raises(WarehouseError, match="FUNCTION_THROW_IF_VALUE_IS_NON_ZERO|throwIf"):
        remote.write_file("SELECT throwIf(number = 150000) FROM numbers(200000)", "CSV", out)
    assert out.read_text() == "0\n1\n2\n" and list(tmp_path.iterdir()) == [out]


def test_cli_ingest_into_a_server_waits_for_the_registrys_publish_lock(server: Server, samples: Path,
                                                                        tmp_path: Path) -> None:
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "abi"),
           "ABI_CLICKHOUSE_URL": f"http://127.0.0.1:{server.port}/locked"}
    registry = Registry(f"sqlite:///{tmp_path / 'abi' / 'registry.db'}")  # the CLI's default registry there
    cmd = [sys.executable, "-m", "app.cli.main", "ingest", str(samples / "azure" / "EA_ActualCost_Small.csv"), "--json"]
    try:
        with registry.publish_lock():  # a worker publishing into the same server
            proc = subprocess.Popen(cmd, cwd=Path(__file__).resolve().parents[2], env=env, stdout=subprocess.PIPE,
                                    text=True)
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=8)
        out, _ = proc.communicate(timeout=120)
    finally:
        registry.close()
    assert proc.returncode == 0
    assert json.loads(out)["files"][0]["rows_loaded"] == 11
    assert ServerWarehouse(env["ABI_CLICKHOUSE_URL"]).scalar("SELECT count() FROM locked.focus_cost") == 11
