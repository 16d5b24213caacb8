"""The ingestion log as a ledger: whatever the order of loads, re-loads and removals, its counts summed per
ingestion are the rows that ingestion still has in focus_cost and focus_quarantine."""

from __future__ import annotations

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
    superseded = actual.files[0].rows_loaded - wh.scalar(
        f"SELECT count() FROM abi.focus_cost WHERE x_SourceFile = '{bad}'")
    assert superseded > 0
    assert earlier == [{"path": str(bad), "ingestion_id": actual.ingestion_id, "rows_replaced": 0,
                        "rows_superseded": superseded, "rows_quarantined_replaced": 0}]
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
