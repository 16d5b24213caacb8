"""Syncing a connector: extract units from its plugin, land them, load each through the core data path atomically.

A unit is loaded all or nothing (``loader.ingest(..., atomic=True)``), and the core replaces each billing period's
data per scope, so a re-run is idempotent. A unit the loader refuses is recorded and the sync goes on with the next
one; an extraction failure (unreachable, credentials, throttled past the retry budget) stops the sync. Either way
the connector records the error, and the next run completes the job (incremental plugins skip what loaded).
"""

from __future__ import annotations

import csv
import logging
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from app.connectors import catalog
from app.connectors.base import ConfigError, ExtractContext, PermanentError, PluginError, RowBatch, Unit
from app.connectors.registry import Registry
from app.connectors.secrets import scrub, unseal
from app.core import loader, scratch
from app.core.locked import LockedWarehouse
from app.core.staging import summed_totals
from app.core.warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclass
class UnitResult:
    key: str
    status: str
    """loaded, unchanged (incremental skip), empty (no data), refused (by the loader), failed (extraction)."""
    files: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    billing_periods: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    source_totals: list[dict[str, str]] = field(default_factory=list)
    """The unit's own cost per billing month, currency and metric (summed over its files), for reconciliation."""
    error: str | None = None
    extract_seconds: float = 0.0
    load_seconds: float = 0.0
    ingestion_id: str = ""
    permanent: bool = False
    earlier: list[dict] = field(default_factory=list)
    """Rows of earlier loads this unit's load took out (``IngestionResult.earlier_files``)."""


@dataclass
class SyncResult:
    connector: str
    plugin: str
    start: str
    end: str
    units: list[UnitResult] = field(default_factory=list)
    error: str | None = None
    permanent: bool = False
    """The failure is one trying again cannot fix (a bad configuration, ``PermanentError``)."""

    @property
    def ok(self) -> bool:
        return self.error is None and all(u.status not in ("refused", "failed") for u in self.units)

    @property
    def rows_read(self) -> int:
        return sum(u.rows_read for u in self.units)

    @property
    def rows_taken_back(self) -> int:
        """Rows this sync loaded and then took out again itself (actual usage superseded by a later unit's
        amortized data, or a unit loaded twice)."""
        mine = {u.ingestion_id for u in self.units if u.ingestion_id}
        return sum(e["rows_superseded"] + e["rows_replaced"] for u in self.units for e in u.earlier
                   if e["ingestion_id"] in mine)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "rows_read": self.rows_read,
                "rows_loaded": sum(u.rows_loaded for u in self.units) - self.rows_taken_back}


def sync(registry: Registry, wh: Warehouse, name: str, start: date, end: date, full: bool = False,
         progress: bool = False) -> SyncResult:
    """Sync connector ``name`` for the months ``start``..``end``; the outcome is recorded on the connector."""
    conn = registry.get(name)
    scratch.sweep()  # what a killed run left behind (a worker runs for months)
    wh = publishing(registry, wh)
    result = SyncResult(name, conn.plugin, f"{start:%Y-%m}", f"{end:%Y-%m}")
    if not conn.enabled:
        raise PluginError(f"connector {name!r} is disabled")
    config: dict[str, Any] = {}
    try:
        plugin = catalog.get(conn.plugin)
        config = plugin.validate_config(unseal(plugin.info.config_schema, conn.config))
        loaded = {} if full else registry.loaded_units(name)
        with scratch.temporary(f"sync-{name}") as tmp, _Progress(name, progress) as bar:
            ctx = ExtractContext(tmp, loaded, on_bytes=bar.bytes)
            for unit in plugin.extract(config, start, end, ctx):
                outcome = _run_unit(registry, wh, name, unit, loaded, tmp)
                log.info("sync connector=%s unit=%s status=%s rows=%d extract_s=%.2f load_s=%.2f", name,
                         outcome.key, outcome.status, outcome.rows_read, outcome.extract_seconds, outcome.load_seconds)
                result.units.append(outcome)
                bar.unit(outcome)
                if outcome.status == "failed":
                    result.error, result.permanent = outcome.error, outcome.permanent
                    break
    except PluginError as exc:
        result.error, result.permanent = str(exc), isinstance(exc, ConfigError | PermanentError)
    except Exception as exc:  # noqa: BLE001 - any failure must end up recorded on the connector
        trace = "".join(traceback.format_exception(exc))  # a library's message may hold what it was given
        log.error("sync of %s failed unexpectedly: %s", name, scrub(trace, config))
        result.error = f"unexpected {exc.__class__.__name__}: {exc}"
    result.error = scrub(result.error, config) if result.error else None
    for unit in result.units:
        unit.error = scrub(unit.error, config) if unit.error else None
    _record(registry, result)
    return result


def publishing(registry: Registry, wh: Warehouse) -> LockedWarehouse:
    """``wh`` whose loads run one at a time among every process sharing ``registry``: two workers publishing into
    one ClickHouse would otherwise each rebuild a month without the rows the other is swapping in."""
    if isinstance(wh, LockedWarehouse) and wh.process_lock is not None:
        return wh
    return LockedWarehouse(wh, registry.publish_lock)


def _record(registry: Registry, result: SyncResult) -> None:
    refused = next((u.error for u in result.units if u.status == "refused"), None)
    error = result.error or refused
    status = "ok" if result.ok else ("partial" if any(u.status == "loaded" for u in result.units) else "failed")
    registry.record_sync(result.connector, status, result.rows_read, error)
    log.info("sync connector=%s status=%s units=%d rows=%d error=%s", result.connector, status, len(result.units),
             result.rows_read, error or "")


def _run_unit(registry: Registry, wh: Warehouse, name: str, unit: Unit, loaded: dict[str, str],
              tmp: Path) -> UnitResult:
    if unit.fingerprint is not None and loaded.get(unit.key) == unit.fingerprint:
        return UnitResult(unit.key, "unchanged")
    started = time.perf_counter()
    try:
        files = _land(unit, tmp)
    except PluginError as exc:
        return UnitResult(unit.key, "failed", error=f"{unit.key}: {exc}",
                          permanent=isinstance(exc, ConfigError | PermanentError))
    extracted = time.perf_counter()
    if not files:
        return UnitResult(unit.key, "empty", extract_seconds=round(extracted - started, 3))
    ingested = loader.ingest(wh, files, unit.source, unit.dataset, atomic=True)
    for path in files:
        if tmp in path.parents:
            path.unlink(missing_ok=True)
    out = UnitResult(unit.key, "loaded" if ingested.ok else "refused", files=len(files),
                     extract_seconds=round(extracted - started, 3),
                     load_seconds=round(time.perf_counter() - extracted, 3))
    if not ingested.ok:
        refused = [f.error for f in ingested.files if f.error and "atomic batch" not in f.error]
        out.error = f"{unit.key}: nothing loaded: {'; '.join(refused)}"  # every refused file, each with its reason
        return out
    for f in ingested.files:
        out.rows_read += f.rows_read
        out.rows_loaded += f.rows_loaded
        out.rows_quarantined += f.rows_quarantined
        out.billing_periods = sorted(set(out.billing_periods) | set(f.billing_periods))
        out.paths.append(f.path)
    out.source_totals = summed_totals(t for f in ingested.files for t in f.source_totals)
    out.ingestion_id, out.earlier = ingested.ingestion_id, ingested.earlier_files
    registry.mark_loaded(name, unit.key, unit.fingerprint or "", out.rows_read)
    return out


def _land(unit: Unit, tmp: Path) -> list[Path]:
    """Consume the unit's parts: files as they are, row batches appended to one CSV per unit."""
    files: list[Path] = []
    rows_file, handle, writer = None, None, None
    try:
        for part in unit.parts:
            if isinstance(part, RowBatch):
                if writer is None:
                    rows_file = tmp / f"{unit.key.replace('/', '_')}_{(unit.dataset or 'rows').lower()}.csv"
                    handle = open(rows_file, "w", newline="", encoding="utf-8")  # noqa: SIM115
                    writer = csv.DictWriter(handle, fieldnames=part.columns, extrasaction="ignore")
                    writer.writeheader()
                writer.writerows(part.rows)
            else:
                files.append(part)
    finally:
        if handle:
            handle.close()
    return files + ([rows_file] if rows_file else [])


class _Progress:
    """A tqdm bar of units (with MB downloaded and rows), shown on a terminal only."""

    def __init__(self, name: str, show: bool) -> None:
        from tqdm import tqdm

        self._bar = tqdm(desc=f"sync {name}", unit="unit", disable=not (show and sys.stderr.isatty()))
        self._bytes = self._rows = 0

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()

    def bytes(self, n: int) -> None:
        self._bytes += n
        self._bar.set_postfix(MB=f"{self._bytes / 1e6:.1f}", rows=self._rows, refresh=False)

    def unit(self, outcome: UnitResult) -> None:
        self._rows += outcome.rows_read
        self._bar.set_postfix(MB=f"{self._bytes / 1e6:.1f}", rows=self._rows)
        self._bar.update(1)
