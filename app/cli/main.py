"""``abi``: the command line of ABI (ingest, export, remove, sql, demo)."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path
from typing import NoReturn

from app.cli import commands, connectors, stack, streams, workflows
from app.core import logs, scratch, settings
from app.core.warehouse import WarehouseBusy, WarehouseError

DASHED = re.compile(r"required: (paths|files)$|unrecognized arguments: (.* )?-[^-]")
"""argparse's errors when a file named with a leading ``-`` was read as an unknown option."""
OUTPUT_COMMANDS = ("ingest", "sql", "files", "demo")
"""Commands whose result is on standard output (the others' too with ``--json``)."""


class Parser(argparse.ArgumentParser):
    """argparse, whose errors say how to name a file that starts with ``-``."""

    def error(self, message: str) -> NoReturn:
        if DASHED.search(message):
            command = self.prog if self.prog != "abi" else "abi ingest"
            message += f" (a file whose name starts with '-' goes after --: {command} -- -cost.csv, or ./-cost.csv)"
        super().error(message)


def _register_ingest(sub: argparse._SubParsersAction) -> None:
    ingest = sub.add_parser("ingest", help="load billing files (files, directories, globs)")
    ingest.add_argument("paths", nargs="+", help="billing files (.csv, .csv.gz, .parquet), ZIP archives of them, "
                        "folders (walked) and globs")
    ingest.add_argument("--source", choices=["auto", "azure-cost", "azure-focus", "focus"], default="auto",
                        help="the format (default: detected from each file's header)")
    ingest.add_argument("--dataset", choices=["auto", "actual", "amortized"], default="auto",
                        help="Azure cost files: actual or amortized (default: from the path, else the rows)")
    ingest.add_argument("--set", action="append", default=[], metavar="COLUMN=VALUE", dest="given",
                        help="a value for a column the files lack or leave empty, e.g. BillingCurrency=EUR for an old "
                             "EA usage file with no currency column (repeatable)")
    ingest.add_argument("--json", action="store_true", help="print one JSON object")
    ingest.set_defaults(run=commands.ingest)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="abi", description="Azure billing data to FOCUS 1.2 in ClickHouse.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    _register_ingest(sub)
    export = sub.add_parser("export", help="write the FOCUS 1.2 dataset")
    export.add_argument("--format", choices=["parquet", "csv"], required=True)
    export.add_argument("--out", required=True, help="the file to write (- : standard output)")
    export.add_argument("--billing-period", help="YYYY-MM")
    export.set_defaults(run=commands.export)

    remove = sub.add_parser("remove", help="take the rows loaded from files back out (a file loaded by mistake)")
    remove.add_argument("files", nargs="+",
                        help="a file as loaded: its path, or a name only one loaded file ends with")
    remove.add_argument("--json", action="store_true", help="print one JSON object")
    remove.set_defaults(run=commands.remove)

    files = sub.add_parser("files", help="the files the warehouse holds rows of (what abi remove takes)")
    files.add_argument("--billing-period", help="YYYY-MM: only files with rows of that month")
    files.add_argument("--json", action="store_true", help="print one JSON object")
    files.set_defaults(run=commands.files)

    sql = sub.add_parser("sql", help="run a read-only query on the warehouse")
    sql.add_argument("query")
    sql.add_argument("--format", choices=["csv", "json", "table"], default="table")
    sql.set_defaults(run=commands.sql)

    demo = sub.add_parser("demo", help="generate a demo month of Azure EA data, ingest it, print a summary")
    demo.add_argument("--month", default="2026-10", help="YYYY-MM")
    demo.add_argument("--scale", type=int, default=2, help="resources multiplier")
    demo.add_argument("--out", help="folder for the generated files (default: <data dir>/demo)")
    demo.set_defaults(run=commands.demo)
    stack.register(sub)
    connectors.register(sub)
    workflows.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    streams.prepare()
    args = build_parser().parse_args(argv)
    logs.configure(logging.DEBUG if args.verbose else logging.WARNING)
    scratch.sweep()
    code = _run(args)
    if getattr(args, "temporal_client", False) and _is_abi_process():
        streams.exit_now(code)  # on errors too: the crash at finalization came after any command of the Temporal client
    return code


def _run(args: argparse.Namespace) -> int:
    """The command's exit code; known failures printed in one line (2: usage, or a folder, file or output that
    cannot be used; 3: warehouse busy)."""
    if streams.closed_output() and (args.command in OUTPUT_COMMANDS or getattr(args, "json", False)):
        print(f"abi: standard output is closed: abi {args.command} writes its result there (redirect it, e.g. "
              "> /dev/null)", file=sys.stderr)
        return 2
    try:
        code = args.run(args)
        sys.stdout.flush()  # output that cannot be written fails here, not at exit
        return code
    except (commands.CommandError, settings.SettingError) as exc:
        print(f"abi: {exc}", file=sys.stderr)
        return 2
    except WarehouseBusy as exc:
        print(f"abi: {exc}", file=sys.stderr)
        return 3
    except WarehouseError as exc:  # e.g. a ClickHouse server that cannot be reached
        print(f"abi: {(str(exc) or repr(exc)).splitlines()[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: a query's stream is closed (cancelled) on the way out
        print("abi: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (abi sql … | head): no traceback, the SIGPIPE exit status
        streams.silence_output()
        return 141
    except OSError as exc:  # a folder or file that cannot be written, a full disk, a full or closed output
        print(f"abi: {streams.os_problem(exc)}", file=sys.stderr)
        return 2


def _is_abi_process() -> bool:
    """This process is the ``abi`` command (its entry script or ``python -m app.cli.main``), not a caller of main()."""
    return Path(sys.argv[0]).name == "abi" or getattr(sys.modules["__main__"].__spec__, "name", "") == "app.cli.main"


if __name__ == "__main__":
    sys.exit(main())
