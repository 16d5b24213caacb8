"""ZIP archives: each billing member loads as a file of its own (``<archive>/<member>``), through a temporary copy
that is removed; archives without billing files, corrupt ones and corrupt members are refused with the reason."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from abitest import csv_total, load, total
from core.test_conventions import _unicode_text

from app.core import archives
from app.core.archives import expand_paths
from app.core.demo import generate


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_every_billing_member_loads_as_its_own_file_and_reloading_replaces_it(wh, tmp_path, scratch):
    demo = generate(tmp_path / "demo")
    actual, amortized = demo.actual.read_bytes(), demo.amortized.read_bytes()
    parquet = tmp_path / "amortized.parquet"
    pq.write_table(pacsv.read_csv(demo.amortized, convert_options=pacsv.ConvertOptions(
        column_types={n: "string" for n in demo.amortized.read_text().splitlines()[0].split(",")})), parquet)
    (tmp_path / "inbox").mkdir()
    archive = _zip(tmp_path / "inbox" / "usage.zip", {
        "2026-10/ea_actualcost.csv.gz": gzip.compress(actual), "2026-10/ea_amortizedcost.parquet": parquet.read_bytes(),
        "__MACOSX/2026-10/._ea_actualcost.csv.gz": b"\x00\x05", "readme.txt": b"October", "2026-10/": b"",
        "2026-10/~$ea_actualcost.csv": b"\x00" * 162})
    for hidden in ("._usage.zip", "~$cost.csv", ".sync/cost.csv", "__MACOSX/._cost.parquet"):  # beside it, unzipped
        (tmp_path / "inbox" / hidden).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "inbox" / hidden).write_bytes(b"\x00\x05\x16\x07")
    paths = expand_paths([str(tmp_path / "inbox")])  # the folder's walk finds the archive and lists its members
    assert paths == [archive / "2026-10" / "ea_actualcost.csv.gz", archive / "2026-10" / "ea_amortizedcost.parquet"]
    for _ in range(2):
        result = load(wh, archive)
        assert [(f.path, f.dataset, f.error) for f in result.files] == [
            (str(paths[0]), "ActualCost", None), (str(paths[1]), "AmortizedCost", None)]
        assert sum(f.rows_read for f in result.files) == len(actual.splitlines()) + len(amortized.splitlines()) - 2
        assert list(scratch.iterdir()) == []
    rows = wh.rows("SELECT x_SourceFile AS f, count() AS n FROM abi.focus_cost GROUP BY f ORDER BY f")
    assert [r["f"] for r in rows] == [str(p) for p in paths]
    assert sum(r["n"] for r in rows) == sum(f.rows_loaded for f in result.files)  # loaded twice, counted once
    assert total(wh, "EffectiveCost") == csv_total(demo.amortized, "CostInBillingCurrency")


def test_a_utf16_member_loads_through_copies_that_are_removed(wh, tmp_path, scratch):
    demo = generate(tmp_path / "demo")
    _unicode_text(demo.actual, tmp_path / "cost_actual.txt.csv")  # Excel's "Unicode Text": UTF-16, tab-separated
    archive = _zip(tmp_path / "unicode.zip", {"cost_actual.txt.csv": (tmp_path / "cost_actual.txt.csv").read_bytes()})
    f = load(wh, archive).files[0]
    assert (f.error, f.rows_quarantined) == (None, 0)
    assert total(wh, "BilledCost") == csv_total(demo.actual, "CostInBillingCurrency")
    assert list(scratch.iterdir()) == []


def test_archives_without_billing_files_and_corrupt_ones_are_refused_with_the_reason(wh, tmp_path, scratch):
    empty = _zip(tmp_path / "notes.zip", {"readme.txt": b"nothing to load"})
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 and then nothing a ZIP reader can use")
    good = generate(tmp_path / "demo").actual.read_bytes()
    damaged = bytearray(_zip(tmp_path / "damaged.zip", {"ea_actualcost.csv": good}).read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # inside the member's compressed data: its CRC no longer matches
    (tmp_path / "damaged.zip").write_bytes(bytes(damaged))
    result = load(wh, *expand_paths([str(tmp_path / "*.zip")]))
    errors = {Path(f.path).name: f.error for f in result.files}
    assert errors["notes.zip"] == f"{empty}: a ZIP archive with no CSV or Parquet file in it"
    assert errors["broken.zip"].startswith(f"{broken}: not a readable ZIP archive")
    member = tmp_path / "damaged.zip" / "ea_actualcost.csv"
    assert errors["ea_actualcost.csv"].startswith(f"{member}: cannot be extracted from damaged.zip")
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 0
    assert list(scratch.iterdir()) == []


def test_a_member_size_is_what_the_engine_reads(tmp_path):
    archive = _zip(tmp_path / "a.zip", {"x/cost.csv": b"a" * 1000})
    assert archives.size(archive / "x" / "cost.csv") == 1000
    assert archives.size(archive) == archive.stat().st_size
    assert archives.size(archive / "missing.csv") == -1


def test_members_are_copied_out_a_batch_at_a_time(wh, tmp_path, scratch, monkeypatch):
    demo = generate(tmp_path / "demo")
    archive = _zip(tmp_path / "usage.zip", {"a/actual.csv": demo.actual.read_bytes(),
                                            "b/amortized.csv": demo.amortized.read_bytes()})
    copies_present: list[int] = []
    extract = archives.extract

    def counted(path: Path) -> Path:
        copies_present.append(len(list(scratch.iterdir())))
        return extract(path)

    monkeypatch.setattr(archives, "extract", counted)
    monkeypatch.setattr(archives, "EXTRACT_BATCH_BYTES", demo.actual.stat().st_size + 1)  # one member a batch
    result = load(wh, archive)
    assert [f.error for f in result.files] == [None, None]
    assert copies_present == [0, 0]  # the first member's copy was gone before the second was made
    assert list(scratch.iterdir()) == []
    assert total(wh, "BilledCost") == csv_total(demo.actual, "CostInBillingCurrency")
    assert total(wh, "EffectiveCost") == csv_total(demo.amortized, "CostInBillingCurrency")
    assert [len(b) for b in archives.in_batches([archive / "a/actual.csv", archive / "b/amortized.csv",
                                                 demo.actual], lambda p: p)] == [1, 2]  # a file in place adds 0


def test_a_globs_matches_are_the_billing_files_a_folders_walk_would_load(wh, tmp_path):
    """Spark's ``_SUCCESS``, a checksum, a README, a manifest and hidden files beside the parts: a glob leaves them
    out as a folder's walk does; named as they are, they are still refused by name."""
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "__MACOSX").mkdir()
    for name in ("README.txt", "_SUCCESS", "manifest.json", "part.csv.crc", ".DS_Store", "sub/.cost.csv",
                 "__MACOSX/cost.csv", "sub/notes.txt"):
        (tree / name).write_text("x\n")
    billing = [tree / "cost.csv", tree / "sub" / "more.csv.gz", tree / "usage.zip"]
    for path in billing:
        path.write_bytes(b"")
    for pattern in ("*", "**", "**/*"):
        assert expand_paths([str(tree / pattern)]) == expand_paths([str(tree)]) == sorted(billing), pattern
    assert expand_paths([str(tree / "*" / "*")]) == [tree / "sub" / "more.csv.gz"]
    assert expand_paths([str(tree / "README.txt")]) == [tree / "README.txt"]
    unmatched = load(wh, *expand_paths([str(tree / "*.txt")])).files[0]
    assert unmatched.error == f"{tree / '*.txt'}: a glob matching no billing file (.csv, .csv.gz, .parquet or .zip)"
