"""Fixtures of the API tests: one demo warehouse per test module (loading takes a few seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apitest import Demo, load_demo

from app.core.warehouse import EmbeddedWarehouse


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("apis")
    wh = EmbeddedWarehouse(root / "warehouse")
    try:
        yield load_demo(wh, root / "files")
    finally:
        wh.close()
