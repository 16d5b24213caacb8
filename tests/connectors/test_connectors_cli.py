"""``abi plugins`` and ``abi connectors``, run in-process on a temporary data directory and the fake Azure."""

from __future__ import annotations

import json
import logging

import pytest

from app.cli.main import main
from app.connectors.secrets import new_key

SECRET = "cli-literal-client-secret-42"


@pytest.fixture
def abi(tmp_path, monkeypatch, capsys, caplog):
    monkeypatch.setenv("ABI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ABI_SECRET_KEY", new_key())
    for name in ("ABI_REGISTRY_URL", "ABI_CLICKHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    caplog.set_level(logging.DEBUG)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        assert SECRET not in out.out + out.err + caplog.text, "a secret leaked into output or logs"
        return code, out.out, out.err

    return run


def test_plugins_list_and_show(abi):
    code, out, _ = abi("plugins", "list")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert {"azure-cost-details", "azure-exports", "s3-minio", "azure-ea", "focus-file"} <= set(lines)
    assert "[retired]" in lines["azure-ea"] and "[retired]" not in lines["azure-exports"]
    code, out, _ = abi("plugins", "show", "azure-cost-details")
    secret_line = next(line for line in out.splitlines() if line.strip().startswith("client_secret"))
    assert code == 0 and "secret" in secret_line.split(None, 1)[1]
    code, out, _ = abi("plugins", "show", "azure-ea", "--json")
    assert json.loads(out)["retired"] is True
    code, _, err = abi("plugins", "show", "salesforce")
    assert code == 2 and "no plugin named 'salesforce'" in err


def test_reading_connectors_of_a_missing_data_directory_creates_nothing(abi, tmp_path):
    code, out, err = abi("connectors", "list", "--json")
    assert code == 0 and json.loads(out) == [] and "no connector registry in" in err
    code, _, err = abi("connectors", "show", "az")
    assert code == 2 and "no connector 'az'" in err
    assert abi("plugins", "list")[0] == 0 and abi("plugins", "show", "azure-ea")[0] == 0
    assert not (tmp_path / "data").exists()


def test_connector_lifecycle(abi, fake_azure, waits, months_ago):
    month = months_ago(1)
    settings = [f"scope=/providers/Microsoft.Billing/billingAccounts/{fake_azure.enrollment}",
                f"tenant_id={fake_azure.tenant}", f"client_id={fake_azure.client_id}", f"client_secret={SECRET}",
                f"management_url={fake_azure.url}", f"authority_host={fake_azure.url}",
                f"ca_bundle={fake_azure.ca_file}", "metrics=ActualCost", "max_attempts=2"]
    fake_azure.client_secret = SECRET
    args = [a for s in settings for a in ("--set", s)]
    code, out, err = abi("connectors", "add", "az", "--plugin", "azure-cost-details", *args)
    assert code == 0 and json.loads(out)["config"]["client_secret"] == "********"

    code, _, err = abi("connectors", "add", "bad", "--plugin", "azure-cost-details",
                       *[a for s in settings[1:] for a in ("--set", s)], "--set", "scope=/nowhere")
    assert code == 2 and "config field 'scope'" in err
    code, _, err = abi("connectors", "add", "bad", "--plugin", "azure-cost-details", "--set", "max_attempts=many")
    assert code == 2 and "config field 'max_attempts': expects integer" in err
    code, _, err = abi("connectors", "add", "az", "--plugin", "azure-cost-details", *args)
    assert code == 2 and "already exists" in err
    code, out, _ = abi("connectors", "list", "--json")
    assert code == 0 and [c["name"] for c in json.loads(out)] == ["az"]
    code, out, _ = abi("-v", "connectors", "test", "az")
    assert code == 0 and out.startswith("ok: authenticated (client_secret)")
    code, out, _ = abi("-v", "connectors", "sync", "az", "--from", f"{month:%Y-%m}", "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["rows_loaded"] > 0
    code, out, _ = abi("sql", "SELECT count() FROM focus_cost", "--format", "csv")
    assert int(out.split()[-1]) == result["rows_loaded"]  # what the sync kept, superseded rows not counted
    code, out, _ = abi("connectors", "show", "az")
    shown = json.loads(out)
    assert shown["last_status"] == "ok" and shown["rows_processed"] == result["rows_read"]
    _rotated_secret_fails_and_removal(abi, fake_azure, month)


def _rotated_secret_fails_and_removal(abi, fake_azure, month) -> None:
    fake_azure.client_secret = "rotated-on-the-azure-side"
    code, out, _ = abi("connectors", "test", "az")
    assert code == 1 and "FAILED: authentication failed" in out and "AADSTS7000215" in out
    code, out, _ = abi("connectors", "sync", "az", "--from", f"{month:%Y-%m}")
    assert code == 1 and "FAILED" in out
    code, out, _ = abi("connectors", "list")
    assert "AADSTS7000215" in out and "(failed)" in out

    assert abi("connectors", "remove", "az")[0] == 0
    code, _, err = abi("connectors", "show", "az")
    assert code == 2 and "no connector named 'az'" in err


def test_config_file_and_secret_key(abi, tmp_path):
    code, out, _ = abi("connectors", "secret-key")
    assert code == 0 and len(out.strip()) == 44
    path = tmp_path / "ea.toml"
    path.write_text('enrollment = "8611537"\napi_key = "env:EA_KEY"\nbilling_currency = "EUR"\n')
    code, out, _ = abi("connectors", "add", "ea", "--plugin", "azure-ea", "--config", str(path), "--disabled")
    shown = json.loads(out)
    assert code == 0 and shown["config"]["api_key"] == "env:EA_KEY" and shown["enabled"] is False
    code, _, err = abi("connectors", "sync", "ea", "--from", "2024-01")
    assert code == 2 and "disabled" in err


def test_a_password_in_a_url_setting_is_refused_and_never_shown(abi, tmp_path, monkeypatch):
    """``endpoint_url=http://user:password@host`` would store the password in clear and show it with the config."""
    from app.connectors.registry import Registry

    monkeypatch.setenv("S3_SECRET", "the-secret-access-key")
    url = f"http://abi-reader:{SECRET}@127.0.0.1:9"
    given = ["--set", "access_key_id=abi-reader", "--set", "secret_access_key=env:S3_SECRET", "--set", "bucket=billing"]
    code, _, err = abi("connectors", "add", "s3", "--plugin", "s3-minio", "--set", f"endpoint_url={url}", *given)
    assert code == 2 and "config field 'endpoint_url'" in err and "never in a URL" in err
    registry = Registry(f"sqlite:///{tmp_path / 'data' / 'registry.db'}")  # stored by an older version
    assert SECRET not in json.dumps([c.as_dict() for c in registry.list()])
    registry.add("old", "s3-minio", {"endpoint_url": url, "access_key_id": "abi-reader", "bucket": "billing",
                                     "secret_access_key": {"$env": "S3_SECRET"}})
    registry.close()
    code, out, _ = abi("connectors", "show", "old")
    assert code == 0 and json.loads(out)["config"]["endpoint_url"] == "http://abi-reader:REDACTED@127.0.0.1:9"
    code, out, _ = abi("connectors", "list")
    assert code == 0 and "old" in out
    code, out, _ = abi("connectors", "test", "old")
    assert code == 1 and "endpoint_url" in out
