"""The ``abi`` command line in an unusual environment: data folders the engine would misread, unwritable folders and
outputs, closed or full standard streams, locales that cannot encode the output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from abitest import PROJECT
from test_abi_cli import demo_dir  # noqa: F401  (the fixture)

from app.core.settings import SettingError


def run(tmp_path: Path, *args: str, data: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """``abi`` as a subprocess, with ``ABI_DATA_DIR`` ``data`` (default ``tmp_path/data``) and ``env`` added."""
    full = {**os.environ, "ABI_DATA_DIR": str(data or tmp_path / "data"), **env}
    full.pop("ABI_CLICKHOUSE_URL", None)
    return subprocess.run([sys.executable, "-m", "app.cli.main", *args], cwd=PROJECT, env=full,
                          capture_output=True, text=True, timeout=300)


def test_a_data_folder_with_a_question_mark_is_refused_not_opened_as_another(tmp_path, monkeypatch):
    data = tmp_path / "wh?one"
    billing = tmp_path / "cost.csv"
    billing.write_text("a,b\n1,2\n")
    expected = (f"abi: ABI_DATA_DIR {data}: the embedded engine reads what follows '?' in its folder's path as options "
                f"(it would open {tmp_path}/wh): name a folder without '?'")
    for command in (["ingest", str(billing)], ["sql", "SELECT 1"], ["files"], ["demo", "--out", str(tmp_path)]):
        out = run(tmp_path, *command, data=data)
        assert (out.returncode, out.stderr.strip()) == (2, expected), command
    assert not (tmp_path / "wh").exists() and not data.exists()
    from app.core.warehouse import EmbeddedWarehouse
    from app.stack.ch_engine import ChdbEngine
    from app.stack.services import StackConfig

    monkeypatch.setenv("ABI_STACK_RUN_DIR", str(data))
    for opening in (lambda: EmbeddedWarehouse(data), lambda: ChdbEngine(str(data)), StackConfig.from_env):
        with pytest.raises(SettingError, match="reads what follows '.' in its folder's path as options"):
            opening()
    assert not (tmp_path / "wh").exists() and not data.exists()


def unprivileged() -> list[str]:
    """A command prefix under which file permissions hold (root's overrides dropped), or a skip."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("root without setpriv: file permissions do not hold")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]


def as_user(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``run`` without root's permission overrides."""
    full = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "data"), **env}
    full.pop("ABI_CLICKHOUSE_URL", None)
    return subprocess.run([*unprivileged(), sys.executable, "-m", "app.cli.main", *args], cwd=PROJECT, env=full,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def read_only(tmp_path: Path):
    """``tmp_path/ro``, a folder nobody may write (writable again after the test)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def test_a_read_only_warehouse_or_temporary_folder_is_one_line(tmp_path, read_only):
    billing = tmp_path / "cost.csv"
    billing.write_text("a,b\n1,2\n")
    data = read_only
    for command in (["sql", "SELECT 1"], ["ingest", str(billing), "--json"]):
        out = as_user(tmp_path, *command, ABI_DATA_DIR=str(data))
        assert out.returncode == 2 and out.stderr.strip() == (
            f"abi: warehouse folder {data} (ABI_DATA_DIR): Permission denied: every abi command needs write access "
            "to it (its lock file, a load's journal), a query too"), out.stderr
    assert json.loads(out.stdout)["error"].startswith(f"warehouse folder {data} (ABI_DATA_DIR): Permission denied")
    (tmp_path / "data").mkdir()
    for folder, problem in ((read_only, "not writable"), (billing, "not a folder")):
        out = as_user(tmp_path, "sql", "SELECT 1", TMPDIR=str(folder))
        assert (out.returncode, out.stderr.strip()) == (2, (
            f"abi: TMPDIR {folder}: {problem}: the engine and a load's copies need a writable temporary folder: "
            "name one, or unset TMPDIR")), out.stderr


def test_an_unusable_demo_folder_is_one_line(tmp_path, read_only):
    afile = tmp_path / "afile"
    afile.write_text("")
    for out_dir, problem in ((afile, f"{afile}: File exists"), (read_only / "x", f"{read_only}/x: Permission denied")):
        out = as_user(tmp_path, "demo", "--out", str(out_dir))
        assert (out.returncode, out.stderr.strip()) == (2, f"abi: {problem}"), out.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_standard_output_is_one_line(tmp_path):
    (tmp_path / "data").mkdir()
    billing = tmp_path / "cost.csv"
    billing.write_text("a,b\n1,2\n")
    for command in (["sql", "SELECT 1"], ["sql", "SELECT number FROM numbers(100000)", "--format", "csv"],
                    ["files", "--json"], ["ingest", str(billing), "--json"], ["ingest", str(billing)]):
        with open("/dev/full", "w") as full:
            out = subprocess.run([sys.executable, "-m", "app.cli.main", *command], cwd=PROJECT, stdout=full,
                                 stderr=subprocess.PIPE, text=True, timeout=300,
                                 env={**os.environ, "ABI_DATA_DIR": str(tmp_path / "data")})
        last = out.stderr.strip().splitlines()[-1]
        assert (out.returncode, last) == (2, "abi: standard output: No space left on device"), out.stderr
        assert "Traceback" not in out.stderr and "Exception ignored" not in out.stderr


def test_output_the_locale_cannot_encode_is_escaped_not_a_crash(tmp_path):
    folder = tmp_path / "coût"
    folder.mkdir()
    (folder / "coût.csv").write_text("a,b\n1,2\n")
    (tmp_path / "data").mkdir()
    table = run(tmp_path, "sql", "SELECT 'é' AS x", PYTHONIOENCODING="ascii")
    assert table.returncode == 0 and "\\u2502 \\xe9 \\u2502" in table.stdout, table.stderr
    loaded = run(tmp_path, "ingest", str(folder), PYTHONIOENCODING="ascii")
    assert loaded.returncode == 1 and f"abi: refused {tmp_path}/co\\xfbt/co\\xfbt.csv" in loaded.stderr, loaded.stderr
    assert "Traceback" not in loaded.stderr


def test_a_closed_standard_output_is_one_line_where_a_result_is_due(tmp_path):
    (tmp_path / "data").mkdir()
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "data")}
    env.pop("ABI_CLICKHOUSE_URL", None)
    for command in (["sql", "SELECT 1", "--format", "csv"], ["ingest", str(tmp_path), "--json"], ["files"],
                    ["export", "--format", "csv", "--out", str(tmp_path / "out.csv")]):
        out = subprocess.run([sys.executable, "-m", "app.cli.main", *command], cwd=PROJECT, env=env,
                             stderr=subprocess.PIPE, text=True, timeout=300, preexec_fn=lambda: os.close(1))
        if command[0] == "export":
            assert out.returncode == 0 and (tmp_path / "out.csv").exists(), out.stderr
            continue
        assert (out.returncode, out.stderr.strip()) == (2, (
            f"abi: standard output is closed: abi {command[0]} writes its result there (redirect it, e.g. > "
            "/dev/null)")), out.stderr


@pytest.fixture
def latin1(tmp_path: Path) -> dict[str, str]:
    """The environment of a de_DE.ISO-8859-1 locale (built under ``tmp_path``), or a skip."""
    built = tmp_path / "locales"
    built.mkdir()
    if not shutil.which("localedef") or subprocess.run(
            ["localedef", "-i", "de_DE", "-f", "ISO-8859-1", str(built / "de_DE.ISO-8859-1")],
            capture_output=True).returncode > 1:  # 1: warnings only
        pytest.skip("cannot build a de_DE.ISO-8859-1 locale")
    return {"LOCPATH": str(built), "LC_ALL": "de_DE.ISO-8859-1", "PYTHONIOENCODING": "utf-8"}


def test_names_the_engine_cannot_be_handed_in_a_latin1_locale_are_refused(tmp_path, latin1, demo_dir):  # noqa: F811
    inbox = tmp_path / "inbox"  # names written in UTF-8, read in ISO-8859-1: coÃ»t.csv in Python
    inbox.mkdir()
    (inbox / "coût.csv").write_bytes((demo_dir / "ea_actualcost_202610.csv").read_bytes())
    (inbox / "ok.csv").write_bytes((demo_dir / "ea_amortizedcost_202610.csv").read_bytes())
    why = "its name cannot be passed to the engine in this locale's encoding (iso8859-1): use a UTF-8 locale (e.g. " \
          "LC_ALL=C.UTF-8) or rename it"
    out = run(tmp_path, "ingest", str(inbox), "--json", **latin1)
    files = {f["path"]: f for f in json.loads(out.stdout)["files"]}
    assert out.returncode == 1 and files[f"{inbox}/coût.csv"]["error"] == f"{inbox}/coût.csv: {why}", out.stderr
    assert files[f"{inbox}/ok.csv"]["rows_loaded"] == 1025
    data = run(tmp_path, "sql", "SELECT 1", data=tmp_path / "dé", **latin1)
    assert (data.returncode, data.stderr.strip()) == (2, f"abi: ABI_DATA_DIR {tmp_path}/dé: {why}")
    export = run(tmp_path, "export", "--format", "csv", "--out", str(inbox / "coût.csv"), **latin1)
    assert (export.returncode, export.stderr.strip()) == (2, f"abi: cannot write {inbox}/coût.csv: {why}")
    assert sorted(p.name for p in inbox.iterdir()) == ["coût.csv", "ok.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "demo", "inbox", "locales"]


def test_a_data_folder_named_with_a_question_mark_is_fine_beside_a_server(tmp_path):
    """Beside a ClickHouse server the data folder only holds the connector registry: no engine misreads it."""
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "w?x"), "ABI_CLICKHOUSE_URL": "http://127.0.0.1:9/"}
    out = subprocess.run([sys.executable, "-m", "app.cli.main", "connectors", "list"], cwd=PROJECT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert "reads what follows '?'" not in out.stderr, out.stderr


def test_a_zip_member_copied_into_a_latin1_named_tmpdir_loads(tmp_path, latin1, demo_dir):  # noqa: F811
    import zipfile

    scratch = tmp_path / "tmpé"  # a UTF-8 name, read as tmpÃ© in ISO-8859-1: the engine is handed a descriptor
    scratch.mkdir()
    archive = tmp_path / "cost.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(demo_dir / "ea_amortizedcost_202610.csv", "ea_amortizedcost_202610.csv")
    out = run(tmp_path, "ingest", str(archive), "--json", TMPDIR=str(scratch), **latin1)
    (loaded,) = json.loads(out.stdout)["files"]
    assert out.returncode == 0 and loaded["rows_loaded"] == 1025, (loaded, out.stderr)
