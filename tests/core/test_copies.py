"""Copies in one load (a re-download, a gzip copy, a ZIP archive of a file beside it) load once, the others skipped
naming the file loaded; files of equal size but other data both load."""

from __future__ import annotations

import gzip
import zipfile

from abitest import csv_total, load, total

from app.core import copies
from app.core.archives import expand_paths
from app.core.demo import generate


def test_copies_of_a_file_in_one_load_are_skipped_naming_the_file_loaded(wh, tmp_path):
    demo = generate(tmp_path / "demo")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = demo.actual.read_bytes()
    (inbox / "cost.csv").write_bytes(data)
    (inbox / "cost (1).csv").write_bytes(data)
    (inbox / "cost.csv.gz").write_bytes(gzip.compress(data))
    with zipfile.ZipFile(inbox / "cost.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("october/cost.csv", data)
    (inbox / "amortized.csv").write_bytes(demo.amortized.read_bytes())
    result = load(wh, *expand_paths([str(inbox)]))  # as abi ingest walks a folder
    loaded = [f for f in result.files if not f.skipped]
    assert sorted(f.path for f in loaded) == [str(inbox / "amortized.csv"), str(inbox / "cost (1).csv")]
    skipped = {f.path: f.skipped for f in result.files if f.skipped}
    assert sorted(skipped) == [str(inbox / n) for n in ("cost.csv", "cost.csv.gz", "cost.zip/october/cost.csv")]
    assert all(s.endswith(f"the same data as {inbox / 'cost (1).csv'}, loaded in this load (a copy: loading both "
                          "would count its costs twice)") for s in skipped.values())
    assert result.ok and all(f.rows_loaded == 0 for f in result.files if f.skipped)
    assert total(wh, "BilledCost") == csv_total(demo.actual, "CostInBillingCurrency")
    assert total(wh, "EffectiveCost") == csv_total(demo.amortized, "CostInBillingCurrency")


def test_files_of_one_size_but_other_data_are_both_kept(tmp_path):
    one, other = tmp_path / "a.csv", tmp_path / "b.csv"
    one.write_text("Date,Cost\n10/01/2026,1.50\n")
    other.write_text("Date,Cost\n10/02/2026,1.50\n")
    assert copies.data_size(one) == copies.data_size(other)
    assert copies.same_content([one, other]) == {}
    broken = tmp_path / "c.csv.gz"
    broken.write_bytes(gzip.compress(one.read_bytes())[:-12] + len(one.read_bytes()).to_bytes(4, "little") * 3)
    assert copies.same_content([one, broken]) == {}  # cannot be read whole: the load refuses it with the reason


def test_a_copy_of_a_refused_file_is_refused_for_the_same_reason(wh, tmp_path):
    broken = tmp_path / "usage.csv"
    broken.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    copy = tmp_path / "usage (1).csv"
    copy.write_bytes(broken.read_bytes())
    result = load(wh, broken, copy)
    assert [(f.error, f.skipped) for f in result.files] == [
        (f"{path}: an Excel 97-2003 workbook, not CSV text: save the sheet as CSV and load that", None)
        for path in (broken, copy)]
