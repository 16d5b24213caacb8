"""The FOCUS table is declared once: the embedded table matches what Moose's serializer reports."""

import json
import re
import subprocess
import sys

from abitest import PROJECT

from app.core import schema
from app.ingest.tables import FOCUS_TABLE
from app.models.focus import FOCUS_COLUMNS, MANDATORY_COLUMNS, FocusCost

SPEC_NOT_NULL = {
    "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
    "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName",
    "ListCost", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName", "ServiceSubcategory",
}


def serializer_tables() -> dict:
    out = subprocess.run([sys.executable, "-m", "moose_lib.dmv2_serializer"], cwd=PROJECT, capture_output=True,
                         text=True, check=True).stdout
    payload = re.search(r"___MOOSE_STUFF___start (.*) end___MOOSE_STUFF___", out, re.S).group(1)
    return json.loads(payload)["tables"]


def test_embedded_table_matches_moose_serializer(wh):
    from app.core.loader import ensure_schema

    ensure_schema(wh)
    embedded = [(r["name"], r["type"]) for r in wh.rows(
        "SELECT name, type FROM system.columns WHERE database = 'abi' AND table = {t:String} ORDER BY position",
        {"t": FOCUS_TABLE})]
    reported = [(c["name"], schema.column_type(c)) for c in serializer_tables()[FOCUS_TABLE]["columns"]]
    assert embedded == reported
    keys = wh.rows("SELECT partition_key, sorting_key, engine FROM system.tables WHERE database = 'abi' "
                   "AND name = {t:String}", {"t": FOCUS_TABLE})[0]
    assert keys["partition_key"] == "toYYYYMM(BillingPeriodStart)"
    assert keys["engine"] == "MergeTree"


def test_focus_12_columns_names_and_nullability():
    assert len(FOCUS_COLUMNS) == 57
    assert set(MANDATORY_COLUMNS) == SPEC_NOT_NULL
    types = dict(schema.columns(FOCUS_TABLE))
    money = [c for c in FOCUS_COLUMNS if "Cost" in c and "Category" not in c or c.endswith(("Price", "Quantity"))]
    assert all(types[c].replace("Nullable(", "").startswith("Decimal(38, 18)") for c in money), money
    assert types["Tags"] == "JSON" and types["SkuPriceDetails"] == "JSON"
    assert types["ChargeCategory"] == "LowCardinality(String)"
    assert list(FocusCost.model_fields)[:57] == list(FOCUS_COLUMNS)
    assert all(c.startswith("x_") for c in list(FocusCost.model_fields)[57:])


def test_changed_lookup_csv_reloads_table_and_dictionaries(wh, tmp_path, monkeypatch):
    import shutil

    from app.core import settings
    from app.core.loader import ensure_schema

    ensure_schema(wh)
    sql = tmp_path / "sql"
    shutil.copytree(settings.SQL_DIR, sql)
    with open(sql / "lookups" / "regions.csv", "a", encoding="utf-8") as handle:
        handle.write("marsnorth,marsnorth,Mars North\n")
    monkeypatch.setattr(settings, "SQL_DIR", sql)
    ensure_schema(wh)
    assert wh.scalar("SELECT dictGet('dict_regions', 'region_name', tuple('marsnorth'))") == "Mars North"


def test_tables_from_before_a_type_change_are_brought_to_the_declaration(wh):
    from app.core.loader import ensure_schema
    from app.views.daily_cost import DAILY_COST_TABLE

    old_focus = schema.create_table_sql(FOCUS_TABLE, "abi").replace("DateTime('UTC')", "DateTime")
    old_daily = schema.create_table_sql(DAILY_COST_TABLE, "abi").replace("Date32", "Date")
    wh.command(old_focus)
    wh.command(old_daily)
    wh.command(f"INSERT INTO abi.{DAILY_COST_TABLE} (ChargeDate, BillingPeriodStart, BillingAccountId, "
               "BilledCost, RowCount) VALUES ('2026-10-02', '2026-10-01 00:00:00', 'acct', 1.5, 1)")
    ensure_schema(wh)
    for table in (FOCUS_TABLE, DAILY_COST_TABLE):
        types = {r["name"]: r["type"] for r in wh.rows(
            "SELECT name, type FROM system.columns WHERE database = 'abi' AND table = {t:String}", {"t": table})}
        assert types == dict(schema.columns(table))
    assert wh.rows(f"SELECT toString(ChargeDate) AS d, BillingAccountId AS a, toString(BilledCost) AS b "
                   f"FROM abi.{DAILY_COST_TABLE}") == [{"d": "2026-10-02", "a": "acct", "b": "1.5"}]
    assert "DateTime('UTC')" in dict(schema.columns(FOCUS_TABLE))["ChargePeriodStart"]


def test_a_column_declared_since_a_table_was_made_is_added_in_its_place(wh):
    from app.core.loader import ensure_schema

    ensure_schema(wh)
    names = [n for n, _ in schema.columns(FOCUS_TABLE)]
    wh.command(f"ALTER TABLE abi.{FOCUS_TABLE} DROP COLUMN x_SkuDescription")
    ensure_schema(wh)
    held = [r["name"] for r in wh.rows("SELECT name FROM system.columns WHERE database = 'abi' "
                                       "AND table = {t:String} ORDER BY position", {"t": FOCUS_TABLE})]
    assert held == names
