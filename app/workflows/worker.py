"""The ABI workflow worker: ``python -m app.workflows.worker`` (or ``abi workflows worker``).

It owns the warehouse for its whole life (the embedded engine allows one process per data directory; with
``ABI_CLICKHOUSE_URL`` any number of processes may share a server) and runs the workflows and their activities
on task queue ``abi-workflows``. SIGTERM / SIGINT stop it gracefully; a killed worker loses nothing: Temporal
retries its in-flight activities (idempotent loads) once their heartbeat times out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Callable
from datetime import timedelta

from temporalio.worker import Worker

from app.cli.streams import exit_now
from app.core import logs
from app.workflows.activities import Runtime
from app.workflows.temporal.activities import AbiActivities
from app.workflows.temporal.client import address, connect
from app.workflows.temporal.workflows import WORKFLOW_CLASSES
from app.workflows.types import TASK_QUEUE

log = logging.getLogger("app.workflows.worker")


def build_worker(client, activities: AbiActivities, task_queue: str = TASK_QUEUE, parallel: int = 4,
                 sticky_timeout_s: float = 10.0) -> Worker:
    """A temporalio Worker running ABI's workflows and ``activities``.

    ``sticky_timeout_s``: how long a run's next workflow task waits for this worker before any worker may take it
    (what a crashed worker costs its runs)."""
    return Worker(client, task_queue=task_queue, workflows=list(WORKFLOW_CLASSES), activities=activities.all(),
                  max_concurrent_activities=parallel,
                  sticky_queue_schedule_to_start_timeout=timedelta(seconds=sticky_timeout_s))


async def serve(target: str | None = None, task_queue: str = TASK_QUEUE, parallel: int = 4,
                runtime: Callable[[], Runtime] = Runtime.open, sticky_timeout_s: float = 10.0) -> None:
    """Connect, open the warehouse, run until SIGTERM/SIGINT."""
    client = await connect(target)
    activities = AbiActivities(runtime, threads=parallel)
    activities.runtime()  # open (and lock) the warehouse now: fail fast, before taking work
    worker = build_worker(client, activities, task_queue, parallel, sticky_timeout_s)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        print(json.dumps({"event": "worker_ready", "task_queue": task_queue, "address": target or address()}),
              flush=True)
        await stop.wait()
        log.info("worker stopping")
    activities.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.workflows.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--address", help="Temporal host:port (default: ABI_TEMPORAL_ADDRESS or 127.0.0.1:7233)")
    parser.add_argument("--task-queue", default=TASK_QUEUE)
    parser.add_argument("--parallel", type=int, default=4, help="activities run at once (threads)")
    parser.add_argument("--sticky-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="how long a run waits for this worker before another worker may continue it")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logs.configure(logging.DEBUG if args.verbose else logging.INFO)
    for noisy in ("azure", "msal", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        asyncio.run(serve(args.address, args.task_queue, args.parallel, sticky_timeout_s=args.sticky_timeout))
    except RuntimeError as exc:  # temporalio's: the server cannot be reached
        if "connect" not in str(exc).lower():
            raise
        print(f"abi worker: cannot reach Temporal at {args.address or address()}: {str(exc).splitlines()[0]} "
              "(abi stack up, or --address)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    exit_now(main())  # the warehouse is closed by then; the Temporal runtime crashed at finalization now and then
