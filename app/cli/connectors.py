"""``abi plugins …`` and ``abi connectors …``: source plugins, configured connectors, syncs, management API."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from app.cli.commands import CommandError
from app.connectors.base import ConfigError, PluginError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``plugins`` and ``connectors`` command groups to the ``abi`` parser."""
    plugins = sub.add_parser("plugins", help="installed source plugins").add_subparsers(dest="action", required=True)
    p = plugins.add_parser("list", help="installed plugins")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_guard(plugins_list))
    p = plugins.add_parser("show", help="a plugin's metadata and config settings")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_guard(plugins_show))
    _register_connectors(sub.add_parser("connectors", help="configured sources").add_subparsers(
        dest="action", required=True))


def _register_connectors(conn: argparse._SubParsersAction) -> None:
    p = conn.add_parser("add", help="configure a connector (secrets: --set key=env:VARIABLE, or ABI_SECRET_KEY)")
    p.add_argument("name")
    p.add_argument("--plugin", required=True)
    p.add_argument("--config", help="JSON or TOML file with the settings")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting (repeatable)")
    p.add_argument("--disabled", action="store_true")
    p.set_defaults(run=_guard(connectors_add))
    for action, helptext, fn in (("list", "configured connectors", connectors_list),
                                 ("show", "one connector (secrets redacted)", connectors_show),
                                 ("test", "check credentials and reachability", connectors_test),
                                 ("remove", "delete a connector", connectors_remove)):
        p = conn.add_parser(action, help=helptext)
        if action != "list":
            p.add_argument("name")
        p.add_argument("--json", action="store_true")
        p.set_defaults(run=_guard(fn))
    p = conn.add_parser("sync", help="extract and load billing months (idempotent per billing period)")
    p.add_argument("name")
    p.add_argument("--from", dest="start", required=True, metavar="YYYY-MM")
    p.add_argument("--to", dest="end", metavar="YYYY-MM", help="last month (default: --from)")
    p.add_argument("--full", action="store_true", help="reload units even when unchanged since the last sync")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_guard(connectors_sync))
    p = conn.add_parser("serve", help="serve the management API (JSON over HTTP)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8790)
    p.set_defaults(run=_guard(connectors_serve))
    p = conn.add_parser("secret-key", help="print a new random key for ABI_SECRET_KEY")
    p.set_defaults(run=connectors_secret_key)


def _guard(fn):
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except PluginError as exc:
            raise CommandError(str(exc)) from exc

    return run


def _service():
    from app.connectors.service import ConnectorService

    return ConnectorService()


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def plugins_list(args) -> int:
    rows = _service().plugins(record=_no_registry() is None)
    if args.json:
        _print(rows)
        return 0
    for r in rows:
        retired = " [retired]" if r["retired"] else ""
        print(f"{r['name']:<20} {r['version']:<8} {r['category']:<9} {r['description'][:80]}{retired}")
    return 0


def plugins_show(args) -> int:
    info = _service().plugin(args.name)
    if args.json:
        _print(info)
        return 0
    print(f"{info['name']} {info['version']} ({info['category']}) by {info['author']}\n{info['description']}")
    if info["retired"]:
        print(f"RETIRED: {info['retired_note']}")
    print(f"docs: {info['documentation_url']}\nrequires: {', '.join(info['requirements']) or '-'}\nsettings:")
    schema = info["config_schema"]
    for key, spec in schema.get("properties", {}).items():
        flags = ["required"] if key in schema.get("required", []) else []
        flags += ["secret"] if spec.get("format") == "password" else []
        flags += [f"default {json.dumps(spec['default'])}"] if "default" in spec else []
        kind = spec.get("type") or "|".join(map(str, spec.get("enum", [])))
        print(f"  {key:<22} {kind:<10} {', '.join(flags):<28} {spec.get('description', '')[:70]}")
    return 0


def connectors_add(args) -> int:
    from app.connectors import catalog
    from app.connectors.schema import coerce

    config: dict[str, Any] = _read_config(Path(args.config)) if args.config else {}
    schema = catalog.get(args.plugin).info.config_schema
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(item, "use --set KEY=VALUE")
        config[key.strip()] = coerce(schema, key.strip(), value)
    shown = _service().add(args.name, args.plugin, config, enabled=not args.disabled)
    print(f"connector {shown['name']} added (plugin {shown['plugin']}); test it with: abi connectors test {args.name}",
          file=sys.stderr)
    _print(shown)
    return 0


def _read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise CommandError(f"--config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise CommandError(f"--config {path}: expected an object of settings")
    return data


def _no_registry() -> str | None:
    """Why there is nothing to read when the default registry does not exist (a mistyped ``ABI_DATA_DIR`` is not
    created by a command that only reads)."""
    from app.core import settings

    if os.environ.get("ABI_REGISTRY_URL") or (settings.data_dir() / "registry.db").is_file():
        return None
    return f"no connector registry in {settings.data_dir()} (ABI_DATA_DIR)"


def connectors_list(args) -> int:
    if (missing := _no_registry()) is not None:
        print(f"{missing}: no connectors", file=sys.stderr)
        if args.json:
            _print([])
        return 0
    rows = _service().list()
    if args.json:
        _print(rows)
        return 0
    for r in rows:
        state = "enabled" if r["enabled"] else "disabled"
        error = f" — {r['last_error']}" if r["last_error"] else ""
        print(f"{r['name']:<20} {r['plugin']:<20} {state:<9} last sync {r['last_sync_at'] or 'never'} "
              f"({r['last_status'] or '-'}), {r['rows_processed']} rows{error}")
    return 0


def connectors_show(args) -> int:
    if (missing := _no_registry()) is not None:
        raise CommandError(f"{missing}: no connector {args.name!r}")
    _print(_service().show(args.name))
    return 0


def connectors_test(args) -> int:
    result = _service().test(args.name)
    if args.json:
        _print(result)
    else:
        print(f"{'ok' if result['ok'] else 'FAILED'}: {result['message']}")
    return 0 if result["ok"] else 1


def connectors_remove(args) -> int:
    _service().remove(args.name)
    print(f"connector {args.name} removed", file=sys.stderr)
    return 0


def connectors_sync(args) -> int:
    result = _service().sync(args.name, args.start, args.end, full=args.full, progress=not args.json)
    if args.json:
        _print(result)
    else:
        for u in result["units"]:
            print(f"{u['key']:<40} {u['status']:<9} {u['rows_read']:>10} rows  {u['error'] or ''}")
        print(f"{result['connector']}: {result['rows_read']} rows read, {result['rows_loaded']} loaded"
              f"{'' if result['ok'] else ' — FAILED: ' + str(result['error'] or 'see units')}")
    return 0 if result["ok"] else 1


def connectors_secret_key(args) -> int:
    from app.connectors.secrets import new_key

    print(new_key())
    return 0


def connectors_serve(args) -> int:
    from app.connectors.api import serve

    serve(args.host, args.port)
    return 0
