"""The ``abi`` command line in an unusual environment: data folders the engine would misread, unwritable folders and
outputs, closed or full standard streams, locales that cannot encode the output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from abitest import PROJECT

from app.core.settings import SettingError


def run(tmp_path: Path, *args: str, data: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """``abi`` as a subprocess, with ``ABI_DATA_DIR`` ``data`` (default ``tmp_path/data``) and ``env`` added."""
    full = {**os.environ, "ABI_DATA_DIR": str(data or tmp_path / "data"), **env}
    full.pop("ABI_CLICKHOUSE_URL", None)
    return subprocess.run([sys.executable, "-m", "app.cli.main", *args], cwd=PROJECT, env=full,
                          capture_output=True, text=True, timeout=300)


def test_a_data_folder_with_a_question_mark_is_refused_not_opened_as_another(tmp_path, monkeypatch):
    data = tmp_path / "wh?one"
    billing = tmp_path / "cost.csv"
    billing.write_text("a,b\n1,2\n")
    expected = (f"abi: ABI_DATA_DIR {data}: the embedded engine reads what follows '?' in its folder's path as options "
                f"(it would open {tmp_path}/wh): name a folder without '?'")
    for command in (["ingest", str(billing)], ["sql", "SELECT 1"], ["files"], ["demo", "--out", str(tmp_path)]):
        out = run(tmp_path, *command, data=data)
        assert (out.returncode, out.stderr.strip()) == (2, expected), command
    assert not (tmp_path / "wh").exists() and not data.exists()
    from app.core.warehouse import EmbeddedWarehouse
    from app.stack.ch_engine import ChdbEngine
    from app.stack.services import StackConfig

    monkeypatch.setenv("ABI_STACK_RUN_DIR", str(data))
    for opening in (lambda: EmbeddedWarehouse(data), lambda: ChdbEngine(str(data)), StackConfig.from_env):
        with pytest.raises(SettingError, match="reads what follows '.' in its folder's path as options"):
            opening()
    assert not (tmp_path / "wh").exists() and not data.exists()
