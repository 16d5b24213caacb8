"""Files re-saved in another locale: decimal commas and day-first dates read as the numbers and days they mean."""

from __future__ import annotations

import csv
import gzip
import io
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from abitest import SAMPLES, csv_total, european, focus_rows, load, total

from app.core import encodings
from app.core.conventions import Conventions, normalized, sniff
from app.core.demo import generate
from app.core.export import export


def _resave(source, target, date_format: str, delimiter: str = ";") -> None:
    """Write ``source`` (an Azure export) as a European spreadsheet would: decimal commas, ``date_format`` dates."""
    with open(source, newline="", encoding="utf-8-sig") as handle:
        rows = european(list(csv.DictReader(handle)), date_format)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("date_format", ["%d.%m.%Y", "%d/%m/%Y", "%d-%b-%Y", "%d/%m/%Y 00:00:00+02:00",
                                         "%d-%b-%Y 00:00:00 +02:00"])
def test_a_european_resave_loads_the_same_costs_and_days_as_the_export(wh, tmp_path, date_format):
    original = generate(tmp_path / "demo").actual
    resaved = tmp_path / "resaved" / original.name
    resaved.parent.mkdir()
    _resave(original, resaved, date_format)
    by_day = []
    for path in (original, resaved):  # same export scope: the second load replaces the first
        f = load(wh, path).files[0]
        assert f.error is None and f.rows_quarantined == 0, f
        by_day.append(wh.rows("SELECT toDate(ChargePeriodStart) AS d, count() AS n, toString(sum(BilledCost)) AS c, "
                              "toString(sum(PricingQuantity)) AS q FROM abi.focus_cost GROUP BY d ORDER BY d"))
    assert len(by_day[0]) >= 28 and by_day[0] == by_day[1]
    assert focus_rows(wh, "x_SourceFile AS f")[0]["f"] == str(resaved)


def test_numbers_saved_with_thousands_separators_load_as_the_export(wh, tmp_path):
    """A spreadsheet that saves numbers as formatted: ``1,234.56`` (quoted in a comma-separated file)."""
    with open(generate(tmp_path / "demo").actual, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    for n, row in enumerate(rows[:40]):
        row["CostInBillingCurrency"] = f"{1234.5 * (n + 1) ** 3:.4f}"
    expected = sum((Decimal(r["CostInBillingCurrency"]) for r in rows[1:]), Decimal(0))
    for row in rows:
        whole, _, fraction = row["CostInBillingCurrency"].partition(".")
        if whole.isdigit():
            row["CostInBillingCurrency"] = f"{int(whole):,}" + (f".{fraction}" if fraction else "")
    rows[0]["Quantity"] = "1,2"  # not a number in this convention
    path = tmp_path / "formatted_actual.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    f = load(wh, path).files[0]
    assert (f.error, f.rows_quarantined) == (None, 1)
    assert wh.scalar("SELECT reasons FROM abi.focus_quarantine") == ['Quantity: not a number: "1,2"']
    assert total(wh, "BilledCost") == expected


def test_a_number_not_written_in_the_files_convention_is_quarantined_as_written(wh, tmp_path):
    original = generate(tmp_path / "demo").actual
    path = tmp_path / "resaved_actual.csv"
    _resave(original, path, "%d.%m.%Y")
    lines = path.read_text(encoding="utf-8").splitlines()
    cost = lines[0].split(";").index("CostInBillingCurrency")
    cells = lines[1].split(";")
    cells[cost] = "12,5,0"
    lines[1] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    f = load(wh, path).files[0]
    assert (f.error, f.rows_quarantined) == (None, 1)
    reasons = wh.scalar("SELECT reasons FROM abi.focus_quarantine")
    assert reasons[0] == 'CostInBillingCurrency: not a number: "12,5,0"'  # as the file writes it


@pytest.mark.parametrize(("numbers", "dates", "expected"), [
    (["0,5", "12"], ["31/10/2026"], Conventions(decimal_comma=True, day_first=True)),
    (["0.5", "1,5"], ["10/31/2026"], Conventions(decimal_comma=False, day_first=False)),
    (["1.234,5"], ["01.10.2026"], Conventions(decimal_comma=True, day_first=True)),
    (["1e-07"], ["10/01/2026", "2026-10-31"], Conventions()),
    ([""], ["13/10/2026", "10/13/2026"], Conventions()),
    (["2.5"], ["01-Oct-2026"], Conventions(named_month=True)),
    (["1,234.5", "0.5"], ["2026-10-31"], Conventions(thousands_comma=True)),
    (["$10,100.00 ", "$20.00 ", "($5.00)"], ["2026-10-31"], Conventions(thousands_comma=True, money_format=True)),
    (["€1.234,50", "-€0,5"], ["31.10.2026"], Conventions(decimal_comma=True, day_first=True, money_format=True)),
])
def test_conventions_are_read_from_the_sample_rows(numbers, dates, expected):
    rows = [[n, d] for n, d in zip(numbers + numbers[-1:] * len(dates), dates + dates[-1:] * len(numbers),
                                   strict=False)]
    assert sniff(rows, [0], [1]) == expected


def test_currency_formatted_amounts_read_as_numbers_and_other_text_stays(wh):
    money = normalized("focus", Conventions(money_format=True, thousands_comma=True), "BilledCost", "x")
    cells = ["$10,100.00 ", "($5.25)", "-$0.5", " € 7", "$", "12 USD", "1.5"]
    found = wh.rows(f"SELECT x, {money} AS v FROM (SELECT arrayJoin({cells}) AS x)")
    assert [r["v"] for r in found] == ["10100.00", "-5.25", "-0.5", "7", "$", "12 USD", "1.5"]


@pytest.mark.parametrize(("row", "expected"), [
    (["10/1/2024", "11/1/2024", "10/2/2024"], False),  # a FOCUS period ends on the next month's 1st
    (["1/10/2024", "1/11/2024", "2/10/2024"], True),
    (["10/1/2024 0:00", "10/31/2024", "10/2/2024"], False),  # the end's day 31 alone says so
    (["1/1/2025", "2/1/2025", "1/2/2025"], False),  # only month first holds the charge in its period
    (["2026-10-01", "2026-11-01", "2026-10-02"], None),
])
def test_without_a_day_over_12_the_billing_periods_tell_the_order_of_day_and_month(row, expected):
    assert sniff([row] * 3, [], [0, 1, 2], (0, 1, 2)).day_first is expected


def test_a_focus_file_in_us_dates_with_no_day_over_12_loads_in_its_months(wh, tmp_path):
    sample = SAMPLES / "focus-spec-examples" / "saas_examples__simple_agreements__simple_saas_agreements_c.csv"
    rows = list(csv.reader(sample.read_text(encoding="utf-8-sig").splitlines()))
    path = tmp_path / "us_dates.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([rows[0]] + [[c.replace("$", "").replace(",", "").strip() for c in r]
                                                  for r in rows[1:]])
    assert load(wh, path).files[0].rows_loaded == 3
    assert wh.rows("SELECT toString(BillingPeriodStart) AS b, toString(ChargePeriodStart) AS c FROM abi.focus_cost "
                   "ORDER BY b") == [{"b": f"2025-0{m}-01 00:00:00", "c": f"2025-0{m}-01 00:00:00"} for m in (4, 5, 6)]


def test_a_windows_1252_file_reads_its_accents_and_exports_valid_utf8(wh, tmp_path):
    original = generate(tmp_path / "demo").actual
    text = original.read_text(encoding="utf-8-sig").splitlines()
    rows = list(csv.reader(text))
    group = rows[0].index("ResourceGroup")
    for row in rows[1:6] + rows[-3:]:  # a Windows spreadsheet's "CSV": Windows-1252, accents near the end too
        row[group] = "Équipe-€"
    path = tmp_path / "resaved_actual.csv"
    with open(path, "w", newline="", encoding="cp1252") as handle:
        csv.writer(handle).writerows(rows)
    f = load(wh, path).files[0]
    assert (f.error, f.rows_quarantined) == (None, 0)
    assert wh.scalar("SELECT countIf(x_ResourceGroupName = 'Équipe-€') FROM abi.focus_cost") == 8
    assert wh.scalar("SELECT countIf(NOT isValidUTF8(ifNull(x_ResourceGroupName, ''))) FROM abi.focus_cost") == 0


def test_bytes_that_are_not_utf8_beyond_the_sample_never_break_output(wh, tmp_path, monkeypatch):
    monkeypatch.setattr(encodings, "ENCODING_SAMPLE_BYTES", 100_000)  # the demo file is smaller than the sample
    # its byte order mark says UTF-8 (so does an accent in the sample): the rest is not scanned, the byte is kept
    original = generate(tmp_path / "demo").actual
    data = original.read_bytes()
    cut = data.index(b"\n", len(data) - 2000) + 1  # a Windows-1252 byte in one of the last rows only
    rows = data[cut:].split(b"\n")
    rows[0] = rows[0].replace(b"rg-", b"rg-\xc9", 1)
    path = tmp_path / "late_actual.csv"
    path.write_bytes(data[:cut] + b"\n".join(rows))
    f = load(wh, path).files[0]
    assert (f.error, f.rows_quarantined) == (None, 0)
    assert any("\ufffd" in (r["g"] or "") for r in wh.rows("SELECT x_ResourceGroupName AS g FROM abi.focus_cost"))
    out = tmp_path / "focus.parquet"
    export(wh, "parquet", out)
    groups = pq.read_table(out, columns=["x_ResourceGroupName"]).column(0).to_pylist()
    assert len(groups) == f.rows_loaded and any("\ufffd" in (g or "") for g in groups)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8"])
def test_an_accent_first_met_beyond_the_sample_reads_in_the_files_encoding(wh, tmp_path, monkeypatch, encoding):
    monkeypatch.setattr(encodings, "ENCODING_SAMPLE_BYTES", 100_000)  # the demo file is larger
    monkeypatch.setattr(encodings, "SCAN_CHUNK_BYTES", 4096)
    rows = list(csv.reader(generate(tmp_path / "demo").actual.read_text(encoding="utf-8-sig").splitlines()))
    group = rows[0].index("ResourceGroup")
    for row in rows[-3:]:
        row[group] = "rg-café-€"
    path = tmp_path / f"late_{encoding}_actual.csv"
    with open(path, "w", newline="", encoding=encoding) as handle:  # no byte order mark: the sample is ASCII
        csv.writer(handle).writerows(rows)
    assert path.stat().st_size > 100_000 and path.read_bytes()[:100_000].isascii()
    f = load(wh, path).files[0]
    assert (f.error, f.rows_quarantined) == (None, 0)
    assert wh.scalar("SELECT countIf(x_ResourceGroupName = 'rg-café-€') FROM abi.focus_cost") == 3
    assert wh.scalar("SELECT countIf(NOT isValidUTF8(ifNull(x_ResourceGroupName, ''))) FROM abi.focus_cost") == 0


def test_the_scan_beyond_the_sample_reads_a_character_split_between_two_chunks_as_utf8(tmp_path, monkeypatch):
    monkeypatch.setattr(encodings, "ENCODING_SAMPLE_BYTES", 8)
    monkeypatch.setattr(encodings, "SCAN_CHUNK_BYTES", 8)
    path = tmp_path / "late.csv"
    for offset in range(8):  # the euro sign's three bytes at each place in a chunk
        path.write_bytes(b"a" * (8 + offset) + "€".encode() + b"\n")
        assert encodings.detect(path) == ("utf-8", True)
    path.write_bytes(b"a" * 20 + "€".encode("cp1252") + b"\n")
    assert encodings.detect(path) == ("cp1252", True)


@pytest.mark.parametrize(("gzipped", "sample"), [(False, 100_000), (True, 100_000), (False, 1 << 22)])
def test_a_file_mixing_utf8_and_windows_1252_reads_each_value_right(wh, tmp_path, monkeypatch, gzipped, sample):
    monkeypatch.setattr(encodings, "ENCODING_SAMPLE_BYTES", sample)  # beyond the sample (the demo file is larger),
    # or within it: either way each value is read in its own encoding
    rows = list(csv.reader(generate(tmp_path / "demo").actual.read_text(encoding="utf-8-sig").splitlines()))
    group = rows[0].index("ResourceGroup")
    rows[1][group] = "rg-café"  # UTF-8 in the sample (not ASCII alone: the rest is not scanned), no byte order mark
    for row in rows[-3:]:
        row[group] = "rg-Équipe-€"
    data = b"".join(_csv_line(row).encode("utf-8" if i < len(rows) - 3 else "cp1252") for i, row in enumerate(rows))
    path = tmp_path / ("mixed_actual.csv.gz" if gzipped else "mixed_actual.csv")
    path.write_bytes(gzip.compress(data) if gzipped else data)
    assert encodings.detect(path) == ("utf-8", False)
    f = load(wh, path).files[0]
    assert (f.error, f.rows_read, f.rows_quarantined) == (None, len(rows) - 1, 0)
    counts = wh.rows("SELECT x_ResourceGroupName AS g, count() AS n FROM abi.focus_cost "
                     "WHERE g IN ('rg-café', 'rg-Équipe-€') OR NOT isValidUTF8(g) GROUP BY g ORDER BY g")
    assert counts == [{"g": "rg-café", "n": 1}, {"g": "rg-Équipe-€", "n": 3}]


def _csv_line(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(row)
    return out.getvalue()


def _unicode_text(source, target, encoding: str = "utf-16") -> None:
    """``source`` as Excel's "Unicode Text" saves it: UTF-16 with a byte order mark, tab-separated."""
    out = io.StringIO()
    with open(source, newline="", encoding="utf-8-sig") as handle:
        csv.writer(out, delimiter="\t").writerows(csv.reader(handle))
    opener = gzip.open if target.suffix == ".gz" else open
    with opener(target, "wb") as raw:
        raw.write(out.getvalue().encode(encoding))


@pytest.mark.parametrize(("name", "encoding"), [("cost_actual.txt.csv", "utf-16"), ("cost_actual.csv.gz", "utf-16"),
                                                ("cost_actual.csv", "utf-16-le"), ("cost_actual.csv", "utf-16-be")])
def test_utf16_files_load_through_a_utf8_copy_that_is_removed(wh, tmp_path, monkeypatch, name, encoding):
    """With a byte order mark, or without (``utf-16-le``/``-be`` write none): the NUL bytes tell."""
    made = []
    real = encodings.utf8_copy
    monkeypatch.setattr(encodings, "utf8_copy", lambda p, e: made.append(real(p, e)) or made[-1])
    files = generate(tmp_path / "demo")
    path = tmp_path / name
    _unicode_text(files.actual, path, encoding)
    f = load(wh, path).files[0]
    assert (f.error, f.rows_quarantined, f.rows_read) == (None, 0, f.rows_loaded)
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")
    assert wh.scalar("SELECT any(x_SourceFile) FROM abi.focus_cost") == str(path)
    assert made and not made[0].parent.exists()


def test_a_truncated_utf16_file_is_refused_by_its_own_name(wh, tmp_path):
    path = tmp_path / "cut_actual.csv"
    _unicode_text(generate(tmp_path / "demo").actual, path)
    path.write_bytes(path.read_bytes()[:-1])  # half a character at the end
    f = load(wh, path).files[0]
    assert f.error.startswith(f"{path}: cannot be read as UTF-16 text")
