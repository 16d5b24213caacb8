"""``azure-exports``: Cost Management exports as delivered to storage (manifest.json + partitioned parts).

Each export run folder holds a ``manifest.json`` (``exportConfig.type``, ``runInfo.startDate`` /
``submittedTime``, ``blobs[].blobName``) and its parts. For every export and month the latest run is one unit;
it is loaded only when its files (path, ETag, size) changed since the last successful load.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath
from typing import Any

from app.connectors.base import ExtractContext, ExtractError, PluginInfo, SourcePlugin, Unit, output_schema
from app.connectors.files import fetch, fingerprint, safe_name
from app.connectors.stores import S3_PROPERTIES, S3_REQUIRED, LocalStore, S3Store, Store, StoredObject
from app.core.runs import DATE_RANGE
from plugins.azure_exports import settings

log = logging.getLogger(__name__)

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "storage": {"enum": ["local", "s3"], "default": "local"},
        "path": {"type": "string", "minLength": 1, "description": "local folder holding the exports (storage=local)"},
        **S3_PROPERTIES,
        "exports": {"type": "array", "items": {"type": "string"}, "default": [],
                    "description": "export names to load (empty: all)"},
        "datasets": {"type": "array", "items": {"enum": list(settings.DATASETS)}, "uniqueItems": True,
                     "default": list(settings.DATASETS)},
    },
    "allOf": [{"if": {"properties": {"storage": {"const": "local"}}}, "then": {"required": ["path"]}},
              {"if": {"properties": {"storage": {"const": "s3"}}}, "then": {"required": S3_REQUIRED}}],
    "examples": [{"storage": "local", "path": "/data/cost-exports"},
                 {"storage": "s3", "endpoint_url": "https://minio.example.com:9000", "access_key_id": "abi-reader",
                  "secret_access_key": "env:ABI_S3_SECRET", "bucket": "cost-exports", "prefix": "billing/"}],
}


@dataclass
class ExportRun:
    export: str
    kind: str
    month: date
    submitted: str
    manifest: StoredObject
    blobs: list[str]
    sizes: list[int | None]
    """Each blob's ``byteCount`` in the manifest (None where it gives none)."""
    owner: str
    """Whose export: its resource id (``exportConfig.resourceId``), else its folder (an export of one name on each
    subscription is one export per subscription)."""


class AzureExportsPlugin(SourcePlugin):
    info = PluginInfo(
        name="azure-exports", version="1.0.0",
        description="Cost Management exports (actual, amortized, FOCUS) delivered to an S3-compatible bucket or "
                    "a local folder: manifest.json runs with partitioned parts, loaded incrementally",
        author="ABI contributors", category="azure", tags=("azure", "cost-management", "exports", "focus"),
        requirements=("boto3>=1.34",), config_schema=CONFIG_SCHEMA,
        documentation_url="https://learn.microsoft.com/azure/cost-management-billing/costs/tutorial-improved-exports",
    )

    def test_connection(self, config: Mapping[str, Any]) -> str:
        return _store(config, quick=True).check()

    def extract(self, config: Mapping[str, Any], start: date, end: date, ctx: ExtractContext) -> Iterator[Unit]:
        store = _store(config)
        objects = {o.key: o for o in store.list()}
        wanted = set(config["datasets"])
        names = set(config["exports"])
        unreadable: list[Unreadable] = []
        runs = [r for r in _runs(store, objects, unreadable) if r.kind in wanted and (not names or r.export in names)
                and start.replace(day=1) <= r.month <= end]
        unreadable = [u for u in unreadable if u.month is None or start.replace(day=1) <= u.month <= end]
        waiting = {(u.folder, u.month) for u in unreadable}  # its run may be the month's latest: none loads now
        runs = [r for r in runs if (_export_folder(PurePosixPath(r.manifest.key)), r.month) not in waiting]
        latest: dict[tuple[str, str, str, date], ExportRun] = {}
        for run in sorted(runs, key=lambda r: r.submitted):
            latest[(run.export, run.owner, run.kind, run.month)] = run
        for run in _second_views(latest):
            log.warning("skipping FocusCost export run %s: the cost details of the same scope and month are loaded "
                        "(two views of the same charges; datasets: [\"FocusCost\"] loads FOCUS instead)",
                        run.manifest.key)
            del latest[(run.export, run.owner, run.kind, run.month)]
        owners: dict[str, set[str]] = {}
        for export, owner, _, _ in latest:
            owners.setdefault(export, set()).add(owner)
        for (export, owner, _, month), run in sorted(latest.items()):
            files = _resolve(run, objects)
            source, dataset = settings.DATASETS[run.kind]
            name = export if len(owners[export]) == 1 else f"{export}@{owner}"  # one name on several scopes
            key = f"{name}/{month:%Y-%m}"
            yield Unit(key=key, parts=_parts(store, run, files, ctx, key), source=source, dataset=dataset,
                       fingerprint=fingerprint([run.manifest, *(f for f in files if f is not None)]))
        for u in unreadable:  # last: a failed unit ends the sync, after the readable runs loaded
            yield Unit(key=f"{u.folder}/{u.month:%Y-%m}" if u.month else u.key, parts=_refused(u))

    def get_schema(self) -> dict[str, Any]:
        return output_schema(["azure-cost", "azure-focus"], ["ActualCost", "AmortizedCost", "FocusCost"],
                             ["csv", "csv.gz", "parquet"])


def _scope(owner: str) -> str:
    """The billing scope an export's owner (resource id or folder) is on: its resource id before the export's own
    segments, else the folder holding the export's folder."""
    marker = "/providers/microsoft.costmanagement/exports/"
    return owner.split(marker)[0] if marker in owner else str(PurePosixPath(owner).parent)


def _second_views(latest: Mapping[tuple[str, str, str, date], ExportRun]) -> list[ExportRun]:
    """FocusCost runs of a scope and month whose cost details (actual or amortized) are among ``latest`` too."""
    details = {(_scope(r.owner), r.month) for r in latest.values() if settings.DATASETS[r.kind][0] == "azure-cost"}
    return [r for r in latest.values() if r.kind == "FocusCost" and (_scope(r.owner), r.month) in details]


def _store(config: Mapping[str, Any], quick: bool = False) -> Store:
    return LocalStore(config["path"]) if config["storage"] == "local" else S3Store(config, 2 if quick else 5)


@dataclass
class Unreadable:
    """A manifest that cannot be read as an export run's (being written, damaged): its run waits, with the reason."""

    key: str
    folder: PurePosixPath
    month: date | None
    problem: str


def _runs(store: Store, objects: dict[str, StoredObject], unreadable: list[Unreadable]) -> Iterator[ExportRun]:
    """The export runs of ``objects``' manifests; a run's manifest (in a ``YYYYMMDD-YYYYMMDD`` folder) that cannot
    be read goes to ``unreadable``; other files named manifest.json (another tool's) are skipped."""
    for key, obj in objects.items():
        if PurePosixPath(key).name.lower() not in settings.MANIFEST_NAMES:
            continue
        in_run, month = _range_month(PurePosixPath(key))
        try:
            manifest = json.loads(store.read_bytes(key))
            config, run = manifest.get("exportConfig"), manifest.get("runInfo") or {}
            if not isinstance(config, dict) and not in_run:
                log.info("skipping %s: not a Cost Management export manifest (no exportConfig)", key)
                continue
            kind = config.get("type") or ""
            if kind not in settings.DATASETS:
                log.info("skipping export run %s: type %s carries no cost details", key, kind)
                continue
            month = date.fromisoformat(str(run["startDate"])[:10]).replace(day=1)
            export = config.get("exportName") or PurePosixPath(key).parts[-4]
            blobs = [str(b["blobName"]) for b in manifest.get("blobs", [])]
            sizes = [int(b["byteCount"]) if b.get("byteCount") is not None else None
                     for b in manifest.get("blobs", [])]
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            if not in_run:
                log.warning("skipping %s: not read as an export run's manifest (%s: %s)", key, type(exc).__name__,
                            exc)
                continue
            problem = f"{type(exc).__name__}: {exc}"
            log.warning("%s: not read as a Cost Management export manifest (%s)", key, problem)
            unreadable.append(Unreadable(key, _export_folder(PurePosixPath(key)), month, problem))
            continue
        owner = str(config.get("resourceId") or "").lower() or str(_export_folder(PurePosixPath(key)))
        yield ExportRun(export, kind, month, str(run.get("submittedTime") or ""), obj, blobs, sizes, owner)


def _range_month(manifest: PurePosixPath) -> tuple[bool, date | None]:
    """Whether the manifest is in an export run's ``YYYYMMDD-YYYYMMDD`` folder, and the month it names."""
    ranges = [p.name for p in list(manifest.parents)[:4] if DATE_RANGE.match(p.name)]
    if not ranges:
        return False, None
    try:
        return True, date(int(ranges[0][:4]), int(ranges[0][4:6]), 1)
    except ValueError:  # a folder like 00000101-00000131
        return True, None


def _refused(u: Unreadable) -> Iterator[Any]:
    raise ExtractError(f"{u.key}: not a Cost Management export manifest ({u.problem}); the runs of its export "
                       f"{'and month ' if u.month else ''}wait until it can be read (an export still writing it: "
                       "the next sync loads them)")
    yield  # a generator: the error is raised as the unit's parts are read


def _export_folder(manifest: PurePosixPath) -> PurePosixPath:
    """The export's folder above a run's manifest: above its ``YYYYMMDD-YYYYMMDD`` folder."""
    return next((p.parent for p in list(manifest.parents)[:4] if DATE_RANGE.match(p.name)), manifest.parent.parent)


def _resolve(run: ExportRun, objects: dict[str, StoredObject]) -> list[StoredObject | None]:
    """Each blobName as a stored object: as given (container-relative), else beside the manifest."""
    folder = PurePosixPath(run.manifest.key).parent
    found = []
    for name in run.blobs:
        clean = "/".join(p.strip() for p in name.strip().strip("/").split("/"))
        candidates = [name, clean, str(folder / PurePosixPath(clean).name)]
        found.append(next((objects[c] for c in candidates if c in objects), None))
    return found


def _parts(store: Store, run: ExportRun, files: list[StoredObject | None], ctx: ExtractContext,
           key: str) -> Iterator[Any]:
    missing = [name for name, obj in zip(run.blobs, files, strict=True) if obj is None]
    if missing or not files:
        raise ExtractError(f"export run {run.manifest.key} is incomplete: "
                           f"{'no blobs listed' if not files else 'missing ' + ', '.join(missing[:3])}")
    cut = [f"{obj.key} has {obj.size} bytes, the manifest says {size}"
           for obj, size in zip(files, run.sizes, strict=True) if obj is not None and size not in (None, obj.size)]
    if cut:  # a part still being written (an overwrite-data export mid-run) or cut short in transfer
        raise ExtractError(f"export run {run.manifest.key} does not match its manifest: {'; '.join(cut[:3])}: "
                           "the run is still being written or a part was cut; the next sync loads it once whole")
    yield from fetch(store, [f for f in files if f is not None], ctx.workdir / safe_name(key), ctx)
