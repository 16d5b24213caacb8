"""A column whose header name is blank keeps its values in x_SourceColumns as ``column_<n>`` (CSV and Parquet alike);
a header's trailing commas over empty fields add nothing."""

from __future__ import annotations

import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
from abitest import focus_rows, load

from app.core.headers import named_columns

ROW = {"BilledCost": "1", "BillingAccountId": "123", "BillingCurrency": "USD", "ChargeCategory": "Usage",
       "BillingPeriodStart": "2026-10-01T00:00:00Z", "BillingPeriodEnd": "2026-11-01T00:00:00Z",
       "ChargePeriodStart": "2026-10-01T00:00:00Z", "ChargePeriodEnd": "2026-10-02T00:00:00Z", "ContractedCost": "1",
       "EffectiveCost": "1", "InvoiceIssuerName": "AWS", "ListCost": "1", "ProviderName": "AWS",
       "PublisherName": "AWS", "ServiceCategory": "Compute", "ServiceName": "EC2"}


def test_a_blank_column_name_keeps_its_values_as_column_n(wh, tmp_path, scratch):
    names, values = [*ROW, "", "Note"], [*ROW.values(), "kept", "n"]
    parquet = tmp_path / "blank.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array([v]) for v in values], names=names), parquet)
    csv = tmp_path / "blank.csv"
    csv.write_text(",".join(names) + "\n" + ",".join(values) + "\n")
    member = tmp_path / "member.parquet"  # not a copy of the other (a copy is skipped)
    pq.write_table(pa.Table.from_arrays([pa.array([v]) for v in [*values[:-1], "m"]], names=names), member)
    archive = tmp_path / "blank.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        packed.write(member, "member.parquet")
    result = load(wh, parquet, csv, archive)
    assert [(f.error, f.rows_loaded) for f in result.files] == [(None, 1)] * 3
    kept = {"column_17": "kept", "Note": "n"}
    held = [r["x_SourceColumns"] for r in focus_rows(wh, "x_SourceColumns")]
    assert sorted(held, key=str) == sorted([kept, kept, {**kept, "Note": "m"}], key=str)
    assert list(scratch.iterdir()) == []  # the Parquet files' copies with the column named are gone


def test_trailing_commas_keep_a_value_written_under_them_only(wh, tmp_path):
    path = tmp_path / "trailing.csv"
    lines = [",".join(ROW) + ",,", ",".join(ROW.values()) + ",,", ",".join(ROW.values()) + ",,late"]
    path.write_text("\n".join(lines) + "\n")
    f = load(wh, path).files[0]
    assert (f.error, f.rows_loaded, f.rows_quarantined) == (None, 2, 0)
    assert [r["x_SourceColumns"] for r in focus_rows(wh, "x_SourceColumns")] == [{}, {"column_18": "late"}]


def test_a_blank_name_never_takes_the_name_of_another_column():
    assert named_columns(["a", "", "column_2", " "]) == ["a", "column_2_", "column_2", "column_4"]
