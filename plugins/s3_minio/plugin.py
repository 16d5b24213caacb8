"""``s3-minio``: billing files (Azure cost CSV, FocusCost, FOCUS CSV/Parquet) under a bucket and prefix of any
S3-compatible store, one unit per folder, loaded again only when a file's ETag or size changes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import PurePosixPath
from typing import Any

from app.connectors.base import ExtractContext, ExtractError, PluginInfo, SourcePlugin, Unit, output_schema
from app.connectors.files import folder_units
from app.connectors.stores import S3_PROPERTIES, S3_REQUIRED, S3Store, StoredObject
from app.core.runs import DATE_RANGE, MANIFEST_NAMES
from plugins.s3_minio import settings

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": S3_REQUIRED,
    "properties": {
        **S3_PROPERTIES,
        "source": {"enum": list(settings.SOURCES), "default": "auto",
                   "description": "file format (auto: detected from each file's header)"},
        "dataset": {"enum": list(settings.DATASETS), "default": "auto",
                    "description": "Azure cost files: actual or amortized (auto: from the path, else the rows)"},
    },
    "examples": [{"endpoint_url": "http://127.0.0.1:9000", "access_key_id": "abi-reader",
                  "secret_access_key": "env:ABI_S3_SECRET", "bucket": "billing", "prefix": "azure/", "region":
                  "us-east-1"}],
}


class S3MinioPlugin(SourcePlugin):
    info = PluginInfo(
        name="s3-minio", version="1.0.0",
        description="Billing files (Azure cost CSV, FocusCost, FOCUS CSV/Parquet) in any S3-compatible store "
                    "(AWS S3, MinIO, Ceph…), by bucket and prefix",
        author="ABI contributors", category="storage", tags=("s3", "minio", "files", "focus"),
        requirements=("boto3>=1.34",), config_schema=CONFIG_SCHEMA,
        documentation_url="https://boto3.amazonaws.com/v1/documentation/api/latest/reference/services/s3.html",
    )

    def test_connection(self, config: Mapping[str, Any]) -> str:
        return S3Store(config, attempts=2).check()

    def extract(self, config: Mapping[str, Any], start: date, end: date, ctx: ExtractContext) -> Iterator[Unit]:
        store = S3Store(config)
        source = None if config["source"] == "auto" else config["source"]
        dataset = None if config["dataset"] == "auto" else config["dataset"]
        objects = list(store.list())
        _refuse_export_runs(objects)
        yield from folder_units(store, objects, start, end, ctx, source, dataset)

    def get_schema(self) -> dict[str, Any]:
        return output_schema(["azure-cost", "azure-focus", "focus"], ["ActualCost", "AmortizedCost", "FOCUS"],
                             settings.FILE_FORMATS)


def _refuse_export_runs(objects: list[StoredObject]) -> None:
    """Refuse a bucket holding several runs of one Cost Management export and date range (each run folder would be
    a unit of its own, and an older month-to-date run loaded after a newer one would put its older days back)."""
    ranges: dict[PurePosixPath, int] = {}
    for obj in objects:
        key = PurePosixPath(obj.key)
        if key.name.lower() in MANIFEST_NAMES:
            date_range = next((p for p in list(key.parents)[:3] if DATE_RANGE.match(p.name)), None)
            if date_range is not None:
                ranges[date_range] = ranges.get(date_range, 0) + 1
    repeated = sorted(str(r) for r, runs in ranges.items() if runs > 1)
    if repeated:
        raise ExtractError(f"{repeated[0]} holds {ranges[PurePosixPath(repeated[0])]} runs of a Cost Management "
                           f"export{f' (and {len(repeated) - 1} more such folders)' if len(repeated) > 1 else ''}: "
                           "use the azure-exports connector, which loads only each export's latest run")
