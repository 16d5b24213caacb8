"""A warehouse whose disk is full: the load stops naming the warehouse, and no file is called broken."""

from __future__ import annotations

import pytest
from abitest import load, total

from app.core import staging
from app.core.demo import generate
from app.core.warehouse import WarehouseError

ENGINE_SAYS = "Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)"


def test_a_full_disk_stops_the_load_naming_the_warehouse_not_the_files(wh, tmp_path, monkeypatch):
    files = generate(tmp_path / "demo")
    load(wh, files.actual)
    held = total(wh, "BilledCost")

    def full(*_args, **_kwargs):
        raise WarehouseError(ENGINE_SAYS)

    monkeypatch.setattr(staging.FileStage, "load", full)
    with pytest.raises(WarehouseError, match=f"^the warehouse in {wh.data_dir} has no space left on its disk"):
        load(wh, files.amortized, files.actual)
    monkeypatch.undo()
    assert total(wh, "BilledCost") == held  # earlier data as it was
    assert not wh.rows("SELECT name FROM system.tables WHERE database = 'abi' AND startsWith(name, '_abi_')")
