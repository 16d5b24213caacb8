"""``abi workflows …``: run, watch, cancel and retry the workflows; schedules; the worker.

Run history comes from ClickHouse (``workflow_runs``) when the warehouse can be opened, else from Temporal's own
visibility (e.g. while a worker holds the embedded warehouse).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from app.cli.commands import CommandError
from app.workflows.types import DEFAULT_CRON, WORKFLOWS

RUN_COLUMNS = ("run_id", "workflow", "connector", "status", "started_at", "ended_at", "rows_processed", "error")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``workflows`` command group to the ``abi`` parser."""
    wf = sub.add_parser("workflows", help="scheduled extraction, backfill and data-quality workflows (Temporal)")
    wf.add_argument("--address", help="Temporal host:port (default: ABI_TEMPORAL_ADDRESS or 127.0.0.1:7233)")
    acts = wf.add_subparsers(dest="action", required=True)
    p = acts.add_parser("list", help="recent runs, newest first")
    for flag in ("--workflow", "--connector", "--status"):
        p.add_argument(flag, action="append", default=[])
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_guard(list_runs))
    for name, helptext, fn in (("status", "a run: its state, months and Temporal's view", status),
                               ("history", "a run's Temporal events (activity attempts, failures)", history),
                               ("cancel", "cancel a run (loads in flight finish atomically or not at all)", cancel),
                               ("retry", "start a run again; a backfill skips its completed months", retry)):
        p = acts.add_parser(name, help=helptext)
        p.add_argument("id", help="the run's workflow id")
        p.add_argument("--json", action="store_true")
        if name == "retry":
            p.add_argument("--wait", action="store_true", help="wait for the run to end")
        p.set_defaults(run=_guard(fn))
    p = acts.add_parser("run", help="start a workflow: " + ", ".join(WORKFLOWS))
    p.add_argument("name", choices=WORKFLOWS)
    p.add_argument("--input", default="{}", help='JSON, e.g. {"connector": "azure", "start": "2026-01", ...}')
    p.add_argument("--id", help="workflow id (default: abi-<name>-<connector>-<time>)")
    p.add_argument("--wait", action="store_true", help="wait for the run to end and print its report")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_guard(run))
    _register_schedules(acts)
    p = acts.add_parser("worker", help="run the worker (python -m app.workflows.worker)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(run=worker)


def worker(args: argparse.Namespace) -> int:
    from app.workflows.worker import main as serve

    return serve((["--address", args.address] if args.address else []) + args.rest)


def _register_schedules(acts: argparse._SubParsersAction) -> None:
    p = acts.add_parser("schedule", help="create/update (or --delete) a connector's daily schedule")
    p.add_argument("connector", nargs="?", help="default: every enabled connector without a schedule")
    p.add_argument("--cron", default=None, help=f"UTC cron (default {DEFAULT_CRON}, or ABI_DAILY_CRON)")
    p.add_argument("--months", type=int, default=2, help="billing months refreshed per run")
    p.add_argument("--delete", action="store_true")
    p.set_defaults(run=_guard(schedule))
    p = acts.add_parser("schedules", help="the daily schedules and their next runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_guard(schedules))


def _guard(fn):
    def go(args: argparse.Namespace) -> int:
        from temporalio.service import RPCError

        from app.workflows.temporal.client import WorkflowUsageError

        args.temporal_client = True  # see app.cli.streams.exit_now
        try:
            return asyncio.run(fn(args))
        except CommandError:
            raise
        except (WorkflowUsageError, json.JSONDecodeError) as exc:
            raise CommandError(str(exc)) from exc
        except RPCError as exc:
            raise CommandError(f"Temporal: {exc}") from exc
        except RuntimeError as exc:
            if "connect" in str(exc).lower():
                raise CommandError(f"cannot reach Temporal: {exc} (abi stack up, or --address)") from exc
            raise

    return go


async def _client(args: argparse.Namespace):
    from app.workflows.temporal.client import connect

    return await connect(args.address)


def _records(query) -> list[dict[str, Any]] | None:
    """Rows from the warehouse, or None when it cannot be opened (e.g. a worker holds the embedded engine)."""
    from app.apis.service import warehouse_execute
    from app.core.warehouse import WarehouseError, open_warehouse
    from app.workflows.store import ensure_workflow_schema

    try:
        wh = open_warehouse()
    except WarehouseError as exc:
        print(f"abi: run records unavailable ({exc}); showing Temporal's view", file=sys.stderr)
        return None
    try:
        ensure_workflow_schema(wh)
        return warehouse_execute(wh)(query)
    finally:
        wh.close()


async def list_runs(args: argparse.Namespace) -> int:
    from app.apis.operations import WorkflowRunsQuery, workflow_runs

    rows = _records(workflow_runs(WorkflowRunsQuery(workflow=args.workflow, connector=args.connector,
                                                    status=args.status, limit=args.limit)))
    if rows is None:
        from app.workflows.temporal.client import list_runs as temporal_runs

        rows = await temporal_runs(await _client(args), args.limit, args.workflow, args.connector, args.status)
    _show(rows, args.json, RUN_COLUMNS if rows and "run_id" in rows[0] else None)
    return 0


async def status(args: argparse.Namespace) -> int:
    from app.apis.operations import WorkflowRunsQuery, run_tasks, workflow_runs
    from app.workflows.temporal.client import describe

    recorded = _records(workflow_runs(WorkflowRunsQuery(run_id=args.id)))
    tasks = _records(run_tasks(args.id)) if recorded is not None else None
    try:
        temporal = await describe(await _client(args), args.id)
    except Exception as exc:  # noqa: BLE001 - Temporal's view is optional when ClickHouse has the record
        if not recorded:
            raise
        temporal = {"error": str(exc)}
    out = {"run": (recorded or [None])[0], "temporal": temporal, "months": tasks}
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return 0
    shown = {**(out["run"] or {}), **{f"temporal.{k}": v for k, v in temporal.items() if k != "pending"}}
    for key, value in shown.items():
        print(f"{key:>22}: {value}")
    for p in temporal.get("pending") or []:  # a month failing and retried, before the run fails
        print(f"{'pending':>22}: {p['activity']} attempt {p['attempt']}"
              + (f", last failure: {p['last_failure']}" if p["last_failure"] else ""))
    if tasks:
        print()
        _show(tasks, False, ("month", "status", "attempt", "rows_read", "rows_loaded", "rows_quarantined", "error"))
    return 0


async def history(args: argparse.Namespace) -> int:
    from app.workflows.temporal.client import history as events

    _show(await events(await _client(args), args.id), args.json, None)
    return 0


async def run(args: argparse.Namespace) -> int:
    from app.workflows.temporal.client import start

    try:
        data = json.loads(args.input)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--input is not JSON ({exc}): e.g. --input '{{\"connector\": \"cost\"}}'") from exc
    _known_connector(data.get("connector") if isinstance(data, dict) else None)
    client = await _client(args)
    wid = await start(client, args.name, data, args.id)
    return await _started(client, wid, args)


def _known_connector(name: str | None) -> None:
    """Refuses a connector the registry does not hold (the worker would fail on it only once started)."""
    if not name:
        return
    from app.connectors.registry import Registry

    registry = Registry()
    try:
        known = [c.name for c in registry.list()]
    finally:
        registry.close()
    if name not in known:
        raise CommandError(f"no connector named {name!r} (abi connectors list: {', '.join(known) or 'none'})")


async def retry(args: argparse.Namespace) -> int:
    from app.workflows.temporal.client import retry as again

    client = await _client(args)
    return await _started(client, await again(client, args.id), args)


async def _started(client, wid: str, args: argparse.Namespace) -> int:
    print(json.dumps({"id": wid}) if args.json else f"started {wid}")
    if not getattr(args, "wait", False):
        return 0
    from temporalio.client import WorkflowFailureError

    try:
        report = await client.get_workflow_handle(wid).result()
    except WorkflowFailureError as exc:
        print(f"abi: {wid} failed: {exc.cause}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2, default=str))
    return 0


async def cancel(args: argparse.Namespace) -> int:
    from app.workflows.temporal.client import cancel as stop

    ended = await stop(await _client(args), args.id)
    if ended:
        raise CommandError(f"{args.id} has ended ({ended}): nothing to cancel")
    print(f"cancellation requested for {args.id}")
    return 0


async def schedule(args: argparse.Namespace) -> int:
    import os

    from app.workflows.temporal.client import delete_schedule, list_schedules, set_schedule

    client = await _client(args)
    if args.delete:
        if not args.connector:
            raise CommandError("--delete needs a connector")
        await delete_schedule(client, args.connector)
        print(f"deleted the schedule of {args.connector}")
        return 0
    _known_connector(args.connector)
    cron = args.cron or os.environ.get("ABI_DAILY_CRON") or DEFAULT_CRON
    names = [args.connector] if args.connector else await _unscheduled(client, list_schedules)
    for name in names:
        print(f"{await set_schedule(client, name, cron, args.months)}: {cron} (UTC)")
    return 0


async def _unscheduled(client, list_schedules) -> list[str]:
    from app.connectors.registry import Registry

    have = {s["connector"] for s in await list_schedules(client)}
    return [c.name for c in Registry().list() if c.enabled and c.name not in have]


async def schedules(args: argparse.Namespace) -> int:
    from app.workflows.temporal.client import list_schedules

    _show(await list_schedules(await _client(args)), args.json, ("id", "connector", "cron", "paused", "next"))
    return 0


def _show(rows: list[dict[str, Any]], as_json: bool, columns: tuple[str, ...] | None) -> None:
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        print("(none)")
        return
    cols = list(columns or dict.fromkeys(k for r in rows for k in r))
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
