"""Numbers as spreadsheets write them: malformed ones quarantined, thousands separators told from decimal commas."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from abitest import demo_lines, load, write_csv

from app.core import conventions
from app.core.conventions import Conventions, Layout, normalized, sniff
from app.core.warehouse import quote

FOCUS_HEADER = ["BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart",
                "ChargePeriodEnd", "ChargeCategory", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost",
                "ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName", "ServiceCategory"]
FOCUS_ROW = dict(zip(FOCUS_HEADER, ["A1", "USD", "2024-01-01", "2024-02-01", "2024-01-05", "2024-01-06", "Usage",
                                    "1.5", "1.5", "1.5", "1.5", "AWS", "AWS", "AWS", "Amazon S3", "Storage"],
                     strict=True))


def _demo_rows(tmp_path, n: int) -> tuple[list[str], list[dict[str, str]]]:
    header, lines = demo_lines(tmp_path, n)
    cells = next(csv.reader([header]))
    return cells, [dict(zip(cells, r, strict=True)) for r in csv.reader(lines)]


def _reasons(wh) -> list[list[str]]:
    return [r["reasons"] for r in wh.rows("SELECT reasons FROM abi.focus_quarantine ORDER BY source_row")]


@pytest.mark.parametrize("cell", ["1.2.3", "01.10.2026", "10.0.0.1", "1..5"])
def test_a_focus_number_with_several_dots_is_quarantined_as_not_a_number(wh, tmp_path, cell):
    path = write_csv(tmp_path / "focus_dots.csv", FOCUS_HEADER, [FOCUS_ROW, FOCUS_ROW | {"BilledCost": cell}])
    result = load(wh, path)
    f = result.files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 1, 1)
    assert _reasons(wh) == [[f'BilledCost: not a number: "{cell}"']]
    assert [r["source"] for r in result.reconciliation if r["metric"] == "BilledCost"] == ["1.5"]


def test_an_azure_number_with_several_dots_is_quarantined_as_not_a_number(wh, tmp_path):
    header, rows = _demo_rows(tmp_path, 3)
    rows[1]["CostInBillingCurrency"], rows[2]["Quantity"] = "1.2.3", "10.0.0.1"
    result = load(wh, write_csv(tmp_path / "dots_actual.csv", header, rows))
    f = result.files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 1, 2)
    assert [r[0] for r in _reasons(wh)] == ['CostInBillingCurrency: not a number: "1.2.3"',
                                            'Quantity: not a number: "10.0.0.1"']
    assert Decimal(result.reconciliation[0]["source"]) == sum(Decimal(r["CostInBillingCurrency"]) for r in rows[::2])



@pytest.mark.parametrize("column", ["EffectivePrice", "CostInPricingCurrency", "PaygCostInBillingCurrency",
                                    "ExchangeRatePricingToBilling", "CostInUsd", "PaygCostInUsd"])
def test_an_azure_amount_beside_the_cost_that_is_no_number_quarantines_the_row(wh, tmp_path, column):
    header, rows = _demo_rows(tmp_path, 3)
    header = header + [c for c in (column,) if c not in header]
    rows = [{c: r.get(c, "") for c in header} for r in rows]
    rows[1][column], rows[2][column] = "1.2.3", "n/a"
    f = load(wh, write_csv(tmp_path / "amounts_actual.csv", header, rows)).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 1, 2)
    assert [r[0] for r in _reasons(wh)] == [f'{column}: not a number: "1.2.3"', f'{column}: not a number: "n/a"']

def test_whole_amounts_with_thousands_commas_read_as_thousands(wh, tmp_path):
    """A KRW export saved by a spreadsheet as ``#,##0``: every number whole, ``1,300`` quoted (comma-separated)."""
    header, rows = _demo_rows(tmp_path, 3)
    for row, quantity in zip(rows, (10, 2, 100), strict=True):
        row |= {"BillingCurrencyCode": "KRW", "Quantity": str(quantity), "CostInBillingCurrency": f"{quantity * 130:,}",
                **dict.fromkeys(("UnitPrice", "EffectivePrice", "PayGPrice"), "130")}
    result = load(wh, write_csv(tmp_path / "krw_actual.csv", header, rows))
    assert (result.files[0].error, result.files[0].rows_quarantined) == (None, 0)
    costs = wh.rows("SELECT toString(BilledCost) AS c FROM abi.focus_cost ORDER BY x_SourceRow")
    assert [Decimal(r["c"]) for r in costs] == [1300, 260, 13000]
    assert Decimal(result.reconciliation[0]["source"]) == 14560


@pytest.mark.parametrize(("numbers", "layout", "expected"), [
    (["1,300", "260", "13,000"], Layout(), Conventions(thousands_comma=True)),  # ambiguous alone: thousands
    (["1,300", "260"], Layout(delimiter=";"), Conventions(decimal_comma=True)),  # a decimal-comma locale's CSV
    (["1,300", "260"], Layout(delimiter=";", currency=1), Conventions(thousands_comma=True)),  # KRW: no cents
    (["1,300", "1,5"], Layout(), Conventions(decimal_comma=True)),  # a comma before 1 digit decides
    (["1,300", "2,5000"], Layout(), Conventions(decimal_comma=True)),  # or 4
    (["1.300,500"], Layout(), Conventions(decimal_comma=True)),  # a dot between thousands
    (["1,300,500"], Layout(delimiter=";"), Conventions(thousands_comma=True)),  # two commas: thousands
    (["0,500"], Layout(), Conventions(decimal_comma=True)),  # no thousands start with 0
    (["24.000", "3,25"], Layout(), Conventions(decimal_comma=True)),  # ``#.##0`` beside decimal commas
    (["24.000", "3.25"], Layout(), Conventions()),
])
def test_a_comma_before_three_digits_alone_does_not_decide_decimal_commas(numbers, layout, expected):
    rows = [[n, "KRW"] for n in numbers]
    assert sniff(rows, [0], [], layout=layout) == expected


@pytest.mark.parametrize(("row", "decimal_comma"), [
    (["10", "130", "1,300"], False), (["10", "1,300", "13"], True), (["2", "1,500", "3,000"], True)])
def test_quantity_times_price_tells_thousands_from_decimal_commas(row, decimal_comma):
    """Under a ``;`` delimiter ambiguous commas read as decimals, unless quantity × price = cost says otherwise."""
    found = sniff([row], [0, 1, 2], [], layout=Layout(delimiter=";", products=((0, 1, 2),)))
    assert found.decimal_comma is decimal_comma


def test_thousands_commas_past_the_sampled_rows_read_in_a_dot_decimal_file(wh, tmp_path, monkeypatch):
    monkeypatch.setattr(conventions, "SAMPLE_ROWS", 50)  # the sample: dot decimals, no thousands separator
    header, rows = _demo_rows(tmp_path, 200)
    rows[-1] |= {"CostInBillingCurrency": "1,234.56", "Quantity": "1,000"}
    assert not any("," in r["CostInBillingCurrency"] + r["Quantity"] for r in rows[:-1])
    result = load(wh, write_csv(tmp_path / "late_actual.csv", header, rows))
    assert (result.files[0].error, result.files[0].rows_quarantined) == (None, 0)
    last = wh.rows("SELECT toString(BilledCost) AS c, toString(PricingQuantity) AS q FROM abi.focus_cost "
                   "ORDER BY x_SourceRow DESC LIMIT 1")[0]
    assert (Decimal(last["c"]), Decimal(last["q"])) == (Decimal("1234.56"), 1000)


@pytest.mark.parametrize("source", ["focus", "azure-cost"])
def test_only_groups_of_three_digits_read_as_thousands_without_a_sampled_separator(wh, source):
    cells = {"1,234.56": "1234.56", "1,000": "1000", "-12,345,678.9": "-12345678.9", "1,5": "1,5",
             "12,34.5": "12,34.5", "1,2345": "1,2345", "0.5": "0.5"}
    sql = normalized(source, Conventions(), "Quantity" if source == "azure-cost" else "BilledCost", "x")
    found = wh.rows(f"SELECT x, {sql} AS v FROM (SELECT arrayJoin({list(cells)}) AS x)")
    assert {r["x"]: r["v"] for r in found} == cells


def test_accounting_formats_read_negatives_in_parentheses_and_a_dash_as_zero(wh):
    """Excel's accounting formats: ``(5.00)`` negative with or without a symbol, ``$-`` (``$ -``) zero."""
    cells = {"($5.00)": "-5.00", "(5.00)": "-5.00", "( 1,234.50 )": "-1234.50", "$-": "0", " $ -  ": "0",
             "-": "-", "$5": "5", "(5.00": "(5.00", "()": "()"}
    sql = normalized("focus", sniff([["$1.00"], ["(5.00)"]], [0], []), "BilledCost", "x")
    found = wh.rows(f"SELECT x, {sql} AS v FROM (SELECT arrayJoin({list(cells)}) AS x)")
    assert {r["x"]: r["v"] for r in found} == cells


@pytest.mark.parametrize("cells", [["(5.00)", "1.00"], ["$-", "1"]])
def test_an_accounting_format_without_a_symbol_is_a_money_format(cells):
    assert sniff([[c] for c in cells], [0], []).money_format


def test_accounting_negatives_and_zeros_load(wh, tmp_path):
    rows = [FOCUS_ROW | {"BilledCost": cost} for cost in ("$1.50", "(5.00)", "$-", "-", "($2.00)")]
    f = load(wh, write_csv(tmp_path / "focus_accounting.csv", FOCUS_HEADER, rows)).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 5, 0)
    costs = wh.rows("SELECT toString(BilledCost) AS c FROM abi.focus_cost ORDER BY x_SourceRow")
    assert [Decimal(r["c"]) for r in costs] == [Decimal("1.5"), -5, 0, 0, -2]


def test_a_currency_symbol_after_the_amount_is_a_money_format(wh):
    """fr-FR and de-DE currency formats write the symbol after the amount, thousands spaced or dotted."""
    cells = {"5,00 €": "5.00", "-1 234,50 €": "-1234.50", "1\u202f234,50\u00a0€": "1234.50", "1.234,50€": "1234.50",
             "(5,00 €)": "-5.00", "- €": "0", "-": "-", "€": "€", "5 € 5": "5 € 5", "0,5": "0.5"}
    sample = sniff([[c] for c in ("5,00 €", "1 234,50 €", "0,5")], [0], [])
    assert (sample.money_format, sample.decimal_comma, sample.thousands_spaced) == (True, True, True)
    sql = normalized("focus", sample, "BilledCost", "x")
    found = wh.rows(f"SELECT x, {sql} AS v FROM (SELECT arrayJoin([{', '.join(map(quote, cells))}]) AS x)")
    assert {r["x"]: r["v"] for r in found} == cells


def _semicolon_costs(wh, path, costs: list[str]) -> list[Decimal]:
    """The BilledCost each of ``costs`` loads as, written as every amount of a ``;``-separated FOCUS file."""
    rows = [FOCUS_ROW | {"BilledCost": c, "EffectiveCost": c, "ListCost": c, "ContractedCost": c} for c in costs]
    f = load(wh, write_csv(path, FOCUS_HEADER, rows, delimiter=";")).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, len(costs), 0)
    found = wh.rows("SELECT toString(BilledCost) AS c FROM abi.focus_cost ORDER BY x_SourceRow")
    return [Decimal(r["c"]) for r in found]


def test_a_semicolon_file_with_euro_amounts_after_the_number_loads_them(wh, tmp_path):
    costs = ["1 234,50 €", "(2,25 €)", "- €", "0,75 €"]
    assert _semicolon_costs(wh, tmp_path / "focus_fr.csv", costs) == [Decimal("1234.50"), Decimal("-2.25"), 0,
                                                                      Decimal("0.75")]


def test_whole_numbers_with_a_thousands_dot_in_a_decimal_comma_file_are_thousands(wh, tmp_path, monkeypatch):
    """A de-DE re-save whose quantities carry Excel's ``#.##0``: ``24.000`` is 24000, in the sample and past it."""
    monkeypatch.setattr(conventions, "SAMPLE_ROWS", 50)
    header, rows = _demo_rows(tmp_path, 120)
    numbers = ("Quantity", "EffectivePrice", "CostInBillingCurrency", "UnitPrice", "PayGPrice")
    for row in rows:
        row |= {c: row[c].replace(".", ",") for c in numbers}
    rows[0] |= {"Quantity": "1.000", "CostInBillingCurrency": "3.250,00"}
    rows[-1] |= {"Quantity": "24.000", "CostInBillingCurrency": "2.640", "UnitPrice": "0,11", "EffectivePrice": "0,11"}
    result = load(wh, write_csv(tmp_path / "kosten_actual.csv", header, rows, delimiter=";"))
    assert (result.files[0].error, result.files[0].rows_quarantined) == (None, 0)
    found = wh.rows("SELECT toString(BilledCost) AS c, toString(ConsumedQuantity) AS q FROM abi.focus_cost "
                    "WHERE x_SourceRow IN (1, 120) ORDER BY x_SourceRow")
    assert [(Decimal(r["c"]), Decimal(r["q"])) for r in found] == [(3250, 1000), (2640, 24000)]


def test_a_unicode_minus_sign_is_a_negative_amount(wh, tmp_path):
    """U+2212, as PowerShell 7 and other ICU-based tools write sv-SE, nb-NO and fi-FI negatives."""
    costs = ["\u22121,5", "2,25", "\u2212 3,00", "\u2212\u20ac4,00"]
    assert _semicolon_costs(wh, tmp_path / "focus_sv.csv", costs) == [Decimal("-1.5"), Decimal("2.25"), -3, -4]
