"""The printed cost summary: amounts in two billing currencies are never added together."""

from __future__ import annotations

from abitest import load, write_csv

from app.core.demo import generate
from app.core.summary import print_cost_summary, print_ingestion


def test_each_billing_currency_has_its_own_total(wh, tmp_path, capsys):
    base = {"BillingAccountId": "b1", "BillingPeriodStart": "2026-10-01", "BillingPeriodEnd": "2026-11-01",
            "ChargePeriodStart": "2026-10-02", "ChargePeriodEnd": "2026-10-03", "ChargeCategory": "Usage",
            "ProviderName": "Microsoft", "ServiceName": "Virtual Machines", "ServiceCategory": "Compute",
            "SubAccountId": "s1", "SubAccountName": "Prod", "ContractedCost": "1", "ListCost": "1"}
    rows = [{**base, "BillingCurrency": "EUR", "BilledCost": "10", "EffectiveCost": "10"},
            {**base, "BillingCurrency": "USD", "BilledCost": "2.5", "EffectiveCost": "2.5"},
            {**base, "BillingCurrency": "USD", "BilledCost": "1.5", "EffectiveCost": "1.5", "SubAccountId": "s2",
             "SubAccountName": "Dev"}]
    assert load(wh, write_csv(tmp_path / "two_currencies.csv", [*rows[0]], rows)).ok
    print_cost_summary(wh, "2026-10")
    totals = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("TOTAL")]
    assert totals == [["TOTAL", "10.00", "10.00", "EUR"], ["TOTAL", "4.00", "4.00", "USD"]] * 2


def test_a_file_tells_its_superseded_rows_only_when_it_has_some(wh, tmp_path, capsys):
    files = generate(tmp_path / "demo")
    print_ingestion(load(wh, files.actual, files.amortized))
    lines = {line.split("]")[0].split("[")[1]: line for line in capsys.readouterr().out.splitlines() if "[" in line}
    assert lines["azure-cost ActualCost"].endswith(" superseded by amortized data")
    assert lines["azure-cost AmortizedCost"].endswith(" 0 quarantined")
