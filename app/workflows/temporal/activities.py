"""Temporal activities: the plain steps of :mod:`app.workflows.activities`, run in the worker that owns the
warehouse.

Steps block (ClickHouse, HTTP), so each runs in a thread while the activity heartbeats; a worker that dies stops
heartbeating and Temporal retries the step elsewhere after the heartbeat timeout. A :class:`TaskFailure` becomes an
``ApplicationError`` typed by its kind: configuration and refused-data failures are not retried, throttling waits
``throttle_delay_s`` before the next attempt, anything else follows the capped exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Optional

from temporalio import activity
from temporalio.exceptions import ApplicationError

from app.workflows import activities as steps
from app.workflows.activities import Runtime, TaskFailure
from app.workflows.types import CheckInput, MonthLoad, MonthTask, PlanInput, QualityReport, RunEvent

log = logging.getLogger(__name__)
DEFAULT_HEARTBEAT_S = 10.0


class AbiActivities:
    """The activities of one worker; the runtime (warehouse, registry) opens on first use, in the worker."""

    def __init__(self, runtime: Callable[[], Runtime] = Runtime.open, threads: int = 4) -> None:
        self._factory, self._rt = runtime, None
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="abi-activity")

    def runtime(self) -> Runtime:
        with self._lock:
            if self._rt is None:
                self._rt = self._factory()
            return self._rt

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._rt is not None:
            self._rt.close()

    def all(self) -> list[Callable[..., Any]]:
        return [self.list_connectors, self.plan_backfill, self.extract_month, self.check_quality, self.record_run]

    async def _run(self, fn: Callable[..., Any], *args: Any, throttle_delay_s: float = 600.0) -> Any:
        """Run ``fn(runtime, *args)`` in a thread, heartbeating until it returns."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, lambda: fn(self.runtime(), *args))
        timeout = activity.info().heartbeat_timeout
        every = timeout.total_seconds() / 3 if timeout else DEFAULT_HEARTBEAT_S
        while True:
            done, _ = await asyncio.wait({future}, timeout=every)
            if done:
                break
            activity.heartbeat()
        try:
            return future.result()
        except TaskFailure as exc:
            raise _application_error(exc, throttle_delay_s) from None

    @activity.defn(name="abi.list_connectors")
    async def list_connectors(self, name: Optional[str]) -> list[str]:
        return await self._run(steps.connectors, name)

    @activity.defn(name="abi.plan_backfill")
    async def plan_backfill(self, plan: PlanInput) -> list[str]:
        return await self._run(steps.plan_backfill, plan)

    @activity.defn(name="abi.extract_month")
    async def extract_month(self, task: MonthTask) -> MonthLoad:
        attempt = activity.info().attempt
        return await self._run(steps.extract_month, task, attempt, throttle_delay_s=task.throttle_delay_s)

    @activity.defn(name="abi.check_quality")
    async def check_quality(self, inp: CheckInput) -> QualityReport:
        return await self._run(steps.check_quality, inp)

    @activity.defn(name="abi.record_run")
    async def record_run(self, event: RunEvent) -> None:
        await self._run(steps.record_run, event)


def _application_error(exc: TaskFailure, throttle_delay_s: float) -> ApplicationError:
    delay = timedelta(seconds=throttle_delay_s) if exc.kind == "throttled" else None
    log.warning("activity %s failed (%s, retryable=%s): %s", activity.info().activity_type, exc.kind,
                exc.retryable, exc)
    return ApplicationError(str(exc), type=exc.kind, non_retryable=not exc.retryable, next_retry_delay=delay)
