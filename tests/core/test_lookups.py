"""The lookup tables (sql/lookups/*.csv): well-formed, FOCUS 1.2 values, and the rows added from Microsoft's FinOps
toolkit open data mapping real Azure values end to end on one-row files."""

from __future__ import annotations

import csv
import re

import pytest
from abitest import focus_rows, load, write_csv
from core.test_mapping_rules import BASE

from app.core import settings
from app.models.rules import SERVICE_SUBCATEGORIES

KEYS = {"pricing_units": ("unit_of_measure",), "regions": ("location",),
        "services": ("consumed_service", "resource_type", "meter_category")}
LEFT_OUT = {  # sql/lookups/README.md: only the meter category tells these services apart
    "microsoft.web/sites", "microsoft.web/serverfarms", "microsoft.web", "microsoft.recoveryservices/vaults",
    "microsoft.recoveryservices", "microsoft.cognitiveservices/accounts", "microsoft.cognitiveservices",
    "microsoft.operationalinsights/workspaces", "microsoft.operationalinsights",
    "microsoft.network/virtualnetworkgateways", "microsoft.cdn/profiles", "microsoft.cdn", "microsoft.network",
}


def lookup(name: str) -> list[dict[str, str]]:
    with open(settings.SQL_DIR / "lookups" / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, strict=True))


@pytest.mark.parametrize("name", sorted(KEYS))
def test_lookup_keys_are_normalized_and_unique(name):
    rows = lookup(name)
    keys = [tuple(r[k] for k in KEYS[name]) for r in rows]
    assert len(keys) == len(set(keys))
    assert all(v == v.strip().lower() for key in keys for v in key)
    assert all(None not in r and all(v == v.strip() for v in r.values()) for r in rows)


def test_pricing_units_have_integer_blocks_and_focus_units():
    for r in lookup("pricing_units"):
        assert re.fullmatch(r"[1-9][0-9]*", r["block_size"]), r
        # FOCUS unit format as README.md writes it: GB, Hours, GB-Months, Units/3 Months, 1000 Transactions
        assert re.fullmatch(r"([0-9]+ )?[A-Z][A-Za-z ]*(-[A-Z][a-z]+)?(/[0-9]+ [A-Z][a-z]+)?", r["pricing_unit"]), r


def test_services_use_one_key_a_focus_pair_and_one_pair_per_name():
    allowed = {(c, s) for c, subs in SERVICE_SUBCATEGORIES.items() for s in subs}
    pairs: dict[str, set[tuple[str, str]]] = {}
    for r in lookup("services"):
        keys = [r[k] for k in KEYS["services"] if r[k]]
        assert len(keys) == 1 and keys[0] not in LEFT_OUT, r
        assert (r["service_category"], r["service_subcategory"]) in allowed, r
        pairs.setdefault(r["service_name"], set()).add((r["service_category"], r["service_subcategory"]))
    assert {n: p for n, p in pairs.items() if len(p) > 1} == {}


def test_each_region_id_has_one_name_and_none_only_together():
    names: dict[str, set[str]] = {}
    for r in lookup("regions"):
        assert bool(r["region_id"]) == bool(r["region_name"]), r
        names.setdefault(r["region_id"], set()).add(r["region_name"])
    assert {i: n for i, n in names.items() if len(n) > 1} == {}


def one_row(wh, tmp_path, columns: str, **overrides) -> tuple[dict, dict[str, int]]:
    row = BASE | overrides
    f = load(wh, write_csv(tmp_path / "one_actual.csv", list(row), [row])).files[0]
    assert f.rows_loaded == 1, (f, wh.rows("SELECT reasons FROM abi.focus_quarantine"))
    return focus_rows(wh, columns)[0], f.unmapped


@pytest.mark.parametrize(("unit", "pricing_unit", "block"), [
    ("1 Hourly Units", "Hours", "1"),  # Microsoft: Units/Hour; a per-period count is the time unit
    ("100 Hourly Units", "Hours", "100"),
    ("100 Core Hrs", "Core-Hours", "100"),  # ours kept: Microsoft writes Hours
    ("1000 Relay Hrs", "Hours", "1000"),
    ("1 Daily User", "User-Days", "1"),
    ("1 TB/Day", "TB-Days", "1"),
    ("10 PB Seconds", "PB-Seconds", "10"),
    ("1K/Month", "Months", "1000"),
    ("1/3 Months", "Units/3 Months", "1"),
    ("10000 1,000s", "1000 Transactions", "10000"),
    ("1000 MAUs", "User-Months", "1000"),
])
def test_microsoft_units_map_to_focus_units_and_blocks(wh, tmp_path, unit, pricing_unit, block):
    row, unmapped = one_row(wh, tmp_path, "PricingUnit, toString(x_PricingBlockSize) AS b, "
                                          "toString(PricingQuantity) AS q", UnitOfMeasure=unit, Quantity="2")
    assert row == {"PricingUnit": pricing_unit, "b": block, "q": str(2 * int(block))}
    assert not any(k.startswith("unit:") for k in unmapped)


@pytest.mark.parametrize(("location", "region_id", "region_name"), [
    ("Sydney", "australiaeast", "Australia East"),
    ("UK South 2", "uksouth2", "UK South 2"),
    ("SingaporeCentral", "singaporecentral", "Singapore Central"),
    ("dallas", "southcentralus", "South Central US"),  # Microsoft: ussouthcentral, its own spelling of this id
    ("useast2euap", "eastus2euap", "East US 2 EUAP"),  # Microsoft: useast2euap, a second id for the canary
    ("All Regions", None, None),  # a charge of no one region (EA support, global plans): no made-up id
])
def test_microsoft_region_spellings_map_to_region_ids(wh, tmp_path, location, region_id, region_name):
    row, unmapped = one_row(wh, tmp_path, "RegionId, RegionName", ResourceLocation=location)
    assert row == {"RegionId": region_id, "RegionName": region_name}
    assert not any(k.startswith("region:") for k in unmapped)


@pytest.mark.parametrize(("consumed", "provider", "meter", "expected"), [
    ("Microsoft.HealthcareApis", "Microsoft.HealthcareApis/workspaces/w1", "Azure Health Data Services",
     ("Azure Health Data Services", "Analytics", "Analytics Platforms")),
    ("Microsoft.Teams", "", "Microsoft Teams", ("Microsoft Teams", "Business Applications",
                                                "Productivity and Collaboration")),
    # Microsoft's HDInsight in Azure Government: our name for the service, not Microsoft's "HDInsight"
    ("Microsoft.HDInsightFairfax", "Microsoft.HDInsightFairfax/clusters/c1", "HDInsight",
     ("Azure HDInsight", "Analytics", "Data Processing")),
    # left out on purpose: the meter category tells Functions from App Service
    ("Microsoft.Web", "Microsoft.Web/sites/f1", "Functions", ("Azure Functions", "Compute", "Serverless Compute")),
])
def test_microsoft_service_keys_map_to_focus_services(wh, tmp_path, consumed, provider, meter, expected):
    resource_id = f"/subscriptions/sub-1/resourceGroups/rg/providers/{provider}" if provider else ""
    row, unmapped = one_row(wh, tmp_path, "ServiceName, ServiceCategory, ServiceSubcategory",
                            ConsumedService=consumed, ResourceId=resource_id, MeterCategory=meter)
    assert (row["ServiceName"], row["ServiceCategory"], row["ServiceSubcategory"]) == expected
    assert not any(k.startswith("service:") for k in unmapped)


@pytest.mark.parametrize("charge", ["Tax", "Credit", "RoundingAdjustment"])
def test_rows_of_no_service_are_other_and_no_lookup_miss(wh, tmp_path, charge):
    """A tax, credit or adjustment line names no consumed service or resource: service category Other, named by its
    meter category, and not counted as a lookup that fell back (only usage and purchases are)."""
    row, unmapped = one_row(wh, tmp_path, "ServiceName, ServiceCategory, ChargeCategory", ChargeType=charge,
                            MeterCategory=charge, ConsumedService="", ResourceId="", PricingModel="")
    assert (row["ServiceName"], row["ServiceCategory"]) == (charge, "Other")
    assert not any(k.startswith("service:") for k in unmapped), unmapped


def test_lookup_misses_count_rows_that_load_not_quarantined_ones(wh, tmp_path):
    unknown = BASE | {"UnitOfMeasure": "7 Furlongs", "ResourceLocation": "moonbase1"}
    rows = [unknown, unknown | {"Date": "31/31/2026"}, unknown | {"CostInBillingCurrency": "n/a"}]
    f = load(wh, write_csv(tmp_path / "misses_actual.csv", list(unknown), rows)).files[0]
    assert (f.rows_loaded, f.rows_quarantined) == (1, 2)
    assert f.unmapped == {"unit:7 Furlongs": 1, "region:moonbase1": 1}


def test_the_50_lookup_misses_kept_are_the_most_frequent_then_by_name(wh, tmp_path):
    """More than 50 misses: the most frequent, ties by name, in that order (not whichever a hash table gave)."""
    rows = [BASE | {"UnitOfMeasure": "7 Furlongs", "ResourceLocation": f"moonbase{i:02d}"} for i in range(60, 0, -1)]
    f = load(wh, write_csv(tmp_path / "misses_actual.csv", list(rows[0]), rows)).files[0]
    assert f.rows_loaded == 60
    assert list(f.unmapped.items()) == [("unit:7 Furlongs", 60)] + [(f"region:moonbase{i:02d}", 1)
                                                                  for i in range(1, 50)]
