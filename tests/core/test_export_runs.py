"""A folder synced from export storage holds every daily run of a month-to-date export: only the latest run of an
export, dataset and month is loaded, the earlier runs' files are skipped with the reason (never summed)."""

from __future__ import annotations

import csv
import zipfile
from datetime import date

import pytest
from abitest import csv_total, first_days, load, others, total
from connectortest import demo_month, per_subscription_runs, write_export_run

from app.core.archives import expand_paths
from app.core.removal import remove
from app.core.runs import earlier_runs

MONTH = date(2026, 10, 1)


def _two_runs(tmp_path, last_day: int = 15, timed: bool = False):
    """A month-to-date export's run up to ``last_day`` and its month-end run: (demo files, root, old, new parts);
    ``timed``: each run in a folder of its time (``…/20261001-20261031/202610160500/<run id>/``)."""
    files = demo_month(tmp_path, MONTH)
    early = first_days(files.actual, tmp_path / f"mtd_{last_day}.csv", last_day)
    root = tmp_path / "container"
    old = write_export_run(root, "mtd-actual", "ActualCost", MONTH, f"run-{last_day}",
                           f"2026-10-{last_day + 1:02d}T05:00:00Z", early,
                           run_time=f"202610{last_day + 1:02d}0500" if timed else "")
    new = write_export_run(root, "mtd-actual", "ActualCost", MONTH, "run-31", "2026-11-01T05:00:00Z", files.actual,
                           run_time="202611010500" if timed else "")
    return files, early, root, old, new


def test_only_the_latest_run_of_a_month_loads(wh, tmp_path):
    files, early, root, old, new = _two_runs(tmp_path)
    result = load(wh, *expand_paths([str(root)]))
    assert result.ok and {f.path for f in result.files if f.skipped} == {str(p) for p in old}
    assert all(f.rows_loaded > 0 for f in result.files if f.path in {str(p) for p in new})
    assert all("earlier run (2026-10-16T05:00:00Z) of export mtd-actual ActualCost 2026-10" in f.skipped
               for f in result.files if f.skipped)
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")
    assert wh.scalar("SELECT countIf(status = 'skipped') FROM abi.ingestion_log") == len(old)


@pytest.mark.parametrize("resource", [True, False])
def test_exports_of_one_name_on_several_scopes_are_several_exports(wh, tmp_path, resource):
    """A ``daily-actual`` export on each subscription: told apart by the manifests' resource ids, else by folder."""
    files = demo_month(tmp_path, MONTH)
    parts = per_subscription_runs(tmp_path, tmp_path / "container", MONTH, files.actual, resource)
    result = load(wh, *expand_paths([str(tmp_path / "container")]))
    assert result.ok and not any(f.skipped for f in result.files) and len(result.files) == len(parts) > 4
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")


def test_only_the_latest_run_loads_from_a_zip_of_the_export_folder(wh, tmp_path):
    files, _, root, _, _ = _two_runs(tmp_path)
    archive = tmp_path / "exports.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            zf.write(path, path.relative_to(root).as_posix())
    result = load(wh, archive)
    skipped = [f for f in result.files if f.skipped]
    assert result.ok and skipped and all("/run-15/" in f.path for f in skipped)
    assert all("/run-31/" in f.path and f.rows_loaded for f in result.files if not f.skipped)
    assert all("earlier run (2026-10-16T05:00:00Z) of export mtd-actual ActualCost 2026-10" in f.skipped
               for f in skipped)
    assert not any(others(f) for f in result.files)
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")


def test_runs_of_other_months_or_datasets_all_load_and_files_without_manifest_are_kept(tmp_path):
    files = demo_month(tmp_path, MONTH)
    root = tmp_path / "container"
    runs = [write_export_run(root, "e", "ActualCost", MONTH, "r1", "2026-11-01T00:00:00Z", files.actual),
            write_export_run(root, "e", "AmortizedCost", MONTH, "r2", "2026-11-02T00:00:00Z", files.amortized),
            write_export_run(root, "e", "ActualCost", date(2026, 9, 1), "r3", "2026-11-03T00:00:00Z", files.actual)]
    broken = write_export_run(root, "e", "ActualCost", MONTH, "r0", "2026-10-01T00:00:00Z", files.actual)
    (broken[0].parent / "manifest.json").write_text("{not json")
    paths = [p for run in [*runs, broken] for p in run] + [files.actual]
    assert earlier_runs(paths) == {}


def test_files_of_one_load_that_repeat_each_other_are_named(wh, tmp_path):
    files = demo_month(tmp_path, MONTH)
    copy = tmp_path / "download" / "cost-details (1).csv"
    copy.parent.mkdir()
    copy.write_bytes(first_days(files.actual, tmp_path / "first_week.csv", 7).read_bytes())
    result = load(wh, files.actual, copy, files.amortized)
    warned = [w for f in result.files for w in others(f)]
    assert len(warned) == 1 and str(copy) in warned[0] and str(files.actual) in warned[0]
    assert "2026-10-01 … 2026-10-07" in warned[0] and "counts those costs twice" in warned[0]


def test_parts_of_one_export_run_and_atomic_loads_are_not_overlaps(wh, tmp_path):
    files = demo_month(tmp_path, MONTH)
    parts = write_export_run(tmp_path / "c", "e", "ActualCost", MONTH, "r1", "2026-11-01T00:00:00Z", files.actual,
                             parts=3)
    assert all(not others(f) for f in load(wh, *parts).files)
    first_week = first_days(files.actual, tmp_path / "first_week.csv", 7)
    assert all(not others(f) for f in load(wh, files.actual, first_week, atomic=True).files)



def _interleaved(source, folder, names):
    """``source``'s rows dealt in turn to files ``names`` in ``folder`` (each with the header): parts sharing days."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(source, newline="", encoding="utf-8-sig") as src:
        rows = list(csv.reader(src))
    for i, name in enumerate(names):
        with open(folder / name, "w", newline="") as out:
            csv.writer(out).writerows([rows[0], *rows[1 + i::len(names)]])
    return [folder / n for n in names]


@pytest.mark.parametrize("names", [("focus-export-00001.csv", "focus-export-00002.csv"),
                                   ("part-00000-5d8e9c7a-1b2c-4d3e-8f90-0a1b2c3d4e5f-c000.csv",
                                    "part-00001-5d8e9c7a-1b2c-4d3e-8f90-0a1b2c3d4e5f-c000.csv")])
def test_numbered_parts_of_one_export_are_not_overlaps(wh, tmp_path, names):
    """AWS Data Exports (``<export>-00001``) and Spark writes (``part-00000-<write id>-c000``) split like Azure."""
    files = demo_month(tmp_path, MONTH)
    parts = _interleaved(files.actual, tmp_path / "export", names)
    result = load(wh, *parts)
    assert result.ok and not [w for f in result.files for w in others(f)]
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")
    other = _interleaved(files.actual, tmp_path / "two", ("a-00001.csv", "b-00001.csv"))  # two exports: named
    assert any("counts those costs twice" in w for f in load(wh, *other).files for w in others(f))

def _focus_export(files, folder):
    """A one-row Microsoft FOCUS export of a day and subscription the cost details ``files`` also hold."""
    with open(files.actual, newline="", encoding="utf-8-sig") as handle:
        first = next(csv.DictReader(handle))
    focus = {"BillingAccountId": "/providers/Microsoft.Billing/billingAccounts/1", "BillingCurrency": "USD",
             "BillingPeriodStart": "2026-10-01T00:00:00Z", "BillingPeriodEnd": "2026-11-01T00:00:00Z",
             "ChargeCategory": "Usage", "ChargePeriodStart": "2026-10-01T00:00:00Z",
             "ChargePeriodEnd": "2026-10-02T00:00:00Z", "ProviderName": "Microsoft", "ServiceName": "Virtual Machines",
             "ServiceCategory": "Compute", "SubAccountId": f"/subscriptions/{first['SubscriptionId'].upper()}",
             "BilledCost": "1", "EffectiveCost": "1", "ListCost": "1", "ContractedCost": "1", "x_SkuMeterId": "m"}
    export = folder / "part_0_0001.csv"
    export.parent.mkdir()
    with open(export, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(focus))
        writer.writeheader()
        writer.writerow(focus)
    return export


def test_a_focus_export_beside_cost_details_of_the_same_days_is_named(wh, tmp_path):
    """Cost Management can export both: the FocusCost dataset is a second view of the same charges."""
    files = demo_month(tmp_path, MONTH)
    export = _focus_export(files, tmp_path / "focuscost")
    result = load(wh, files.actual, export)
    warned = [w for f in result.files for w in others(f)]
    assert len(warned) == 1 and "as a FOCUS export and as cost details" in warned[0]
    assert str(export) in warned[0] and str(files.actual) in warned[0] and "2026-10-01 … 2026-10-01" in warned[0]
    assert "this load counts" in warned[0]


def test_a_focus_export_loaded_after_cost_details_of_the_same_days_is_named(wh, tmp_path):
    """The two views loaded on different days stay side by side in the warehouse: the later load says so."""
    files = demo_month(tmp_path, MONTH)
    export = _focus_export(files, tmp_path / "focuscost")
    assert all(not others(f) for f in load(wh, files.actual, files.amortized).files)
    warned = others(load(wh, export).files[0])
    assert len(warned) == 1 and warned[0].startswith(str(export)), warned
    assert f"{files.amortized} (loaded earlier)" in warned[0]  # its usage superseded the actual file's
    assert "the warehouse now counts" in warned[0] and "2026-10-01 … 2026-10-01" in warned[0]
    again = others(load(wh, files.actual).files[0])  # and the other way round
    assert len(again) == 1 and f"{export} (loaded earlier)" in again[0], again



def test_an_export_of_abis_loaded_beside_the_files_it_came_from_is_named(wh, tmp_path):
    """ABI's own export loads again as plain FOCUS: beside its Azure source it is a second view of the charges."""
    from app.core.export import export

    files = demo_month(tmp_path, MONTH)
    load(wh, files.actual)
    export(wh, "csv", tmp_path / "focus.csv")
    warned = others(load(wh, tmp_path / "focus.csv").files[0])
    assert len(warned) == 1 and f"{files.actual} (loaded earlier)" in warned[0], warned
    assert "two views of the same charges" in warned[0] and "the warehouse now counts" in warned[0]

def test_reloading_one_view_alone_is_no_overlap(wh, tmp_path):
    files = demo_month(tmp_path, MONTH)
    assert all(not others(f) for f in load(wh, files.actual).files)
    assert all(not others(f) for f in load(wh, files.actual).files)  # the same scopes: replaced, not doubled


def test_a_manifest_that_cannot_be_read_is_named_once_and_its_files_load(wh, tmp_path, caplog):
    files = demo_month(tmp_path, MONTH)
    run = tmp_path / "export" / "run-1"
    run.mkdir(parents=True)
    (run / "part_0.csv").write_bytes(files.actual.read_bytes())
    (run / "manifest.json").write_text('{"exportConfig": ["not", "an", "object"]}')
    result = load(wh, run / "part_0.csv")
    assert result.ok and result.files[0].rows_loaded > 0
    warned = [r for r in caplog.records if "not read as an export manifest" in r.getMessage()]
    assert len(warned) == 1 and str(run / "manifest.json") in warned[0].getMessage()


@pytest.mark.parametrize("timed", [False, True])
def test_an_earlier_run_loaded_after_the_latest_is_skipped_until_the_latest_is_removed(wh, tmp_path, timed):
    files, early, root, old, new = _two_runs(tmp_path, timed=timed)
    assert load(wh, *new).ok
    month_total = total(wh, "BilledCost")
    again = load(wh, *old)
    assert again.ok and all(f.skipped and "than the run the warehouse holds (2026-11-01T05:00:00Z" in f.skipped
                            for f in again.files)
    assert total(wh, "BilledCost") == month_total == csv_total(files.actual, "CostInBillingCurrency")
    remove(wh, [str(p) for p in new])
    assert load(wh, *old).ok and total(wh, "BilledCost") == csv_total(early, "CostInBillingCurrency")
    assert all(f.rows_loaded > 0 for f in load(wh, *new).files)  # the later run replaces the earlier one
    assert total(wh, "BilledCost") == month_total


def test_an_earlier_run_is_skipped_whether_the_later_one_came_from_a_zip_or_a_folder(wh, tmp_path):
    files, early, root, old, new = _two_runs(tmp_path, last_day=10)
    archives = {}
    for run in ("run-10", "run-31"):
        archives[run] = tmp_path / f"{run}.zip"
        with zipfile.ZipFile(archives[run], "w") as zf:
            for path in sorted((root / "exports").rglob("*")):
                if f"/{run}/" in path.as_posix() + "/":
                    zf.write(path, path.relative_to(root).as_posix())
    month_total = csv_total(files.actual, "CostInBillingCurrency")
    zipped = {run: expand_paths([str(path)]) for run, path in archives.items()}
    for later, earlier in ((zipped["run-31"], old), (new, zipped["run-10"])):
        assert load(wh, *later).ok and total(wh, "BilledCost") == month_total
        again = load(wh, *earlier)
        assert again.ok and again.files and all(f.skipped for f in again.files)
        assert total(wh, "BilledCost") == month_total
        remove(wh, [str(p) for p in later])


@pytest.mark.parametrize("zipped", [False, True])
def test_a_part_shorter_than_its_manifest_says_is_refused_whole(wh, tmp_path, zipped):
    """A part copied while an overwriting export rewrote it (or cut short in transfer) loads nothing: its size is not
    the manifest's ``byteCount``; the run's whole parts load, and the refusal names the file and both sizes."""
    files = demo_month(tmp_path, MONTH)
    root = tmp_path / "container"
    parts = write_export_run(root, "daily-actual", "ActualCost", MONTH, "run-1", "2026-11-01T05:00:00Z",
                             files.actual, compress=False)
    whole = parts[0].stat().st_size
    lines = parts[0].read_bytes().splitlines(keepends=True)
    parts[0].write_bytes(b"".join(lines[: len(lines) // 2]))  # whole rows: the engine alone would load them
    paths = [root]
    if zipped:
        paths = [tmp_path / "exports.zip"]
        with zipfile.ZipFile(paths[0], "w") as zf:
            for path in sorted(root.rglob("*")):
                zf.write(path, path.relative_to(root).as_posix())
    result = load(wh, *expand_paths([str(p) for p in paths]))
    refused = [f for f in result.files if f.error]
    assert not result.ok and len(refused) == 1 and refused[0].path.endswith("part_0_0001.csv")
    assert f"where its export run's manifest says {whole:,}" in refused[0].error
    assert wh.scalar("SELECT count() FROM abi.focus_cost WHERE x_SourceFile LIKE '%part_0_0001.csv'") == 0


def test_sizes_a_manifest_cannot_vouch_for_are_not_checked(tmp_path):
    """A name listed twice (two folders) or a byteCount of 0 says nothing of a file's size."""
    import json

    from app.core.runs import cut_part

    run = tmp_path / "20261001-20261031" / "run-1"
    run.mkdir(parents=True)
    for name in ("part_0_0001.csv", "part_0_0002.csv", "part_0_0003.csv"):
        (run / name).write_text("a,b\n1,2\n")
    blobs = [{"blobName": "x/run-1/part_0_0001.csv", "byteCount": 999},
             {"blobName": "x/run-1/sub/part_0_0001.csv", "byteCount": 8},
             {"blobName": "x/run-1/part_0_0002.csv", "byteCount": 0},
             {"blobName": "x/run-1/part_0_0003.csv", "byteCount": 99}]
    (run / "manifest.json").write_text(json.dumps({"exportConfig": {"type": "ActualCost"},
                                                   "runInfo": {"startDate": "2026-10-01"}, "blobs": blobs}))
    assert cut_part(run / "part_0_0001.csv") is None and cut_part(run / "part_0_0002.csv") is None
    assert "8 bytes where its export run's manifest says 99" in cut_part(run / "part_0_0003.csv")
