"""Opening the warehouse for a command: an embedded one must exist to be read, and what a killed process left is
completed or dropped first; a ClickHouse server's loads take the registry's publish lock."""

from __future__ import annotations

import sys

from app.core import journal
from app.core.staging import drop_stale_stages
from app.core.warehouse import open_warehouse


class CommandError(RuntimeError):
    """A user-facing failure: printed as ``abi: <message>``, exit code 2."""


def existing_warehouse():
    """The warehouse to read: an embedded one must already exist (a mistyped ``ABI_DATA_DIR`` is no empty one)."""
    from app.core import settings

    if not settings.clickhouse_url() and not settings.engine_folder(settings.data_dir(), "ABI_DATA_DIR").is_dir():
        raise CommandError(f"no warehouse in {settings.data_dir()} (ABI_DATA_DIR): load data first with "
                           "abi ingest or abi demo")
    return _recovered(open_warehouse())


def _recovered(wh):
    """An embedded warehouse with what a killed process left completed (its publication) or dropped (its stages):
    this process holds the data directory alone, so reads never see a month half swapped."""
    if wh.embedded:
        try:
            if warning := journal.recover(wh, logged=False):
                print(f"abi: warning: {warning}", file=sys.stderr)
            drop_stale_stages(wh)
        except BaseException:
            wh.close()
            raise
    return wh


def publishing_warehouse():
    """The warehouse; a ClickHouse server's loads take the registry's publish lock, as connector syncs and workflow
    workers sharing that server do (the embedded engine is one process's already)."""
    wh = _recovered(open_warehouse())
    if wh.embedded:
        return wh, None
    from app.connectors.registry import Registry
    from app.core.locked import LockedWarehouse

    registry = Registry()
    return LockedWarehouse(wh, registry.publish_lock), registry
