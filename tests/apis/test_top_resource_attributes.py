"""top-resources over a warehouse of its own (the module-scoped demo warehouse is never changed by a test)."""

from __future__ import annotations

from app.apis import service
from app.apis.params import TopResourcesQuery
from app.core.demo import generate
from app.core.loader import ingest


def test_top_resources_show_a_renamed_resources_latest_attributes(wh, tmp_path):
    """A resource renamed and moved on the last day of the month: the latest values, whatever order the rows are
    read in (and the same values from a warehouse that merged its parts)."""
    assert ingest(wh, [generate(tmp_path / "demo").actual]).ok
    top = wh.scalar("SELECT ResourceId FROM abi.focus_cost WHERE ResourceId != '' GROUP BY ResourceId "
                    "ORDER BY sum(EffectiveCost) DESC, ResourceId LIMIT 1")
    wh.command("ALTER TABLE abi.focus_cost UPDATE ResourceName = 'renamed', x_ResourceGroupName = 'rg-moved' "
               f"WHERE ResourceId = '{top}' AND toDate(ChargePeriodStart) = '2026-10-31'")
    for _ in range(2):
        [row] = service.top_resources(service.warehouse_execute(wh), TopResourcesQuery(limit=1)).rows
        assert (row.ResourceId, row.ResourceName, row.x_ResourceGroupName) == (top, "renamed", "rg-moved")
        wh.command("OPTIMIZE TABLE abi.focus_cost FINAL")
