"""Facts derived from ABI's declarations, cached on disk by the content of their sources.

Deriving them means importing moose-lib and the whole ``app`` (about a second); a command that only loads files
needs the result, not the import. The cache key is a hash of the source files (and moose-lib's version), so an
edited declaration is re-derived on the next call; nothing is ever restated by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from app.core import settings


def source_key(files: Iterable[Path]) -> str:
    """A hash of the checkout's location (Moose's map names source files by absolute path), the files' paths and
    contents, and moose-lib's version."""
    digest = hashlib.sha256(str(settings.PROJECT_ROOT).encode() + b"\0")
    try:
        digest.update(version("moose-lib").encode())
    except PackageNotFoundError:
        digest.update(b"no-moose-lib")
    for path in sorted(files):
        name = path.relative_to(settings.PROJECT_ROOT) if path.is_relative_to(settings.PROJECT_ROOT) else path
        digest.update(str(name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def cached(name: str, files: Iterable[Path], compute: Callable[[], Any]) -> Any:
    """``compute()`` (JSON-serializable), or its stored result for these exact source files."""
    path = settings.cache_dir() / f"{name}-{source_key(files)}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    value = json.loads(json.dumps(compute()))  # the same (JSON) shapes whether computed now or read back
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
            json.dump(value, tmp)
        os.replace(tmp.name, path)
    except OSError:
        pass  # a read-only cache only costs the derivation
    return value


def app_sources() -> list[Path]:
    """Every file a declaration can depend on: ABI's Python modules and SQL."""
    return [*settings.PROJECT_ROOT.joinpath("app").rglob("*.py"), *settings.SQL_DIR.rglob("*.sql")]
