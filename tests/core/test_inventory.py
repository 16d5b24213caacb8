"""``abi files``: every file the warehouse holds rows of, with its FOCUS rows, costs per currency, months and
quarantined rows, adding up to the tables themselves."""

from __future__ import annotations

from decimal import Decimal

from abitest import load, total, write_csv

from app.core.demo import HEADER, generate
from app.core.inventory import held_files, print_held


def test_each_held_file_adds_up_to_the_tables(wh, tmp_path, capsys):
    demo = generate(tmp_path / "demo")
    broken = write_csv(tmp_path / "broken_actual.csv", HEADER, [
        {**{h: "" for h in HEADER}, "Date": "not-a-date", "CostInBillingCurrency": "abc"}] * 2)
    assert load(wh, demo.actual, demo.amortized, broken).files
    held = {f["path"]: f for f in held_files(wh)}
    assert list(held) == sorted(map(str, (demo.actual, demo.amortized, broken)))
    assert sum(f["rows_loaded"] for f in held.values()) == wh.scalar("SELECT count() FROM abi.focus_cost")
    assert sum(f["rows_quarantined"] for f in held.values()) == wh.scalar("SELECT count() FROM abi.focus_quarantine")
    for metric in ("BilledCost", "EffectiveCost"):
        assert sum(Decimal(c[metric]) for f in held.values() for c in f["costs"]) == total(wh, metric)
    amortized, only_quarantined = held[str(demo.amortized)], held[str(broken)]
    assert (amortized["source"], amortized["dataset"], amortized["billing_periods"]) == (
        "azure-cost", "AmortizedCost", ["2026-10"])
    assert [c["currency"] for c in amortized["costs"]] == ["USD"]
    assert (only_quarantined["rows_loaded"], only_quarantined["rows_quarantined"], only_quarantined["costs"],
            only_quarantined["dataset"]) == (0, 2, [], None)
    print_held(list(held.values()))
    printed = capsys.readouterr().out
    assert all(path in printed for path in held)
    assert held_files(wh, "2026-09") == []
    assert [f["path"] for f in held_files(wh, "2026-10")] == sorted(map(str, (demo.actual, demo.amortized)))


def test_a_file_loaded_again_as_another_dataset_shows_its_latest_loads(wh, tmp_path):
    """Loaded as amortized, then again as actual: the file holds rows of both datasets, and shows the latest load's
    (not the dataset of whichever row was read first), before and after the warehouse merges its parts."""
    demo, path = generate(tmp_path / "demo"), tmp_path / "cost.csv"
    path.write_bytes(demo.amortized.read_bytes())
    assert load(wh, path, dataset="AmortizedCost").ok
    path.write_bytes(demo.actual.read_bytes())
    assert load(wh, path, dataset="ActualCost").ok
    assert wh.scalar("SELECT uniqExact(x_SourceDataset) FROM abi.focus_cost") == 2
    for _ in range(2):
        assert [(f["path"], f["source"], f["dataset"]) for f in held_files(wh)] == [
            (str(path), "azure-cost", "ActualCost")]
        wh.command("OPTIMIZE TABLE abi.focus_cost FINAL")
