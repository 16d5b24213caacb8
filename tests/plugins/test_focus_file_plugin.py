"""focus-file: local FOCUS files (any provider) through a connector sync."""

from __future__ import annotations

import csv

import pytest
from abitest import load, total
from connectortest import demo_month, resolved

from app.connectors import catalog
from app.connectors.base import ConnectionFailed, month_end
from app.connectors.secrets import seal
from app.connectors.sync import sync
from app.core.export import export


@pytest.fixture
def plugin():
    return catalog.get("focus-file")


def test_focus_parquet_and_csv_files_load_with_exact_totals(plugin, tmp_path, sqlite_registry, wh, months_ago):
    month = months_ago(1)
    files = demo_month(tmp_path, month)
    load(wh, files.actual, files.amortized)
    billed, effective = total(wh, "BilledCost"), total(wh, "EffectiveCost")
    out = tmp_path / "focus" / f"{month:%Y-%m}"
    export(wh, "parquet", out / "cost.parquet")
    for hidden in ("._cost.parquet", "~$cost.csv"):  # macOS's companion, Excel's lock file: never billing data
        (out / hidden).write_bytes(b"\x00\x05\x16\x07")
    wh.command("TRUNCATE TABLE abi.focus_cost")
    config = plugin.validate_config({"paths": [str(tmp_path / "focus")]})
    sqlite_registry.add("focus", "focus-file", seal(plugin.info.config_schema, config))
    result = sync(sqlite_registry, wh, "focus", month, month_end(month))
    assert result.ok and [u.status for u in result.units] == ["loaded"]
    assert total(wh, "BilledCost") == billed and total(wh, "EffectiveCost") == effective
    assert sync(sqlite_registry, wh, "focus", month, month_end(month)).units[0].status == "unchanged"
    # the path names a month: outside the sync range, the folder is left alone
    assert sync(sqlite_registry, wh, "focus", months_ago(3), month_end(months_ago(3))).units == []


def test_spec_examples_from_any_provider(plugin, samples, tmp_path, sqlite_registry, wh, months_ago):
    folder = samples / "focus-spec-examples"
    config = plugin.validate_config({"paths": [str(folder / "*.csv")], "filter_by_path_date": False})
    assert "12 billing file(s) readable" == plugin.test_connection(resolved(plugin, config))
    sqlite_registry.add("spec", "focus-file", seal(plugin.info.config_schema, config))
    result = sync(sqlite_registry, wh, "spec", months_ago(1), months_ago(1))
    rows = 0
    for path in folder.glob("*.csv"):
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows += sum(1 for _ in csv.DictReader(handle))
    assert result.ok and len(result.units) == 1 and result.units[0].files == 12
    assert result.units[0].rows_read == rows == result.units[0].rows_loaded + result.units[0].rows_quarantined


def test_missing_paths_fail_clearly(plugin, tmp_path):
    with pytest.raises(ConnectionFailed, match="no readable FOCUS files"):
        plugin.test_connection(resolved(plugin, {"paths": [str(tmp_path / "nothing-here")]}))


def test_a_sync_names_every_refused_file_and_why(plugin, tmp_path, sqlite_registry, wh, months_ago):
    month = months_ago(1)
    folder = tmp_path / "focus" / f"{month:%Y-%m}"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("Subject,Body\nhello,world\n")  # no billing header
    (folder / "b.csv").write_bytes(b"\x1f\x8b\x08 not gzip either")
    config = plugin.validate_config({"paths": [str(tmp_path / "focus")]})
    sqlite_registry.add("broken", "focus-file", seal(plugin.info.config_schema, config))
    (unit,) = sync(sqlite_registry, wh, "broken", month, month_end(month)).units
    assert unit.status == "refused" and "a.csv" in unit.error and "b.csv" in unit.error, unit.error
