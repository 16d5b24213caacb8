"""Actual or amortized: the export manifest, the file's name, its rows, its folders' names (in that order)."""

from __future__ import annotations

import gzip
from datetime import date

from connectortest import write_export_run

from app.core import datasets
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
    with gzip.open(path.with_suffix(".csv.gz"), "wb") as packed:
        packed.write(path.read_bytes())
    assert open_source(path.with_suffix(".csv.gz")).dataset == "AmortizedCost"
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


def test_unamortized_names_actual_cost(tmp_path):
    files = generate(tmp_path / "demo")
    folder = tmp_path / "amortized"  # the file's own name comes first
    folder.mkdir()
    for name in ("costs_unamortized_2024-10.csv", "non-amortized.csv"):
        (folder / name).write_bytes(files.amortized.read_bytes())
        assert open_source(folder / name).dataset == "ActualCost", name


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
