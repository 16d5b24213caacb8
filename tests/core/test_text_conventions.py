"""Locale conventions wherever a file writes numbers and dates as text: Parquet text columns, dates with a month
name, thousands separated by spaces or apostrophes."""

from __future__ import annotations

import csv
import datetime as dt
from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from abitest import european, load, total, write_csv

from app.core import conventions
from app.core.conventions import Conventions, named_month_sql, sniff
from app.core.demo import generate

BY_DAY = ("SELECT toString(toDate(ChargePeriodStart)) AS d, toString(toDate(BillingPeriodStart)) AS p, count() AS n, "
          "toString(sum(BilledCost)) AS c, toString(sum(PricingQuantity)) AS q FROM abi.focus_cost GROUP BY d, p "
          "ORDER BY d, p")


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _loads_as_the_export(wh, original, rows: list[dict[str, str]], folder, delimiter: str = ",") -> None:
    """``rows`` (the ``original`` export rewritten) saved under the export's name in ``folder`` load to the same
    rows, costs and quantities per day as the export itself."""
    folder.mkdir()
    path = write_csv(folder / original.name, list(rows[0]), rows, delimiter=delimiter)
    by_day = []
    for loaded in (original, path):
        f = load(wh, loaded).files[0]
        assert f.error is None and (f.rows_loaded, f.rows_quarantined) == (len(rows), 0), f
        by_day.append(wh.rows(BY_DAY))
    assert len(by_day[0]) >= 28 and by_day[0] == by_day[1]


def test_a_parquet_file_of_text_columns_reads_the_locale_its_text_is_written_in(wh, tmp_path):
    """A European CSV converted to Parquet with every column as text: its days and numbers as the export's."""
    original = generate(tmp_path / "demo").actual
    rows = european(_rows(original))
    assert any(r["Date"].startswith(("01/", "02/", "03/")) for r in rows)  # days that would read as months
    converted = tmp_path / "parquet" / original.with_suffix(".parquet").name
    converted.parent.mkdir()
    pq.write_table(pa.table({c: pa.array([r[c] or None for r in rows], pa.string()) for c in rows[0]}), converted)
    by_day = []
    for path in (original, converted):  # same export scope: the second load replaces the first
        f = load(wh, path).files[0]
        assert f.error is None and (f.rows_loaded, f.rows_quarantined) == (len(rows), 0), f
        by_day.append(wh.rows(BY_DAY))
    assert len(by_day[0]) >= 28 and by_day[0] == by_day[1]


def test_typed_parquet_columns_keep_their_values_beside_text_in_a_locale(wh, tmp_path):
    """Timestamps and floats typed, costs as decimal-comma text with day-first text billing periods."""
    stamps, ends = (pa.array([dt.datetime(2024, 3, d, tzinfo=dt.UTC) for d in days], pa.timestamp("ms", tz="UTC"))
                    for days in ((4, 5, 6), (5, 6, 7)))
    text = {"BillingAccountId": "1", "BillingAccountName": "a", "BillingCurrency": "EUR",
            "BillingPeriodStart": "01/03/2024", "BillingPeriodEnd": "01/04/2024", "ChargeCategory": "Usage",
            "ChargeDescription": "vm", "ChargeFrequency": "Usage-Based", "InvoiceIssuerName": "X",
            "ProviderName": "X", "PublisherName": "X", "ServiceName": "VM", "ServiceCategory": "Compute"}
    table = pa.table({
        "BilledCost": ["1.234,5", "0,25", "2"], "ListCost": pa.array([1.5, 0.25, 2e-7], pa.float64()),
        "EffectiveCost": pa.array([Decimal("1.5"), Decimal("0.25"), Decimal("2")], pa.decimal128(38, 10)),
        "ContractedCost": ["1,5", "0,25", "2"], "ChargePeriodStart": stamps, "ChargePeriodEnd": ends,
        "PricingQuantity": pa.array([1, 2, 3], pa.int64()), **{k: [v] * 3 for k, v in text.items()},
    })
    path = tmp_path / "focus.parquet"
    pq.write_table(table, path)
    f = load(wh, path).files[0]
    assert f.error is None and (f.rows_loaded, f.rows_quarantined) == (3, 0), f
    assert (total(wh, "BilledCost"), total(wh, "ContractedCost")) == (Decimal("1236.75"), Decimal("3.75"))
    assert (total(wh, "ListCost"), total(wh, "EffectiveCost")) == (Decimal("1.7500002"), Decimal("3.75"))
    assert wh.rows("SELECT DISTINCT toString(BillingPeriodStart) AS p, toString(BillingPeriodEnd) AS e "
                   "FROM abi.focus_cost") == [{"p": "2024-03-01 00:00:00", "e": "2024-04-01 00:00:00"}]
    assert [r["d"] for r in wh.rows("SELECT toString(toDate(ChargePeriodStart)) AS d FROM abi.focus_cost "
                                    "ORDER BY d")] == ["2024-03-04", "2024-03-05", "2024-03-06"]


@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize("date_format", ["%d-%b-%Y", "%b %d, %Y", "%d %B %y", "%b-%d-%Y", "%Y-%b-%d"])
def test_a_date_with_a_month_name_loads_beside_us_dates(wh, tmp_path, monkeypatch, date_format, late):
    """``04-Oct-2026`` in ``Date`` and ``10/31/2026`` in the billing period: each date means one day; ``late``: the
    month names only past the rows sampled for the file's conventions."""
    original = generate(tmp_path / "demo").actual
    rows = _rows(original)
    for row in rows[len(rows) // 2 if late else 0:]:
        row["Date"] = datetime.strptime(row["Date"], "%m/%d/%Y").strftime(date_format)
    if late:
        monkeypatch.setattr(conventions, "SAMPLE_ROWS", 50)
        rows.sort(key=lambda r: "/" not in r["Date"])  # the first rows (the sample) in US dates only
        assert all("/" in r["Date"] for r in rows[:50])
    _loads_as_the_export(wh, original, rows, tmp_path / "named")


def test_a_month_name_reads_as_its_day_in_any_order_and_other_text_stays(wh):
    cells = {"04-Oct-2024": "2024-10-04", "Oct 4, 2024": "2024-10-04", "Oct-04-2024": "2024-10-04",  # misread as is
             "04 Oct 24": "2024-10-04", "2024-Oct-04": "2024-10-04", "4 Sept 2024": "2024-09-04",
             "4. Oct 2024": "2024-10-04", "Oct 4th, 2024": "2024-10-04", "October 31 2024": "2024-10-31",
             "31-Dec-24 1:45 PM": "2024-12-31 13:45:00", "10/31/2024": None, "31-Feb-2024": None, "Oct": None}
    found = wh.rows(f"SELECT x, {named_month_sql('x')} AS v FROM (SELECT arrayJoin({list(cells)}) AS x)")
    assert {r["x"]: r["v"] for r in found} == {c: (d if d is None or " " in d else f"{d} 00:00:00") or c
                                               for c, d in cells.items()}


@pytest.mark.parametrize(("dates", "day_first"), [
    (["04-Oct-2024", "10/31/2024"], False), (["Oct 4, 2024", "31/10/2024"], True), (["4 Oct 2024"] * 2, None)])
def test_a_month_name_does_not_vote_on_the_order_of_day_and_month(dates, day_first):
    assert sniff([dates] * 3, [], [0, 1]) == Conventions(day_first=day_first, named_month=True)


def _write(path, rows: list[dict[str, str]], delimiter: str = ",") -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("mark", [",", "."])
def test_thousands_separated_by_spaces_or_apostrophes_load_as_the_export(wh, tmp_path, mark):
    """fr-FR ``1 234,56`` (a space, no-break or narrow no-break space), de-CH ``1'234.56`` / ``1’234.56``."""
    rows = _rows(generate(tmp_path / "demo").actual)
    for n, row in enumerate(rows[:40]):
        row["CostInBillingCurrency"] = f"{1234.5 * (n + 1) ** 3:.4f}"
    expected = sum((Decimal(r["CostInBillingCurrency"]) for r in rows[1:]), Decimal(0))
    rows = european(rows) if mark == "," else rows
    for n, row in enumerate(rows[:40]):
        whole, _, fraction = row["CostInBillingCurrency"].partition(mark)
        separator = (" ", "\u00a0", "\u202f", "'", "\u2019")[n % 5]
        row["CostInBillingCurrency"] = f"{int(whole):,}".replace(",", separator) + mark + fraction
    assert rows[39]["CostInBillingCurrency"] == f"79\u2019008\u2019000{mark}0000"
    rows[0]["Quantity"] = f"1 23{mark}4"  # not groups of three digits: not a number
    path = tmp_path / "spaced_actual.csv"
    _write(path, rows, ";" if mark == "," else ",")
    f = load(wh, path).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, len(rows) - 1, 1)
    assert wh.scalar("SELECT reasons FROM abi.focus_quarantine") == [f'Quantity: not a number: "1 23{mark}4"']
    assert total(wh, "BilledCost") == expected


@pytest.mark.parametrize(("numbers", "expected"), [
    (["1 234,56", "0,5"], Conventions(decimal_comma=True, thousands_spaced=True)),
    (["1\u202f234", "12"], Conventions(thousands_spaced=True)),
    (["1'234.56", "0.5"], Conventions(thousands_spaced=True)),
    (["1 23,4", "0,5"], Conventions(decimal_comma=True)),
])
def test_spaced_thousands_are_read_from_the_sample_rows(numbers, expected):
    assert sniff([[n] for n in numbers], [0], []) == expected


@pytest.mark.parametrize("date_format", ["%Y. %m. %d.", "%-d. %-m. %Y", "%d. %m. %Y %H:%M"])
def test_windows_short_dates_with_spaced_dots_load_as_the_export(wh, tmp_path, date_format):
    """hu-HU writes ``2023. 09. 21.``, cs-CZ and sk-SK ``21. 9. 2023``: the year first or a dot tells the order."""
    original = generate(tmp_path / "demo").actual
    rows = european(_rows(original), date_format)
    assert ". " in rows[0]["Date"]
    _loads_as_the_export(wh, original, rows, tmp_path / "spaced", delimiter=";")
