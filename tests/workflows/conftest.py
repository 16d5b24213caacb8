"""Fixtures of the workflow tests: the fake Azure, and a runtime (embedded warehouse + SQLite registry)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from connectortest import fake_azure, waits  # noqa: F401

from app.connectors.registry import Registry
from app.core.warehouse import EmbeddedWarehouse
from app.workflows.activities import Runtime


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(EmbeddedWarehouse(tmp_path / "warehouse"), Registry(f"sqlite:///{tmp_path / 'registry.db'}"))
    yield rt
    rt.close()
