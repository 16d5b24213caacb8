"""The Moose definitions load and declare the streaming ingestion: checked on the infra map moose-lib serializes
(what ``python -m moose_lib.dmv2_serializer`` prints) and with ``moose-cli check`` offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from moosetest import snapshot_project

import app.main  # noqa: F401 - registers the declarations
from app.core import mapping
from app.ingest import stream_sql
from app.ingest.pipelines import PIPELINES, SOURCES
from app.stack import local

RAW_TABLES = [name for name, _ in SOURCES.values()]


@pytest.fixture(scope="module")
def infra() -> dict[str, Any]:
    from moose_lib.internal import to_infra_map

    return to_infra_map()


def test_raw_tables_streams_and_ingest_apis_with_dead_letter_queues(infra: dict[str, Any]) -> None:
    for name in RAW_TABLES:
        assert name in infra["tables"]
        columns = {c["name"]: c for c in infra["tables"][name]["columns"]}
        assert {"x_SourceFile", "x_SourceRow", "x_SourceDataset", "x_IngestionId"} <= set(columns)
        assert all(not c["required"] for c in columns.values())
        assert all(c["data_type"] == "String" for n, c in columns.items() if n != "x_SourceRow")
        assert infra["topics"][name]["targetTable"] == name
        api = infra["ingestApis"][name]
        assert api["writeTo"] == {"kind": "stream", "name": name, "version": None, "metadata": None,
                                  "deadLetterQueue": None}
        assert api["deadLetterQueue"] == f"{name}DeadLetterQueue"


def test_dead_letters_are_transformed_into_the_quarantine(infra: dict[str, Any]) -> None:
    assert infra["topics"]["quarantine_rows"]["targetTable"] == "focus_quarantine"
    for name in RAW_TABLES:
        targets = infra["topics"][f"{name}DeadLetterQueue"]["transformationTargets"]
        assert [t["name"] for t in targets] == ["quarantine_rows"]


def test_views_run_the_bulk_mapping_from_each_raw_table(infra: dict[str, Any]) -> None:
    views = infra["materializedViews"]
    for fmt, source in PIPELINES.items():
        table = source.pipeline.name
        to_focus, to_quarantine = views[f"{table}_to_focus"], views[f"{table}_to_quarantine"]
        assert (to_focus["targetTable"], to_quarantine["targetTable"]) == ("focus_cost", "focus_quarantine")
        # the tables each view reads (the held rows too): Moose creates them before the view
        assert to_focus["sourceTables"] == [f"`{table}`", "`focus_cost`"]
        assert to_quarantine["sourceTables"] == [f"`{table}`", "`focus_cost`", "`focus_quarantine`"]
        assert mapping.mapped_select(fmt).split("FROM (", 1)[0] in to_focus["selectSql"]
        assert to_focus["selectSql"] == stream_sql.focus_select(fmt, table)
        assert "WHERE empty(_reasons)" in to_focus["selectSql"]
        assert "WHERE notEmpty(_reasons)" in to_quarantine["selectSql"]
        for view in (to_focus, to_quarantine):  # Moose sends each view whole: a server's default max_query_size
            assert len(view["selectSql"]) < 256 * 1024 - 4096, (view["name"], len(view["selectSql"]))


def test_lookup_resource_precedes_the_views(infra: dict[str, Any]) -> None:
    resource = infra["sqlResources"]["abi_lookups"]
    pushed = {p["id"] for p in resource["pushesDataTo"]}
    assert pushed == {f"{t}_to_{k}" for t in RAW_TABLES for k in ("focus", "quarantine")}
    assert any(s.startswith("CREATE TABLE IF NOT EXISTS") for s in resource["setup"])
    assert not any(s.startswith("DROP") for s in resource["setup"])
    assert resource["teardown"] and all(s.startswith("DROP") for s in resource["teardown"])


def test_serializer_prints_the_same_infra_map() -> None:
    done = subprocess.run([sys.executable, "-m", "moose_lib.dmv2_serializer"], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    printed = done.stdout.split("___MOOSE_STUFF___start", 1)[1].split("end___MOOSE_STUFF___", 1)[0]
    for name in RAW_TABLES + ["quarantine_rows", "abi_lookups"]:
        assert f'"{name}"' in printed


def test_moose_cli_check_passes_offline(tmp_path: Path) -> None:
    project = snapshot_project(tmp_path / "project")
    home = tmp_path / "home"
    local.write_moose_home(home)
    env = {**os.environ, "HOME": str(home), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([str(Path(sys.executable).parent / "moose-cli"), "check", "--write-infra-map"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    written = (project / ".moose" / "infrastructure_map.json").read_text()
    assert all(name in written for name in RAW_TABLES)
