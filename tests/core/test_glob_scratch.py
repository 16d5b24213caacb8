"""A temporary folder named like a glob (``TMPDIR=/tmp/{a,b}``): the copies and links read through it (ZIP members,
UTF-16 files, names with glob characters, small files read together) load every row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from abitest import PROJECT

from app.core.demo import generate


@pytest.mark.parametrize("name", ["t{a,b}", "t*", "t?", "t[1]"])
def test_copies_in_a_temporary_folder_named_like_a_glob_load(tmp_path: Path, name: str) -> None:
    files = generate(tmp_path / "demo")
    actual, amortized = (f.read_text(encoding="utf-8-sig").splitlines(keepends=True)
                         for f in (files.actual, files.amortized))
    inbox, scratch = tmp_path / "inbox", tmp_path / name
    inbox.mkdir(), scratch.mkdir()
    with zipfile.ZipFile(inbox / "usage.zip", "w") as zf:
        zf.write(files.actual, "zipped.csv")
    (inbox / "utf16.csv").write_text("".join(actual[:301]), encoding="utf-16")
    (inbox / "cost [1].csv").write_text("".join(amortized[:201]))
    for part, rows in (("a", amortized[201:401]), ("b", amortized[401:601])):  # read together, through links
        (tmp_path / part).mkdir()
        (tmp_path / part / "amortized.csv").write_text("".join([amortized[0], *rows]))
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "data"), "TMPDIR": str(scratch)}
    env.pop("ABI_CLICKHOUSE_URL", None)
    out = subprocess.run([sys.executable, "-m", "app.cli.main", "ingest", str(inbox), str(tmp_path / "a"),
                          str(tmp_path / "b"), "--json"], cwd=PROJECT, env=env, capture_output=True, text=True,
                         timeout=300)
    read = {str(Path(f["path"]).relative_to(tmp_path)): f["rows_read"] for f in json.loads(out.stdout)["files"]}
    assert read == {"inbox/usage.zip/zipped.csv": len(actual) - 1, "inbox/utf16.csv": 300, "inbox/cost [1].csv": 200,
                    "a/amortized.csv": 200, "b/amortized.csv": 200}, out.stderr
    assert list(scratch.iterdir()) == []


def test_the_stack_engine_reads_an_input_body_spooled_in_a_glob_named_folder(tmp_path, monkeypatch):
    from app.stack.ch_engine import ChdbEngine
    from app.stack.ch_protocol import QueryRequest, Statement

    scratch = tmp_path / "t{a,b}*?[1]"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    engine = ChdbEngine(str(tmp_path / "chdb"))
    try:
        engine.execute(QueryRequest(Statement("CREATE TABLE default.t (n String) ENGINE = Memory")))
        engine.execute(QueryRequest(Statement("INSERT INTO default.t SELECT c1 FROM input('c1 String')",
                                              "CSV", b"a\nb\n")))
        count = engine.execute(QueryRequest(Statement("SELECT count() FROM default.t")))
    finally:
        engine.close()
    assert count.data.strip() == b"2"
