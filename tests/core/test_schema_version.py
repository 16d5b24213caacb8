"""A warehouse records its table layout's version; an older ABI refuses a newer one's warehouse, changing nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from abitest import PROJECT, load, total

from app.core.demo import generate
from app.core.schema_version import SCHEMA_TABLE, SCHEMA_VERSION, held_version
from app.core.warehouse import EmbeddedWarehouse, WarehouseError

COLUMN_TYPE = ("SELECT type FROM system.columns WHERE database = 'abi' AND table = 'focus_cost' "
               "AND name = 'x_SourceRow'")


def _laid_out_by_a_newer_abi(wh: EmbeddedWarehouse) -> str:
    """What a newer ABI leaves: a later version recorded and a column type this ABI declares otherwise."""
    wh.command(f"INSERT INTO abi.{SCHEMA_TABLE} (version) VALUES ({SCHEMA_VERSION + 1})")
    wh.command("ALTER TABLE abi.focus_cost MODIFY COLUMN x_SourceRow Int64")
    return wh.scalar(COLUMN_TYPE)


def test_a_load_records_the_version_once(wh, tmp_path):
    assert held_version(wh) is None  # nothing laid out yet
    files = generate(tmp_path / "demo")
    load(wh, files.actual)
    load(wh, files.amortized)
    assert held_version(wh) == SCHEMA_VERSION
    assert wh.scalar(f"SELECT count() FROM abi.{SCHEMA_TABLE}") == 1


def test_a_warehouse_from_before_versions_is_upgraded_and_recorded(wh, tmp_path):
    files = generate(tmp_path / "demo")
    load(wh, files.actual)
    wh.command(f"DROP TABLE abi.{SCHEMA_TABLE}")  # as every ABI before versions left it
    load(wh, files.amortized)
    assert held_version(wh) == SCHEMA_VERSION and total(wh, "EffectiveCost") > 0


def test_a_newer_abis_warehouse_is_refused_and_left_as_it_was(wh, tmp_path):
    files = generate(tmp_path / "demo")
    load(wh, files.actual)
    held, newer_type = total(wh, "BilledCost"), _laid_out_by_a_newer_abi(wh)
    with pytest.raises(WarehouseError, match=f"^the warehouse in {wh.data_dir} holds tables of ABI schema version "
                                             f"{SCHEMA_VERSION + 1}, laid out by a newer ABI"):
        load(wh, files.amortized)
    assert wh.scalar(COLUMN_TYPE) == newer_type == "Int64"  # not altered back
    assert total(wh, "BilledCost") == held
    assert not wh.rows("SELECT name FROM system.tables WHERE database = 'abi' AND startsWith(name, '_abi_')")


def test_the_cli_says_to_upgrade_in_one_line(tmp_path):
    files = generate(tmp_path / "demo")
    wh = EmbeddedWarehouse(tmp_path / "data")
    try:
        load(wh, files.actual)
        _laid_out_by_a_newer_abi(wh)
    finally:
        wh.close()
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "data")}
    env.pop("ABI_CLICKHOUSE_URL", None)
    out = subprocess.run([sys.executable, "-m", "app.cli.main", "ingest", str(files.amortized)], cwd=PROJECT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("abi: the warehouse in ") and "upgrade ABI" in out.stderr, out.stderr
