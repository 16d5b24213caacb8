"""Parquet files damaged past their footer (a data page) or gzip-compressed whole: refused naming the file and what
to do, the load's other files loaded."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from abitest import load

from app.core.demo import generate
from app.core.sources import open_source


def _damage(path: Path, column: str) -> None:
    """Flip bytes of ``column``'s first data page header (its footer stays intact)."""
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(j).name for j in range(meta.num_columns)]
    start = meta.row_group(0).column(names.index(column)).data_page_offset
    data = bytearray(path.read_bytes())
    for offset in range(start, start + 24):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def _focus_parquet(path: Path, n: int = 50) -> Path:
    """A FOCUS file of ``n`` rows whose columns are all text (as converted from CSV)."""
    day = dict(BillingPeriodStart="2026-10-01T00:00:00Z", BillingPeriodEnd="2026-11-01T00:00:00Z",
               ChargePeriodStart="2026-10-01T00:00:00Z", ChargePeriodEnd="2026-10-02T00:00:00Z")
    row = dict(BilledCost="1.5", EffectiveCost="1.5", ListCost="1.5", ContractedCost="1.5", BillingAccountId="123",
               BillingCurrency="USD", ChargeCategory="Usage", InvoiceIssuerName="AWS", ProviderName="AWS",
               PublisherName="AWS", ServiceCategory="Compute", ServiceName="Amazon EC2", **day)
    pq.write_table(pa.table({k: [v] * n for k, v in row.items()}), path)
    return path


def test_a_parquet_file_with_a_damaged_page_is_refused_by_name_and_the_others_load(wh, tmp_path):
    damaged, good = _focus_parquet(tmp_path / "damaged.parquet"), _focus_parquet(tmp_path / "good.parquet")
    _damage(damaged, "BilledCost")  # its first rows are read for the file's conventions (decimal comma or point)
    result = load(wh, damaged, good)
    assert result.files[0].error.startswith(f"{damaged}: not a readable Parquet file (OSError: ")
    assert "\n" not in result.files[0].error
    assert (result.files[1].error, result.files[1].rows_loaded) == (None, 50)
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 50


def _azure_parquet(source: Path, target: Path, keep) -> Path:
    """The Azure cost CSV ``source``'s rows that ``keep`` as a Parquet file of text columns."""
    with open(source, newline="", encoding="utf-8-sig") as handle:
        rows = [r for r in csv.DictReader(handle) if keep(r)]
    pq.write_table(pa.table({k: [r[k] for r in rows] for k in rows[0]}), target)
    return target


def test_a_damaged_sibling_part_tells_nothing_of_the_dataset_and_is_refused_alone(wh, tmp_path):
    amortized = generate(tmp_path / "demo").amortized
    run = tmp_path / "export" / "run"  # no manifest, neutral names: the parts' rows tell the dataset
    run.mkdir(parents=True)
    commitment = lambda r: r["PricingModel"] in ("Reservation", "SavingsPlan")  # noqa: E731
    plain = _azure_parquet(amortized, run / "part_0_0001.parquet", lambda r: not commitment(r))
    damaged = _azure_parquet(amortized, run / "part_1_0001.parquet", commitment)
    _damage(damaged, "ChargeType")  # a column read for the dataset only, not for the conventions
    assert open_source(plain).dataset == "ActualCost"  # nothing else tells: the default
    result = load(wh, plain, damaged)
    assert result.files[0].error is None and result.files[0].rows_loaded > 0
    assert result.files[1].error.startswith(f"{damaged}: not a readable Parquet file (")


def test_gzip_compressed_parquet_is_refused_with_what_to_do_under_either_name(wh, tmp_path):
    """``cost.parquet.gz``, and the same bytes renamed ``cost.gz.parquet``: the engine reads no gzip Parquet."""
    pq.write_table(pa.table({"BilledCost": ["1"]}), tmp_path / "cost.parquet")
    packed = gzip.compress((tmp_path / "cost.parquet").read_bytes())
    for name in ("cost.parquet.gz", "cost.gz.parquet"):
        (tmp_path / name).write_bytes(packed)
    (tmp_path / "text.parquet").write_bytes(gzip.compress(b"BilledCost\n1\n"))
    errors = [f.error for f in load(wh, *(tmp_path / n for n in ("cost.parquet.gz", "cost.gz.parquet",
                                                                  "text.parquet"))).files]
    what = ("gzip-compressed Parquet: the engine reads a Parquet file as it is (compressed inside, page by page): "
            "decompress it (gunzip) and load the .parquet file")
    assert errors == [f"{tmp_path / 'cost.parquet.gz'}: {what}", f"{tmp_path / 'cost.gz.parquet'}: {what}",
                      f"{tmp_path / 'text.parquet'}: gzip-compressed, not Parquet: decompress it (gunzip) and load "
                      "what it holds"]
