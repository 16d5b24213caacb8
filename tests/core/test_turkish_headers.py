"""A header upper-cased in a Turkish locale (dotted capital İ) names the same columns."""

from __future__ import annotations

from abitest import focus_rows, load

from app.core.demo import generate
from app.core.headers import spelling


def test_a_header_upper_cased_the_turkish_way_loads_as_the_original(wh, tmp_path):
    assert spelling("BİLLİNGACCOUNTİD") == spelling("bıllıngaccountıd") == "billingaccountid"
    original = generate(tmp_path / "demo").actual
    header, rest = original.read_text(encoding="utf-8-sig").split("\n", 1)
    turkish = tmp_path / "turkish" / original.name
    turkish.parent.mkdir()
    turkish.write_text(header.replace("i", "İ").upper() + "\n" + rest, encoding="utf-8")
    result = load(wh, turkish)
    assert result.ok and result.files[0].rows_loaded == len(rest.splitlines()), result.files[0]
    assert not result.files[0].unmapped
    assert all(r["BillingAccountId"] for r in focus_rows(wh, "BillingAccountId"))
