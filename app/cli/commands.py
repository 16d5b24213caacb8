"""Implementations of the ``abi`` sub-commands."""

from __future__ import annotations

import codecs
import json
import re
import shutil
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from app.cli.opening import CommandError, existing_warehouse, publishing_warehouse
from app.cli.streams import os_problem
from app.core import archives, loader, scratch, summary
from app.core.files import shown_name
from app.core.settings import SettingError
from app.core.sql_text import code_of, engine_reading, reaches_outside, statement
from app.core.warehouse import WarehouseError

READ_ONLY = re.compile(r"^\s*(\(\s*)*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|EXISTS)\b", re.IGNORECASE)
READ_ONLY_ONLY = "only one read-only query (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS) is allowed"
INTO_OUTFILE = re.compile(r"\bINTO\s+OUTFILE\b", re.IGNORECASE)
DATASETS = {"auto": None, "actual": "ActualCost", "amortized": "AmortizedCost"}


def ingest(args) -> int:
    """``abi ingest``; with ``--json``, a load that cannot start (the warehouse busy or unreachable, no file found)
    still prints one JSON object, naming the error (and exits as without ``--json``)."""
    try:
        return _ingest(args)
    except (CommandError, WarehouseError, SettingError, OSError) as exc:
        if args.json and not isinstance(exc, BrokenPipeError):
            error = os_problem(exc) if isinstance(exc, OSError) else (str(exc) or repr(exc)).splitlines()[0]
            print(json.dumps({"ingestion_id": None, "files": [], "error": error}))
        raise


def _ingest(args) -> int:
    paths = archives.expand_paths(args.paths)
    if not paths:
        raise CommandError(f"no billing files found in: {' '.join(args.paths)}")
    given = _given(args.given)
    wh, registry = publishing_warehouse()
    try:
        how = (None if args.source == "auto" else args.source, DATASETS[args.dataset], given)
        result = _ingest_with_progress(wh, paths, how, quiet=args.json)
    finally:
        wh.close()
        if registry is not None:
            registry.close()
    if args.json:
        print(json.dumps(result.as_dict()))
    else:
        summary.print_ingestion(result)
    for warning in (w for f in result.files for w in f.warnings):
        print(f"abi: warning: {warning}", file=sys.stderr)
    for failed in (f for f in result.files if f.error):
        print(f"abi: refused {failed.error}", file=sys.stderr)
    return 0 if result.ok else 1


def remove(args) -> int:
    from app.core import removal

    wh = existing_warehouse()
    try:
        loader.ensure_schema(wh)
        names = {name: str(Path(name).resolve()) for name in args.files}
        found = removal.loaded_files(wh, list(dict.fromkeys([*names.values(), *names])))
        files = {name: found.get(path) or found.get(name) for name, path in names.items()}
        unknown = [name for name, f in files.items() if not f]
        for name in unknown:
            if len(several := removal.ending_with(wh, name)) > 1:
                raise CommandError(f"{name} names {len(several)} loaded files (nothing removed): "
                                   f"{', '.join(several[:5])}{' …' if len(several) > 5 else ''}; give the path")
        if unknown:
            raise CommandError(f"no rows loaded from {', '.join(unknown)} (nothing removed); the loaded files: "
                               "abi files")
        loaded = sorted({f for matched in files.values() for f in matched})
        done = removal.remove(wh, loaded)
    finally:
        wh.close()
    if args.json:
        print(json.dumps({"removal_id": done.removal_id, "rows": done.rows, "quarantined": done.quarantined,
                          "billing_periods": done.billing_periods, "notes": done.notes}))
    for f in loaded:
        print(f"removed {f}: {done.rows.get(f, 0)} rows, {done.quarantined.get(f, 0)} quarantined rows",
              file=sys.stderr)
    for note in done.notes:
        print(f"abi: note: {note}", file=sys.stderr)
    return 0


def files(args) -> int:
    from app.core import inventory

    _check_period(args.billing_period)
    wh = existing_warehouse()
    try:
        loader.ensure_schema(wh)
        held = inventory.held_files(wh, args.billing_period)
    finally:
        wh.close()
    if args.json:
        print(json.dumps({"files": held}))
    else:
        inventory.print_held(held)
    return 0


def _check_period(billing_period: str | None, option: str = "--billing-period") -> None:
    """Refuse a value given that is no ``YYYY-MM`` month (an empty one too: it is no period, not every period)."""
    if billing_period is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", billing_period):
        raise CommandError(f"{option} must be YYYY-MM, got {billing_period!r}")


def _given(pairs: list[str]) -> dict[str, str]:
    """``--set COLUMN=VALUE`` pairs."""
    given = {}
    for pair in pairs:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip() or not value.strip():
            raise CommandError(f"--set {pair!r}: expected COLUMN=VALUE, e.g. --set BillingCurrency=EUR")
        given[column.strip()] = value.strip()
    return given


def _ingest_with_progress(wh, paths: list[Path], how: tuple, quiet: bool):
    """Load with two bars on a terminal: files done, and the bytes of the files being read."""
    from tqdm import tqdm

    source, dataset, given = how
    show = sys.stderr.isatty() and sys.stdout.isatty() and not quiet  # output piped or redirected: no bars
    with tqdm(total=len(paths), unit="file", desc="ingest", disable=not show) as files, \
            tqdm(total=0, unit="B", unit_scale=True, desc="reading", disable=not show, leave=False) as reading:
        bytes_bar = BytesRead(reading)
        with wh.reporting(bytes_bar.show if show else None):
            return loader.ingest(wh, paths, source, dataset, progress=lambda _p: files.update(1), given=given,
                                 reading=bytes_bar.start)


class BytesRead:
    """The bytes read of the files being loaded (one, or a group read together), from the engine's progress: only
    the queries that read those files move the bar, not the others of the load."""

    def __init__(self, bar) -> None:
        self.bar, self.total = bar, -1

    def start(self, paths: list[Path]) -> None:
        self.total = sum(max(0, archives.size(p)) for p in paths)
        self.bar.reset(total=self.total)

    def show(self, payload: dict[str, int]) -> None:
        if int(payload.get("total_bytes_to_read") or 0) != self.total:
            return
        self.bar.update(max(0, min(int(payload.get("read_bytes") or 0), self.total) - self.bar.n))


def _export_to_stdout(write: Callable[[Path], int]) -> int:
    """``--out -``: the export written whole to a scratch file (checked like any export), then copied to standard
    output; its row count."""
    with scratch.temporary("export") as folder:
        rows = write(folder / "focus")
        with open(folder / "focus", "rb") as exported:
            shutil.copyfileobj(exported, sys.stdout.buffer, 1 << 20)
    sys.stdout.buffer.flush()
    return rows


def export(args) -> int:
    from app.core.export import export as run_export

    _check_period(args.billing_period)
    out = Path(args.out)
    if out.is_dir():
        raise CommandError(f"--out {out} is a folder: name the file to write, e.g. {out / f'focus.{args.format}'}")
    wh = existing_warehouse()
    try:
        loader.ensure_schema(wh)
        if args.out == "-":
            rows = _export_to_stdout(lambda part: run_export(wh, args.format, part, args.billing_period))
        else:
            rows = run_export(wh, args.format, out, args.billing_period)
    except BrokenPipeError:  # abi export --out - | head: the reader went away
        raise
    except (OSError, WarehouseError) as exc:
        raise CommandError(f"cannot write {shown_name(out)}: {(str(exc) or repr(exc)).splitlines()[0]}") from exc
    finally:
        wh.close()
    print(f"exported {rows} rows to {'standard output' if args.out == '-' else args.out}", file=sys.stderr)
    if not rows:
        period = f" of billing period {args.billing_period}" if args.billing_period else ""
        print(f"abi: the warehouse holds no FOCUS rows{period} (abi ingest loads them; abi sql \"SELECT DISTINCT "
              f"formatDateTime(BillingPeriodStart, '%Y-%m') FROM focus_cost\" lists the periods it has)",
              file=sys.stderr)
    return 0


def sql(args) -> int:
    query = statement(args.query)
    fmt = {"csv": "CSVWithNames", "json": "JSONEachRow", "table": "PrettyCompactMonoBlock"}[args.format]
    wh = existing_warehouse()
    try:
        _check_read_only(wh, query)
        loader.ensure_schema(wh)
        _print_stream(wh.stream(query, fmt, {"readonly": "2"}), sys.stdout)  # never whole in memory or on disk
    except WarehouseError as exc:
        raise CommandError(_query_error(wh, query, exc)) from exc
    finally:
        wh.close()
    return 0


def _check_read_only(wh, query: str) -> None:
    """Refuse what is not one read-only query on the warehouse, as the engine parses it (``engine_reading``: a
    ``;`` or a write hidden from a simpler reading by a ``$$`` string or a ``#`` comment is seen)."""
    try:
        reading = engine_reading(wh, query)
    except WarehouseError as exc:
        message = str(exc).splitlines()[0].split(" In scope ")[0]
        raise CommandError(READ_ONLY_ONLY if "Multi-statements" in message else message) from exc
    code = code_of(reading)
    if not READ_ONLY.match(code) or ";" in code:
        raise CommandError(READ_ONLY_ONLY)
    if INTO_OUTFILE.search(code):
        raise CommandError("a query may not write files (INTO OUTFILE): redirect its output, e.g. "
                           "abi sql '…' --format csv > out.csv")
    if outside := reaches_outside(reading):
        raise CommandError(f"{outside}: abi sql reads the warehouse only, not the host's files, URLs, other servers "
                           "or programs")
    try:  # a query naming its own output format cannot take the one abi sql gives it
        engine_reading(wh, f"{query}\nFORMAT TSV")
    except WarehouseError as exc:
        raise CommandError("a query may not name its output format (FORMAT …): use --format csv|json|table") from exc


def _query_error(wh, query: str, exc: WarehouseError) -> str:
    """The engine's message about the query as written: a syntax error is reported on the user's text, not on the
    clause that streams the result to a file (a query that parses alone but not with it, such as WITH … INSERT,
    is not a read-only query)."""
    message = str(exc).splitlines()[0]
    if "SYNTAX_ERROR" not in message:
        return message
    try:
        engine_reading(wh, query)
    except WarehouseError as own:
        return str(own).splitlines()[0].split(" In scope ")[0]
    return READ_ONLY_ONLY


def _print_stream(chunks, stream) -> None:
    """Write the query output ``chunks`` to text ``stream`` as they come (bytes that are not UTF-8 shown as U+FFFD);
    a reader that goes away or Ctrl-C closes ``chunks``, which cancels the query."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        for chunk in chunks:
            stream.write(decoder.decode(chunk))
        stream.write(decoder.decode(b"", final=True))
    finally:
        chunks.close()


def demo(args) -> int:
    from app.core import settings
    from app.core.demo import generate

    _check_period(args.month, "--month")
    month = date.fromisoformat(f"{args.month}-01")
    out = Path(args.out) if args.out else settings.data_dir() / "demo"
    files = generate(out, month=month, scale=args.scale)
    wh, registry = publishing_warehouse()
    try:
        result = _ingest_with_progress(wh, [files.actual, files.amortized], ("azure-cost", None, {}), quiet=False)
        summary.print_ingestion(result)
        summary.print_cost_summary(wh, f"{month:%Y-%m}")
    finally:
        wh.close()
        if registry is not None:
            registry.close()
    return 0 if result.ok else 1
