"""The ingestion log as a ledger: one row per file a load read, and one per file of an earlier load whose rows it
took out (replaced: the same billing months and accounts loaded again; superseded: actual cost rows of a scope now
amortized), booked to that earlier ingestion. Summed per ingestion (or file), ``rows_loaded`` and
``rows_quarantined`` are the rows it still has in ``focus_cost`` and ``focus_quarantine``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app.core.warehouse import Warehouse, quote
from app.models.names import FOCUS_TABLE, INGESTION_LOG_TABLE, QUARANTINE_TABLE

if TYPE_CHECKING:
    from app.core.loader import IngestionResult


def timestamp_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def quarantined_before(wh: Warehouse, paths: list[str]) -> dict[tuple[str, str], int]:
    """Quarantined rows of ``paths`` held, per (file, ingestion)."""
    names = "(" + ", ".join(quote(p) for p in paths) + ")"
    return {(r["f"], r["i"]): int(r["n"]) for r in wh.rows(
        f"SELECT toString(source_file) AS f, ingestion_id AS i, count() AS n FROM {wh.database}.{QUARANTINE_TABLE} "
        f"WHERE source_file IN {names} GROUP BY f, i")} if paths else {}


def drop_stale_quarantine(wh: Warehouse, paths: list[str]) -> dict[tuple[str, str], int]:
    """Deletes the quarantined rows of ``paths`` (files loaded again, or whose FOCUS rows a load replaced) from every
    earlier load of them that holds no FOCUS row any more: its months were loaded again. A load of other months under
    the same name keeps its quarantine. Returns what was deleted, per (file, ingestion)."""
    if not paths:
        return {}
    db, names = wh.database, "(" + ", ".join(quote(p) for p in dict.fromkeys(paths)) + ")"
    stale = {(r["f"], r["i"]): int(r["n"]) for r in wh.rows(
        f"SELECT toString(source_file) AS f, ingestion_id AS i, count() AS n FROM {db}.{QUARANTINE_TABLE} "
        f"WHERE source_file IN {names} AND (toString(source_file), ingestion_id) NOT IN (SELECT DISTINCT "
        f"x_SourceFile, x_IngestionId FROM {db}.{FOCUS_TABLE} WHERE x_SourceFile IN {names}) GROUP BY f, i")}
    if stale:
        pairs = ", ".join(f"({quote(f)}, {quote(i)})" for f, i in stale)
        wh.command(f"DELETE FROM {db}.{QUARANTINE_TABLE} WHERE (toString(source_file), ingestion_id) IN ({pairs})")
    return stale


def taken_out(focus: list[dict], quarantined: dict[tuple[str, str], int]) -> list[dict]:
    """Rows of earlier loads taken out, per file and ingestion: ``{"path", "ingestion_id", "rows_replaced",
    "rows_superseded", "rows_kept", "rows_quarantined_replaced"}`` (``focus``: ``replace.Published.earlier``)."""
    fields = ("path", "ingestion_id", "rows_replaced", "rows_superseded", "rows_kept")
    merged = {(e["path"], e["ingestion_id"]): {**{k: e[k] for k in fields}, "rows_quarantined_replaced": 0}
              for e in focus}
    for (path, ingestion), n in quarantined.items():
        merged.setdefault((path, ingestion), {"path": path, "ingestion_id": ingestion, "rows_replaced": 0,
                                              "rows_superseded": 0, "rows_kept": 0})["rows_quarantined_replaced"] = n
    return [merged[k] for k in sorted(merged)]


def record(wh: Warehouse, result: IngestionResult, started: str) -> None:
    """Log every file of the load, then book the rows it took out of earlier loads to those loads."""
    finished = timestamp_now()
    for fr in result.files:
        _insert(wh, {
            "ingestion_id": result.ingestion_id, "source_file": fr.path, "source_format": fr.source or "",
            "source_dataset": fr.dataset or "",
            "status": "refused" if fr.error else "skipped" if fr.skipped else "loaded",
            "rows_read": fr.rows_read, "rows_loaded": fr.rows_loaded, "rows_quarantined": fr.rows_quarantined,
            "rows_superseded": fr.rows_superseded, "billing_periods": fr.billing_periods,
            "unmapped": fr.unmapped, "error": fr.error, "started_at": started, "finished_at": finished})
    for e in result.earlier_files:  # booked to the load that brought the rows: replaced, then superseded
        for status, loaded, quarantined, superseded in (
                ("replaced", e["rows_replaced"], e["rows_quarantined_replaced"], 0),
                ("superseded", e["rows_superseded"], 0, e["rows_superseded"])):
            if loaded or quarantined:
                _insert(wh, {
                    "ingestion_id": e["ingestion_id"], "source_file": e["path"], "source_format": "",
                    "source_dataset": "", "status": status, "rows_read": 0, "rows_loaded": -loaded,
                    "rows_quarantined": -quarantined, "rows_superseded": superseded, "billing_periods": [],
                    "unmapped": {}, "error": _in_words(e, status, result.ingestion_id), "started_at": started,
                    "finished_at": finished})


def _in_words(earlier: dict, status: str, by: str) -> str:
    done = [f"{earlier[k]} {what}" for k, what in (
        ("rows_replaced", "FOCUS rows replaced (their accounts' charge days loaded again)"),
        ("rows_quarantined_replaced", "quarantined rows replaced (their file's months loaded again)"))
        if earlier[k]] if status == "replaced" else [
        f"{earlier['rows_superseded']} actual cost rows superseded by amortized data"]
    return f"by ingestion {by}: " + ", ".join(done)


def _insert(wh: Warehouse, row: dict) -> None:
    wh.command(f"INSERT INTO {wh.database}.{INGESTION_LOG_TABLE} FORMAT JSONEachRow {json.dumps(row)}")
