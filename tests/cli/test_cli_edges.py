"""The ``abi`` command line at its edges: streamed query output, folders without billing files, bad options."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from abitest import PROJECT
from test_abi_cli import abi, demo_dir  # noqa: F401  (the fixture)

from app.core.files import written_whole


def test_sql_streams_so_a_reader_that_stops_ends_an_endless_query(tmp_path, demo_dir):  # noqa: F811
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "data"), "TMPDIR": str(tmp_path)}
    env.pop("ABI_CLICKHOUSE_URL", None)
    query = subprocess.Popen([sys.executable, "-m", "app.cli.main", "sql", "SELECT number FROM numbers()",
                              "--format", "csv"], cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert [query.stdout.readline() for _ in range(3)] == [b'"number"\n', b"0\n", b"1\n"]
    query.stdout.close()  # as `| head` does: the query is cancelled, nothing is left behind
    assert query.wait(timeout=120) == 141
    assert not [p for p in Path(tmp_path).iterdir() if p.name.startswith("abi-sql-")]


def test_sql_prints_what_the_engine_does_not_stream(tmp_path, demo_dir):  # noqa: F811
    out = abi(tmp_path, "sql", "EXPLAIN AST SELECT 1", "--format", "csv")
    assert out.returncode == 0 and "SelectWithUnionQuery" in out.stdout, out.stderr
    grants = abi(tmp_path, "sql", "SHOW GRANTS", "--format", "csv")
    assert grants.returncode == 0 and "OUTFILE" not in grants.stdout


def test_sql_output_has_one_header_over_every_streamed_block(tmp_path, demo_dir):  # noqa: F811
    csv = abi(tmp_path, "sql", "SELECT number FROM numbers(200000)", "--format", "csv")
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.splitlines() == ['"number"', *map(str, range(200000))]
    union = abi(tmp_path, "sql", "SELECT 1 AS a UNION ALL SELECT 2", "--format", "csv").stdout.splitlines()
    assert union[0] == '"a"' and sorted(union[1:]) == ["1", "2"]
    table = abi(tmp_path, "sql", "SELECT number FROM numbers(200000)", "--format", "table")
    assert table.stdout.count("─number─") == 2 and table.stdout.count(" 1. │") == 1  # one table: head, tail
    assert "out of 200000 rows" in table.stdout


def test_export_writes_through_a_link_and_refuses_pipes_and_devices(tmp_path, demo_dir):  # noqa: F811
    target, link, fifo = tmp_path / "target.csv", tmp_path / "link.csv", tmp_path / "fifo.csv"
    target.write_text("old")
    link.symlink_to(target)
    os.mkfifo(fifo)
    out = abi(tmp_path, "export", "--format", "csv", "--out", str(link))
    assert out.returncode == 0, out.stderr
    assert link.is_symlink() and target.read_text().startswith('"AvailabilityZone"')
    (tmp_path / "to_fifo.csv").symlink_to(fifo)
    for refused in (fifo, tmp_path / "to_fifo.csv"):
        out = abi(tmp_path, "export", "--format", "csv", "--out", str(refused))
        assert out.returncode == 2 and f"{refused} is a named pipe, not a regular file" in out.stderr, out.stderr
    assert fifo.is_fifo()
    for device, kind in (("/dev/null", "a device"), ("/dev/stdout", "a descriptor"), ("/dev/fd/1", "a descriptor")):
        with pytest.raises(OSError, match=f"{device} is {kind}, not a regular file"):
            with written_whole(Path(device)):  # refused before anything is written (a regression renames nothing)
                raise AssertionError("not refused")


def test_export_to_standard_output_writes_the_same_rows_and_leaves_nothing_behind(tmp_path, demo_dir):  # noqa: F811
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "data"), "TMPDIR": str(tmp_path)}
    env.pop("ABI_CLICKHOUSE_URL", None)

    def export(fmt: str, out: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app.cli.main", "export", "--format", fmt, "--out", out],
                              cwd=PROJECT, env=env, capture_output=True, timeout=300, **kwargs)

    assert export("csv", str(tmp_path / "focus.csv")).returncode == 0
    csv = export("csv", "-")
    assert csv.returncode == 0 and b"rows to standard output" in csv.stderr, csv.stderr
    assert sorted(csv.stdout.splitlines()) == sorted((tmp_path / "focus.csv").read_bytes().splitlines())
    parquet = export("parquet", "-")
    assert parquet.returncode == 0, parquet.stderr
    assert pq.read_table(io.BytesIO(parquet.stdout)).num_rows == len(csv.stdout.splitlines()) - 1
    reader = subprocess.Popen([sys.executable, "-m", "app.cli.main", "export", "--format", "csv", "--out", "-"],
                              cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout.readline().startswith(b'"AvailabilityZone"')
    reader.stdout.close()  # as `| head` does
    assert reader.wait(timeout=120) in (0, 141) and b"Traceback" not in reader.stderr.read()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("abi-export-")]


def test_a_file_named_in_another_encoding_is_refused_alone(tmp_path, demo_dir):  # noqa: F811
    folder = tmp_path / "exports"
    folder.mkdir()
    latin1 = Path(os.fsdecode(bytes(folder) + b"/r\xe9sum\xe9.csv"))  # not UTF-8: a lone surrogate in Python
    latin1.write_bytes((demo_dir / "ea_actualcost_202610.csv").read_bytes())
    (folder / "amortized.csv").write_bytes((demo_dir / "ea_amortizedcost_202610.csv").read_bytes())
    out = abi(tmp_path, "ingest", str(folder), "--json")
    files = {f["path"]: f for f in json.loads(out.stdout)["files"]}
    shown = f"{folder}/r\\xe9sum\\xe9.csv"
    assert out.returncode == 1 and set(files) == {shown, str(folder / "amortized.csv")}, out.stderr
    assert files[shown]["error"] == f"{shown}: its name is not UTF-8 text (written in another encoding): rename the " \
                                    "file to load it"
    assert files[str(folder / "amortized.csv")]["rows_loaded"] == 1025
    held = abi(tmp_path, "sql", f"SELECT count() FROM focus_cost WHERE x_SourceFile = '{folder}/amortized.csv'",
               "--format", "csv")
    assert held.stdout.split()[1:] == ["1025"]


def test_a_folder_without_billing_files_is_refused_by_name_in_the_json(tmp_path, demo_dir):  # noqa: F811
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("exports land here")
    out = abi(tmp_path, "ingest", str(demo_dir / "ea_actualcost_202610.csv"), str(empty), "--json")
    files = {f["path"]: f for f in json.loads(out.stdout)["files"]}
    assert out.returncode == 1
    assert files[str(empty)]["error"] == (f"{empty}: a folder with no billing file in it (.csv, .csv.gz, "
                                          ".parquet or .zip)")
    assert files[str(demo_dir / "ea_actualcost_202610.csv")]["rows_loaded"] > 0


def test_bad_options_and_unwritable_outputs_are_messages_not_tracebacks(tmp_path, demo_dir):  # noqa: F811
    month = abi(tmp_path, "demo", "--month", "2026-13")
    assert (month.returncode, month.stderr.strip()) == (2, "abi: --month must be YYYY-MM, got '2026-13'")
    folder = abi(tmp_path, "export", "--format", "csv", "--out", str(tmp_path))
    assert folder.returncode == 2 and "is a folder" in folder.stderr and "Traceback" not in folder.stderr
    env = {**os.environ, "ABI_CLICKHOUSE_URL": "http://alice:S3cretPW@127.0.0.1:1/abi"}
    server = subprocess.run([sys.executable, "-m", "app.cli.main", "sql", "SELECT 1"], cwd=PROJECT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert server.returncode == 1 and "cannot reach the ClickHouse server at http://127.0.0.1:1/" in server.stderr
    assert "Traceback" not in server.stderr and "S3cretPW" not in server.stderr + server.stdout


def test_remove_by_a_name_several_loaded_files_end_with_lists_them(tmp_path, demo_dir):  # noqa: F811
    actual = demo_dir / "ea_actualcost_202610.csv"
    copy = tmp_path / "other" / actual.name
    copy.parent.mkdir()
    copy.write_text("".join(actual.read_text().splitlines(keepends=True)[:-1]))  # not a copy: that is skipped
    assert abi(tmp_path, "ingest", str(actual), str(copy)).returncode == 0
    out = abi(tmp_path, "remove", actual.name)
    assert out.returncode == 2 and f"{actual.name} names 2 loaded files (nothing removed): " in out.stderr
    assert str(actual.resolve()) in out.stderr and str(copy.resolve()) in out.stderr


def test_a_refused_workflow_command_ends_without_finalization_too(monkeypatch, capsys):
    """The Temporal client's native runtime crashed now and then at interpreter exit (139): refused input and
    unknown ids, which exit 2, crashed too."""
    from app.cli import main as cli

    ended: list[int] = []
    monkeypatch.setattr(cli, "_is_abi_process", lambda: True)
    monkeypatch.setattr(cli.streams, "exit_now", ended.append)
    bad = json.dumps({"connector": "x", "start": "2026-13", "end": "2026-13"})
    assert cli.main(["workflows", "--address", "127.0.0.1:1", "run", "backfill", "--input", bad]) == 2
    assert ended == [2] and "abi: " in capsys.readouterr().err


def test_a_data_directory_that_is_a_file_is_a_message_for_every_command(tmp_path):
    (tmp_path / "data").write_text("not a folder")  # what ABI_DATA_DIR names (abi's helper)
    billing = tmp_path / "cost.csv"
    billing.write_text("a,b\n1,2\n")
    expected = f"abi: ABI_DATA_DIR {tmp_path / 'data'}: it is a file, not a folder: name a folder for the warehouse"
    for command in (["ingest", str(billing)], ["sql", "SELECT 1"], ["files"], ["demo", "--out", str(tmp_path)],
                    ["connectors", "list"]):
        out = abi(tmp_path, *command)
        assert (out.returncode, out.stderr.strip()) == (2, expected), command


def test_an_empty_billing_period_is_refused_not_read_as_every_period(tmp_path):
    out = tmp_path / "x.csv"
    for command in (["export", "--format", "csv", "--out", str(out)], ["files"]):
        refused = abi(tmp_path, *command, "--billing-period", "")
        assert (refused.returncode, refused.stderr.strip()) == (2, "abi: --billing-period must be YYYY-MM, got ''")
    assert not out.exists()


def test_a_query_ending_in_a_semicolon_and_a_comment_runs_as_without_them(tmp_path):
    (tmp_path / "data").mkdir()
    for query in ("SELECT 1 AS n;", "SELECT 1 AS n; -- done", "SELECT 1 AS n; /* x */"):
        out = abi(tmp_path, "sql", query, "--format", "csv")
        assert (out.returncode, out.stdout, out.stderr) == (0, '"n"\n1\n', ""), query


def test_a_file_named_with_a_leading_dash_is_told_to_go_after_two_dashes(capsys):
    from app.cli.main import build_parser

    for argv, command in ((["ingest", "-cost.csv"], "abi ingest"), (["ingest", "a.csv", "-cost.csv"], "abi ingest"),
                          (["remove", "-cost.csv"], "abi remove")):
        with pytest.raises(SystemExit) as ended:
            build_parser().parse_args(argv)
        assert ended.value.code == 2
        assert f"(a file whose name starts with '-' goes after --: {command} -- -cost.csv" in capsys.readouterr().err
    assert build_parser().parse_args(["ingest", "--", "-cost.csv"]).paths == ["-cost.csv"]


def test_times_show_in_utc_on_a_machine_in_another_zone(tmp_path, demo_dir, monkeypatch):  # noqa: F811
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # toString of a DateTime64 without a zone ignores session_timezone
    out = abi(tmp_path, "sql", "SELECT toString(min(x_IngestedAt)), toString(toTimeZone(min(x_IngestedAt), 'UTC')) "
              "FROM focus_cost", "--format", "csv")
    assert out.returncode == 0, out.stderr
    shown, utc = out.stdout.splitlines()[1].split(",")
    assert shown == utc


def test_an_export_over_a_private_file_stays_private(tmp_path, demo_dir):  # noqa: F811
    for fmt in ("csv", "parquet"):
        private, fresh = tmp_path / f"private.{fmt}", tmp_path / f"fresh.{fmt}"
        private.write_text("old")
        private.chmod(0o600)
        for out in (private, fresh):
            done = abi(tmp_path, "export", "--format", fmt, "--out", str(out))
            assert done.returncode == 0, done.stderr
        assert oct(private.stat().st_mode & 0o777) == "0o600" and private.read_bytes() != b"old"
        assert fresh.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_refused_file_is_one_line_on_standard_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    out = abi(tmp_path, "ingest", str(bad))
    refused = [line for line in out.stderr.splitlines() if str(bad) in line]
    assert out.returncode == 1 and len(refused) == 1 and refused[0].startswith(f"abi: refused {bad}: "), out.stderr
