"""``s3-minio``: billing files (Azure cost CSV, FocusCost, FOCUS CSV/Parquet) under a bucket and prefix of any
S3-compatible store, one unit per folder, loaded again only when a file's ETag or size changes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from app.connectors.base import ExtractContext, PluginInfo, SourcePlugin, Unit, output_schema
from app.connectors.files import folder_units
from app.connectors.stores import S3_PROPERTIES, S3_REQUIRED, S3Store
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
        yield from folder_units(store, store.list(), start, end, ctx, source, dataset)

    def get_schema(self) -> dict[str, Any]:
        return output_schema(["azure-cost", "azure-focus", "focus"], ["ActualCost", "AmortizedCost", "FOCUS"],
                             settings.FILE_FORMATS)
