"""A load killed while it swaps month partitions: the next process completes the publication, every row once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from abitest import PROJECT, csv_total, load, total

from app.core import journal, replace
from app.core.demo import generate
from app.core.staging import drop_stale_stages


class Killed(BaseException):
    """The process dying at that point (nothing after it runs; ``finally`` blocks aside)."""


def _killed_mid_swap(wh, tmp_path, monkeypatch):
    """The demo's actual data loaded, then its amortized data's load killed as a kill between REPLACE PARTITION's new
    parts and its retiring part leaves it: the journal open and the month's rows twice."""
    files = generate(tmp_path / "demo")
    load(wh, files.actual)

    def killed(*_args):
        raise Killed

    monkeypatch.setattr(replace, "refresh_aggregates", killed)  # the swaps are done, the journal still open
    with pytest.raises(Killed):
        load(wh, files.amortized)
    monkeypatch.undo()
    entry = json.loads((wh.data_dir / journal.NAME).read_text())
    wh.command(f"INSERT INTO abi.focus_cost SELECT * FROM {entry['batch']}")
    assert total(wh, "EffectiveCost") > csv_total(files.amortized, "CostInBillingCurrency")
    return files


def test_a_publication_killed_mid_swap_is_completed_by_the_next_process(wh, tmp_path, monkeypatch):
    files = _killed_mid_swap(wh, tmp_path, monkeypatch)
    assert drop_stale_stages(wh) >= 1  # the next process: the swaps replayed, then the batch dropped
    assert not journal.pending(wh)
    assert total(wh, "EffectiveCost") == csv_total(files.amortized, "CostInBillingCurrency")
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")
    daily = wh.scalar("SELECT toString(sum(EffectiveCost)) FROM abi.focus_daily_cost")
    assert Decimal(daily) == total(wh, "EffectiveCost")
    assert not wh.rows("SELECT name FROM system.tables WHERE database = 'abi' AND startsWith(name, '_abi_')")


def test_a_read_or_a_removal_completes_the_publication_first(wh, tmp_path, monkeypatch):
    files = _killed_mid_swap(wh, tmp_path, monkeypatch)
    wh.close()
    env = {**os.environ, "ABI_DATA_DIR": str(wh.data_dir)}
    env.pop("ABI_CLICKHOUSE_URL", None)
    out = subprocess.run([sys.executable, "-m", "app.cli.main", "sql", "SELECT toString(sum(EffectiveCost)) FROM "
                          "focus_cost", "--format", "csv"], cwd=PROJECT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert Decimal(out.stdout.splitlines()[1].strip('"')) == csv_total(files.amortized, "CostInBillingCurrency")
    assert out.stderr.startswith("abi: warning: completed the publication of an interrupted load (billing months "
                                 "202610)") and '"level"' not in out.stderr  # one plain line, no log record
    assert not (wh.data_dir / journal.NAME).exists()


def test_a_load_that_did_not_open_through_recovery_completes_it_before_its_own(wh, tmp_path, monkeypatch):
    """A connector sync opens the warehouse without ``drop_stale_stages``: its publication completes the dead one's
    first (it overwrote that journal, leaving the month counted twice for good)."""
    files = _killed_mid_swap(wh, tmp_path, monkeypatch)
    load(wh, files.actual)  # straight to the loader, as a sync does
    assert not journal.pending(wh)
    assert total(wh, "EffectiveCost") == csv_total(files.amortized, "CostInBillingCurrency")


def test_a_journal_whose_batch_is_gone_is_closed_with_a_warning(wh, tmp_path):
    files = generate(tmp_path / "demo")
    load(wh, files.actual)
    held = total(wh, "BilledCost")
    journal.begin(wh, "abi._abi_gone_batch", ["202610"])
    assert "left no batch" in journal.recover(wh)
    assert not journal.pending(wh) and total(wh, "BilledCost") == held
