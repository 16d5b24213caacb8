"""Fixtures of the Moose tests: one local stack and one ``moose-cli dev --no-infra`` for the whole session.

``moose_app`` gives the base URL of Moose's HTTP server (``/ingest/...``, ``/api/...``) and ClickHouse access;
end-to-end tests of ingestion and of the consumption APIs share it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from moosetest import MooseApp, start_moose, stop_moose
from stacktest import busy_ports, running_stack

from app.core.loader import ensure_schema
from app.core.warehouse import EmbeddedWarehouse
from app.ingest.lookup_resource import lookup_setup
from app.ingest.pipelines import PIPELINES

PORTS_FREE_TIMEOUT_S = 15.0


@pytest.fixture(scope="session")
def moose_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MooseApp]:
    run_dir = tmp_path_factory.mktemp("moose")
    views = [p.to_focus.name for p in PIPELINES.values()] + [p.to_quarantine.name for p in PIPELINES.values()]
    with running_stack(run_dir / "stack") as stack:
        app = start_moose(stack, run_dir, views, [p.pipeline.name for p in PIPELINES.values()])
        try:
            yield app
        finally:
            stop_moose(app)
            _await_ports_free(app.ports())
    assert busy_ports(stack) == [], "stack ports still in use after abi stack down"


def _await_ports_free(ports: list[int]) -> None:
    from app.stack import probes

    deadline = time.monotonic() + PORTS_FREE_TIMEOUT_S
    while time.monotonic() < deadline and any(probes.port_in_use(p) for p in ports):
        time.sleep(0.1)
    busy = [p for p in ports if probes.port_in_use(p)]
    assert not busy, f"Moose ports still in use after shutdown: {busy}"


@pytest.fixture
def stream_wh(wh: EmbeddedWarehouse) -> EmbeddedWarehouse:
    """The embedded warehouse with ABI's tables and the mapping's lookups, as Moose sets them up."""
    ensure_schema(wh)
    for statement in lookup_setup():
        wh.command(statement)
    return wh
