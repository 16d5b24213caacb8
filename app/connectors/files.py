"""Billing files in a store as units: grouped by folder, filtered by the dates in their paths, fingerprinted.

The files of one folder are one unit: the parts of a split export share a folder, and loading parts one at a time
would let each part replace its siblings' rows of the same billing scope. A unit's fingerprint is made of its
files' keys, ETags and sizes, so an incremental sync skips folders whose files did not change.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path, PurePosixPath

from app.connectors.base import ExtractContext, Unit
from app.connectors.stores import LocalStore, Store, StoredObject
from app.core.archives import hidden
from app.core.sources import SUFFIXES

DATE_RANGE = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])\d{2}-20\d{6}(?!\d)")
MONTH = re.compile(r"(?<!\d)(20\d{2})-?(0[1-9]|1[0-2])(?!\d)")


def path_month(key: str) -> date | None:
    """The billing month a path names (``YYYYMMDD-YYYYMMDD`` folders, ``YYYYMM`` or ``YYYY-MM``), if any."""
    found = DATE_RANGE.search(key) or MONTH.search(key)
    return date(int(found.group(1)), int(found.group(2)), 1) if found else None


def in_range(key: str, start: date, end: date) -> bool:
    """True when the path names no month, or one within ``start``..``end``."""
    month = path_month(key)
    return month is None or start.replace(day=1) <= month <= end


def is_billing_file(key: str) -> bool:
    """A billing suffix, and no hidden file (``archives.hidden``: macOS's ``._`` companions, Office lock files)."""
    return key.lower().endswith(SUFFIXES) and not hidden(key)


def fingerprint(objects: Iterable[StoredObject]) -> str:
    lines = sorted(f"{o.key}|{o.etag}|{o.size}" for o in objects)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:24]


def folder_units(store: Store, objects: Iterable[StoredObject], start: date, end: date, ctx: ExtractContext,
                 source: str | None = None, dataset: str | None = None) -> Iterator[Unit]:
    """One unit per folder of billing files whose paths fall in the date range."""
    groups: dict[str, list[StoredObject]] = {}
    for obj in objects:
        if is_billing_file(obj.key) and in_range(obj.key, start, end):
            groups.setdefault(str(PurePosixPath(obj.key).parent), []).append(obj)
    for folder, objs in sorted(groups.items()):
        objs.sort(key=lambda o: o.key)
        yield Unit(key=folder, parts=fetch(store, objs, ctx.workdir / safe_name(folder), ctx),
                   source=source, dataset=dataset, fingerprint=fingerprint(objs))


def fetch(store: Store, objects: list[StoredObject], folder: Path, ctx: ExtractContext) -> Iterator[Path]:
    """The objects as local files: a local store's own files, else downloads into ``folder``."""
    for obj in objects:
        if isinstance(store, LocalStore):
            yield store.local_path(obj.key)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        yield store.download(obj.key, folder / PurePosixPath(obj.key).name, ctx.progress)


def safe_name(key: str) -> str:
    """A folder name keeping the key readable (the loader reads dataset hints from folder names)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "__", key.strip("/")) or "root"
