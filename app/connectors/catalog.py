"""Plugin discovery through the ``abi.plugins`` entry-point group; a plugin is imported on first use only."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points

from app.connectors.base import PluginError, SourcePlugin

GROUP = "abi.plugins"
log = logging.getLogger(__name__)
_loaded: dict[str, SourcePlugin] = {}


def available() -> dict[str, EntryPoint]:
    """Installed plugins by name (nothing imported)."""
    return {ep.name: ep for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name)}


def get(name: str) -> SourcePlugin:
    """The plugin called ``name``, imported and instantiated on first use."""
    if name not in _loaded:
        found = available()
        if name not in found:
            known = ", ".join(found) or "none"
            raise PluginError(f"no plugin named {name!r} is installed (installed: {known})")
        try:
            cls = found[name].load()
        except ImportError as exc:
            raise PluginError(f"plugin {name!r} cannot be imported: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, SourcePlugin)):
            raise PluginError(f"entry point {found[name].value} is not a SourcePlugin class")
        if cls.info.name != name:
            raise PluginError(f"entry point {name!r} loads plugin {cls.info.name!r}: names must match")
        _loaded[name] = cls()
        log.debug("loaded plugin %s %s from %s", name, cls.info.version, found[name].value)
    return _loaded[name]


def describe_all() -> list[dict]:
    """Metadata of every installed plugin (imports each plugin module, not its client libraries)."""
    out = []
    for name, ep in available().items():
        info = get(name).info
        out.append({**info.as_dict(), "entry_point": ep.value})
    return out
