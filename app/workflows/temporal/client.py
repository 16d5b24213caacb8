"""Talking to Temporal: start, cancel and retry runs, read their state and history, manage daily schedules.

Address: ``ABI_TEMPORAL_ADDRESS`` (default ``127.0.0.1:7233``, the local stack's), namespace
``ABI_TEMPORAL_NAMESPACE`` (default ``default``). Daily schedules are per connector (``abi-daily-<connector>``),
cron in UTC, default ``0 2 * * *``; a run still going when the next one is due makes the next one skip.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields
from datetime import UTC, date, datetime
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    WorkflowExecutionStatus,
)
from temporalio.converter import value_to_type

from app.connectors.base import PluginError, months, utc_today
from app.connectors.service import parse_month
from app.workflows.temporal.workflows import INPUT_TYPES
from app.workflows.types import (
    BACKFILL,
    DAILY,
    DEFAULT_CRON,
    MAX_BACKFILL_MONTHS,
    QUALITY,
    TASK_QUEUE,
    DailyInput,
    quality_periods,
)

SCHEDULE_PREFIX = "abi-daily-"
CRON_NOTE = "; cron: "
"""Temporal keeps a cron as calendar specs; the note keeps it as written."""


class WorkflowUsageError(ValueError):
    """A request the CLI refuses (unknown workflow, bad input, unknown run)."""


def address() -> str:
    return os.environ.get("ABI_TEMPORAL_ADDRESS") or "127.0.0.1:7233"


def namespace() -> str:
    return os.environ.get("ABI_TEMPORAL_NAMESPACE") or "default"


async def connect(target: str | None = None) -> Client:
    return await Client.connect(target or address(), namespace=namespace())


def parse_input(name: str, data: dict[str, Any]) -> Any:
    """The workflow's input dataclass from JSON (unknown workflow or fields: WorkflowUsageError)."""
    if name not in INPUT_TYPES:
        raise WorkflowUsageError(f"unknown workflow {name!r}; known: {', '.join(INPUT_TYPES)}")
    if not isinstance(data, dict):
        raise WorkflowUsageError(f"input of {name}: a JSON object, not {type(data).__name__}")
    known = {f.name for f in fields(INPUT_TYPES[name])}
    if unknown := sorted(set(data) - known):  # a misspelt ``max_paralel`` was silently the default
        raise WorkflowUsageError(f"input of {name}: unknown field(s) {', '.join(unknown)}; known: "
                                 f"{', '.join(sorted(known))}")
    try:
        inp = value_to_type(INPUT_TYPES[name], data)
        if name == DAILY and not 1 <= inp.months <= MAX_BACKFILL_MONTHS:
            raise ValueError(f"months: {inp.months}; a daily run refreshes 1 to {MAX_BACKFILL_MONTHS} months")
        if name == BACKFILL:
            _check_months(inp.start, inp.end)
        if name == QUALITY:
            quality_periods(inp.start, inp.end, date.fromisoformat(inp.today) if inp.today else utc_today())
        return inp
    except (TypeError, ValueError, KeyError, PluginError) as exc:
        raise WorkflowUsageError(f"input of {name}: {exc}") from exc


def _check_months(start: str, end: str) -> None:
    """A backfill's range, checked before it starts (as the workflow would, months later in its run)."""
    first = parse_month(start, "start")
    if first > utc_today().replace(day=1):
        raise ValueError(f"{start} has not begun: a backfill loads months that have charges")
    count = len(months(first, parse_month(end, "end")))
    if count > MAX_BACKFILL_MONTHS:
        raise ValueError(f"a backfill covers at most {MAX_BACKFILL_MONTHS} months (Azure's history); "
                         f"{start}..{end} is {count}")


def new_id(name: str, inp: Any) -> str:
    who = getattr(inp, "connector", None) or "all"
    return f"abi-{name}-{who}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"


async def start(client: Client, name: str, data: dict[str, Any], workflow_id: str | None = None,
                task_queue: str = TASK_QUEUE) -> str:
    """Start workflow ``name`` with JSON ``data``; returns the run's workflow id."""
    inp = parse_input(name, data)
    wid = workflow_id or new_id(name, inp)
    await client.start_workflow(name, inp, id=wid, task_queue=task_queue)
    return wid


async def cancel(client: Client, workflow_id: str) -> str | None:
    """Request the run's cancellation; None, or the state of a run that has ended already (nothing to cancel)."""
    from temporalio.client import WorkflowExecutionStatus

    handle = client.get_workflow_handle(workflow_id)
    status = (await handle.describe()).status
    if status is not None and status != WorkflowExecutionStatus.RUNNING:
        return status.name.lower().replace("_", " ")
    await handle.cancel()
    return None


async def started_input(client: Client, workflow_id: str) -> tuple[str, dict[str, Any]]:
    """(workflow name, input as JSON) of a run, from its first history event."""
    handle = client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events():
        attrs = event.workflow_execution_started_event_attributes
        payloads = attrs.input.payloads
        return attrs.workflow_type.name, json.loads(payloads[0].data) if payloads else {}
    raise WorkflowUsageError(f"no history for {workflow_id}")


async def retry(client: Client, workflow_id: str, task_queue: str = TASK_QUEUE) -> str:
    """Start a run again with the same input; a backfill resumes (its completed months are not redone)."""
    name, data = await started_input(client, workflow_id)
    if name == BACKFILL:
        data["resume_key"] = data.get("resume_key") or workflow_id
    return await start(client, name, data, f"{workflow_id.split('-retry-')[0]}-retry-"
                                           f"{datetime.now(UTC):%Y%m%dT%H%M%S}", task_queue)


async def describe(client: Client, workflow_id: str) -> dict[str, Any]:
    """The run as Temporal sees it, with its activities still pending: their attempt and last failure (a month
    failing and retried shows here before the run itself fails)."""
    desc = await client.get_workflow_handle(workflow_id).describe()
    memo = await desc.memo()
    pending = [{"activity": p.activity_type.name, "attempt": p.attempt,
                "last_failure": p.last_failure.message or None if p.HasField("last_failure") else None}
               for p in desc.raw_description.pending_activities]
    return {"id": desc.id, "run_id": desc.run_id, "workflow": desc.workflow_type,
            "status": _status(desc.status), "started": _iso(desc.start_time), "ended": _iso(desc.close_time),
            "task_queue": desc.task_queue, **{k: memo.get(k) for k in ("connector", "rows", "error")},
            "pending": pending}


async def list_runs(client: Client, limit: int = 20, workflows: list[str] | None = None,
                    connectors: list[str] | None = None, statuses: list[str] | None = None) -> list[dict[str, Any]]:
    """Recent runs from Temporal's visibility (newest first), filtered as ``abi workflows list`` asks."""
    out = []
    async for wf in client.list_workflows(_visibility(workflows, statuses)):
        memo = await wf.memo()
        if connectors and memo.get("connector") not in connectors:
            continue
        out.append({"id": wf.id, "workflow": wf.workflow_type, "status": _status(wf.status),
                    "started": _iso(wf.start_time), "ended": _iso(wf.close_time), "connector": memo.get("connector"),
                    "rows": memo.get("rows"), "error": memo.get("error")})
        if len(out) == limit:
            break
    return out


def _visibility(workflows: list[str] | None, statuses: list[str] | None) -> str:
    """A visibility query of the workflow types and statuses (ABI's names: ``cancelled``, ``failed``…)."""
    names = {v: k for k, v in STATUS_NAMES.items()}
    if workflows and not set(workflows) & set(INPUT_TYPES):
        return "WorkflowType = ''"  # no workflow of such a name: no run
    parts = [" OR ".join(f"WorkflowType = '{w}'" for w in workflows or [] if w in INPUT_TYPES),
             " OR ".join(f"ExecutionStatus = '{names[s]}'" for s in statuses or [] if s in names)]
    return " AND ".join(f"({p})" for p in parts if p)


async def history(client: Client, workflow_id: str) -> list[dict[str, Any]]:
    """The run's events that matter: start, activity attempts and failures, timers, end."""
    from google.protobuf.json_format import MessageToDict

    out = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        kind = event.WhichOneof("attributes") or ""
        if "task" in kind and "activity" not in kind:
            continue
        attrs = MessageToDict(getattr(event, kind)) if kind else {}
        out.append({"id": event.event_id, "time": _iso(event.event_time.ToDatetime(UTC)),
                    "event": kind.removesuffix("_event_attributes"), **_event_summary(attrs)})
    return out


def _event_summary(attrs: dict[str, Any]) -> dict[str, Any]:
    keep = {}
    if "activityType" in attrs:
        keep["activity"] = attrs["activityType"].get("name")
    for key in ("attempt", "retryState", "scheduledEventId"):
        if key in attrs:
            keep[key] = attrs[key]
    failure = attrs.get("failure") or attrs.get("lastFailure")
    if failure:
        keep["failure"] = (failure.get("cause") or failure).get("message")
    return keep


async def set_schedule(client: Client, connector: str, cron: str = DEFAULT_CRON, months: int = 2,
                       task_queue: str = TASK_QUEUE) -> str:
    """Create or update the daily schedule of ``connector``; returns its id."""
    if not 1 <= months <= MAX_BACKFILL_MONTHS:
        raise WorkflowUsageError(f"--months {months}: a daily run refreshes 1 to {MAX_BACKFILL_MONTHS} months")
    sid = SCHEDULE_PREFIX + connector
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(DAILY, DailyInput(connector=connector, months=months), id=sid,
                                           task_queue=task_queue),
        spec=ScheduleSpec(cron_expressions=[cron]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(note=f"ABI daily extraction of {connector}{CRON_NOTE}{cron}"))
    try:
        await client.create_schedule(sid, schedule)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(sid).update(lambda _: ScheduleUpdate(schedule=schedule))
    return sid


async def list_schedules(client: Client) -> list[dict[str, Any]]:
    out = []
    async for entry in await client.list_schedules():
        if not entry.id.startswith(SCHEDULE_PREFIX):
            continue
        desc = await client.get_schedule_handle(entry.id).describe()
        note = desc.schedule.state.note or ""
        out.append({"id": entry.id, "connector": entry.id.removeprefix(SCHEDULE_PREFIX),
                    "cron": note.partition(CRON_NOTE)[2], "paused": desc.schedule.state.paused,
                    "next": [_iso(t) for t in desc.info.next_action_times[:3]],
                    "recent": [a.action.workflow_id for a in desc.info.recent_actions[-3:]
                               if hasattr(a.action, "workflow_id")]})
    return out


async def delete_schedule(client: Client, connector: str) -> None:
    await client.get_schedule_handle(SCHEDULE_PREFIX + connector).delete()


STATUS_NAMES = {"Running": "running", "Completed": "completed", "Failed": "failed", "Canceled": "cancelled",
                "Terminated": "terminated", "TimedOut": "timed_out", "ContinuedAsNew": "continued_as_new"}
"""Temporal's execution statuses (as its visibility queries name them) and ABI's (as ``workflow_runs`` does)."""


def _status(status: WorkflowExecutionStatus | None) -> str:
    if status is None:
        return "unknown"
    return {"CANCELED": "cancelled"}.get(status.name, status.name.lower())


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def as_json(value: Any) -> Any:
    return asdict(value) if hasattr(value, "__dataclass_fields__") else value
