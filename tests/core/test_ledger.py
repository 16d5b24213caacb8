"""The ingestion log as a ledger: whatever the order of loads, re-loads and removals, its counts summed per
ingestion are the rows that ingestion still has in focus_cost and focus_quarantine."""

from __future__ import annotations

from datetime import date

from abitest import load

from app.core.demo import generate
from app.core.removal import remove


def _held(wh) -> dict[str, tuple[int, int]]:
    """Per ingestion: (FOCUS rows, quarantined rows) held now."""
    rows = wh.rows("SELECT i, toInt64(sum(f)) AS f, toInt64(sum(q)) AS q FROM ("
                   "SELECT x_IngestionId AS i, count() AS f, 0 AS q FROM abi.focus_cost GROUP BY i UNION ALL "
                   "SELECT ingestion_id AS i, 0 AS f, count() AS q FROM abi.focus_quarantine GROUP BY i) GROUP BY i")
    return {r["i"]: (int(r["f"]), int(r["q"])) for r in rows if int(r["f"]) or int(r["q"])}


def _booked(wh) -> dict[str, tuple[int, int]]:
    """Per ingestion: (rows_loaded, rows_quarantined) summed over the log."""
    rows = wh.rows("SELECT ingestion_id AS i, toInt64(sum(rows_loaded)) AS f, toInt64(sum(rows_quarantined)) AS q "
                   "FROM abi.ingestion_log GROUP BY i")
    return {r["i"]: (int(r["f"]), int(r["q"])) for r in rows if int(r["f"]) or int(r["q"])}


def test_a_later_load_books_what_it_takes_out_to_the_load_that_brought_it(wh, tmp_path):
    files = generate(tmp_path / "demo")
    bad = tmp_path / "bad_actual.csv"  # the actual export with one cost that does not parse
    header, first, *rest = files.actual.read_text(encoding="utf-8-sig").splitlines()
    cost = header.split(",").index("CostInBillingCurrency")
    cells = first.split(",")
    cells[cost] = "n/a"
    bad.write_text("\n".join([header, ",".join(cells), *rest]) + "\n")

    actual = load(wh, bad)
    assert actual.files[0].rows_quarantined == 1
    amortized = load(wh, files.amortized)
    earlier = amortized.as_dict()["earlier_files"]
    kept = wh.scalar(f"SELECT count() FROM abi.focus_cost WHERE x_SourceFile = '{bad}'")  # purchases, refunds
    superseded = actual.files[0].rows_loaded - kept
    assert superseded > 0 and kept > 0
    assert earlier == [{"path": str(bad), "ingestion_id": actual.ingestion_id, "rows_replaced": 0,
                        "rows_superseded": superseded, "rows_kept": kept, "rows_quarantined_replaced": 0}]
    logged = wh.rows(f"SELECT status, rows_read, rows_loaded, rows_superseded FROM abi.ingestion_log "
                     f"WHERE source_file = '{bad}' ORDER BY finished_at")
    assert sum(r["rows_loaded"] + r["rows_superseded"] for r in logged) + actual.files[0].rows_quarantined == \
        sum(r["rows_read"] for r in logged)
    assert logged[-1]["status"] == "superseded"
    assert _booked(wh) == _held(wh)

    again = load(wh, bad)  # the same file again: its earlier rows, FOCUS and quarantined, are replaced
    replaced = {(e["path"], e["ingestion_id"]): e for e in again.as_dict()["earlier_files"]}
    assert replaced[(str(bad), actual.ingestion_id)]["rows_quarantined_replaced"] == 1
    assert _booked(wh) == _held(wh)
    load(wh, files.amortized)
    assert _booked(wh) == _held(wh)
    remove(wh, [str(bad)])
    assert _booked(wh) == _held(wh) and all(ingestion != again.ingestion_id for ingestion in _held(wh))


def _with_bad_cost(source, target):
    """``source`` with its first row's cost unreadable (one quarantined row)."""
    header, first, *rest = source.read_text(encoding="utf-8-sig").splitlines()
    cells = first.split(",")
    cells[header.split(",").index("CostInBillingCurrency")] = "n/a"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join([header, ",".join(cells), *rest]) + "\n")
    return target


def test_quarantine_is_replaced_with_the_months_it_came_with(wh, tmp_path):
    sep = generate(tmp_path / "sep", month=date(2026, 9, 1))
    oct_ = generate(tmp_path / "oct", month=date(2026, 10, 1))
    saved = tmp_path / "Downloads" / "cost-details.csv"  # a script that always saves under one name
    first = load(wh, _with_bad_cost(sep.actual, saved))
    saved.write_bytes(oct_.actual.read_bytes())  # October, under the same name
    load(wh, saved)
    assert wh.scalar("SELECT count() FROM abi.focus_quarantine") == 1  # September's bad row stays on record
    assert wh.scalar(f"SELECT count() FROM abi.focus_cost WHERE x_IngestionId = '{first.ingestion_id}'") > 0

    fixed = tmp_path / "fixed" / "usage.csv"  # a fixed copy of a file, under a new path: the same months
    broken = load(wh, _with_bad_cost(oct_.actual, tmp_path / "broken" / "usage.csv"))
    assert broken.files[0].rows_quarantined == 1
    fixed.parent.mkdir()
    fixed.write_bytes(oct_.actual.read_bytes())
    result = load(wh, fixed)
    gone = {e["path"]: e for e in result.earlier_files}[str(tmp_path / "broken" / "usage.csv")]
    assert gone["rows_quarantined_replaced"] == 1 and gone["ingestion_id"] == broken.ingestion_id
    assert wh.scalar(f"SELECT count() FROM abi.focus_quarantine WHERE ingestion_id = '{broken.ingestion_id}'") == 0
    assert _booked(wh) == _held(wh)


def test_rows_replaced_and_superseded_by_one_load_are_booked_apart(wh, tmp_path):
    sep = generate(tmp_path / "sep", month=date(2026, 9, 1))
    oct_ = generate(tmp_path / "oct", month=date(2026, 10, 1))
    both = tmp_path / "two_months_actual.csv"  # September and October in one file
    header, *sep_rows = sep.actual.read_text(encoding="utf-8-sig").splitlines()
    both.write_text("\n".join([header, *sep_rows, *oct_.actual.read_text(encoding="utf-8-sig").splitlines()[1:]]))
    earlier = load(wh, both)
    load(wh, oct_.actual, sep.amortized)  # October's actual rows again; September amortized
    booked = {r["status"]: r for r in wh.rows(
        "SELECT status, toInt64(rows_loaded) AS loaded, toInt64(rows_superseded) AS superseded FROM abi.ingestion_log "
        f"WHERE ingestion_id = '{earlier.ingestion_id}' AND status != 'loaded'")}
    assert set(booked) == {"replaced", "superseded"}
    assert -booked["replaced"]["loaded"] == len(oct_.actual.read_text(encoding="utf-8-sig").splitlines()) - 1
    assert -booked["superseded"]["loaded"] == booked["superseded"]["superseded"] > 0
    assert _booked(wh) == _held(wh)
