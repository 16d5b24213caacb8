"""Derived facts (infra map, FOCUS column lists) are cached by the content of their sources; the command line's
load path then runs without importing moose-lib."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from abitest import PROJECT

from app.core import derived, schema


def test_cached_value_is_reused_until_a_source_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("ABI_CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "decl.py"
    source.write_text("A = 1\n")
    calls = []

    def compute() -> dict:
        calls.append(1)
        return {"value": source.read_text()}

    assert derived.cached("fact", [source], compute) == {"value": "A = 1\n"}
    assert derived.cached("fact", [source], compute) == {"value": "A = 1\n"} and len(calls) == 1
    source.write_text("A = 2\n")
    assert derived.cached("fact", [source], compute) == {"value": "A = 2\n"} and len(calls) == 2


def test_cached_infra_map_is_the_serializers(tmp_path):
    out = subprocess.run([sys.executable, "-m", "moose_lib.dmv2_serializer"], cwd=PROJECT, capture_output=True,
                         text=True, check=True).stdout
    payload = out.split("___MOOSE_STUFF___start", 1)[1].split("end___MOOSE_STUFF___", 1)[0]
    assert schema.infra_tables() == json.loads(payload)["tables"]


def test_loading_a_file_does_not_import_moose_lib(tmp_path: Path, samples: Path):
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from app.core.warehouse import EmbeddedWarehouse\n"
        "from app.core.loader import ingest\n"
        f"wh = EmbeddedWarehouse(Path({str(tmp_path / 'wh')!r}))\n"
        f"assert ingest(wh, [Path({str(samples / 'azure' / 'EA_ActualCost_Small.csv')!r})]).ok\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('moose_lib', 'temporalio', 'kafka')))\n"
    )
    schema.infra_tables()  # warm the cache (the first derivation imports everything once)
    from app.models import columns

    assert columns.ALL_COLUMNS
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
