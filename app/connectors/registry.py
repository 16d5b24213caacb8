"""The registry: installed plugins and configured connectors, in SQLite (default) or PostgreSQL, same code.

Tables live in schema ``plugin_registry`` (PostgreSQL: a schema; SQLite: the registry file ATTACHed under that
name). ``ABI_REGISTRY_URL`` selects PostgreSQL (``postgresql://user@host:port/db``) or a SQLite file
(``sqlite:///path``); the default is ``<data dir>/registry.db``. Connector configs are stored sealed (see
``secrets``): no secret is ever in a column in clear.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.connectors.base import PluginError

SCHEMA = "plugin_registry"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DDL = (
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.plugins (
        name TEXT PRIMARY KEY, version TEXT NOT NULL, entry_point TEXT NOT NULL, category TEXT NOT NULL,
        description TEXT NOT NULL, retired BOOLEAN NOT NULL, installed BOOLEAN NOT NULL,
        first_seen_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.connectors (
        name TEXT PRIMARY KEY, plugin TEXT NOT NULL, config TEXT NOT NULL, enabled BOOLEAN NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, last_sync_at TEXT, last_status TEXT,
        rows_processed BIGINT NOT NULL DEFAULT 0, last_error TEXT)""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.loaded_units (
        connector TEXT NOT NULL, unit TEXT NOT NULL, fingerprint TEXT NOT NULL, rows_loaded BIGINT NOT NULL,
        loaded_at TEXT NOT NULL, PRIMARY KEY (connector, unit))""",
)
CONNECTOR_COLUMNS = ("name, plugin, config, enabled, created_at, updated_at, last_sync_at, last_status, "
                     "rows_processed, last_error")


class RegistryError(PluginError):
    """A registry operation that cannot be done (unknown or duplicate connector, bad name)."""


class NotFound(RegistryError):
    pass


class Conflict(RegistryError):
    pass


@dataclass
class Connector:
    name: str
    plugin: str
    config: dict[str, Any]
    """As stored: secrets sealed."""
    enabled: bool
    created_at: str
    updated_at: str
    last_sync_at: str | None = None
    last_status: str | None = None
    rows_processed: int = 0
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Registry:
    """Plugins and connectors over a DB-API connection (sqlite3 or psycopg); thread-safe."""

    def __init__(self, url: str | None = None) -> None:
        from app.core import settings

        url = url or os.environ.get("ABI_REGISTRY_URL") or f"sqlite:///{settings.data_dir() / 'registry.db'}"
        self.url = url
        self.kind = "postgresql" if url.startswith(("postgresql://", "postgres://")) else "sqlite"
        self._lock = threading.RLock()
        self._conn = self._connect(url)
        with self._tx() as cur:
            if self.kind == "postgresql":
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            for ddl in DDL:
                cur.execute(ddl)

    def _connect(self, url: str):
        if self.kind == "postgresql":
            import psycopg

            try:
                return psycopg.connect(url, connect_timeout=10)
            except psycopg.OperationalError as exc:
                raise RegistryError(f"cannot reach the registry database: {str(exc).splitlines()[0]}") from exc
        if not url.startswith("sqlite:///"):
            raise RegistryError("ABI_REGISTRY_URL must start with postgresql://, postgres:// or sqlite:///")
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        conn.execute("ATTACH DATABASE ? AS " + SCHEMA, (str(path),))
        path.chmod(0o600)  # configs hold encrypted secrets and env variable names: owner only
        conn.execute(f"PRAGMA {SCHEMA}.journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            if self.kind == "sqlite":
                cur.execute("BEGIN IMMEDIATE")
            try:
                yield _Cursor(cur, self.kind)
            except BaseException:
                self._conn.rollback()
                raise
            else:
                self._conn.commit()

    def close(self) -> None:
        self._conn.close()

    def publish_lock(self) -> AbstractContextManager[None]:
        """Held by each load (see :func:`app.connectors.sync.publishing`)."""
        return self.exclusive("publish")

    @contextmanager
    def exclusive(self, key: str) -> Iterator[None]:
        """One holder of ``key`` at a time among every process sharing this registry (PostgreSQL: an advisory
        lock; SQLite, one host: a file lock beside the database)."""
        if self.kind == "postgresql":
            import psycopg

            ident = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            with psycopg.connect(self.url, connect_timeout=10, autocommit=True) as conn:
                conn.execute("SELECT pg_advisory_lock(%s)", (ident,))
                try:
                    yield
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (ident,))
            return
        db = Path(self.url.removeprefix("sqlite:///"))
        path = db.with_name(f"{db.name}.locks") / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.lock"
        path.parent.mkdir(exist_ok=True)
        with open(path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
            yield

    # plugins
    def sync_plugins(self, plugins: list[dict[str, Any]]) -> None:
        """Record the installed plugins (name, version, entry_point, category, description, retired)."""
        stamp = now()
        with self._tx() as cur:
            cur.execute(f"UPDATE {SCHEMA}.plugins SET installed = ?", (False,))
            for p in plugins:
                cur.execute(
                    f"""INSERT INTO {SCHEMA}.plugins VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET version = excluded.version, entry_point = excluded.entry_point,
                    category = excluded.category, description = excluded.description, retired = excluded.retired,
                    installed = excluded.installed, updated_at = excluded.updated_at""",
                    (p["name"], p["version"], p["entry_point"], p["category"], p["description"],
                     bool(p["retired"]), True, stamp, stamp))

    def plugins(self) -> list[dict[str, Any]]:
        with self._tx() as cur:
            rows = cur.all(f"SELECT name, version, entry_point, category, description, retired, installed, "
                           f"first_seen_at, updated_at FROM {SCHEMA}.plugins ORDER BY name")
        return [{**r, "retired": bool(r["retired"]), "installed": bool(r["installed"])} for r in rows]

    # connectors
    def add(self, name: str, plugin: str, config: dict[str, Any], enabled: bool = True) -> Connector:
        if not NAME.match(name):
            raise RegistryError(f"connector name {name!r}: use 1-63 lower-case letters, digits, '-' or '_'")
        stamp = now()
        with self._tx() as cur:
            if cur.one(f"SELECT name FROM {SCHEMA}.connectors WHERE name = ?", (name,)):
                raise Conflict(f"connector {name!r} already exists")
            cur.execute(f"INSERT INTO {SCHEMA}.connectors (name, plugin, config, enabled, created_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)", (name, plugin, json.dumps(config), enabled, stamp, stamp))
        return self.get(name)

    def update(self, name: str, config: dict[str, Any] | None = None, enabled: bool | None = None) -> Connector:
        current = self.get(name)
        with self._tx() as cur:
            cur.execute(f"UPDATE {SCHEMA}.connectors SET config = ?, enabled = ?, updated_at = ? WHERE name = ?",
                        (json.dumps(current.config if config is None else config),
                         current.enabled if enabled is None else enabled, now(), name))
        return self.get(name)

    def get(self, name: str) -> Connector:
        with self._tx() as cur:
            row = cur.one(f"SELECT {CONNECTOR_COLUMNS} FROM {SCHEMA}.connectors WHERE name = ?", (name,))
        if row is None:
            raise NotFound(f"no connector named {name!r}")
        return _connector(row)

    def list(self) -> list[Connector]:
        with self._tx() as cur:
            rows = cur.all(f"SELECT {CONNECTOR_COLUMNS} FROM {SCHEMA}.connectors ORDER BY name")
        return [_connector(r) for r in rows]

    def remove(self, name: str) -> None:
        self.get(name)
        with self._tx() as cur:
            cur.execute(f"DELETE FROM {SCHEMA}.loaded_units WHERE connector = ?", (name,))
            cur.execute(f"DELETE FROM {SCHEMA}.connectors WHERE name = ?", (name,))

    def record_sync(self, name: str, status: str, rows: int, error: str | None) -> Connector:
        with self._tx() as cur:
            cur.execute(f"UPDATE {SCHEMA}.connectors SET last_sync_at = ?, last_status = ?, last_error = ?, "
                        "rows_processed = rows_processed + ? WHERE name = ?", (now(), status, error, rows, name))
        return self.get(name)

    # incremental state
    def loaded_units(self, name: str) -> dict[str, str]:
        with self._tx() as cur:
            rows = cur.all(f"SELECT unit, fingerprint FROM {SCHEMA}.loaded_units WHERE connector = ?", (name,))
        return {r["unit"]: r["fingerprint"] for r in rows}

    def mark_loaded(self, name: str, unit: str, fingerprint: str, rows: int) -> None:
        with self._tx() as cur:
            cur.execute(f"""INSERT INTO {SCHEMA}.loaded_units VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (connector, unit) DO UPDATE SET fingerprint = excluded.fingerprint,
                rows_loaded = excluded.rows_loaded, loaded_at = excluded.loaded_at""",
                        (name, unit, fingerprint, rows, now()))


class _Cursor:
    """One SQL dialect for both engines: ``?`` placeholders, rows as dicts."""

    def __init__(self, cur: Any, kind: str) -> None:
        self._cur, self._pg = cur, kind == "postgresql"

    def execute(self, sql: str, params: tuple = ()) -> None:
        self._cur.execute(sql.replace("?", "%s") if self._pg else sql, params)

    def all(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        self.execute(sql, params)
        names = [d[0] for d in self._cur.description]
        return [dict(zip(names, row, strict=True)) for row in self._cur.fetchall()]

    def one(self, sql: str, params: tuple = ()) -> dict[str, Any] | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None


def _connector(row: dict[str, Any]) -> Connector:
    return Connector(**{**row, "config": json.loads(row["config"]), "enabled": bool(row["enabled"]),
                        "rows_processed": int(row["rows_processed"] or 0)})
