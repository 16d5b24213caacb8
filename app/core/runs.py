"""Cost Management export runs among the files of one load, and files of one load that repeat each other.

Exports write each run to ``<export>/<YYYYMMDD-YYYYMMDD>/[<run time>/]<run id>/`` beside a ``manifest.json``; a
month-to-date export runs daily, so a folder synced from storage holds the same month several times. Only the latest
run of an export, dataset and month is loaded (as the ``azure-exports`` connector does); the files of earlier runs
are skipped with the reason, never summed with it. So are the files of a run older than a run of the same export and
date range whose files the warehouse holds from an earlier load (it would put older month-to-date rows back).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from app.core import archives
from app.core.replace import SCOPE
from app.core.warehouse import Warehouse, quote

log = logging.getLogger(__name__)

MANIFEST_NAMES = ("manifest.json", "_manifest.json")
EXPORT_PART = re.compile(r"^part_\d+_\d+\.(csv|csv\.gz|(snappy\.)?parquet)$", re.IGNORECASE)
"""Azure Cost Management export parts (``<run>/part_0_0001.csv``, ``part_1_0001.snappy.parquet``): one export, to be
loaded together."""
DATE_RANGE = re.compile(r"^\d{8}-\d{8}$")
"""An export's date-range folder (``20261001-20261031``)."""
NUMBERED_PART = re.compile(r"^(.+)-\d{5}(\.snappy)?\.(csv|csv\.gz|parquet)$", re.IGNORECASE)
"""AWS Data Exports parts (``<export>-00001.csv.gz``), one export's month to be loaded together too."""
SPARK_PART = re.compile(r"^part-\d{5}-([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})(?:-c\d{3})?(?:\.\w+)?"
                        r"\.(csv|csv\.gz|parquet)$", re.IGNORECASE)
"""Parts of one Spark (Databricks, Synapse) write (``part-00000-<write id>-c000.snappy.parquet``): one write id."""


def part_family(name: str) -> str | None:
    """The split export a file name says it is a part of (its sibling parts share it), or None."""
    if EXPORT_PART.search(name):
        return "part_"
    if spark := SPARK_PART.match(name):
        return f"part-{spark[1].lower()}"
    numbered = NUMBERED_PART.match(name)
    return numbered and numbered[1].lower()


@dataclass(frozen=True)
class ExportRun:
    """One run folder, from its manifest."""

    export: str
    dataset: str
    month: str
    submitted: str
    folder: Path
    resource: str = ""
    """The export's resource id (``exportConfig.resourceId``, lower-case; '' when the manifest has none): exports of
    one name on two scopes (a ``daily-actual`` export on each subscription) are two exports."""
    sizes: tuple[tuple[str, int], ...] = ()
    """Each blob's file name and ``byteCount``, where the manifest gives one."""

    @property
    def scope(self) -> tuple[str, str, str, str]:
        return self.resource, self.export, self.dataset, self.month

    @property
    def local_scope(self) -> tuple[str, ...]:
        """``scope``, with the export's folder when the manifest names no resource (two exports of one name in two
        folders of one load)."""
        return (*self.scope, "" if self.resource else str(range_folder(self.folder).parent))


def read_run(folder: Path) -> ExportRun | None:
    """The run described by the folder's manifest, or None (no manifest, or one that does not say); the folder may
    be inside a ZIP archive (``archives.read_small``)."""
    manifest, stored = next(((folder / n, found) for n in MANIFEST_NAMES
                             if (found := archives.read_small(folder / n))), (None, None))
    if manifest is None or stored is None:
        return None
    try:
        data = json.loads(stored[0].decode("utf-8-sig"))
        config, run = data.get("exportConfig") or {}, data.get("runInfo") or {}
        month = str(run.get("startDate") or "")[:7]  # without it the run still names its dataset
        export = str(config.get("exportName") or range_folder(folder).parent.name)
        submitted = str(run.get("submittedTime") or "") or stored[1].isoformat()
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        _warn_once(str(manifest), str(exc))
        return None
    request = (data.get("requestContext") or {}).get("requestBody") or {}  # a Cost Details API report's manifest
    return ExportRun(export, str(config.get("type") or request.get("metric") or ""), month, submitted, folder,
                     str(config.get("resourceId") or "").lower(), _blob_sizes(data))


def _blob_sizes(manifest: dict) -> tuple[tuple[str, int], ...]:
    """``ExportRun.sizes`` of a manifest: an export's ``blobName``, a Cost Details report's ``blobLink`` (its
    path's last name); a name listed twice (in two folders) or a size of 0 says nothing."""
    sizes = []
    for blob in manifest.get("blobs") or []:
        try:
            name = PurePosixPath(urlsplit(str(blob.get("blobName") or blob.get("blobLink") or "")).path).name
            if name and blob.get("byteCount"):
                sizes.append((name, int(blob["byteCount"])))
        except (AttributeError, TypeError, ValueError):  # a manifest written by hand: its sizes say nothing
            continue
    names = [n for n, _ in sizes]
    return tuple((n, size) for n, size in sizes if names.count(n) == 1)


def cut_part(path: Path) -> str | None:
    """Why ``path`` is not whole: its size is not its run manifest's ``byteCount`` for it (a part still being
    written by an export that overwrites its run, or cut short in a copy); None when it is, or nothing says."""
    run = read_run(path.parent)
    expected = dict(run.sizes).get(path.name) if run else None
    if expected is None or (held := archives.size(path)) in (expected, -1):
        return None
    return (f"{held:,} bytes where its export run's manifest says {expected:,}: the run is still being "
            f"written, or the file was {'cut short' if held < expected else 'changed'} in a copy; copy the run "
            "again as stored, then load it")


def range_folder(folder: Path) -> Path:
    """The date-range folder a run folder is in: ``<export>/<YYYYMMDD-YYYYMMDD>/<run id>/``, or with the run's time
    between (``<YYYYMMDD-YYYYMMDD>/<YYYYMMDDHHMM>/<guid>/``, as exports write since 2024); else the folder's parent."""
    return next((p for p in list(folder.parents)[:3] if DATE_RANGE.match(p.name)), folder.parent)


@functools.lru_cache(maxsize=256)
def _warn_once(manifest: str, problem: str) -> None:
    """One warning per manifest and problem (a load reads a manifest for its dataset and for its run)."""
    log.warning("%s: not read as an export manifest (%s); its folder's files load as given", manifest, problem)


def earlier_runs(paths: list[Path]) -> dict[Path, str]:
    """Files of ``paths`` in export runs that a later run of the same export (resource, or folder), dataset and
    month in ``paths`` supersedes, each with the reason it is skipped."""
    runs = {folder: read_run(folder) for folder in {p.parent for p in paths}}
    latest: dict[tuple[str, ...], ExportRun] = {}
    for run in sorted((r for r in runs.values() if r and r.month), key=lambda r: (r.submitted, str(r.folder))):
        latest[run.local_scope] = run
    skipped = {}
    for path in paths:
        run = runs[path.parent]
        if run and run.month and latest[run.local_scope] != run:  # a run of no known month is never an earlier one
            newer = latest[run.local_scope]
            skipped[path] = (f"{path}: skipped: an earlier run ({run.submitted}) of export {run.export} "
                             f"{run.dataset} {run.month}; the latest run in this load ({newer.submitted}, "
                             f"{newer.folder}) holds the same month")
    return skipped


def missing_parts(path: Path, batch: list[Path]) -> list[str]:
    """A warning when ``path`` is one part of a split export (Azure's or AWS's) whose other parts are not in this
    batch: the batch replaces its scopes (billing month, dataset, account), so the other parts' rows would go."""
    family = part_family(path.name)
    if family is None or not path.parent.is_dir():  # not in a folder: a ZIP archive's member
        return []
    loading = {p.resolve() for p in batch}
    missing = sorted(p.name for p in path.parent.iterdir()
                     if part_family(p.name) == family and p.resolve() not in loading)
    if not missing:
        return []
    log.warning("%s: loaded without %d other part(s) of its export", path, len(missing))
    return [f"{path}: one part of a split export loaded without {', '.join(missing[:5])}"
            f"{' …' if len(missing) > 5 else ''} from the same folder; the rows of the same accounts' "
            f"charge days are replaced by this batch, so load the parts together (the folder, or a glob)"]


def held_later_runs(wh: Warehouse, paths: list[Path], target: str) -> dict[Path, str]:
    """Files of ``paths`` in export runs older than a run whose files ``target`` holds: a run folder of the same
    export's date range (``<export>/<YYYYMMDD-YYYYMMDD>/[<time>/]<run>/``, loaded from wherever: a folder, another
    copy, a ZIP archive) with the same export, dataset and month, submitted later. Each with the reason it is
    skipped."""
    runs = {folder: run for folder in {p.parent for p in paths} if (run := read_run(folder)) and run.month}
    if not runs:
        return {}
    marks = sorted({f"/{(rf := range_folder(r.folder)).parent.name}/{rf.name}/" for r in runs.values()})
    held_folders = {Path(r["f"]).parent for r in wh.rows(
        f"SELECT DISTINCT x_SourceFile AS f FROM {wh.database}.{target} WHERE "
        + " OR ".join(f"position(x_SourceFile, {quote(m)}) > 0" for m in marks))}
    held = [run for folder in held_folders - set(runs) if (run := read_run(folder)) and run.month]
    skipped = {}
    for path in (p for p in paths if p.parent in runs):
        run = runs[path.parent]
        later = [h for h in held if h.scope == run.scope and (h.submitted, str(h.folder)) > (run.submitted,
                                                                                            str(run.folder))]
        if later:
            loaded = max(later, key=lambda r: (r.submitted, str(r.folder)))
            skipped[path] = (f"{path}: skipped: an earlier run ({run.submitted}) of export {run.export} "
                             f"{run.dataset} {run.month} than the run the warehouse holds ({loaded.submitted}, "
                             f"{loaded.folder}); abi remove that run's files first to load this one")
    return skipped


def overlaps(wh: Warehouse, staged: dict[str, str], target: str | None = None, repeats: bool = True) -> list[str]:
    """Warnings for staged files (path → stage table) that would count the same costs twice: files holding rows of
    the same days, dataset, billing account and sub account (a re-run or re-download beside the original; the parts
    of one export run are not), and a Microsoft FOCUS export beside cost details of the same subscriptions' days
    (two views of the same charges), also when one of them was loaded earlier into ``target`` (the FOCUS table)
    and this load leaves it in place. ``repeats``: look for files that repeat each other (not in the parts of one
    report)."""
    if not staged:
        return []
    stages = list(dict.fromkeys(staged.values()))
    union = " UNION ALL ".join(f"SELECT DISTINCT {DAYS} FROM {wh.database}.{t}" for t in stages)
    same = _groups(wh, union, "d, a, s, day", "1") if repeats and len(staged) > 1 else []
    views = _groups(wh, union + _earlier(wh, union, target), "s, day", "s != '' AND uniqExact(f) > 1",
                    ) if _both_views(wh, stages, target) else []
    return [f"{', '.join(g['files'])} hold rows of the same {g['n']} account-days ({g['first']} … {g['last']}; "
            f"same dataset, billing account and sub account): if one repeats the other (a re-run or a "
            f"re-download), this load counts those costs twice; load only the latest"
            for g in same if not _one_run(g["files"])] + [
            f"{', '.join(sorted(g['files'], key=lambda f: (f.endswith(EARLIER), f)))} hold the same {g['n']} "
            f"subscription-days ({g['first']} … {g['last']}) as a FOCUS export and as cost details (or as an "
            f"export of ABI's loaded again): two views of the same charges, which {_counted(g['files'])} "
            f"twice; keep one of them (abi remove FILE takes a loaded file back out)" for g in views]


DAYS = (f"x_SourceFile AS file, x_SourceDataset AS d, x_SourceFormat AS f, BillingAccountId AS a, "
        f"lower(splitByChar('/', ifNull(SubAccountId, ''))[-1]) AS s, toDate(ChargePeriodStart) AS day, "
        f"toYYYYMM(BillingPeriodStart) AS m, {SCOPE} AS scope")
"""Per file, the days of each dataset, billing account and subscription (with the billing month and scope)."""
EARLIER = " (loaded earlier)"
VIEWS = ("azure-focus", "azure-cost", "focus")
"""Views of the same charges: Microsoft's FOCUS export, cost details, any FOCUS file (ABI's own export of either)."""


def _earlier(wh: Warehouse, union: str, target: str | None) -> str:
    """Rows of the ``VIEWS`` already in ``target`` that this load keeps (other scopes of
    the billing months it touches), labelled as loaded earlier; empty without a target."""
    if target is None:
        return ""
    return (f" UNION ALL SELECT DISTINCT {DAYS.replace('x_SourceFile AS', f'concat(x_SourceFile, {EARLIER!r}) AS')} "
            f"FROM {wh.database}.{target} WHERE x_SourceFormat IN {VIEWS} "
            f"AND m IN (SELECT DISTINCT m FROM ({union})) AND scope NOT IN (SELECT scope FROM ({union}))")


def _both_views(wh: Warehouse, stages: list[str], target: str | None) -> bool:
    """Whether two ``VIEWS`` can meet in this load: both staged, or one staged and another in
    ``target`` in a billing month the load touches (a cheap test that spares the day-by-day one most loads)."""
    staged = " UNION ALL ".join(f"SELECT x_SourceFormat AS f, toYYYYMM(BillingPeriodStart) AS m "
                                f"FROM {wh.database}.{t}" for t in stages)
    formats = {r["f"] for r in wh.rows(f"SELECT DISTINCT f FROM ({staged}) WHERE f IN {VIEWS}")}
    if len(formats) != 1 or target is None:
        return len(formats) > 1
    (staged_format,) = formats
    return bool(wh.rows(f"SELECT 1 FROM {wh.database}.{target} WHERE x_SourceFormat IN {VIEWS} "
                        f"AND x_SourceFormat != '{staged_format}' "
                        f"AND toYYYYMM(BillingPeriodStart) IN (SELECT DISTINCT m FROM ({staged})) LIMIT 1"))


def _counted(files: list[str]) -> str:
    return "the warehouse now counts" if any(f.endswith(EARLIER) for f in files) else "this load counts"


def _groups(wh: Warehouse, union: str, key: str, having: str) -> list[dict]:
    """Sets of files sharing rows by ``key`` (with ``having``): each set with its count of keys and days."""
    return wh.rows(
        f"SELECT files, count() AS n, toString(min(day)) AS first, toString(max(day)) AS last FROM ("
        f"SELECT arraySort(groupUniqArray(file)) AS files, any(day) AS day FROM ({union}) "
        f"GROUP BY {key} HAVING length(files) > 1 AND {having}) GROUP BY files ORDER BY files")


def _one_run(files: list[str]) -> bool:
    """Parts of one export run: files of one folder that are parts of one split export (``part_family``)."""
    paths = [Path(f) for f in files]
    families = {part_family(p.name) for p in paths}
    return len({p.parent for p in paths}) == 1 and len(families) == 1 and None not in families
