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


def test_kept_columns_differing_in_case_in_one_row_export_both_values(wh, tmp_path):
    with open(generate(tmp_path / "demo").actual, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))[:2]
    both = write_csv(tmp_path / "both_actual.csv", [*HEADER, "x_Foo", "x_foo", "x_Foo_2"],
                     [rows[0] | {"x_Foo": "upper", "x_foo": "lower", "x_Foo_2": "own"}])
    one = write_csv(tmp_path / "one_actual.csv", [*HEADER, "foo"], [rows[1] | {"Date": "10/02/2026", "foo": "solo"}])
    load(wh, both, one)
    for fmt in ("parquet", "csv"):
        export(wh, fmt, tmp_path / f"focus.{fmt}")
    table = pq.read_table(tmp_path / "focus.parquet").sort_by("x_SourceFile").to_pydict()
    with open(tmp_path / "focus.csv", newline="") as handle:
        from_csv = sorted(csv.DictReader(handle), key=lambda r: r["x_SourceFile"])
    expected = {"x_Foo": ["upper", "solo"], "x_Foo_2": ["own", None], "x_Foo_2_": ["lower", None]}
    assert {k: v for k, v in table.items() if k.lower().startswith("x_foo")} == expected
    assert {k: [r[k] for r in from_csv] for k in from_csv[0] if k.lower().startswith("x_foo")} == {
        k: [v or "NULL" for v in values] for k, values in expected.items()}
