"""Actual or amortized: the export manifest, the file's name, its rows, its folders' names (in that order)."""

from __future__ import annotations

import gzip
import zipfile
from datetime import date

import pytest
from abitest import csv_total, load, total
from connectortest import write_export_run

from app.core import datasets, loader
from app.core.demo import generate
from app.core.sources import open_source


def _commitments_last(source, target) -> None:
    """The amortized export with its commitment rows (reservation/savings plan usage, unused) moved to the end."""
    header, *rows = source.read_text(encoding="utf-8-sig").splitlines()
    commitment = [r for r in rows if "Reservation" in r or "SavingsPlan" in r]
    target.write_text("\n".join([header, *[r for r in rows if r not in commitment], *commitment]) + "\n")


def test_commitment_rows_deep_in_a_file_are_found(tmp_path, monkeypatch):
    path = tmp_path / "export" / "part_0_0001.csv"  # the name says nothing
    path.parent.mkdir()
    _commitments_last(generate(tmp_path / "demo").amortized, path)
    assert open_source(path).dataset == "AmortizedCost"  # the whole text is scanned
    packed_path = tmp_path / "packed" / "part_0_0001.csv.gz"  # not beside it: a sibling part would tell
    packed_path.parent.mkdir()
    with gzip.open(packed_path, "wb") as packed:
        packed.write(path.read_bytes())
    assert open_source(packed_path).dataset == "AmortizedCost"
    monkeypatch.setattr(datasets, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(datasets, "SCAN_BYTES", 8192)  # a large file's case: its head, then windows and the tail
    monkeypatch.setattr(datasets, "WINDOW_BYTES", 8_000)
    monkeypatch.setattr(datasets, "SPREAD_WINDOWS", 1)  # the tail alone
    assert open_source(path).dataset == "AmortizedCost"
    monkeypatch.setattr(datasets, "SPREAD_WINDOWS", 0)
    assert open_source(path).dataset == "ActualCost"  # nothing seen: the default


def test_an_export_without_commitment_usage_reads_as_actual_cost(tmp_path):
    path = tmp_path / "export" / "part_0_0001.csv"
    path.parent.mkdir()
    path.write_bytes(generate(tmp_path / "demo").actual.read_bytes())  # covered usage at no cost
    assert open_source(path).dataset == "ActualCost"


def test_commitment_usage_of_no_quantity_tells_only_when_no_other_row_does(tmp_path):
    """Amortized covered usage of quantity 0 costs 0 too, as covered usage does in actual data."""
    header, *rows = generate(tmp_path / "demo").amortized.read_text(encoding="utf-8-sig").splitlines()
    columns = header.split(",")
    quantity, cost = columns.index("Quantity"), columns.index("CostInBillingCurrency")
    covered = next(r for r in rows if ",Usage," in r and ",Reservation," in r and '"' not in r).split(",")
    covered[quantity] = covered[cost] = "0"
    path = tmp_path / "export" / "part_0_0001.csv"  # the name says nothing
    path.parent.mkdir()
    path.write_text("\n".join([header, ",".join(covered), *rows]) + "\n")
    assert open_source(path).dataset == "AmortizedCost"  # the next commitment rows tell
    path.write_text("\n".join([header, ",".join(covered), *[r for r in rows if "Reservation" not in r and
                                                               "SavingsPlan" not in r]]) + "\n")
    assert open_source(path).dataset == "ActualCost"  # nothing else tells: as before


def _without_unused(source, target) -> None:
    """``source`` without its unused commitment rows (only amortized data has those: they outweigh a name)."""
    header, *rows = source.read_text(encoding="utf-8-sig").splitlines()
    target.write_text("\n".join([header, *[r for r in rows if ",Unused" not in r]]) + "\n")


def test_unamortized_names_actual_cost(tmp_path):
    files = generate(tmp_path / "demo")
    folder = tmp_path / "amortized"  # the file's own name comes first
    folder.mkdir()
    for name in ("costs_unamortized_2024-10.csv", "non-amortized.csv", "NonAmortizedCost.csv"):
        _without_unused(files.amortized, folder / name)  # covered usage with a cost: the name outweighs it
        assert open_source(folder / name).dataset == "ActualCost", name


@pytest.mark.parametrize(("name", "dataset"), [
    ("Contractual-costs-2026-10.csv", None), ("costos_actualizados_2026-10.csv", None), ("usage.csv", None),
    ("EA_ActualCost_Small.csv", "ActualCost"), ("ea_actualcost_202610.csv", "ActualCost"), ("mtd-actual", "ActualCost"),
    ("DailyAmortizedCost.csv", "AmortizedCost"), ("amortised_costs.csv", "AmortizedCost"),
    ("test_reconcile_actual_and_amortized0", None)])
def test_a_name_says_a_dataset_by_its_words(name, dataset):
    assert datasets._named(name) == dataset


def test_a_word_containing_actual_says_nothing_and_the_rows_tell(wh, tmp_path):
    amortized = generate(tmp_path / "demo").amortized
    for name in ("Contractual-costs-2026-10.csv", "costos_actualizados_2026-10.csv"):
        path = tmp_path / name
        path.write_bytes(amortized.read_bytes())
        f = load(wh, path).files[0]
        assert (f.error, f.dataset) == (None, "AmortizedCost"), name
    assert total(wh, "EffectiveCost") == csv_total(amortized, "CostInBillingCurrency")


def test_unused_commitment_rows_outweigh_a_name_saying_actual(tmp_path):
    amortized = generate(tmp_path / "demo").amortized
    path = tmp_path / "costos_actual_2026-10.csv"  # Spanish: current costs
    path.write_bytes(amortized.read_bytes())
    assert open_source(path).dataset == "AmortizedCost"
    _without_unused(amortized, path)
    assert open_source(path).dataset == "ActualCost"  # covered usage with a cost does not outweigh it


def test_the_export_manifest_names_the_dataset_whatever_the_rows_and_folders_show(tmp_path, monkeypatch):
    files = generate(tmp_path / "demo")
    deep = tmp_path / "deep.csv"
    _commitments_last(files.amortized, deep)
    monkeypatch.setattr(datasets, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(datasets, "SCAN_BYTES", 4096)
    monkeypatch.setattr(datasets, "SPREAD_WINDOWS", 0)  # the rows cannot tell: the manifest does
    month = date(2026, 10, 1)
    amortized = write_export_run(tmp_path, "daily-actual", "AmortizedCost", month, "run", "2026-11-01T05:00:00Z",
                                 deep, parts=1, compress=False)
    actual = write_export_run(tmp_path, "daily-amortized", "Usage", month, "run", "2026-11-01T05:00:00Z",
                              files.actual, parts=1, compress=False)
    assert open_source(amortized[0]).dataset == "AmortizedCost"
    assert open_source(actual[0]).dataset == "ActualCost"  # Usage: older exports' name of actual cost


def test_a_folder_naming_both_datasets_says_neither_and_the_rows_tell(tmp_path):
    files = generate(tmp_path / "demo")
    folder = tmp_path / "test_reconcile_actual_and_amortized0"  # as a test's temporary folder is named
    folder.mkdir()
    (folder / "usage_a.csv").write_bytes(files.actual.read_bytes())
    (folder / "usage_b.csv").write_bytes(files.amortized.read_bytes())
    assert [open_source(folder / n).dataset for n in ("usage_a.csv", "usage_b.csv")] == ["ActualCost",
                                                                                        "AmortizedCost"]


def test_rows_tell_before_folder_names_and_folder_names_before_the_default(tmp_path):
    files = generate(tmp_path / "demo")
    folder = tmp_path / "amortized"
    folder.mkdir()
    (folder / "usage.csv").write_bytes(files.actual.read_bytes())  # covered usage at no cost: actual rows
    assert open_source(folder / "usage.csv").dataset == "ActualCost"
    header, *rows = files.amortized.read_text(encoding="utf-8-sig").splitlines()
    (folder / "plain.csv").write_text("\n".join([header, *[r for r in rows if "Reservation" not in r and
                                                           "SavingsPlan" not in r]]) + "\n")
    assert open_source(folder / "plain.csv").dataset == "AmortizedCost"  # no commitment rows: the folder says
    (tmp_path / "plain.csv").write_bytes((folder / "plain.csv").read_bytes())
    assert open_source(tmp_path / "plain.csv").dataset == "ActualCost"  # nothing says: the default


def test_a_manifest_without_dates_still_names_the_dataset(tmp_path):
    import json

    files = generate(tmp_path / "demo")
    header, *rows = files.amortized.read_text(encoding="utf-8-sig").splitlines()
    run = tmp_path / "exports" / "costs" / "run-1"
    run.mkdir(parents=True)
    (run / "part_0_0001.csv").write_text("\n".join([header, *[r for r in rows if "Reservation" not in r and
                                                              "SavingsPlan" not in r]]) + "\n")
    (run / "manifest.json").write_text(json.dumps({"exportConfig": {"exportName": "costs", "type": "AmortizedCost"},
                                                   "runInfo": {"submittedTime": "2026-11-01T05:00:00Z"}}))
    assert open_source(run / "part_0_0001.csv").dataset == "AmortizedCost"


def _split_by_commitment(source, folder, names: tuple[str, str]) -> None:
    """``source``'s rows in two parts: those without any commitment, then the commitment rows."""
    header, *rows = source.read_text(encoding="utf-8-sig").splitlines()
    commitment = [r for r in rows if "Reservation" in r or "SavingsPlan" in r]
    folder.mkdir(parents=True)
    (folder / names[0]).write_text("\n".join([header, *[r for r in rows if r not in commitment]]) + "\n")
    (folder / names[1]).write_text("\n".join([header, *commitment]) + "\n")


def test_parts_of_one_export_share_the_dataset_their_rows_show(wh, tmp_path):
    files = generate(tmp_path / "demo")
    run = tmp_path / "export" / "20261001-20261031" / "run"  # copied without its manifest, neutral names
    _split_by_commitment(files.amortized, run, ("part_0_0001.csv", "part_1_0001.csv"))
    assert [open_source(run / n).dataset for n in ("part_0_0001.csv", "part_1_0001.csv")] == ["AmortizedCost"] * 2
    result = load(wh, run / "part_0_0001.csv")  # alone first, then both: the amortized part never supersedes it
    result = load(wh, *sorted(run.iterdir()))
    assert all(f.rows_superseded == 0 and f.dataset == "AmortizedCost" for f in result.files)
    assert total(wh, "EffectiveCost") == csv_total(files.amortized, "CostInBillingCurrency")
    assert [r["difference"] for r in result.reconciliation] == ["0"]
    archive = tmp_path / "export.zip"  # the same run inside a ZIP archive: its members are siblings too
    with zipfile.ZipFile(archive, "w") as packed:
        for part in sorted(run.iterdir()):
            packed.write(part, f"run/{part.name}")
    members = [open_source(archive / "run" / n) for n in ("part_0_0001.csv", "part_1_0001.csv")]
    assert [sf.dataset for sf in members] == ["AmortizedCost"] * 2
    for sf in members:
        sf.discard()  # the extracted copies


def test_a_cost_details_reports_manifest_names_the_dataset_of_its_blobs(tmp_path):
    import json

    report = tmp_path / "report"
    names = ("3f2a9c1e-0b7d-4b1e-9a55-6d1f0e3c2a10.csv", "8c41d7e2-5a90-4f3b-b6e4-71d2a8f9c034.csv")
    _split_by_commitment(generate(tmp_path / "demo").amortized, report, names)
    (report / "manifest.json").write_text(json.dumps({
        "manifestVersion": "2022-05-01", "dataFormat": "Csv", "blobCount": 2,
        "requestContext": {"requestScope": "providers/Microsoft.Billing/billingAccounts/8611537",
                           "requestBody": {"metric": "AmortizedCost", "billingPeriod": "202610"}}}))
    assert [open_source(report / n).dataset for n in names] == ["AmortizedCost"] * 2


def test_snappy_parquet_parts_of_one_export_share_their_dataset_and_load_as_one_run(wh, tmp_path):
    """Exports in Parquet name their parts ``part_0_0001.snappy.parquet``: parts of one run like the CSV ones."""
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    files = generate(tmp_path / "demo")
    run = tmp_path / "export" / "20261001-20261031" / "run"
    _split_by_commitment(files.amortized, tmp_path / "csv", ("part_0_0001.csv", "part_1_0001.csv"))
    run.mkdir(parents=True)
    names = ("part_0_0001.snappy.parquet", "part_1_0001.snappy.parquet")
    for part, name in zip(("part_0_0001.csv", "part_1_0001.csv"), names, strict=True):
        table = pv.read_csv(tmp_path / "csv" / part, convert_options=pv.ConvertOptions(column_types={}))
        pq.write_table(table, run / name, compression="snappy")
    assert [open_source(run / n).dataset for n in names] == ["AmortizedCost"] * 2
    alone = load(wh, run / names[0])
    assert any("one part of a split export loaded without" in w for w in alone.files[0].warnings)
    both = load(wh, *(run / n for n in names))
    assert not [w for f in both.files for w in f.warnings if "twice" in w]
    assert [r["difference"] for r in both.reconciliation] == ["0"]


def test_a_dataset_forced_against_what_the_rows_show_loads_as_forced_with_a_warning(wh, tmp_path):
    files = generate(tmp_path / "demo")
    for path, forced, shown in ((files.amortized, "ActualCost", "AmortizedCost"),
                                (files.actual, "AmortizedCost", "ActualCost")):
        result = loader.ingest(wh, [path], dataset=forced)
        assert result.files[0].dataset == forced
        assert result.files[0].warnings[0] == (  # (loaded as actual, also: no amortized data of that month yet)
            f"{path}: loaded as {forced} (--dataset), but its commitment rows show {shown} data: check --dataset "
            "(BilledCost and EffectiveCost are read by the dataset: loaded as the other, both are wrong)")
    assert loader.ingest(wh, [files.actual], dataset="ActualCost").files[0].warnings == []
