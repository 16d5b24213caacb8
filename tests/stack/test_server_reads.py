"""Files a server reads unlike the embedded engine unless told: a title line that opens a quote above a file larger
than one parallel-parsing chunk, a gzip file named in capitals; and ``abi sql``'s EXPLAIN through a server."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from stacktest import Server, run_server

from app.core.loader import ingest
from app.core.server_warehouse import ServerWarehouse
from app.core.warehouse import EmbeddedWarehouse

HEADER = ["BillingAccountId", "BillingPeriodStartDate", "BillingPeriodEndDate", "SubscriptionId", "Date",
          "MeterCategory", "Quantity", "EffectivePrice", "CostInBillingCurrency", "UnitPrice", "BillingCurrencyCode",
          "ResourceLocation", "ConsumedService", "ResourceName", "UnitOfMeasure", "ChargeType", "Padding"]
HELD = ("SELECT count() AS rows, toString(sum(BilledCost)) AS billed, max(x_SourceRow) AS last, "
        "countIf(ResourceName LIKE 'multi%') AS multiline FROM {db}.focus_cost")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("chreads")
    with run_server(work / "data", work) as srv:
        yield srv


def _usage(path: Path, rows: int) -> Path:
    """An EA usage file of ``rows`` rows under a title line with one quote, some names broken over lines."""
    with open(path, "w", newline="") as out:
        out.write('Usage report "Contoso\n')
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(rows):
            name = "multi\nline\r\nname" if i % 997 == 5 else f"vm{i}"
            writer.writerow(["8611537", "10/01/2026", "10/31/2026", "5f1c2d3e-0000-4000-8000-000000000001",
                             f"10/{i % 28 + 1:02d}/2026", "Virtual Machines", "1", "0.5", "0.5", "0.5", "USD",
                             "eastus", "Microsoft.Compute", name, "1 Hour", "Usage", "x" * 250])
    return path


def _both(server: Server, tmp_path: Path, db: str, files: list[Path]) -> list[list[dict]]:
    remote = ServerWarehouse(f"http://127.0.0.1:{server.port}/{db}")
    local = EmbeddedWarehouse(tmp_path / "embedded")
    try:
        results = [ingest(wh, files) for wh in (remote, local)]
        assert all(r.ok and not any(f.rows_quarantined for f in r.files) for r in results), results
        return [remote.rows(HELD.format(db=db)), local.rows(HELD.format(db="abi"))]
    finally:
        local.close()


def test_a_title_line_opening_a_quote_above_a_large_file_splits_no_value(server: Server, tmp_path: Path) -> None:
    """The parallel reader, counting quotes from the first byte, cut values with line breaks into rows: 2 of 60,000
    rows lost, 6 fragments quarantined, every row number after a cut shifted."""
    path = _usage(tmp_path / "usage.csv", 40_000)
    assert path.stat().st_size > 11 * 2**20  # over one chunk (min_chunk_bytes_for_parallel_parsing: 10 MiB)
    remote, local = _both(server, tmp_path, "quoted", [path])
    assert remote == local == [{"rows": 40_000, "billed": "20000", "last": 40_000, "multiline": 41}]


def test_a_gzip_file_named_in_capitals_is_read_as_gzip(server: Server, samples: Path, tmp_path: Path) -> None:
    path = tmp_path / "EA_USAGE.CSV.GZ"
    path.write_bytes(gzip.compress((samples / "azure" / "EA_ActualCost_Small.csv").read_bytes()))
    remote, local = _both(server, tmp_path, "capitals", [path])
    assert remote == local and remote[0]["rows"] == 11


def test_explain_through_a_server_explains_the_query_alone(server: Server, tmp_path: Path) -> None:
    remote = ServerWarehouse(f"http://127.0.0.1:{server.port}/explain")
    local = EmbeddedWarehouse(tmp_path / "embedded")
    try:
        sql = "EXPLAIN AST SELECT 1 AS x"
        assert b"".join(remote.stream(sql, "CSV")) == b"".join(local.stream(sql, "CSV"))
        assert b"CSV" not in b"".join(remote.stream(sql, "CSV"))
    finally:
        local.close()


def test_a_parquet_json_column_is_read_as_its_text(server: Server, tmp_path: Path) -> None:
    """A server inferred Parquet's JSON type as its JSON type: dotted tag keys nested, ``[1]`` refused the file."""
    day, n = dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 2
    path = tmp_path / "focus.parquet"
    pq.write_table(pa.table({
        "BilledCost": [1.5] * n, "EffectiveCost": [1.5] * n, "BillingAccountId": ["a"] * n,
        "BillingCurrency": ["USD"] * n, "BillingPeriodStart": [day] * n,
        "BillingPeriodEnd": [dt.datetime(2024, 2, 1, tzinfo=dt.UTC)] * n,
        "ChargePeriodStart": [day] * n, "ChargePeriodEnd": [dt.datetime(2024, 1, 2, tzinfo=dt.UTC)] * n,
        "ChargeCategory": ["Usage"] * n, "ProviderName": ["AWS"] * n, "ServiceName": ["EKS"] * n,
        "ServiceCategory": ["Compute"] * n, "Extra": pa.array(["[1]", None], pa.json_()),
        "Tags": pa.array(['{"kubernetes.io/cluster": "c1"}', None], pa.json_())}), path)
    remote = ServerWarehouse(f"http://127.0.0.1:{server.port}/jsontyped")
    result = ingest(remote, [path])
    assert result.ok and result.files[0].rows_loaded == 2, result.files[0]
    rows = remote.rows("SELECT toJSONString(Tags) AS tags, x_SourceColumns['Extra'] AS extra "
                       "FROM jsontyped.focus_cost ORDER BY x_SourceRow")
    assert rows == [{"tags": '{"kubernetes.io/cluster":"c1"}', "extra": "[1]"}, {"tags": "{}", "extra": ""}]
