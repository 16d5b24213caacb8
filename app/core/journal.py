"""The publication journal: a load killed while it swaps month partitions is completed by the next process.

``REPLACE PARTITION`` writes the new parts before the part that retires the old ones: a process killed between the
two (or between two months) leaves a month counted twice, or some months swapped and others not. So a publication
first writes ``publishing.json`` in the data directory (the batch table, kept until the journal is closed, and the
partitions), then swaps, rebuilds the aggregates and closes the journal. The next process to open the warehouse
(``staging.drop_stale_stages``: every command, reads included, and the API server) replays the swaps from the batch
(each one sets a partition to the batch's rows whatever it held) and rebuilds the aggregates: the months hold what
the killed load published, once. Only the embedded engine, held by one process, journals (a ClickHouse server's
loads are not killed with their client).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from app.core.warehouse import Warehouse
from app.models.names import FOCUS_TABLE

log = logging.getLogger(__name__)

NAME = "publishing.json"


def _path(wh: Warehouse) -> Path | None:
    data_dir = getattr(wh, "data_dir", None)
    return Path(data_dir) / NAME if wh.embedded and data_dir else None


def begin(wh: Warehouse, batch: str, partitions: list[str]) -> None:
    """Record the publication about to swap ``partitions`` from table ``batch`` (``database.name``)."""
    if path := _path(wh):
        part = path.with_suffix(".partial")
        part.write_text(json.dumps({"batch": batch, "partitions": partitions}))
        part.replace(path)


def end(wh: Warehouse) -> None:
    """The publication is complete: its batch may go."""
    if path := _path(wh):
        path.unlink(missing_ok=True)


def pending(wh: Warehouse) -> bool:
    """A publication is journaled and not complete (its batch table must be kept for ``recover``)."""
    return bool((path := _path(wh)) and path.exists())


def recover(wh: Warehouse, logged: bool = True) -> str | None:
    """Complete a publication a killed process left open; a warning saying so (also logged unless ``logged`` is
    false: a caller that shows it itself), or None."""
    from app.views.refresh import refresh_aggregates

    path = _path(wh)
    if path is None or not path.exists():
        return None
    entry = json.loads(path.read_text())
    batch, partitions = entry["batch"], entry["partitions"]
    table = batch.split(".")[-1]
    if not wh.scalar("SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}",
                     {"db": wh.database, "t": table}):
        end(wh)
        return "an interrupted load left no batch to complete its publication: load its files again"
    for partition in partitions:
        wh.command(f"ALTER TABLE {wh.database}.{FOCUS_TABLE} REPLACE PARTITION ID '{partition}' FROM {batch}")
    refresh_aggregates(wh, partitions)
    end(wh)
    warning = (f"completed the publication of an interrupted load (billing months {', '.join(partitions)}): its "
               "rows are held once, but its ingestion log and quarantine may be missing; load its files again to "
               "record them")
    if logged:
        log.warning("%s", warning)
    return warning
