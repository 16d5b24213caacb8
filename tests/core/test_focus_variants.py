"""The same FOCUS rows written the ways providers and tools write FOCUS files: each seed draws the null token, the
timestamp style, header case, column order, whether the provider's x_ columns are there, CSV (separator, padding, gzip,
BOM, line ends, quoting) or Parquet, and breaks a few rows. Every row is accounted for and the rest load to the cent."""

from __future__ import annotations

import csv
import gzip
import random
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from abitest import load, total

from app.core.demo import generate
from app.core.export import export
from app.core.warehouse import EmbeddedWarehouse

TIMESTAMPS = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
STYLES = {"Z": lambda t: t, "space": lambda t: t.replace("T", " ").removesuffix("Z"),
          "millis": lambda t: t.replace("Z", ".000Z"), "offset": lambda t: t.replace("Z", "+00:00")}
"""How a file writes a FOCUS timestamp (ABI's export writes ``2026-10-01T00:00:00Z``)."""
SEEDS = range(16)


@pytest.fixture(scope="module")
def focus_rows_written(tmp_path_factory) -> tuple[list[str], list[dict[str, str | None]]]:
    """Header and 60 rows of a FOCUS CSV exported from the demo's actual cost (NULLs as None)."""
    base = tmp_path_factory.mktemp("focus-base")
    wh = EmbeddedWarehouse(base / "warehouse")  # closed before a test's own warehouse opens (one per process)
    try:
        load(wh, generate(base / "demo").actual)
        export(wh, "csv", base / "focus.csv")
    finally:
        wh.close()
    with (base / "focus.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [{k: None if v == "NULL" else v for k, v in row.items()} for row in list(reader)[:60]]
        return list(reader.fieldnames or []), rows


def _variant(tmp_path: Path, seed: int, header: list[str], rows: list[dict]) -> tuple[Path, set[int], Decimal, str]:
    """The seed's file; the 1-based numbers of the rows it broke; the BilledCost of the others; what it drew."""
    rng = random.Random(seed)
    columns = [c for c in header if not (c.startswith("x_") and rng.random() < 0.5)]
    if rng.random() < 0.5:
        rng.shuffle(columns)
    style, null = rng.choice(list(STYLES)), rng.choice(["", "NULL"])
    broken_cost = set(rng.sample(range(1, len(rows) + 1), rng.randint(0, 3)))
    broken_date = set(rng.sample(sorted(set(range(1, len(rows) + 1)) - broken_cost), rng.randint(0, 2)))
    expected = sum((Decimal(r["BilledCost"]) for n, r in enumerate(rows, 1) if n not in broken_cost | broken_date),
                   Decimal(0))
    out = []
    for n, row in enumerate(rows, 1):
        values = {c: STYLES[style](row[c]) if c in TIMESTAMPS and row[c] else row[c] for c in columns}
        values["BilledCost"] = "n/a" if n in broken_cost else values["BilledCost"]
        values["ChargePeriodStart"] = "soon" if n in broken_date else values["ChargePeriodStart"]
        out.append(values)
    names = {c: c.lower() if rng.random() < 0.3 else c for c in columns}
    container = rng.choice(["csv", "csv.gz", "parquet"])
    path = tmp_path / f"focus_variant_{seed}.{container}"
    if container == "parquet":
        pq.write_table(pa.table({names[c]: pa.array([r[c] for r in out], pa.string()) for c in columns}), path)
    else:
        bom = rng.random() < 0.5
        with (gzip.open if container.endswith("gz") else open)(path, "wt", newline="",
                                                               encoding="utf-8-sig" if bom else "utf-8") as handle:
            writer = csv.writer(handle, delimiter=rng.choice([",", ";", "\t"]),
                                lineterminator=rng.choice(["\n", "\r\n"]),
                                quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
            writer.writerow([names[c] for c in columns])
            pad = rng.choice(["", " "])  # values padded with spaces (seed 13 crashed the engine's trimming reader)
            writer.writerows([null if r[c] is None else f"{pad}{r[c]}{pad}" for c in columns] for r in out)
    drawn = f"{container} style={style} null={null!r} x_={sum(c.startswith('x_') for c in columns)} {columns[:3]}"
    return path, broken_cost | broken_date, expected, drawn


@pytest.mark.parametrize("seed", SEEDS)
def test_every_row_of_any_focus_variant_is_accounted_for(focus_rows_written, wh, tmp_path, seed):
    header, rows = focus_rows_written
    path, broken, expected, drawn = _variant(tmp_path, seed, header, rows)
    f = load(wh, path).files[0]
    assert f.error is None, (drawn, f.error)
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (60, 60 - len(broken), len(broken)), (drawn, f)
    quarantined = {r["source_row"] for r in wh.rows("SELECT source_row FROM abi.focus_quarantine")}
    assert quarantined == broken, drawn
    assert total(wh, "BilledCost") == expected, drawn
    periods = wh.rows("SELECT DISTINCT BillingPeriodStart AS start, countIf(ChargePeriodStart < BillingPeriodStart "
                      "OR ChargePeriodStart >= BillingPeriodEnd) AS outside FROM abi.focus_cost GROUP BY start")
    assert len(periods) == 1 and periods[0]["outside"] == 0, (drawn, periods)
