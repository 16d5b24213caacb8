"""``focus-file``: local files or folders of FOCUS data from any provider (CSV, gzip CSV, Parquet)."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from app.connectors.base import (
    ConnectionFailed,
    ExtractContext,
    PermanentError,
    PluginInfo,
    SourcePlugin,
    Unit,
    output_schema,
)
from app.connectors.files import folder_units, is_billing_file
from app.connectors.stores import LocalStore, StoredObject
from plugins.focus_file import settings

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["paths"],
    "properties": {
        "paths": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1,
                  "description": "files, folders (recursive) or globs"},
        "source": {"enum": list(settings.SOURCES), "default": "focus",
                   "description": "focus (any provider), azure-focus (Microsoft FocusCost), auto (detect)"},
        "filter_by_path_date": {"type": "boolean", "default": True,
                                "description": "skip files whose path names a month outside the sync range"},
    },
    "examples": [{"paths": ["/data/focus/aws", "/data/focus/gcp/*.parquet"], "source": "focus"}],
}


class FocusFilePlugin(SourcePlugin):
    info = PluginInfo(
        name="focus-file", version="1.0.0",
        description="Local FOCUS 1.0-1.2 files or folders from any provider (CSV, gzip CSV, Parquet)",
        author="ABI contributors", category="files", tags=("focus", "files", "multi-cloud"),
        requirements=(), config_schema=CONFIG_SCHEMA,
        documentation_url="https://focus.finops.org/focus-specification/",
    )

    def test_connection(self, config: Mapping[str, Any]) -> str:
        objects = list(_objects(config["paths"], strict=False))
        if not objects:
            raise ConnectionFailed("no readable FOCUS files (.csv, .csv.gz, .parquet) in: "
                                   + ", ".join(config["paths"]))
        return f"{len(objects)} billing file(s) readable"

    def extract(self, config: Mapping[str, Any], start: date, end: date, ctx: ExtractContext) -> Iterator[Unit]:
        source = None if config["source"] == "auto" else config["source"]
        objects = list({o.key: o for o in _objects(config["paths"], strict=True)}.values())
        if not config["filter_by_path_date"]:
            start, end = date(1900, 1, 1), date(9999, 12, 31)
        yield from folder_units(LocalStore(Path("/")), objects, start, end, ctx, source, None)

    def get_schema(self) -> dict[str, Any]:
        return output_schema(["focus", "azure-focus"], ["FOCUS"], settings.FILE_FORMATS)


def _objects(patterns: list[str], strict: bool) -> Iterator[StoredObject]:
    """Billing files named by the patterns, as objects keyed by absolute path (relative to /)."""
    for pattern in patterns:
        matches = [Path(p) for p in glob.glob(os.path.expanduser(pattern), recursive=True)]
        if not matches and strict:
            raise PermanentError(f"{pattern}: no such file or folder")
        for match in matches:
            files = sorted(p for p in match.rglob("*") if p.is_file()) if match.is_dir() else [match]
            for path in files:
                if is_billing_file(path.name) and os.access(path, os.R_OK):
                    st = path.resolve().stat()
                    yield StoredObject(str(path.resolve()).lstrip("/"), st.st_size, f"{st.st_mtime_ns:x}")
