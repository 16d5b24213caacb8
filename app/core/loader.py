"""Bulk ingestion of billing files: detect, stage, validate, publish, log — idempotent per billing period."""

from __future__ import annotations

import logging
import shlex
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.core import amortization, archives, journal, ledger, mapping, replace, schema, schema_version
from app.core.copies import refused_copies, same_content, skipped_copy
from app.core.datasets import forced_against_rows
from app.core.files import engine_name, shown_name, untext_name
from app.core.ledger import timestamp_now
from app.core.lookups import load_lookups
from app.core.quoting import quote_damage
from app.core.reconciliation import reconcile, unread_costs
from app.core.runs import cut_part, earlier_runs, held_later_runs, missing_parts, overlaps
from app.core.sources import SourceError, SourceFile, open_source
from app.core.staging import FileStage, group_files
from app.core.warehouse import Warehouse, WarehouseError, full_warehouse, quote
from app.models.names import FOCUS_TABLE, INGESTION_LOG_TABLE, QUARANTINE_TABLE
from app.views.refresh import ensure_views

log = logging.getLogger(__name__)


@dataclass
class FileResult:
    """What happened to one file's rows: read = loaded + quarantined + superseded."""

    path: str
    source: str | None = None
    dataset: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_superseded: int = 0
    billing_periods: list[str] = field(default_factory=list)
    unmapped: dict[str, int] = field(default_factory=dict)
    source_totals: list[dict[str, str]] = field(default_factory=list)
    """The file's own cost per billing month, currency and metric, over every row read (what FOCUS must reconcile
    to): ``{"billing_period", "currency", "metric", "total"}`` each."""
    error: str | None = None
    skipped: str | None = None
    """Why the file was not read: an earlier run of an export whose later run is in the same load."""
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestionResult:
    ingestion_id: str
    files: list[FileResult]
    reconciliation: list[dict[str, str]] = field(default_factory=list)
    """FOCUS against the files' own totals per billing month, currency and metric (``app.core.reconciliation``)."""
    earlier_files: list[dict] = field(default_factory=list)
    """Rows of files loaded earlier that this load replaced or superseded (``replace.Published.earlier``)."""

    @property
    def ok(self) -> bool:
        return all(f.error is None for f in self.files)

    def as_dict(self) -> dict:
        return {"ingestion_id": self.ingestion_id, "files": [asdict(f) for f in self.files],
                "reconciliation": self.reconciliation, "earlier_files": self.earlier_files}


def ensure_schema(wh: Warehouse) -> None:
    """Create ABI's tables (from the Moose declarations) and load the lookup tables."""
    for table in (FOCUS_TABLE, QUARANTINE_TABLE, INGESTION_LOG_TABLE):
        schema.ensure_table(wh, table)
    ensure_views(wh)
    load_lookups(wh)
    schema_version.record_version(wh)


def ingest(wh: Warehouse, paths: list[Path], source: str | None = None, dataset: str | None = None,
           progress=None, atomic: bool = False, given: dict[str, str] | None = None,
           reading=None) -> IngestionResult:
    """Load files into FOCUS as one batch; each file is loaded whole or refused whole (a ZIP archive: each of its
    billing members, ``archives``).

    ``atomic``: all files or none (a refused file keeps the others out too: parts of one report).
    ``given``: values for columns the files lack or leave empty (``abi ingest --set``).
    ``progress(path)``: called as each file is done; ``reading(paths)``: as the engine starts reading files (one, or
    several small ones of one layout read together).
    """
    with wh.exclusive():
        return _ingest(wh, archives.with_members(paths), (source, dataset, given or {}), (progress, reading), atomic)


def _ingest(wh: Warehouse, paths: list[Path], how: tuple[str | None, str | None, dict[str, str]], progress: tuple,
            atomic: bool) -> IngestionResult:
    ensure_schema(wh)
    result = IngestionResult(ingestion_id=str(uuid.uuid4()), files=[])
    started = timestamp_now()
    lineage = {"_ingestion_id": result.ingestion_id, "_ingested_at": started}
    prefix = f"_abi_{result.ingestion_id.replace('-', '')[:12]}"
    stages: list[tuple[FileResult, FileStage]] = []
    named = [p for p in paths if engine_name(p)]  # a name no query can carry is refused, by its bytes shown as text
    earlier = earlier_runs(named)
    earlier |= held_later_runs(wh, [p for p in named if p not in earlier], FOCUS_TABLE)
    copied = same_content([p for p in named if p not in earlier])
    earlier |= {copy: skipped_copy(copy, first) for copy, first in copied.items()}
    result.files = [FileResult(str(p), warnings=missing_parts(p, named), skipped=earlier.get(p)) if engine_name(p)
                    else FileResult(shown_name(p), error=untext_name(p)) for p in paths]
    progress, reading = progress
    progress = progress or (lambda _path: None)
    try:
        for fr in result.files:
            if fr.skipped or fr.error:
                progress(Path(fr.path))
        _stage_files(wh, [fr for fr in result.files if not (fr.skipped or fr.error)], (prefix, lineage, how),
                     (progress, reading), stages)
        refused_copies(result.files, copied)
        refused = [fr for fr in result.files if fr.error]
        if atomic and not result.ok:
            _hold_back(stages)
        else:
            _warn_overlaps(wh, stages, result, repeats=not atomic)  # an atomic load is the parts of one report
            result.earlier_files = _commit(wh, f"{prefix}_batch", stages, [fr.path for fr in refused])
            result.reconciliation = reconcile(wh, list(dict.fromkeys(stage.focus for _, stage in stages)),
                                              [t for fr, _ in stages for t in fr.source_totals])
            amortization.warn_unamortized(wh, [(fr, stage.focus) for fr, stage in stages])
        _warn_kept(wh, refused + [fr for fr in result.files if not (fr.error or fr.skipped or fr.rows_loaded)])
        ledger.record(wh, result, started)
    finally:
        for _, stage in stages:
            stage.drop()
    return result


def _warn_overlaps(wh: Warehouse, stages: list[tuple[FileResult, FileStage]], result: IngestionResult,
                   repeats: bool) -> None:
    warnings = overlaps(wh, {fr.path: stage.focus for fr, stage in stages}, FOCUS_TABLE, repeats)
    for warning in warnings:
        log.warning("%s", warning)
        first = next(f for f in result.files if warning.startswith(f.path))
        first.warnings.append(warning)


def _stage_files(wh: Warehouse, files: list[FileResult], load: tuple[str, dict[str, str], tuple], progress: tuple,
                 staged: list[tuple[FileResult, FileStage]]) -> None:
    """Stage the files into ``staged``; ``load``: the stage names' prefix, the lineage, and how to read the files
    (the forced source and dataset and the ``--set`` values); ``progress``: the ``progress`` and ``reading``
    callbacks of ``ingest``. ZIP members are opened (copied out) a batch at a time: ``archives.in_batches``."""
    groups = 0
    for batch in archives.in_batches(files, lambda fr: Path(fr.path)):
        groups = _stage_batch(wh, batch, load, progress, staged, groups)


def _stage_batch(wh: Warehouse, files: list[FileResult], load: tuple[str, dict[str, str], tuple], progress: tuple,
                 staged: list[tuple[FileResult, FileStage]], groups: int) -> int:
    """``_stage_files`` for one batch, whose groups are numbered from ``groups``; the next group's number."""
    prefix, lineage, how = load
    progress, reading = progress
    opened: list[tuple[FileResult, SourceFile]] = []
    for fr in files:
        try:
            if problem := cut_part(Path(fr.path)):
                raise SourceError(Path(fr.path), problem)
            sf = open_source(Path(fr.path), *how)
        except SourceError as exc:
            _refuse(fr, exc)
            progress(Path(fr.path))
            continue
        fr.source, fr.dataset, fr.warnings = sf.source, sf.dataset, fr.warnings + forced_against_rows(sf, how[1])
        opened.append((fr, sf))
    try:
        for group in group_files(wh, opened):
            if reading is not None:
                reading([Path(fr.path) for fr, _ in group])
            staged += _stage_group(wh, group, f"{prefix}_{groups}", lineage)
            groups += 1
            for fr, _ in group:
                progress(Path(fr.path))
    finally:
        for _, sf in opened:
            sf.discard()  # a ZIP member's or a UTF-16 file's copy
    return groups


def _stage_group(wh: Warehouse, group: list[tuple[FileResult, SourceFile]], prefix: str,
                 lineage: dict[str, str]) -> list[tuple[FileResult, FileStage]]:
    """Stage files of one layout together; when one cannot be read, each on its own (refusing that one only)."""
    stage = FileStage(wh, prefix)
    try:
        stage.create()
        stage.load([sf for _, sf in group], lineage)
        stage.drop_views()
    except (SourceError, WarehouseError) as exc:
        stage.drop()
        if full := full_warehouse(wh, exc):
            raise full from exc
        if len(group) > 1:
            return [s for m, one in enumerate(group) for s in _stage_group(wh, [one], f"{prefix}_{m}", lineage)]
        _refuse(group[0][0], exc, group[0][1])
        return []
    for fr, sf in group:
        _count(wh, stage, fr, sf)
    return [(fr, stage) for fr, _ in group]


def _refuse(fr: FileResult, exc: Exception, sf: SourceFile | None = None) -> None:
    fr.error = _explain(Path(fr.path), exc, sf)
    log.info("refused %s: %s", fr.path, fr.error)  # every caller reports fr.error itself (abi: one line)


def _explain(path: Path, exc: Exception, sf: SourceFile | None = None) -> str:
    text = str(exc)
    if isinstance(exc, SourceError):
        return text
    if sf and "Cannot parse input" in text and (damage := quote_damage(sf)):  # the engine's row is its own count
        return f"{path}: cannot be read: {damage}"
    first = (text.splitlines()[0] if text else "unknown error").split(" In scope ")[0][:600]
    return f"{path}: cannot be read as {'gzip-compressed ' if path.suffix == '.gz' else ''}billing data: {first}"


def _count(wh: Warehouse, stage: FileStage, fr: FileResult, sf: SourceFile) -> None:
    db, file = wh.database, quote(fr.path)
    fr.rows_loaded = int(wh.scalar(f"SELECT count() FROM {db}.{stage.focus} WHERE x_SourceFile = {file}"))
    fr.rows_quarantined = int(wh.scalar(f"SELECT count() FROM {db}.{stage.quarantine} WHERE source_file = {file}"))
    fr.rows_read = fr.rows_loaded + fr.rows_quarantined
    fr.billing_periods = [r["p"] for r in wh.rows(
        f"SELECT DISTINCT formatDateTime(BillingPeriodStart, '%Y-%m') AS p FROM {db}.{stage.focus} "
        f"WHERE x_SourceFile = {file} ORDER BY p")]
    fr.source_totals = stage.source_totals(fr.path)
    fr.unmapped = {r["item"]: int(r["n"]) for r in wh.rows(
        f"SELECT item, count() AS n FROM {db}.{stage.unmapped} WHERE file = {file} GROUP BY item "
        f"ORDER BY n DESC, item LIMIT 50")}
    fr.warnings += _nothing_loaded(wh, stage, fr) + (unread_costs(wh, stage.quarantine, fr.path) if fr.rows_quarantined
                                                      else [])


def _nothing_loaded(wh: Warehouse, stage: FileStage, fr: FileResult) -> list[str]:
    """Warnings for a file that loads no row: it has none, or every row is quarantined (with its top reasons, and a
    ``--set`` hint for each mandatory value no row has, as in an old EA usage file without a currency column)."""
    if not fr.rows_read:
        return [f"{fr.path}: no data rows (a header only): nothing to load"]
    if fr.rows_quarantined < fr.rows_read:
        return []
    quarantine = f"{wh.database}.{stage.quarantine} ARRAY JOIN reasons AS reason WHERE source_file = {quote(fr.path)}"
    top = [r["reason"] for r in wh.rows(
        f"SELECT reason, count() AS n FROM {quarantine} GROUP BY reason ORDER BY n DESC, reason LIMIT 3")]
    quarantined = f"{fr.path}: all {fr.rows_read} rows quarantined (e.g. {'; '.join(top)}): see focus_quarantine"
    amounts = {n for n, t in mapping.mapped_columns() if "Decimal" in t}  # one cost for every row is no fix
    missing = [r["column"] for r in wh.rows(
        f"SELECT splitByString(':', reason)[1] AS column FROM {quarantine} "
        f"AND reason LIKE '%: mandatory value missing' GROUP BY column "
        f"HAVING count() = {fr.rows_read} ORDER BY column") if r["column"] not in amounts]
    return [quarantined] + [f"{fr.path}: no row has {'an' if column[0] in 'AEIOU' else 'a'} {column} (mandatory in "
                            f"FOCUS); when the whole file has one {column}, give it: abi ingest --set {column}=VALUE"
                            for column in missing]


def _hold_back(stages: list[tuple[FileResult, FileStage]]) -> None:
    for fr, _ in stages:
        fr.error = f"{fr.path}: not loaded: another file of the same atomic batch was refused"
        fr.rows_loaded = fr.rows_quarantined = 0


def _commit(wh: Warehouse, batch: str, stages: list[tuple[FileResult, FileStage]], refused: list[str]) -> list[dict]:
    """Publish all staged files at once and replace their quarantine rows (``ledger.drop_stale_quarantine``), keeping
    the rows of the ``refused`` files (``replace.publish``); returns the rows of earlier loads taken out
    (``ledger.taken_out``)."""
    db = wh.database
    replace.create_batch(wh, batch)
    try:
        published = replace.publish(wh, batch, list(dict.fromkeys(stage.focus for _, stage in stages)), refused)
    finally:
        if not journal.pending(wh):  # else kept for the next process to complete the swaps (``journal``)
            wh.command(f"DROP TABLE IF EXISTS {db}.{batch}")
    for warning in published.warnings:
        log.warning("%s", warning)
        stages[0][0].warnings.append(warning)
    stale = ledger.drop_stale_quarantine(wh, [fr.path for fr, _ in stages] + [
        e["path"] for e in published.earlier if e["rows_replaced"]])
    for fr, _ in stages:
        fr.rows_superseded = published.superseded.get(fr.path, 0)
        fr.rows_loaded -= fr.rows_superseded
    for quarantine in dict.fromkeys(stage.quarantine for _, stage in stages):  # a stage may hold several files
        wh.command(f"INSERT INTO {db}.{QUARANTINE_TABLE} SELECT * FROM {db}.{quarantine}")
    return ledger.taken_out(published.earlier, stale)


def _warn_kept(wh: Warehouse, kept: list[FileResult]) -> None:
    """A warning for each file of this load that brings no row (refused, or loading none: a header only, every row
    quarantined) but whose rows an earlier load brought: they stay as they were (``_commit`` replaces the months a
    file's rows bring), until the file is loaded again with rows of those months or removed (``abi remove``)."""
    if not kept:
        return
    names = ", ".join(quote(fr.path) for fr in kept)
    held = {r["file"]: r for r in wh.rows(
        f"SELECT x_SourceFile AS file, count() AS n, arrayStringConcat(arraySort(groupUniqArray("
        f"formatDateTime(BillingPeriodStart, '%Y-%m'))), ', ') AS months FROM {wh.database}.{FOCUS_TABLE} "
        f"WHERE x_SourceFile IN ({names}) GROUP BY file")}
    for fr in (fr for fr in kept if fr.path in held):
        rows, months = held[fr.path]["n"], held[fr.path]["months"]
        warning = (f"{fr.path}: refused, so the {rows} rows an earlier load brought from it (billing months {months}) "
                   f"are kept as they were, not replaced by this load's other files; load the file again once it is "
                   f"fixed to replace them" if fr.error else
                   f"{fr.path}: loads no row, so the {rows} rows an earlier load brought from it (billing months "
                   f"{months}) are kept as they were; abi remove {shlex.quote(fr.path)} takes them out")
        log.warning("%s", warning)
        fr.warnings.append(warning)
