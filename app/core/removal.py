"""Take a loaded file's rows back out of the warehouse (``abi remove``): a file loaded by mistake, such as a
second view of charges already loaded (a FOCUS export beside cost details), or a re-download of another file.

Each month partition holding rows of the files is rebuilt without them and swapped in with ``REPLACE PARTITION``
(atomic per partition, as loads publish); their quarantined rows go too, and the ingestion log records the removal.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from app.core import ledger, replace
from app.core.ledger import timestamp_now
from app.core.warehouse import Warehouse, quote
from app.models.names import FOCUS_TABLE, INGESTION_LOG_TABLE, QUARANTINE_TABLE
from app.views.refresh import refresh_aggregates

log = logging.getLogger(__name__)


@dataclass
class Removed:
    """Rows taken out per source file (as the FOCUS rows name it in ``x_SourceFile``)."""

    removal_id: str
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    billing_periods: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    booked: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    """(file, ingestion that loaded the rows) → [FOCUS rows, quarantined rows] taken out (``ledger``)."""


def loaded_files(wh: Warehouse, names: list[str]) -> dict[str, list[str]]:
    """Each name → the source files it means: the path as loaded, a name that only one loaded file ends with, or a
    ZIP archive named either way whose members were loaded (``usage.zip`` → each ``usage.zip/…``)."""
    known = _known(wh)
    archives = {f[:f.lower().index(".zip/") + 4] for f in known if ".zip/" in f.lower()}
    found = {}
    for name in names:
        files = _named(known, name)
        if files is None and name.lower().endswith(".zip"):
            archive = _named(sorted(archives), name)
            files = archive and sorted(f for f in known if f.startswith(archive + "/"))
        if files:
            found[name] = [files] if isinstance(files, str) else files
    return found


def _known(wh: Warehouse) -> list[str]:
    db = wh.database
    return [r["f"] for r in wh.rows(f"SELECT DISTINCT x_SourceFile AS f FROM {db}.{FOCUS_TABLE} UNION DISTINCT "
                                    f"SELECT DISTINCT toString(source_file) AS f FROM {db}.{QUARANTINE_TABLE}")]


def ending_with(wh: Warehouse, name: str) -> list[str]:
    """The loaded files whose path ends with ``name`` (several: a name that means none of them alone)."""
    return sorted(f for f in _known(wh) if f.endswith("/" + name.lstrip("/")))


def _named(known: list[str], name: str) -> str | None:
    """The one of ``known`` that is ``name``, or the only one that ends with it."""
    matches = [f for f in known if f == name] or [f for f in known if f.endswith("/" + name.lstrip("/"))]
    return matches[0] if len(matches) == 1 else None


def remove(wh: Warehouse, files: list[str]) -> Removed:
    """Remove every FOCUS and quarantined row loaded from ``files`` (source file paths as loaded)."""
    with wh.exclusive():
        return _remove(wh, files)


def _remove(wh: Warehouse, files: list[str]) -> Removed:
    db, names = wh.database, "(" + ", ".join(quote(f) for f in files) + ")"
    done = Removed(str(uuid.uuid4()))
    started = timestamp_now()
    per_partition = wh.rows(
        f"SELECT _partition_id AS p, x_SourceFile AS f, x_IngestionId AS i, count() AS n, countIf(x_SourceFormat = "
        f"'azure-cost' AND x_SourceDataset = 'AmortizedCost') AS amortized FROM {db}.{FOCUS_TABLE} "
        f"WHERE x_SourceFile IN {names} GROUP BY p, f, i ORDER BY p, f")
    for r in per_partition:
        done.rows[r["f"]] = done.rows.get(r["f"], 0) + int(r["n"])
        done.booked.setdefault((r["f"], r["i"]), [0, 0])[0] += int(r["n"])
    done.billing_periods = sorted({f"{r['p'][:4]}-{r['p'][4:]}" for r in per_partition})
    amortized = sorted({f"{r['p'][:4]}-{r['p'][4:]}" for r in per_partition if int(r["amortized"])})
    if amortized:  # Microsoft's combination: the actual usage rows were never kept beside amortized ones
        done.notes.append(f"amortized cost rows of {', '.join(amortized)} removed: the actual-cost usage rows they "
                          f"superseded were never kept; load the actual cost files of those months again")
    batch = f"_abi_remove_{done.removal_id.replace('-', '')[:12]}"
    for partition in sorted({r["p"] for r in per_partition}):
        try:
            replace.create_batch(wh, batch)
            wh.command(f"INSERT INTO {db}.{batch} SELECT * FROM {db}.{FOCUS_TABLE} "
                       f"WHERE _partition_id = {quote(partition)} AND x_SourceFile NOT IN {names}")
            swap = f"REPLACE PARTITION ID {quote(partition)} FROM {db}.{batch}" if wh.scalar(
                f"SELECT count() FROM {db}.{batch}") else f"DROP PARTITION ID {quote(partition)}"  # nothing left
            wh.command(f"ALTER TABLE {db}.{FOCUS_TABLE} {swap}")
        finally:
            wh.command(f"DROP TABLE IF EXISTS {db}.{batch}")
    refresh_aggregates(wh, sorted({r["p"] for r in per_partition}))
    for (f, ingestion), n in ledger.quarantined_before(wh, files).items():
        done.quarantined[f] = done.quarantined.get(f, 0) + n
        done.booked.setdefault((f, ingestion), [0, 0])[1] = n
    if done.quarantined:
        wh.command(f"ALTER TABLE {db}.{QUARANTINE_TABLE} DELETE WHERE source_file IN {names} "
                   f"SETTINGS mutations_sync = 2")
    _log(wh, done, files, started)
    return done


def _log(wh: Warehouse, done: Removed, files: list[str], started: str) -> None:
    """Books the rows taken out to the ingestions that loaded them (``ledger``): negative counts, status removed."""
    import json

    for (f, ingestion), (rows, quarantined) in sorted(done.booked.items()):
        row = {"ingestion_id": ingestion, "source_file": f, "source_format": "", "source_dataset": "",
               "status": "removed", "rows_read": 0, "rows_loaded": -rows, "rows_quarantined": -quarantined,
               "rows_superseded": 0, "billing_periods": done.billing_periods, "unmapped": {},
               "error": f"removed by abi remove {done.removal_id}: {rows} FOCUS rows, {quarantined} quarantined rows",
               "started_at": started, "finished_at": timestamp_now()}
        wh.command(f"INSERT INTO {wh.database}.{INGESTION_LOG_TABLE} FORMAT JSONEachRow {json.dumps(row)}")
    for f in files:
        log.info("removed %s: %d FOCUS rows, %d quarantined rows", f, done.rows.get(f, 0), done.quarantined.get(f, 0))
