"""``abi stack``: the local Moose stack without Docker (Redis, Temporal, tansu, ClickHouse HTTP over chdb)."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from app.core import settings
from app.stack import kafka_client, local
from app.stack.processes import this_process
from app.stack.services import StackConfig

PORT_FLAGS = ("redis_port", "temporal_port", "temporal_http_port", "kafka_port", "clickhouse_port")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``abi stack …`` to the CLI."""
    stack = sub.add_parser("stack", help="local Moose stack without Docker (dev and tests only)")
    actions = stack.add_subparsers(dest="action", required=True)
    for name, run, text in (
        ("up", _up, "start the stack (already running: reset Moose's state in it)"),
        ("down", _down, "stop exactly what 'up' started"),
        ("status", _status, "health of each service (exit 1 unless all are healthy)"),
        ("reset", _reset, "clear Moose's state in Redis and restart the broker empty"),
        ("env", _env, "print the environment for 'moose-cli dev --no-infra' (eval it)"),
        ("dev", _dev, "reset, then run 'moose-cli dev --no-infra' on the stack"),
        ("prepare", _prepare, "install the Kafka client Moose's Python streaming runner needs here"),
    ):
        parser = actions.add_parser(name, help=text)
        _add_config_flags(parser)
        parser.set_defaults(run=run)
        if name == "status":
            parser.add_argument("--json", action="store_true")


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", dest="run_dir", help="run directory (ABI_STACK_RUN_DIR, default .abi/stack)")
    for flag in PORT_FLAGS:
        parser.add_argument("--" + flag.replace("_", "-"), dest=flag, type=int,
                            help=f"(ABI_STACK_{flag.upper()})")


def config(args: argparse.Namespace) -> StackConfig:
    """Flags, else ``ABI_STACK_*`` variables, else defaults; a running stack's recorded ports unless flags say."""
    flags = {f: getattr(args, f) for f in PORT_FLAGS}
    cfg = StackConfig.from_env(run_dir=args.run_dir, **flags)
    if args.action == "up" or any(v is not None for v in flags.values()):
        return cfg
    return local.recorded_config(cfg)


def _print_status(rows: list[local.ServiceStatus]) -> None:
    for row in rows:
        state = "healthy" if row.healthy else (row.problem or "unhealthy")
        print(f"{row.name:<11} 127.0.0.1:{row.port:<6} pid {row.pid or '-':<8} {state}")


def _up(args: argparse.Namespace) -> int:
    try:
        rows = local.up(config(args))
    except local.StackError as exc:
        print(f"abi stack: {exc}", file=sys.stderr)
        return 1
    _print_status(rows)
    return 0 if all(r.healthy for r in rows) else 1


def _down(args: argparse.Namespace) -> int:
    for name, pid, killed in local.down(config(args)):
        print(f"{name:<11} pid {pid:<8} {'killed' if killed else 'stopped'}")
    return 0


def _status(args: argparse.Namespace) -> int:
    cfg = config(args)
    rows = local.status(cfg)
    if args.json:
        print(json.dumps([{**vars(r), "healthy": r.healthy} for r in rows]))
    else:
        if not local.load_state(cfg):
            print(f"no stack recorded in {cfg.run_dir}: the ports below are those 'abi stack up' would use")
        _print_status(rows)
    return 0 if all(r.healthy for r in rows) else 1


def _reset(args: argparse.Namespace) -> int:
    try:
        local.reset(config(args))
    except local.StackError as exc:
        print(f"abi stack: {exc}", file=sys.stderr)
        return 1
    return 0


def _env(args: argparse.Namespace) -> int:
    for key, value in local.moose_env(config(args)).items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def _dev(args: argparse.Namespace) -> int:
    """Replace this process with ``moose-cli dev --no-infra``; HOME is ``<run dir>/moose-home`` (telemetry off,
    Moose's logs in ``<run dir>/moose-home/.moose/``)."""
    cfg = config(args)
    if not all(r.healthy for r in local.status(cfg)):
        print("abi stack: the stack is not running (abi stack up)", file=sys.stderr)
        return 1
    try:
        local.reset(cfg)
    except local.StackError as exc:
        print(f"abi stack: {exc}", file=sys.stderr)
        return 1
    env = {**os.environ, **local.moose_env(cfg)}
    home = cfg.run_dir / "moose-home"
    local.write_moose_home(home)
    env["HOME"] = str(home)
    os.chdir(settings.PROJECT_ROOT)
    moose = str(Path(sys.executable).parent / "moose-cli")
    local.record_moose(cfg, this_process([moose, "dev", "--no-infra"]))  # exec keeps the PID
    os.execve(moose, [moose, "dev", "--no-infra"], env)
    return 0  # not reached


def _prepare(args: argparse.Namespace) -> int:
    print(kafka_client.ensure_overlay())
    return 0
