"""s3-minio against a real S3 protocol server (moto in server mode, authenticating requests)."""

from __future__ import annotations

import gzip
import shutil
import uuid

import pytest
from abitest import csv_total, total
from connectortest import demo_month, resolved, s3_config, write_export_run

from app.connectors import catalog
from app.connectors.base import ConnectionFailed, month_end
from app.connectors.secrets import seal
from app.connectors.sync import sync


@pytest.fixture
def plugin():
    return catalog.get("s3-minio")


@pytest.fixture
def bucket(s3):
    name = f"billing-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(Bucket=name)
    return name


def test_connection_errors_say_what_to_check(plugin, s3, bucket, monkeypatch):
    good = s3_config(s3, bucket, monkeypatch)
    assert "is readable" in plugin.test_connection(resolved(plugin, good))
    with pytest.raises(ConnectionFailed, match="access key id is not known: check access_key_id"):
        plugin.test_connection(resolved(plugin, {**good, "access_key_id": "AKIAUNKNOWNUNKNOWN00"}))
    monkeypatch.setenv("T_WRONG_S3", "wrong-secret-value")
    with pytest.raises(ConnectionFailed) as err:
        plugin.test_connection(resolved(plugin, {**good, "secret_access_key": "env:T_WRONG_S3"}))
    assert "check secret_access_key" in str(err.value) and "wrong-secret-value" not in str(err.value)
    with pytest.raises(ConnectionFailed, match="bucket no-such-bucket-here does not exist"):
        plugin.test_connection(resolved(plugin, {**good, "bucket": "no-such-bucket-here"}))
    with pytest.raises(ConnectionFailed, match="cannot reach S3 endpoint"):
        plugin.test_connection(resolved(plugin, {**good, "endpoint_url": "http://127.0.0.1:9"}))


def test_folders_load_by_month_and_a_bad_file_refuses_only_its_folder(plugin, s3, bucket, monkeypatch, tmp_path,
                                                                      sqlite_registry, wh, months_ago):
    client = s3.client()
    old, new = months_ago(2), months_ago(1)
    for month in (old, new):
        files = demo_month(tmp_path, month)
        gz = tmp_path / f"{files.actual.name}.gz"
        with open(files.actual, "rb") as src, gzip.open(gz, "wb") as out:
            shutil.copyfileobj(src, out)
        client.upload_file(str(gz), bucket, f"azure/actual/{month:%Y%m}/{gz.name}")
        client.upload_file(str(files.amortized), bucket, f"azure/amortized/{month:%Y%m}/{files.amortized.name}")
    client.put_object(Bucket=bucket, Key=f"azure/actual/{new:%Y%m}/notes.csv", Body=b"Note,Owner\nhello,ops\n")
    client.put_object(Bucket=bucket, Key="azure/readme.txt", Body=b"not a billing file suffix")
    config = plugin.validate_config(s3_config(s3, bucket, monkeypatch, prefix="azure/"))
    sqlite_registry.add("minio", "s3-minio", seal(plugin.info.config_schema, config))

    first = sync(sqlite_registry, wh, "minio", new, month_end(new))
    by_key = {u.key: u for u in first.units}
    assert set(by_key) == {f"azure/actual/{new:%Y%m}", f"azure/amortized/{new:%Y%m}"}  # the older month is out
    refused = by_key[f"azure/actual/{new:%Y%m}"]
    assert refused.status == "refused" and "notes.csv" in refused.error and "unknown header" in refused.error
    assert by_key[f"azure/amortized/{new:%Y%m}"].status == "loaded"
    assert wh.scalar("SELECT count() FROM abi.focus_cost WHERE x_SourceDataset = 'ActualCost'") == 0
    assert "notes.csv" in sqlite_registry.get("minio").last_error

    client.delete_object(Bucket=bucket, Key=f"azure/actual/{new:%Y%m}/notes.csv")
    second = sync(sqlite_registry, wh, "minio", old, month_end(new))
    assert second.ok and sorted(u.status for u in second.units) == ["loaded", "loaded", "loaded", "unchanged"]
    actual_total = sum(csv_total(demo_month(tmp_path / "check", m).actual, "CostInBillingCurrency") for m in (old, new))
    assert total(wh, "BilledCost") == actual_total
    assert sqlite_registry.get("minio").last_error is None


def test_a_bucket_of_several_runs_of_one_export_is_refused_naming_the_connector_for_it(plugin, s3, bucket,
                                                                                      monkeypatch, tmp_path,
                                                                                      sqlite_registry, wh, months_ago):
    """Each run folder would load as a unit of its own, and an older month-to-date run after a newer one."""
    month, client = months_ago(1), s3.client()
    files = demo_month(tmp_path, month)
    root = tmp_path / "container"
    for run, submitted in (("run-b", "2026-01-02T00:00:00Z"), ("run-a", "2026-01-03T00:00:00Z")):
        write_export_run(root, "daily-actual", "ActualCost", month, run, submitted, files.actual)
    for path in (p for p in root.rglob("*") if p.is_file()):
        client.upload_file(str(path), bucket, path.relative_to(root).as_posix())
    sqlite_registry.add("minio", "s3-minio", seal(plugin.info.config_schema,
                                                 plugin.validate_config(s3_config(s3, bucket, monkeypatch))))
    result = sync(sqlite_registry, wh, "minio", month, month_end(month))
    assert not result.ok and "holds 2 runs of a Cost Management export" in result.error
    assert "azure-exports" in result.error and not result.units
