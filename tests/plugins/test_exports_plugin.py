"""azure-exports: Cost Management export runs (manifest.json + parts) in a local folder and in S3 (moto)."""

from __future__ import annotations

import gzip
import os
import uuid
from decimal import Decimal

import pytest
from abitest import csv_total, total
from connectortest import demo_month, per_subscription_runs, s3_config, write_export_run

from app.connectors import catalog
from app.connectors.base import month_end
from app.connectors.secrets import seal
from app.connectors.sync import sync
from app.core.loader import ensure_schema


@pytest.fixture
def layout(tmp_path, months_ago):
    """Two months of actual + amortized exports; the older month has a superseded earlier run."""
    root, files = tmp_path / "container", {}
    for n in (2, 1):
        month = months_ago(n)
        files[month] = demo_month(tmp_path, month)
        write_export_run(root, "daily-actual", "ActualCost", month, f"run-a{n}", f"2026-0{n}-05T00:00:00Z",
                         files[month].actual, parts=3)
        write_export_run(root, "daily-amortized", "AmortizedCost", month, f"run-m{n}", f"2026-0{n}-05T00:00:00Z",
                         files[month].amortized, parts=2, compress=False)
    stale = demo_month(tmp_path / "stale", months_ago(2)).amortized
    write_export_run(root, "daily-amortized", "AmortizedCost", months_ago(2), "run-old", "2025-01-01T00:00:00Z",
                     stale, parts=1)
    return root, files


def add(registry, name, config):
    plugin = catalog.get("azure-exports")
    registry.add(name, "azure-exports", seal(plugin.info.config_schema, plugin.validate_config(config)))


def reconciles(wh, files) -> bool:
    billed = sum((csv_total(f.actual, "CostInBillingCurrency") for f in files.values()), Decimal(0))
    effective = sum((csv_total(f.amortized, "CostInBillingCurrency") for f in files.values()), Decimal(0))
    return total(wh, "BilledCost") == billed and total(wh, "EffectiveCost") == effective


def test_latest_runs_load_and_unchanged_runs_are_skipped(layout, sqlite_registry, wh, months_ago):
    root, files = layout
    add(sqlite_registry, "exports", {"storage": "local", "path": str(root)})
    first = sync(sqlite_registry, wh, "exports", months_ago(2), month_end(months_ago(1)))
    assert first.ok, first.as_dict()
    assert sorted(u.key for u in first.units) == sorted(f"{e}/{m:%Y-%m}" for e in ("daily-actual", "daily-amortized")
                                                         for m in files)
    assert {u.files for u in first.units if u.key.startswith("daily-actual")} == {3}
    assert reconciles(wh, files)  # the stale run of the same month was not loaded
    second = sync(sqlite_registry, wh, "exports", months_ago(2), month_end(months_ago(1)))
    assert [u.status for u in second.units] == ["unchanged"] * 4 and second.rows_read == 0
    part = next((root / "exports" / "daily-actual").rglob("part_0_0002.csv.gz"))
    os.utime(part, ns=(part.stat().st_atime_ns, part.stat().st_mtime_ns + 10**9))  # rewritten in place
    third = sync(sqlite_registry, wh, "exports", months_ago(2), month_end(months_ago(1)))
    assert sorted(u.status for u in third.units) == ["loaded", "unchanged", "unchanged", "unchanged"]
    assert reconciles(wh, files)


def test_an_incomplete_run_loads_nothing_and_a_rerun_completes(layout, sqlite_registry, wh, months_ago):
    root, files = layout
    ensure_schema(wh)
    part = next((root / "exports" / "daily-actual").rglob(f"*{months_ago(1):%Y%m}01-*/run-a1/part_0_0003.csv.gz"))
    moved = part.with_suffix(".held")
    part.rename(moved)
    add(sqlite_registry, "exports", {"storage": "local", "path": str(root), "exports": ["daily-actual"]})
    failed = sync(sqlite_registry, wh, "exports", months_ago(1), month_end(months_ago(1)))
    assert not failed.ok and "incomplete" in failed.error and "part_0_0003" in failed.error
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 0
    connector = sqlite_registry.get("exports")
    assert connector.last_status == "failed" and "incomplete" in connector.last_error
    moved.rename(part)
    done = sync(sqlite_registry, wh, "exports", months_ago(1), month_end(months_ago(1)))
    assert done.ok and sqlite_registry.get("exports").last_error is None
    assert total(wh, "BilledCost") == csv_total(files[months_ago(1)].actual, "CostInBillingCurrency")


def test_a_part_that_does_not_match_its_manifest_loads_nothing_until_it_does(layout, sqlite_registry, wh, months_ago):
    """A part of another size than the manifest's ``byteCount``: still being written (an overwrite-data export
    mid-run) or cut in transfer, though readable."""
    root, files = layout
    ensure_schema(wh)
    part = next((root / "exports" / "daily-actual").rglob(f"*{months_ago(1):%Y%m}01-*/run-a1/part_0_0002.csv.gz"))
    whole = part.read_bytes()
    lines = gzip.decompress(whole).splitlines(keepends=True)
    part.write_bytes(gzip.compress(b"".join(lines[: len(lines) // 2])))
    add(sqlite_registry, "exports", {"storage": "local", "path": str(root), "exports": ["daily-actual"]})
    failed = sync(sqlite_registry, wh, "exports", months_ago(1), month_end(months_ago(1)))
    assert not failed.ok and "does not match its manifest" in failed.error and "part_0_0002" in failed.error
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 0
    part.write_bytes(whole)
    done = sync(sqlite_registry, wh, "exports", months_ago(1), month_end(months_ago(1)))
    assert done.ok and total(wh, "BilledCost") == csv_total(files[months_ago(1)].actual, "CostInBillingCurrency")


def test_a_manifest_that_cannot_be_read_holds_back_its_export_month_only(layout, sqlite_registry, wh, months_ago):
    """A run whose manifest is half written: the other exports and months load, that export's month waits (its
    earlier run is not loaded in its place), the sync is partial and names the manifest; the next one completes."""
    root, files = layout
    ensure_schema(wh)
    month = months_ago(1)
    run = next((root / "exports" / "daily-amortized").glob(f"{month:%Y%m}01-*")) / "run-m9"
    run.mkdir()
    (run / "manifest.json").write_text('{"manifestVersion": "2024-04-01", "exportConfig": {"exportNa')
    add(sqlite_registry, "exports", {"storage": "local", "path": str(root)})
    first = sync(sqlite_registry, wh, "exports", months_ago(2), month_end(month))
    assert not first.ok and "run-m9/manifest.json: not a Cost Management export manifest" in first.error
    assert sorted(u.status for u in first.units) == ["failed", "loaded", "loaded", "loaded"]
    assert sqlite_registry.get("exports").last_status == "partial"
    assert wh.scalar(f"SELECT countIf(x_SourceDataset = 'AmortizedCost') FROM abi.focus_cost "
                     f"WHERE BillingPeriodStart = '{month}'") == 0 < wh.scalar("SELECT count() FROM abi.focus_cost")
    (run / "manifest.json").unlink()
    run.rmdir()
    done = sync(sqlite_registry, wh, "exports", months_ago(2), month_end(month))
    assert done.ok and sorted(u.status for u in done.units) == ["loaded", "unchanged", "unchanged", "unchanged"]
    assert reconciles(wh, files)


def test_exports_in_an_s3_bucket(layout, s3, sqlite_registry, wh, monkeypatch, months_ago):
    root, files = layout
    bucket = f"exports-{uuid.uuid4().hex[:10]}"
    client = s3.client()
    client.create_bucket(Bucket=bucket)
    for path in root.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), bucket, path.relative_to(root).as_posix())
    add(sqlite_registry, "s3-exports", {"storage": "s3", **s3_config(s3, bucket, monkeypatch, prefix="exports/")})
    result = sync(sqlite_registry, wh, "s3-exports", months_ago(2), month_end(months_ago(1)))
    assert result.ok, result.as_dict()
    assert len(result.units) == 4 and reconciles(wh, files)
    assert catalog.get("azure-exports").test_connection(
        catalog.get("azure-exports").validate_config({"storage": "local", "path": str(root)})).endswith("readable")


@pytest.mark.parametrize("resource", [True, False])
def test_exports_of_one_name_on_several_scopes_all_load(tmp_path, sqlite_registry, wh, resource, months_ago):
    """A ``daily-actual`` export on each subscription: one unit each (their manifests' resource ids, else folders)."""
    month = months_ago(1)
    files = demo_month(tmp_path, month)
    root = tmp_path / "container"
    per_subscription_runs(tmp_path, root, month, files.actual, resource)
    add(sqlite_registry, "exports", {"storage": "local", "path": str(root)})
    result = sync(sqlite_registry, wh, "exports", month, month_end(month))
    assert result.ok, result.as_dict()
    assert len(result.units) > 1 and all(u.key.startswith("daily-actual@") for u in result.units)
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")


def _focus_cost_run(tmp_path, root, month) -> None:
    """A one-row FocusCost export run of ``month`` (Microsoft's FOCUS view of the same charges)."""
    row = {"BillingAccountId": "1", "BillingCurrency": "USD", "BillingPeriodStart": f"{month}T00:00:00Z",
           "BillingPeriodEnd": f"{month_end(month)}T00:00:00Z", "ChargeCategory": "Usage",
           "ChargePeriodStart": f"{month}T00:00:00Z", "ChargePeriodEnd": f"{month:%Y-%m}-02T00:00:00Z",
           "ProviderName": "Microsoft", "ServiceName": "Virtual Machines", "ServiceCategory": "Compute",
           "BilledCost": "7", "EffectiveCost": "7", "ListCost": "7", "ContractedCost": "7", "x_SkuMeterId": "m"}
    source = tmp_path / "focus.csv"
    source.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n")
    write_export_run(root, "daily-focus", "FocusCost", month, "run-f", f"{month}T09:00:00Z", source, parts=1)


def test_a_focus_cost_export_beside_the_cost_details_of_its_scope_is_not_loaded_twice(layout, sqlite_registry, wh,
                                                                                       tmp_path, months_ago):
    root, files = layout
    _focus_cost_run(tmp_path, root, months_ago(1))
    add(sqlite_registry, "exports", {"storage": "local", "path": str(root)})
    result = sync(sqlite_registry, wh, "exports", months_ago(2), month_end(months_ago(1)))
    assert result.ok and not any(u.key.startswith("daily-focus") for u in result.units)
    assert reconciles(wh, files)  # the FocusCost run's 7 USD counted nowhere twice
    add(sqlite_registry, "focus", {"storage": "local", "path": str(root), "datasets": ["FocusCost"]})
    alone = sync(sqlite_registry, wh, "focus", months_ago(1), month_end(months_ago(1)))
    assert [u.key for u in alone.units] == [f"daily-focus/{months_ago(1):%Y-%m}"] and alone.rows_read == 1


def test_a_manifest_of_another_tool_is_skipped(layout, sqlite_registry, wh, months_ago):
    """Another tool's ``Manifest.json`` (AWS Data Exports) in the bucket failed every sync, of any range."""
    root, files = layout
    other = root / "aws" / "cur" / "Manifest.json"
    other.parent.mkdir(parents=True)
    other.write_text('{"assemblyId": "x", "reportKeys": ["cur/part-0.csv.gz"]}')
    (root / "notes" / "manifest.json").parent.mkdir(parents=True)
    (root / "notes" / "manifest.json").write_text("not json")
    add(sqlite_registry, "exports", {"storage": "local", "path": str(root)})
    done = sync(sqlite_registry, wh, "exports", months_ago(2), month_end(months_ago(1)))
    assert done.ok and reconciles(wh, files)
