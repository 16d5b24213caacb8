"""The same Azure rows written every way real exports and the tools that re-save them write them: each seed draws a
combination of header case, column order, dropped optional columns, separator, decimal comma, date style, line
ends, BOM, quoting and gzip, and breaks a few rows. Whatever the combination, every row is accounted for: the
broken rows (and only they) are quarantined, and the rest load to the cent."""

from __future__ import annotations

import csv
import gzip
import random
from decimal import Decimal
from pathlib import Path

import pytest
from abitest import SAMPLES, load, total

from app.core.demo import generate

OPTIONAL = ("Tags", "AdditionalInfo", "CostCenter", "ServiceInfo1", "ServiceInfo2", "AvailabilityZone", "PlanName",
            "InvoiceSectionName", "InvoiceSection", "InvoiceSectionId", "ResourceGroup", "OfferId", "PublisherType",
            "Term", "ProductOrderName", "ProductOrderId", "CostAllocationRuleName", "benefitName")
"""Columns a file may lack without changing any row's cost or validity."""
NUMBERS = ("Quantity", "EffectivePrice", "CostInBillingCurrency", "Cost", "UnitPrice", "PayGPrice")
DATES = ("Date", "BillingPeriodStartDate", "BillingPeriodEndDate")
CASES = (str, str.lower, str.upper, lambda name: name[:1].lower() + name[1:])
DATE_STYLES = {"us": lambda m, d, y: f"{m}/{d}/{y}", "day-first": lambda m, d, y: f"{d}/{m}/{y}",
               "iso": lambda m, d, y: f"{y}-{m}-{d}"}
"""How a file writes the exports' MM/DD/YYYY dates: as they are, re-saved day first, or ISO."""
SEEDS = range(16)


def _base(tmp_path: Path, seed: int) -> tuple[list[str], list[dict[str, str]], str]:
    """Header, rows and cost column of the seed's base: 60 demo rows (current EA names) or the real EA sample
    (legacy names: Cost, BillingCurrency)."""
    sample = SAMPLES / "azure" / "EA_ActualCost_Small.csv"
    path = sample if seed % 3 == 2 and sample.exists() else generate(tmp_path / "demo").actual
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)[:60]
        header = list(reader.fieldnames or [])
    return header, rows, "Cost" if "Cost" in header else "CostInBillingCurrency"


BREAKS = {"cost": 3, "date": 2, "short": 1, "long": 1}
"""How many rows (at most) each seed breaks each way: a cost that is no number, a date that is none, a row missing
its last fields, a row with a field beyond the header."""


def _broken(rng: random.Random, n: int) -> dict[str, set[int]]:
    """Distinct 1-based rows to break, by kind."""
    free, broken = list(range(1, n + 1)), {}
    for kind, most in BREAKS.items():
        broken[kind] = set(rng.sample(free, rng.randint(0, most)))
        free = [r for r in free if r not in broken[kind]]
    return broken


def _cells(row: dict[str, str], n: int, columns: list[str], broken: dict[str, set[int]], cost: str) -> list[str]:
    cells = [{cost: "n/a"}.get(c, row[c]) if n in broken["cost"] else row[c] for c in columns]
    cells = [("soon" if c == "Date" else v) if n in broken["date"] else v for c, v in zip(columns, cells, strict=True)]
    return cells[:-3] if n in broken["short"] else cells + ["surplus"] if n in broken["long"] else cells


def _variant(tmp_path: Path, seed: int) -> tuple[Path, int, set[int], Decimal, str]:
    """The seed's file; its row count; the 1-based numbers of the rows it broke; the cost of the others; what it
    drew."""
    rng = random.Random(seed)
    header, rows, cost = _base(tmp_path, seed)
    dropped = {c for c in OPTIONAL if c in header and rng.random() < 0.4}
    columns = [c for c in header if c not in dropped] + (["ColumnFromTheFuture"] if rng.random() < 0.3 else [])
    if rng.random() < 0.5:
        rng.shuffle(columns)
    case, delimiter, dates = rng.choice(CASES), rng.choice([",", ";", "\t"]), rng.choice(list(DATE_STYLES))
    comma, pad = delimiter != "," and rng.random() < 0.6, " " if rng.random() < 0.3 else ""
    broken = _broken(rng, len(rows))
    spoilt = set().union(*broken.values())
    expected = sum((Decimal(r[cost]) for n, r in enumerate(rows, 1) if n not in spoilt), Decimal(0))
    out = []
    for n, row in enumerate(rows, 1):
        values = {c: row[c].replace(".", ",") if comma and c in NUMBERS else row.get(c, "new") for c in columns}
        values |= {c: DATE_STYLES[dates](*values[c].split("/")) for c in DATES if c in columns}
        out.append([f"{pad}{v}{pad}" for v in _cells(values, n, columns, broken, cost)])
    gz, bom = rng.random() < 0.3, rng.random() < 0.5
    path = tmp_path / f"variant_{seed}_actualcost.csv{'.gz' if gz else ''}"
    with (gzip.open if gz else open)(path, "wt", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator=rng.choice(["\n", "\r\n"]),
                           quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
        writer.writerow([case(c) for c in columns])
        writer.writerows(out)
    drawn = (f"sep={delimiter!r} comma={comma} dates={dates} pad={pad!r} gz={gz} bom={bom} broken={broken} "
             f"dropped={sorted(dropped)} header={columns[:3]}")
    return path, len(rows), spoilt, expected, drawn


@pytest.mark.parametrize("seed", SEEDS)
def test_every_row_of_any_variant_is_accounted_for(wh, tmp_path, seed):
    path, n, broken, expected, drawn = _variant(tmp_path, seed)
    f = load(wh, path).files[0]
    assert f.error is None, (drawn, f.error)
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (n, n - len(broken), len(broken)), (drawn, f)
    quarantined = {r["source_row"] for r in wh.rows("SELECT source_row FROM abi.focus_quarantine")}
    assert quarantined == broken, drawn
    assert total(wh, "BilledCost") == expected, drawn
    periods = wh.rows("SELECT DISTINCT BillingPeriodStart AS start, countIf(ChargePeriodStart < BillingPeriodStart "
                      "OR ChargePeriodStart >= BillingPeriodEnd) AS outside FROM abi.focus_cost GROUP BY start")
    assert len(periods) == 1 and periods[0]["outside"] == 0, (drawn, periods)  # every date read as written
