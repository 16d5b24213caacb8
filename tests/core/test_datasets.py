"""Actual or amortized, told by the rows when neither the command nor the path says."""

from __future__ import annotations

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
