"""``abi remove``: a file loaded by mistake comes back out whole (FOCUS rows, quarantined rows, the daily
aggregate), every other file's rows stay, and the ingestion log records the removal."""

from __future__ import annotations

import csv
import zipfile
from datetime import date

from abitest import csv_total, load, total, write_csv

from app.core.demo import generate
from app.core.removal import loaded_files, remove

SUMS = "SELECT toString(sum(BilledCost)) AS b, toString(sum(EffectiveCost)) AS e FROM abi.{table}"


def _sums(wh) -> list[dict]:
    return [wh.rows(SUMS.format(table=t))[0] for t in ("focus_cost", "focus_daily_cost")]


def _with_bad_rows(source, target):
    """A re-download of the actual file, one month later, with one row whose cost does not parse."""
    with open(source, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    rows = rows[:20]
    rows[3]["CostInBillingCurrency"] = "twelve"
    target.parent.mkdir()
    return write_csv(target, list(rows[0]), rows)


def test_a_file_loaded_by_mistake_comes_back_out_whole(wh, tmp_path):
    files = generate(tmp_path / "demo")
    load(wh, files.actual, files.amortized)
    before, rows_before = _sums(wh), wh.scalar("SELECT count() FROM abi.focus_cost")
    extra = generate(tmp_path / "other", scale=1, month=date(2026, 11, 1))
    bad = _with_bad_rows(extra.actual, tmp_path / "mistake" / "cost (1).csv")
    result = load(wh, bad, extra.amortized)
    assert result.files[0].rows_quarantined == 1
    assert wh.scalar("SELECT count() FROM abi.focus_quarantine") == 1
    present = {r["f"]: int(r["n"]) for r in wh.rows(
        "SELECT x_SourceFile AS f, count() AS n FROM abi.focus_cost WHERE BillingPeriodStart >= '2026-11-01' "
        "GROUP BY f")}

    done = remove(wh, [str(bad), str(extra.amortized)])
    assert done.rows == present and present[str(extra.amortized)] == result.files[1].rows_loaded
    assert done.quarantined == {str(bad): 1} and done.billing_periods == ["2026-11"]
    assert _sums(wh) == before and wh.scalar("SELECT count() FROM abi.focus_cost") == rows_before
    assert wh.scalar("SELECT count() FROM abi.focus_quarantine") == 0
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")
    logged = wh.rows("SELECT source_file, status, error FROM abi.ingestion_log WHERE status = 'removed' "
                     "ORDER BY source_file")
    assert [r["source_file"] for r in logged] == sorted([str(bad), str(extra.amortized)])
    assert "quarantined" in logged[0]["error"]


def test_removing_one_file_of_a_month_keeps_the_others_rows(wh, tmp_path):
    files = generate(tmp_path / "demo")
    load(wh, files.actual)
    load(wh, files.amortized)  # supersedes the actual usage: the actual file keeps its purchases and refunds
    done = remove(wh, [str(files.amortized)])
    kept = wh.rows("SELECT DISTINCT x_SourceFile AS f, ChargeCategory AS c FROM abi.focus_cost ORDER BY c")
    assert kept == [{"f": str(files.actual), "c": "Purchase"}]
    assert done.notes and "rows of 2026-10 removed" in done.notes[0] and "load the actual cost files" in done.notes[0]
    load(wh, files.actual)
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")


def test_files_are_named_by_path_or_by_a_unique_end(wh, tmp_path):
    files = generate(tmp_path / "demo")
    load(wh, files.actual, files.amortized)
    assert loaded_files(wh, [str(files.actual), files.amortized.name, "demo", "nothing.csv"]) == {
        str(files.actual): [str(files.actual)], files.amortized.name: [str(files.amortized)]}


def test_a_zip_archive_is_removed_with_all_its_members(wh, tmp_path):
    files = generate(tmp_path / "demo")
    archive = tmp_path / "usage.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(files.actual, "10/actual.csv")
        zf.write(files.amortized, "10/amortized.csv")
    beside = tmp_path / "actual.csv"  # another file of the same days (not a copy: a copy would be skipped)
    beside.write_text("".join(files.actual.read_text().splitlines(keepends=True)[:-1]))
    load(wh, archive, beside)
    members = [str(archive / "10" / "actual.csv"), str(archive / "10" / "amortized.csv")]
    assert loaded_files(wh, ["usage.zip", str(archive), "10/actual.csv", "other.zip"]) == {
        "usage.zip": members, str(archive): members, "10/actual.csv": members[:1]}
    done = remove(wh, loaded_files(wh, ["usage.zip"])["usage.zip"])
    assert set(done.rows) == set(members)
    assert wh.rows("SELECT DISTINCT x_SourceFile AS f FROM abi.focus_cost") == [{"f": str(beside)}]
