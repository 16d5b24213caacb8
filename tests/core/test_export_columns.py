"""The export's x_ columns: every value a file kept is exported, whatever other files of the dataset are named."""

from __future__ import annotations

import csv

import pyarrow.parquet as pq
from abitest import load, write_csv

from app.core.demo import HEADER, generate
from app.core.export import export


def test_kept_columns_of_one_name_in_two_spellings_are_one_column_and_own_names_are_not_shadowed(wh, tmp_path):
    with open(generate(tmp_path / "demo").actual, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))[:3]
    rows += [dict(rows[0])]
    spellings = ["Team", "x_Team", "X_Team", "team"]  # one kept column each: files of several origins in one dataset
    for n, (row, spelling) in enumerate(zip(rows, spellings, strict=True)):
        row |= {"Date": f"10/0{n + 1}/2026"}
        write_csv(tmp_path / f"part{n}_actual.csv", [*HEADER, spelling, "x_SourceFile"],
                  [row | {spelling: f"team-{n}", "x_SourceFile": f"exporter-{n}.csv"}])
    load(wh, *sorted(tmp_path.glob("part*_actual.csv")))
    export(wh, "parquet", tmp_path / "focus.parquet")
    table = pq.read_table(tmp_path / "focus.parquet").sort_by("x_SourceFile").to_pydict()
    assert table["x_Team"] == ["team-0", "team-1", "team-2", "team-3"] and "x_team" not in table
    assert table["x_SourceColumn_x_SourceFile"] == [f"exporter-{n}.csv" for n in range(4)]
    assert [p.rsplit("/", 1)[-1] for p in table["x_SourceFile"]] == [f"part{n}_actual.csv" for n in range(4)]
    export(wh, "csv", tmp_path / "focus.csv")
    with open(tmp_path / "focus.csv", newline="") as handle:
        first = next(csv.DictReader(handle))
    assert first["x_IngestedAt"].endswith("Z") and "T" in first["x_IngestedAt"]
    assert first["ChargePeriodStart"].endswith("T00:00:00Z")
