"""CSV written with spaces between the separator and a quoted value (``a, "b, c", d``) loads through a plain copy
that is removed; standard CSV, whose quoted values may themselves hold ``", "``, is read as it is."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
from abitest import csv_total, focus_rows, load, total

from app.core import spaced_csv
from app.core.demo import generate


def _spaced(rows: list[list[str]], separator: str = ",") -> str:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in f'{separator}"\n') else value
    return "\n".join(f"{separator} ".join(cell(v) for v in row) for row in rows) + "\n"


def _demo_rows(tmp_path: Path, n: int) -> tuple[Path, list[list[str]]]:
    actual = generate(tmp_path / "demo").actual
    with open(actual, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))[:n + 1]
    tags = rows[0].index("Tags")
    rows[1][tags] = '"env": "prod", "app": "web, api"'  # commas and quotes inside a quoted value
    plain = tmp_path / "plain.csv"
    with open(plain, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    return plain, rows


@pytest.mark.parametrize("variant", ["comma", "semicolon-gzip-cp1252"])
def test_values_quoted_after_a_space_load_through_a_copy_that_is_removed(wh, tmp_path, scratch, variant):
    plain, rows = _demo_rows(tmp_path, 30)
    if variant == "comma":
        path = tmp_path / "spaced_actual.csv"
        path.write_text(_spaced(rows), encoding="utf-8")
    else:
        rows[2][rows[0].index("ResourceGroup")] = "rg-café"  # a Windows-1252 byte
        path = tmp_path / "spaced_actual.csv.gz"
        path.write_bytes(gzip.compress(_spaced(rows, ";").encode("cp1252")))
    f = load(wh, path).files[0]
    assert (f.error, f.rows_read, f.rows_loaded, f.rows_quarantined) == (None, 30, 30, 0)
    assert total(wh, "BilledCost") == csv_total(plain, "CostInBillingCurrency")
    tagged = focus_rows(wh, "x_SourceRow, toJSONString(Tags) AS tags, x_ResourceGroupName")
    assert json.loads(tagged[0]["tags"]) == {"env": "prod", "app": "web, api"}
    if variant != "comma":
        assert tagged[1]["x_ResourceGroupName"] == "rg-café"
    assert list(scratch.iterdir()) == []


def test_standard_csv_with_quoted_commas_and_spaces_is_read_as_it_is(tmp_path):
    plain, _ = _demo_rows(tmp_path, 30)
    padded = tmp_path / "padded.csv"
    padded.write_text('A,B\n"  x", y\n', encoding="utf-8")  # spaces inside quotes, or before an unquoted value
    assert not spaced_csv.quoted_after_space(plain, "utf-8", ",")
    assert not spaced_csv.quoted_after_space(padded, "utf-8", ",")
    spaced = tmp_path / "spaced.csv"
    spaced.write_text('A, B\n1, "2, 3"\n', encoding="utf-8")
    assert spaced_csv.quoted_after_space(spaced, "utf-8", ",")
    assert not spaced_csv.quoted_after_space(spaced, "utf-8", "\t")  # tab-separated: the spaces are the value's


def test_a_carriage_return_inside_a_value_quoted_after_a_space_stays_in_its_row(wh, tmp_path):
    head = ("BillingAccountId,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,"
            "ChargeCategory,ProviderName,ServiceName,ServiceCategory,BilledCost,EffectiveCost,ListCost,"
            "ContractedCost,ChargeDescription")
    row = "A1,USD,2024-01-01,2024-02-01,2024-01-05,2024-01-06,Usage,AWS,Amazon S3,Storage" + ",{0},{0},{0},{0},{1}"
    path = tmp_path / "focus_spaced_cr.csv"
    path.write_bytes("\n".join([head, row.format(1, ' "a\rb"'), row.format(2, "c"), ""]).encode())
    f = load(wh, path).files[0]
    assert (f.error, f.rows_read, f.rows_loaded, f.rows_quarantined) == (None, 2, 2, 0)
    loaded = focus_rows(wh, "x_SourceRow, ChargeDescription, toString(BilledCost) AS cost")
    assert sorted(tuple(r.values()) for r in loaded) == [(1, "a\rb", "1"), (2, "c", "2")]
