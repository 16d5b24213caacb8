"""Connector management operations, shared by the ``abi`` command line and the management API.

Every answer is JSON-ready and carries configs redacted: secrets appear as ``env:NAME`` references or a mask.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from app.connectors import catalog
from app.connectors.base import ConfigError, ConnectionFailed, PluginError, month_end
from app.connectors.registry import Connector, Registry
from app.connectors.secrets import redact, scrub, seal, secret_fields, unseal

log = logging.getLogger(__name__)

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Busy(PluginError):
    """Another sync holds the warehouse."""


def parse_month(text: str, field: str = "from") -> date:
    """``YYYY-MM`` as the first day of that month; ConfigError naming ``field`` otherwise."""
    found = MONTH.match(str(text or ""))
    if not found:
        raise ConfigError(field, f"must be YYYY-MM, got {text!r}")
    return date(int(found.group(1)), int(found.group(2)), 1)


class ConnectorService:
    """Plugins and connectors: list, show, add, update, test, remove, sync."""

    def __init__(self, registry: Registry | None = None, warehouse: Callable[[], Any] | None = None) -> None:
        from app.core.warehouse import open_warehouse

        self._registry = registry
        self.open_warehouse = warehouse or open_warehouse
        self._sync_lock = threading.Lock()

    @property
    def registry(self) -> Registry:
        """The registry, opened (and created) on first use: describing plugins needs none."""
        if self._registry is None:
            self._registry = Registry()
        return self._registry

    # plugins
    def plugins(self, record: bool = True) -> list[dict[str, Any]]:
        """Every installed plugin; ``record``: also keep them in the registry's plugin table."""
        infos = catalog.describe_all()
        if record:
            self.registry.sync_plugins(infos)
        keys = ("name", "version", "category", "description", "tags", "retired", "documentation_url", "entry_point")
        return [{k: i[k] for k in keys} for i in infos]

    def plugin(self, name: str) -> dict[str, Any]:
        plugin = catalog.get(name)
        return {**plugin.info.as_dict(), "entry_point": catalog.available()[name].value,
                "output_schema": plugin.get_schema()}

    # connectors
    def list(self) -> list[dict[str, Any]]:
        return [self._view(c) for c in self.registry.list()]

    def show(self, name: str) -> dict[str, Any]:
        return self._view(self.registry.get(name))

    def add(self, name: str, plugin_name: str, config: Mapping[str, Any], enabled: bool = True) -> dict[str, Any]:
        plugin = catalog.get(plugin_name)
        checked = plugin.validate_config(config)
        return self._view(self.registry.add(name, plugin_name, seal(plugin.info.config_schema, checked), enabled))

    def update(self, name: str, changes: Mapping[str, Any] | None = None, enabled: bool | None = None,
               unset: list[str] | None = None) -> dict[str, Any]:
        """Merge ``changes`` into the stored config (secrets kept unless given again), drop ``unset`` keys."""
        current = self.registry.get(name)
        plugin = catalog.get(current.plugin)
        merged = {k: v for k, v in {**current.config, **(changes or {})}.items() if k not in (unset or [])}
        _secrets_follow_destination(plugin.info.config_schema, current.config, merged, changes or {})
        checked = plugin.validate_config(merged)
        stored = seal(plugin.info.config_schema, checked)
        return self._view(self.registry.update(name, stored, enabled))

    def remove(self, name: str) -> None:
        self.registry.remove(name)

    def test(self, name: str) -> dict[str, Any]:
        conn = self.registry.get(name)
        plugin = catalog.get(conn.plugin)
        config: dict[str, Any] = {}
        try:
            config = plugin.validate_config(unseal(plugin.info.config_schema, conn.config))
            return {"connector": name, "ok": True, "message": plugin.test_connection(config)}
        except (ConnectionFailed, ConfigError) as exc:
            return {"connector": name, "ok": False, "message": scrub(str(exc), config)}
        except Exception as exc:  # noqa: BLE001 - a library's own error may print what it was given (a secret)
            message = scrub(f"unexpected {exc.__class__.__name__}: {exc}", config)
            log.warning("testing connector %s failed: %s", name, message)
            return {"connector": name, "ok": False, "message": message}

    def sync(self, name: str, start: str, end: str | None = None, full: bool = False,
             progress: bool = False) -> dict[str, Any]:
        from app.connectors.sync import sync

        first, last = parse_month(start, "from"), parse_month(end or start, "to")
        if last < first:
            raise ConfigError("to", f"{end} is before {start}")
        self.registry.get(name)
        if not self._sync_lock.acquire(blocking=False):
            raise Busy("another sync is running; try again when it ends")
        try:
            wh = self.open_warehouse()
            try:
                return sync(self.registry, wh, name, first, month_end(last), full, progress).as_dict()
            finally:
                wh.close()
        finally:
            self._sync_lock.release()

    def _view(self, conn: Connector) -> dict[str, Any]:
        try:
            schema = catalog.get(conn.plugin).info.config_schema
        except PluginError:
            schema = {"properties": {}}
        view = conn.as_dict()
        view["config"] = redact(schema, conn.config)
        # stored values the schema no longer knows stay hidden: they may be secrets of an older plugin version
        view["config"] = {k: (v if k in schema.get("properties", {}) else "********")
                          for k, v in view["config"].items()}
        return view


DESTINATION = re.compile(r"(url|host|endpoint|ca_bundle)$")
"""Settings that say where a connector sends its credentials (an endpoint, an authority, the CA trusted)."""


def _secrets_follow_destination(schema: Mapping[str, Any], stored: Mapping[str, Any], merged: Mapping[str, Any],
                                changes: Mapping[str, Any]) -> None:
    """A stored secret is never sent to a new destination: changing one needs the secrets given again."""
    props = schema.get("properties", {})
    moved = sorted(k for k, spec in props.items() if DESTINATION.search(k)
                   and stored.get(k, spec.get("default")) != merged.get(k, spec.get("default")))
    kept = [f for f in secret_fields(schema) if stored.get(f) is not None and f not in changes and merged.get(f)]
    if moved and kept:
        raise ConfigError(kept[0], f"give it again to change {', '.join(moved)}: a stored secret is never sent to a "
                                   "new destination")

