"""Actual or amortized: which Azure cost dataset a file holds.

In order: ``--dataset``; the ``manifest.json`` beside it (an export run's ``exportConfig.type``, a Cost Details
report's ``requestBody.metric``); the file's own name (unless it says actual and the file holds an unused
commitment row: only amortized data has one); its rows; the rows of its sibling parts (``part_0_0001.csv`` and
``part_1_0001.csv`` of one run: an export split by subscription has parts without any commitment row); the names of
its nearest folders. A name counts by its words (``ActualCost``, ``actual-cost``, ``amortized``; not ``Contractual``
or ``actualizados``) and only when it says one of the two (``test_actual_and_amortized/`` says neither;
``unamortized`` says actual). The first telling commitment row decides: an unused commitment or commitment usage
with a cost is amortized data, commitment usage of some quantity at no cost actual data (its purchase bills it).
Rows are found by scanning the text for the commitment names (only those lines are parsed): a CSV file's first
``SCAN_BYTES`` (``GZIP_SCAN_BYTES`` of a gzip file), then windows spread over the rest and its tail, where an export
sorted by subscription may hold its first reservation; a Parquet file's first ``HEAD_ROWS`` rows.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterator
from pathlib import Path

from app.core import archives
from app.core.runs import part_family, read_run
from app.core.sources import SourceError, SourceFile, first_rows, open_binary, open_source

HEAD_ROWS = 20_000
SCAN_BYTES, GZIP_SCAN_BYTES = 32 << 20, 64 << 20
"""A CSV file's text scanned whole up to this size (~0.06 s when it holds no commitment; a gzip file, which has no
windows beyond, twice as far)."""
SPREAD_WINDOWS = 16
WINDOW_BYTES = 1 << 18
CHUNK_BYTES = 1 << 22
MARKERS = (b"reservation", b"savingsplan")
"""What a commitment row's line holds (PricingModel, ChargeType), lower-cased."""
ACTUAL_WORDS = frozenset({"actual", "actuals", "actualcost", "actualcosts"})
AMORTIZED_WORDS = frozenset({f"{stem}{end}" for stem in ("amortized", "amortised") for end in ("", "cost", "costs")}
                            | {"amortization", "amortisation"})
NEGATIONS = ("un", "non")
"""A word before an amortized word, or its prefix, that makes it say actual (``non-amortized``, ``unamortized``)."""
MANIFEST_TYPES = {"actualcost": "ActualCost", "usage": "ActualCost", "amortizedcost": "AmortizedCost"}
"""``exportConfig.type`` of an export manifest (``Usage``: older exports of actual cost) → dataset."""


def detect_dataset(sf: SourceFile, forced: str | None = None) -> str:
    """ActualCost or AmortizedCost for Azure cost files (see the module's order of evidence); else FOCUS."""
    if sf.source != "azure-cost":
        return "FOCUS"
    run = read_run(sf.path.parent)
    folders = [p.name for p in list(sf.path.parents)[:3]]  # the nearest first
    evidence = (lambda: forced, lambda: MANIFEST_TYPES.get((run.dataset if run else "").lower()),
                lambda: _named_file(sf), lambda: _shown_by_rows(sf), lambda: _shown_by_parts(sf.path),
                *(lambda name=name: _named(name) for name in folders))
    return next((found for find in evidence if (found := find())), "ActualCost")


def forced_against_rows(sf: SourceFile, forced: str | None) -> list[str]:
    """A warning when ``--dataset`` forced one dataset on an Azure cost file whose commitment rows show the other
    (loaded as forced: amortized data loaded as actual bills its amortized costs, and reconciles with itself)."""
    if not forced or sf.source != "azure-cost" or (shown := _shown_by_rows(sf)) in (None, forced):
        return []
    return [f"{sf.path}: loaded as {forced} (--dataset), but its commitment rows show {shown} data: check --dataset "
            f"(BilledCost and EffectiveCost are read by the dataset: loaded as the other, both are wrong)"]


def _words(name: str) -> list[str]:
    """A name's words, lower-case: split at what is not a letter and where a capital starts a word
    (``EA_ActualCost-2026.csv`` → ea, actual, cost, csv)."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", name)]


def _named(name: str) -> str | None:
    """The dataset a file or folder name says by its words, when it says one only (``unamortized``/``non-amortized``:
    actual)."""
    words, said = _words(name), set()
    for before, word in zip(["", *words], words, strict=False):
        if word in AMORTIZED_WORDS:
            said.add("ActualCost" if before in NEGATIONS else "AmortizedCost")
        elif word in ACTUAL_WORDS or any(word.startswith(n) and word[len(n):] in AMORTIZED_WORDS for n in NEGATIONS):
            said.add("ActualCost")
    return said.pop() if len(said) == 1 else None


def _named_file(sf: SourceFile) -> str | None:
    """The dataset the file's name says; amortized when it says actual but the file holds an unused commitment row
    (``costos_actual.csv``, Spanish for current costs: the name is a word, the row a fact)."""
    named = _named(sf.path.name)
    return "AmortizedCost" if named == "ActualCost" and _shown_by_rows(sf, unused_only=True) else named


def _shown_by_rows(sf: SourceFile, unused_only: bool = False) -> str | None:
    """What the file's commitment rows show (see the module), None when none is found; ``unused_only``:
    AmortizedCost when a row is an unused commitment, else None. Commitment usage of no quantity costs nothing in
    either dataset: it tells only when no other row does."""
    charge, model, cost = (sf.columns.get(c) for c in ("ChargeType", "PricingModel", "CostInBillingCurrency"))
    if charge is None or model is None or cost is None:
        return None
    quantity = sf.columns.get("Quantity")
    rows = first_rows(sf, HEAD_ROWS) if sf.is_parquet else _commitment_lines(sf)
    undecided = None
    for row in rows:
        if len(row) <= max(charge, model, cost):
            continue
        kind, pricing = row[charge].strip().lower(), row[model].strip().lower()
        if kind.startswith("unused"):
            return "AmortizedCost"
        if kind != "usage" or pricing not in ("reservation", "savingsplan") or unused_only:
            continue
        if _nonzero(row[cost]):
            return "AmortizedCost"
        if quantity is None or (len(row) > quantity and _nonzero(row[quantity])):
            return "ActualCost"
        undecided = "ActualCost"
    return undecided


def _shown_by_parts(path: Path) -> str | None:
    """What the first sibling part (same folder, same split export) whose rows show a dataset shows."""
    family = part_family(path.name)
    holder = path.parent if path.parent.is_dir() else (archives.split(path) or (None,))[0]  # a folder or a ZIP
    if family is None or holder is None:
        return None
    return _family_dataset(path.parent, family, holder.stat().st_mtime_ns)


def _parts(folder: Path, family: str) -> list[Path]:
    """The parts of ``family`` in ``folder``: a folder on disk, or one inside a ZIP archive."""
    if folder.is_dir():
        return sorted(p for p in folder.iterdir() if part_family(p.name) == family and p.is_file())
    archive, _ = archives.split(folder / "part") or (None, None)
    return [] if archive is None else [m for m in archives.members(archive)
                                       if m.parent == folder and part_family(m.name) == family]


@functools.lru_cache(maxsize=64)
def _family_dataset(folder: Path, family: str, _changed: int) -> str | None:
    """The dataset the rows of a part of ``family`` in ``folder`` show (parts in name order), or None; once per
    load of a folder (``_changed``: its, or its archive's, modification time, so a part added later counts)."""
    for part in _parts(folder, family):
        try:
            sf = open_source(part, forced_dataset="ActualCost")  # its rows are read here, not its dataset's evidence
        except SourceError:
            continue
        try:
            if sf.source == "azure-cost" and (shown := _shown_by_rows(sf)):
                return shown
        except SourceError:  # a damaged part tells nothing (it is refused when loaded)
            continue
        finally:
            sf.discard()
    return None


def _commitment_lines(sf: SourceFile) -> Iterator[list[str]]:
    """Rows of the lines that name a commitment: the text up to ``SCAN_BYTES``, then windows and the tail."""
    try:
        with open_binary(sf.readable) as raw:
            rest, gzipped = b"", sf.readable.suffix.lower() == ".gz"
            for _ in range(max(1, (GZIP_SCAN_BYTES if gzipped else SCAN_BYTES) // CHUNK_BYTES)):
                chunk = raw.read(CHUNK_BYTES)
                data = rest + chunk
                cut = data.rfind(b"\n") + 1 if chunk else len(data)  # whole lines; at the end, the last one too
                yield from _marked(data[:cut], sf)
                rest = data[cut:]
                if not chunk:
                    return
            if not gzipped:
                yield from _windows(raw, sf)
    except (OSError, EOFError) as exc:
        raise SourceError(sf.path, f"cannot be read ({exc.__class__.__name__}: {exc})") from exc


def _windows(raw, sf: SourceFile) -> Iterator[list[str]]:
    """Windows spread over the part of a large file not scanned, the last one its tail."""
    start, size = SCAN_BYTES, sf.readable.stat().st_size
    for k in range(1, SPREAD_WINDOWS + 1):
        raw.seek(max(start, start + (size - start) * k // SPREAD_WINDOWS - WINDOW_BYTES))
        window = raw.read(WINDOW_BYTES)
        yield from _marked(window[window.find(b"\n") + 1:window.rfind(b"\n") + 1], sf)  # whole lines only


def _marked(body: bytes, sf: SourceFile) -> Iterator[list[str]]:
    """The rows of ``body``'s lines that hold a marker (a line broken inside quotes parses short: skipped)."""
    low, pos = body.lower(), 0
    found = {m: low.find(m) for m in MARKERS}
    while True:
        found = {m: (i if i >= pos or i < 0 else low.find(m, pos)) for m, i in found.items()}
        hits = [i for i in found.values() if i >= 0]
        if not hits:
            return
        start = body.rfind(b"\n", 0, min(hits)) + 1
        end = body.find(b"\n", min(hits))
        end = len(body) if end < 0 else end
        try:
            yield from csv.reader([body[start:end].decode(sf.encoding, errors="replace")], delimiter=sf.delimiter)
        except csv.Error:
            pass
        pos = end + 1


def _nonzero(text: str) -> bool:
    for number in (text, text.replace(".", "").replace(",", ".")):  # the second: a decimal comma
        try:
            return float(number) != 0.0
        except ValueError:
            continue
    return False
