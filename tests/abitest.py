"""Shared fixtures: a fresh embedded warehouse per test and paths to the shared real sample files."""

from __future__ import annotations

import csv
import gzip
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app.core.conventions import AZURE_DATE_COLUMNS, AZURE_NUMBER_COLUMNS
from app.core.loader import IngestionResult, ingest
from app.core.warehouse import EmbeddedWarehouse

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT.parent / "shared" / "samples"


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[EmbeddedWarehouse]:
    warehouse = EmbeddedWarehouse(tmp_path / "warehouse")
    yield warehouse
    warehouse.close()


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES}")
    return SAMPLES


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder where loads put their copies (ZIP members, UTF-16 and spaced CSV files): a test checks
    that it is empty again after a load."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]], bom: bool = False,
              delimiter: str = ",") -> Path:
    """Write a CSV (optionally gzip when the name ends in .gz) with the given header and rows."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in header])
    return path


def focus_rows(wh: EmbeddedWarehouse, columns: str = "*", where: str = "1") -> list[dict]:
    return wh.rows(f"SELECT {columns} FROM abi.focus_cost WHERE {where} ORDER BY x_SourceFile, x_SourceRow")


def total(wh: EmbeddedWarehouse, column: str, where: str = "1") -> Decimal:
    return Decimal(str(wh.scalar(f"SELECT toString(sum({column})) FROM abi.focus_cost WHERE {where}") or 0))


def load(wh: EmbeddedWarehouse, *paths: Path, **kwargs) -> IngestionResult:
    return ingest(wh, list(paths), **kwargs)


def csv_total(path: Path, column: str) -> Decimal:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
        return sum((Decimal(r[column]) for r in csv.DictReader(handle) if r[column].strip()), Decimal(0))


EA_USAGE_HEADER = [
    "AccountOwnerId", "Account Name", "SubscriptionId", "SubscriptionGuid", "Subscription Name", "Date", "Product",
    "Meter ID", "Meter Category", "Meter Sub-Category", "Meter Region", "Meter Name", "Consumed Quantity",
    "ResourceRate", "ExtendedCost", "Resource Location", "Consumed Service", "Instance ID", "Tags",
    "Department Name", "Cost Center", "Unit Of Measure", "Resource Group",
]
"""The EA portal's usage detail CSV (before Cost Management): no currency, no enrollment column."""
EA_SUBSCRIPTION_GUID = "9f8e7d6c-0000-4000-8000-000000000001"


def write_ea_usage(tmp_path: Path, n: int = 3) -> Path:
    """An EA portal usage detail CSV of ``n`` daily rows (before Cost Management)."""
    rows = [{
        "AccountOwnerId": "owner@contoso.com", "Account Name": "Contoso Dev", "SubscriptionId": "1234567",
        "SubscriptionGuid": EA_SUBSCRIPTION_GUID, "Subscription Name": "Dev Sub", "Date": f"10/0{d + 1}/2026",
        "Product": "Virtual Machines Dv3 Series - D2 v3 - EU West", "Meter ID": "a2b3c4d5-0000-4000-8000-00000000000a",
        "Meter Category": "Virtual Machines", "Meter Sub-Category": "Dv3 Series", "Meter Region": "EU West",
        "Meter Name": "D2 v3", "Consumed Quantity": "24", "ResourceRate": "0.096", "ExtendedCost": "2.304",
        "Resource Location": "westeurope", "Consumed Service": "Microsoft.Compute",
        "Instance ID": f"/subscriptions/{EA_SUBSCRIPTION_GUID}/resourceGroups/rg-app/providers/"
                       "Microsoft.Compute/virtualMachines/vm1",
        "Tags": '"env": "dev"', "Department Name": "Engineering", "Cost Center": "CC100",
        "Unit Of Measure": "1 Hour", "Resource Group": "rg-app",
    } for d in range(n)]
    return write_csv(tmp_path / "ea_usage_detail.csv", EA_USAGE_HEADER, rows)


def write_focus_parts(folder: Path, parts: int = 4, rows: int = 7, scale: int = 1) -> list[Path]:
    """A month of FOCUS rows split in Parquet parts (``part-00000.parquet``…) of ``rows`` rows each, over three sub
    accounts of one billing account (every part holds rows of each); row ``i`` costs ``i × scale`` + 0.25."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    month, stamp = datetime(2025, 1, 1, tzinfo=UTC), pa.timestamp("us", tz="UTC")
    paths = []
    for p in range(parts):
        ids = range(p * rows, (p + 1) * rows)
        days = [month + timedelta(days=i % 28) for i in ids]
        pq.write_table(pa.table({
            "BilledCost": [i * scale + 0.25 for i in ids], "EffectiveCost": [i * scale + 0.25 for i in ids],
            "ListCost": [0.0] * rows, "ContractedCost": [0.0] * rows, "BillingAccountId": ["acct"] * rows,
            "BillingAccountName": ["Acme"] * rows, "SubAccountId": [f"sub-{i % 3}" for i in ids],
            "BillingCurrency": ["USD"] * rows, "BillingPeriodStart": pa.array([month] * rows, stamp),
            "BillingPeriodEnd": pa.array([datetime(2025, 2, 1, tzinfo=UTC)] * rows, stamp),
            "ChargePeriodStart": pa.array(days, stamp),
            "ChargePeriodEnd": pa.array([d + timedelta(days=1) for d in days], stamp),
            "ChargeCategory": ["Usage"] * rows, "ChargeFrequency": ["Usage-Based"] * rows,
            "ChargeDescription": [f"row {i}" for i in ids], "InvoiceIssuerName": ["AWS"] * rows,
            "ProviderName": ["AWS"] * rows, "PublisherName": ["AWS"] * rows, "ServiceName": ["Amazon EC2"] * rows,
            "ServiceCategory": ["Compute"] * rows}), folder / f"part-{p:05d}.parquet")
        paths.append(folder / f"part-{p:05d}.parquet")
    return paths


def european(rows: list[dict[str, str]], date_format: str = "%d/%m/%Y") -> list[dict[str, str]]:
    """``rows`` (an Azure export's) as a European spreadsheet writes them: decimal commas, ``date_format`` dates."""
    for row in rows:
        for column in AZURE_NUMBER_COLUMNS:
            if row.get(column):
                row[column] = row[column].replace(".", ",")
        for column in AZURE_DATE_COLUMNS:
            if row.get(column):
                row[column] = datetime.strptime(row[column], "%m/%d/%Y").strftime(date_format)
    return rows


def demo_lines(tmp_path: Path, n: int) -> tuple[str, list[str]]:
    """The header and first ``n`` data lines of the demo's actual-cost export (written under ``tmp_path``)."""
    from app.core.demo import generate

    lines = generate(tmp_path / "demo").actual.read_text(encoding="utf-8-sig").splitlines()
    return lines[0], lines[1:n + 1]


def first_days(source: Path, target: Path, last_day: int) -> Path:
    """An EA file (``MM/DD/YYYY`` dates) with its rows up to day ``last_day`` of the month: what a month-to-date
    export wrote that day."""
    with open(source, newline="", encoding="utf-8-sig") as src, open(target, "w", newline="") as out:
        reader, writer = csv.reader(src), csv.writer(out)
        header = next(reader)
        writer.writerow(header)
        day = header.index("Date")
        writer.writerows(r for r in reader if int(r[day].split("/")[1]) <= last_day)
    return target


ACTUAL_ONLY = "holds actual cost only"


def others(file_result) -> list[str]:
    """A file's warnings but the note an actual cost file gets while its month has no amortized data (what
    EffectiveCost leaves out: tests/core/test_amortization.py), for tests about other warnings."""
    return [w for w in file_result.warnings if ACTUAL_ONLY not in w]
