"""``abi stack up|down|status``: a local Moose stack without Docker, for development and tests.

``up`` starts every service of ``app.stack.services`` on 127.0.0.1, waits until each answers its health probe,
creates the ClickHouse database Moose expects, and records PIDs in ``<run dir>/state.json``. ``down`` stops exactly
those processes (PID and start time checked). Moose keeps its state in Redis and the broker keeps topics in memory:
``reset`` clears Moose's keys and restarts the broker empty, so a new ``moose-cli dev`` plans from scratch (a stale
``MS::infrastructure_map`` would stop it from starting the topic-to-table syncs).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

from app.core import settings
from app.stack import kafka_client, probes
from app.stack.processes import POLL_S, ProcessRecord, alive, start, stop
from app.stack.services import SERVICES, Service, StackConfig, service

log = logging.getLogger("abi.stack")

READY_TIMEOUT_S = {"redis": 20.0, "temporal": 60.0, "kafka": 20.0, "clickhouse": 90.0}


class StackError(RuntimeError):
    """The stack could not be brought up (the message says which service and why)."""


@dataclass
class ServiceStatus:
    name: str
    port: int
    pid: int | None
    running: bool
    problem: str | None

    @property
    def healthy(self) -> bool:
        return self.running and self.problem is None


def _state_path(cfg: StackConfig) -> Path:
    return cfg.run_dir / "state.json"


def load_state(cfg: StackConfig) -> dict[str, ProcessRecord]:
    path = _state_path(cfg)
    if not path.is_file():
        return {}
    return {name: ProcessRecord(**rec) for name, rec in json.loads(path.read_text())["services"].items()}


def recorded_config(cfg: StackConfig) -> StackConfig:
    """``cfg`` with the ports of the stack recorded in its run directory, when there is one."""
    path = _state_path(cfg)
    if not path.is_file():
        return cfg
    return replace(cfg, **json.loads(path.read_text())["ports"])


def _save_state(cfg: StackConfig, records: dict[str, ProcessRecord]) -> None:
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    body = {"ports": cfg.ports(), "database": cfg.database,
            "services": {name: rec.as_dict() for name, rec in records.items()}}
    tmp = _state_path(cfg).with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=2))
    tmp.replace(_state_path(cfg))


def _log_event(event: str, **fields: object) -> None:
    log.info("%s %s", event, " ".join(f"{k}={v}" for k, v in fields.items()))


def up(cfg: StackConfig) -> list[ServiceStatus]:
    """Start the stack (or, when it already runs, reset Moose's state in it); return each service's status."""
    if moose := running_moose(cfg):  # restarting services under it stops its streams without a word
        raise StackError(f"Moose runs on this stack (PID {moose.pid}, abi stack dev): stop it first")
    records = load_state(cfg)
    if records and all(alive(r) for r in records.values()) and set(records) == {s.name for s in SERVICES}:
        running = recorded_config(cfg)
        reset(running)
        return status(running)
    if records:
        down(cfg)
    _check_ports_free(cfg)
    kafka_client.ensure_overlay()
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    records = {}
    try:
        for svc in SERVICES:
            records[svc.name] = _start(cfg, svc)
            _save_state(cfg, records)
        for svc in SERVICES:
            _await_ready(cfg, svc, records[svc.name])
        _create_database(cfg)
    except BaseException:
        down(cfg)
        raise
    return status(cfg)


def _check_ports_free(cfg: StackConfig) -> None:
    busy = {name: port for name, port in cfg.ports().items() if probes.port_in_use(port)}
    if busy:
        raise StackError("ports already in use on 127.0.0.1: "
                         + ", ".join(f"{port} ({name})" for name, port in busy.items()))


def start_one(cfg: StackConfig, name: str) -> ProcessRecord:
    """Start one service of the stack on its own and wait until it is ready (stopped again when it is not)."""
    svc = service(name)
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    record = _start(cfg, svc)
    try:
        _await_ready(cfg, svc, record)
    except BaseException:
        stop(record)
        raise
    return record


def _start(cfg: StackConfig, svc: Service) -> ProcessRecord:
    record = start(svc.command(cfg), cfg.run_dir / "logs" / f"{svc.name}.log", settings.PROJECT_ROOT,
                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    _log_event("service_started", service=svc.name, pid=record.pid, port=svc.port(cfg))
    return record


def _await_ready(cfg: StackConfig, svc: Service, record: ProcessRecord) -> None:
    """Probe until healthy; fail fast if the process exits, or at the deadline."""
    started = time.monotonic()
    deadline = started + READY_TIMEOUT_S[svc.name]
    problem: str | None = "not probed"
    while time.monotonic() < deadline:
        if not alive(record):
            raise StackError(f"{svc.name} exited during start-up; log {record.log}:\n{_tail(record.log)}")
        problem = svc.probe(cfg)
        if problem is None:
            _log_event("service_ready", service=svc.name, seconds=round(time.monotonic() - started, 2))
            return
        time.sleep(POLL_S)
    raise StackError(f"{svc.name} not ready after {READY_TIMEOUT_S[svc.name]}s ({problem}); log {record.log}:\n"
                     f"{_tail(record.log)}")


def _tail(path: str, lines: int = 20) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _create_database(cfg: StackConfig) -> None:
    sql = f"CREATE DATABASE IF NOT EXISTS `{cfg.database}`".encode()
    request = urllib.request.Request(f"http://127.0.0.1:{cfg.clickhouse_port}/", data=sql, method="POST")
    with urllib.request.urlopen(request, timeout=30) as resp:
        resp.read()


def down(cfg: StackConfig) -> list[tuple[str, int, bool]]:
    """Stop what ``up`` started, in reverse order; return (service, pid, had to be killed)."""
    records = load_state(cfg)
    stopped = []
    for svc in reversed(SERVICES):
        record = records.get(svc.name)
        if record is None:
            continue
        was_alive = alive(record)
        killed = stop(record)
        if was_alive:
            _log_event("service_stopped", service=svc.name, pid=record.pid, killed=killed)
            stopped.append((svc.name, record.pid, killed))
    _state_path(cfg).unlink(missing_ok=True)
    return stopped


def status(cfg: StackConfig) -> list[ServiceStatus]:
    """Each service: recorded PID, whether that process runs, and its health probe's answer."""
    records = load_state(cfg)
    result = []
    for svc in SERVICES:
        record = records.get(svc.name)
        running = record is not None and alive(record)
        problem = svc.probe(cfg) if running else "not running"
        result.append(ServiceStatus(svc.name, svc.port(cfg), record.pid if record else None, running, problem))
    return result


def running_moose(cfg: StackConfig) -> ProcessRecord | None:
    """The ``abi stack dev`` (Moose) running on the stack, if one does."""
    path = cfg.run_dir / "moose.json"
    if not path.is_file():
        return None
    record = ProcessRecord(**json.loads(path.read_text()))
    return record if alive(record) else None


def record_moose(cfg: StackConfig, record: ProcessRecord) -> None:
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / "moose.json").write_text(json.dumps(record.as_dict()))


def reset(cfg: StackConfig) -> None:
    """Forget Moose's state: delete its Redis keys and restart the memory-only broker empty (refused while Moose
    runs on the stack: its streams would stop without a word)."""
    import redis

    if moose := running_moose(cfg):
        raise StackError(f"Moose runs on this stack (PID {moose.pid}, abi stack dev): stop it first; clearing its "
                         "state and restarting the broker under it stops its streams without a word")
    records = load_state(cfg)
    if "redis" not in records or not alive(records["redis"]):
        raise StackError(f"no stack is running from {cfg.run_dir} (abi stack up)")
    client = redis.Redis(host="127.0.0.1", port=cfg.redis_port, socket_timeout=5)
    keys = list(client.scan_iter(match=f"{cfg.redis_key_prefix}::*", count=1000))
    if keys:
        client.delete(*keys)
    _log_event("moose_state_cleared", keys=len(keys))
    kafka = service("kafka")
    if kafka.name in records:
        stop(records[kafka.name])
    records[kafka.name] = _start(cfg, kafka)
    _save_state(cfg, records)
    _await_ready(cfg, kafka, records[kafka.name])


def moose_env(cfg: StackConfig, http_port: int | None = None, management_port: int | None = None,
              proxy_port: int | None = None) -> dict[str, str]:
    """Environment for ``moose-cli dev --no-infra`` on this stack (``MOOSE_<SECTION>__<KEY>`` overrides)."""
    env = {
        "MOOSE_CLICKHOUSE_CONFIG__HOST": "127.0.0.1",
        "MOOSE_CLICKHOUSE_CONFIG__HOST_PORT": str(cfg.clickhouse_port),
        "MOOSE_CLICKHOUSE_CONFIG__DB_NAME": cfg.database,
        "MOOSE_CLICKHOUSE_CONFIG__USE_SSL": "false",
        "MOOSE_REDIS_CONFIG__URL": f"redis://127.0.0.1:{cfg.redis_port}",
        "MOOSE_REDIS_CONFIG__KEY_PREFIX": cfg.redis_key_prefix,
        "MOOSE_REDPANDA_CONFIG__BROKER": f"127.0.0.1:{cfg.kafka_port}",
        "MOOSE_TEMPORAL_CONFIG__TEMPORAL_HOST": "127.0.0.1",
        "MOOSE_TEMPORAL_CONFIG__TEMPORAL_PORT": str(cfg.temporal_port),
        "MOOSE_TEMPORAL_CONFIG__TEMPORAL_SCHEME": "http",
        "PYTHONPATH": os.pathsep.join(p for p in (str(kafka_client.overlay_dir()),
                                                  os.environ.get("PYTHONPATH", "")) if p),
        "PATH": os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", ""))),
        "VIRTUAL_ENV": sys.prefix,
    }
    for key, port in (("PORT", http_port), ("MANAGEMENT_PORT", management_port), ("PROXY_PORT", proxy_port)):
        if port is not None:
            env[f"MOOSE_HTTP_SERVER_CONFIG__{key}"] = str(port)
    return env


def write_moose_home(home: Path) -> Path:
    """A HOME for ``moose-cli`` with telemetry disabled (``$HOME/.moose/config.toml``)."""
    config = home / ".moose" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[telemetry]\nenabled = false\n")
    return config
