"""Run-time settings of ABI, read from the environment (never from committed files)."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "sql"
DATABASE = os.environ.get("ABI_DATABASE", "abi")


def data_dir() -> Path:
    """Folder of the embedded engine's data (``ABI_DATA_DIR``, default ``.abi/`` in the project)."""
    return Path(os.environ.get("ABI_DATA_DIR") or PROJECT_ROOT / ".abi").resolve()


def clickhouse_url() -> str | None:
    """URL of a ClickHouse server (``ABI_CLICKHOUSE_URL``, e.g. ``http://user:pass@host:8123``), if set."""
    return os.environ.get("ABI_CLICKHOUSE_URL") or None
