"""Actual or amortized: the export manifest, the file's name, its rows, its folders' names (in that order)."""

from __future__ import annotations

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


def test_commitment_rows_deep_in_a_large_file_are_found(tmp_path, monkeypatch):
    path = tmp_path / "export" / "part_0_0001.csv"  # the name says nothing
    path.parent.mkdir()
    _commitments_last(generate(tmp_path / "demo").amortized, path)
    monkeypatch.setattr(datasets, "HEAD_ROWS", 100)
    monkeypatch.setattr(datasets, "SPREAD_MIN_BYTES", 1 << 40)  # head only: the commitment rows are not seen
    assert open_source(path).dataset == "ActualCost"
    monkeypatch.setattr(datasets, "SPREAD_MIN_BYTES", 0)  # windows over the whole file (a large file's case)
    monkeypatch.setattr(datasets, "WINDOW_BYTES", 8_000)
    assert open_source(path).dataset == "AmortizedCost"


def test_an_export_without_commitment_usage_reads_as_actual_cost(tmp_path, monkeypatch):
    path = tmp_path / "export" / "part_0_0001.csv"
    path.parent.mkdir()
    path.write_bytes(generate(tmp_path / "demo").actual.read_bytes())
    monkeypatch.setattr(datasets, "SPREAD_MIN_BYTES", 0)
    monkeypatch.setattr(datasets, "WINDOW_BYTES", 8_000)
    assert open_source(path).dataset == "ActualCost"


def test_the_export_manifest_names_the_dataset_whatever_the_rows_and_folders_show(tmp_path, monkeypatch):
    files = generate(tmp_path / "demo")
    deep = tmp_path / "deep.csv"
    _commitments_last(files.amortized, deep)
    monkeypatch.setattr(datasets, "HEAD_ROWS", 100)
    monkeypatch.setattr(datasets, "SPREAD_MIN_BYTES", 1 << 40)  # the rows cannot tell: the manifest does
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
