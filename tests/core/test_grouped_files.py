"""Small files of one layout are read by one statement: each file keeps its own rows, lineage, quarantine, totals."""

from __future__ import annotations

import csv
import gzip
import json
from decimal import Decimal

import pytest
from abitest import csv_total, load, write_csv

from app.core import staging
from app.core.demo import HEADER, generate
from app.core.sources import open_source


def _parts(tmp_path, n: int) -> list:
    """The demo's actual-cost month split into ``n`` files (one gzip-compressed, one named with glob characters)."""
    files = generate(tmp_path / "demo")
    with open(files.actual, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    (tmp_path / "split").mkdir()
    names = [f"part{i}_actual.csv" for i in range(n - 1)] + [f"part{n - 1}_actual.csv.gz"]
    names[1] = "part [1]_actual.csv"
    return [write_csv(tmp_path / "split" / name, HEADER, rows[i::n]) for i, name in enumerate(names)]


def _read(path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("group_files", [50, 2])
def test_each_file_of_a_group_keeps_its_rows_lineage_totals_and_quarantine(wh, tmp_path, monkeypatch, group_files):
    monkeypatch.setattr(staging, "GROUP_FILES", group_files)
    parts = _parts(tmp_path, 5)
    rows = _read(parts[2])
    rows[3]["CostInBillingCurrency"] = "n/a"
    write_csv(parts[2], HEADER, rows)
    result = load(wh, *parts)
    assert result.ok
    for path, f in zip(parts, result.files, strict=True):
        own = _read(path)
        bad = 1 if path == parts[2] else 0
        assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (len(own), len(own) - bad, bad), f
        assert wh.rows(f"SELECT count() AS n, min(x_SourceRow) AS lo, max(x_SourceRow) AS hi FROM abi.focus_cost "
                       f"WHERE x_SourceFile = '{path}'")[0] == {"n": len(own) - bad, "lo": 1, "hi": len(own)}
        billed = sum(Decimal(r["CostInBillingCurrency"]) for r in own if r["CostInBillingCurrency"] != "n/a")
        assert [(t["metric"], Decimal(t["total"])) for t in f.source_totals] == [("BilledCost", billed)]
    quarantined = wh.rows("SELECT source_file, source_row, raw_row FROM abi.focus_quarantine")
    assert [(q["source_file"], q["source_row"]) for q in quarantined] == [(str(parts[2]), 4)]
    assert json.loads(quarantined[0]["raw_row"])["CostInBillingCurrency"] == "n/a"
    assert sum(f.rows_read for f in result.files) == len(_read(generate(tmp_path / "again").actual))


def test_files_of_other_layouts_or_larger_files_load_on_their_own(wh, tmp_path, monkeypatch):
    parts = _parts(tmp_path, 4)
    write_csv(parts[1], HEADER, _read(parts[1]) * 3)  # the larger file
    wider = write_csv(tmp_path / "wider_actual.csv", [*HEADER, "MyColumn"], [r | {"MyColumn": "x"}
                                                                          for r in _read(parts[0])])
    monkeypatch.setattr(staging, "GROUP_BYTES", max(p.stat().st_size for p in [parts[0], parts[2], parts[3], wider]))
    groups = staging.group_files(wh, [(None, open_source(p)) for p in [*parts, wider]])
    assert [[sf.path for _, sf in g] for g in groups] == [[parts[0], parts[2], parts[3]], [parts[1]], [wider]]
    monkeypatch.setattr(staging, "GROUP_TOTAL", parts[0].stat().st_size + parts[2].stat().st_size)
    groups = staging.group_files(wh, [(None, open_source(p)) for p in [*parts, wider]])
    assert [[sf.path for _, sf in g] for g in groups] == [[parts[0], parts[2]], [parts[1]], [parts[3]], [wider]]
    result = load(wh, *parts, wider)
    assert result.ok and [f.rows_read for f in result.files] == [len(_read(p)) for p in [*parts, wider]]
    kept = wh.rows(f"SELECT DISTINCT x_SourceColumns['MyColumn'] AS v FROM abi.focus_cost WHERE x_SourceFile = "
                   f"'{wider}'")
    assert kept == [{"v": "x"}]
    assert wh.scalar(f"SELECT count() FROM abi.focus_cost WHERE x_SourceFile != '{wider}' "
                     "AND mapContains(x_SourceColumns, 'MyColumn')") == 0


def test_an_unreadable_file_of_a_group_is_refused_alone(wh, tmp_path):
    parts = _parts(tmp_path, 3)
    data = parts[-1].read_bytes()
    parts[-1].write_bytes(data[: len(data) // 2])  # a truncated gzip of the same layout as the others
    result = load(wh, *parts)
    assert [f.error is None for f in result.files] == [True, True, False]
    assert str(parts[-1]) in result.files[-1].error
    for path in parts[:2]:
        loaded = wh.rows(f"SELECT count() AS n, toString(sum(BilledCost)) AS billed FROM abi.focus_cost "
                         f"WHERE x_SourceFile = '{path}'")[0]
        assert (loaded["n"], Decimal(loaded["billed"])) == (len(_read(path)), csv_total(path, "CostInBillingCurrency"))
    assert wh.scalar(f"SELECT count() FROM abi.focus_cost WHERE x_SourceFile = '{parts[-1]}'") == 0


def test_small_parquet_files_of_one_schema_are_read_together_each_keeping_its_rows(wh, tmp_path):
    import pyarrow as pa
    import pyarrow.csv as pc
    import pyarrow.parquet as pq

    table = pc.read_csv(generate(tmp_path / "demo").actual)  # typed: numbers as doubles, dates as text
    (tmp_path / "pq").mkdir()
    n = 4
    parts = [tmp_path / "pq" / f"part_0_000{i}.parquet" for i in range(n)]
    for i, path in enumerate(parts):
        pq.write_table(table.take(list(range(i, table.num_rows, n))), path)
    as_text = table.take(list(range(0, table.num_rows, n)))  # the same columns, Quantity written as text
    other = tmp_path / "pq" / "quantity_as_text.parquet"
    column = as_text.schema.get_field_index("Quantity")
    pq.write_table(as_text.set_column(column, "Quantity", pa.compute.cast(as_text["Quantity"], pa.string())), other)
    groups = staging.group_files(wh, [(None, open_source(p)) for p in [*parts, other]])
    assert [[sf.path for _, sf in g] for g in groups] == [parts, [other]]
    result = load(wh, *parts)  # one statement
    assert result.ok
    for i, (path, f) in enumerate(zip(parts, result.files, strict=True)):
        own = table.take(list(range(i, table.num_rows, n)))
        assert (f.rows_read, f.rows_loaded) == (own.num_rows, own.num_rows), f
        row = wh.rows(f"SELECT x_SourceRow AS r, toString(BilledCost) AS c FROM abi.focus_cost WHERE x_SourceFile = "
                      f"'{path}' ORDER BY r DESC LIMIT 1")[0]
        assert (row["r"], Decimal(row["c"])) == (own.num_rows, Decimal(str(own["CostInBillingCurrency"][-1])))


def test_the_reading_bar_follows_the_bytes_of_a_group_read_together(wh, tmp_path):
    from app.cli.commands import BytesRead

    class Bar:
        total, n = 0, 0

        def reset(self, total):
            self.total, self.n = total, 0

        def update(self, k):
            self.n += k

    parts, bar, started, shown = _parts(tmp_path, 4), Bar(), [], []
    bytes_read = BytesRead(bar)
    with wh.reporting(lambda p: (bytes_read.show(p), shown.append(bar.n))):
        assert load(wh, *parts, reading=lambda paths: (started.append(paths), bytes_read.start(paths))).ok
    assert started == [parts]  # one group
    assert bar.total == sum(p.stat().st_size for p in parts) and bar.n == bar.total
    assert shown == sorted(shown) and shown[-1] == bar.total  # forward only, to the end
