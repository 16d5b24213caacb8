"""End-to-end tests of the ClickHouse HTTP server over chdb (app.stack.clickhouse_http).

Each server runs in a subprocess on a free port (``--port 0 --port-file``) with a temporary data
directory; readiness is polled on ``/ping`` with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import lz4.frame
import pytest
from stacktest import Server, call, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("chhttp")
    with run_server(work / "data", work) as srv:
        yield srv


# --- static endpoints and plain queries ---------------------------------------------------------


def test_ping_root_and_replicas_status(server: Server) -> None:
    for path in ("/ping", "/", "/replicas_status"):
        reply = call(server, path=path)
        assert (reply.status, reply.body) == (200, b"Ok.\n"), path


def test_query_in_url_default_tab_separated(server: Server) -> None:
    reply = call(server, {"query": "SELECT 1 + 1, 'a\tb', toDateTime('2024-05-06 07:08:09')"})
    assert reply.status == 200
    assert reply.body == b"2\ta\\tb\t2024-05-06 07:08:09\n"
    assert reply.headers["X-ClickHouse-Format"] == "TabSeparated"
    assert reply.headers["X-ClickHouse-Timezone"] == "UTC"
    assert reply.headers["X-ClickHouse-Query-Id"]
    assert json.loads(reply.headers["X-ClickHouse-Summary"])["read_rows"] == "1"


def test_query_id_is_echoed(server: Server) -> None:
    reply = call(server, {"query": "SELECT 1", "query_id": "abc-123"})
    assert reply.headers["X-ClickHouse-Query-Id"] == "abc-123"


def test_query_in_body_is_appended_to_url_query(server: Server) -> None:
    reply = call(server, {"query": "SELECT number * 10 AS n"}, body=b"FROM numbers(3) FORMAT CSV")
    assert reply.body == b"0\n10\n20\n"
    assert reply.headers["X-ClickHouse-Format"] == "CSV"


def _zstd_compress(data: bytes) -> bytes:
    from backports import zstd

    return zstd.compress(data)


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("lz4", lz4.frame.compress), ("zstd", _zstd_compress)],
)
def test_encoded_request_body(server: Server, encoding: str, encode: Callable[[bytes], bytes]) -> None:
    body = encode(b"SELECT 'zipped' AS v FORMAT JSONEachRow")
    reply = call(server, body=body, headers={"Content-Encoding": encoding})
    assert json.loads(reply.body) == {"v": "zipped"}


def test_concurrent_requests_keep_their_own_settings(server: Server) -> None:
    def ask(size: int) -> bytes:
        return call(server, {"query": "SELECT getSetting('max_block_size')", "max_block_size": str(size)}).body

    sizes = [1000 + i % 7 for i in range(60)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, sizes))
    assert answers == [b"%d\n" % size for size in sizes]


def test_query_parameters(server: Server) -> None:
    params = {
        "query": "SELECT {x:UInt32} + 1 AS y, {s:String} AS s, {a:Array(String)} AS a",
        "param_x": "41",
        "param_s": "it's",
        "param_a": "['p','q']",
        "default_format": "JSONEachRow",
    }
    assert json.loads(call(server, params).body) == {"y": 42, "s": "it's", "a": ["p", "q"]}


def test_default_format_and_format_clause(server: Server) -> None:
    reply = call(server, {"query": "SELECT number FROM numbers(2)", "default_format": "JSONEachRow"})
    assert reply.body.splitlines() == [b'{"number":0}', b'{"number":1}']
    assert reply.headers["X-ClickHouse-Format"] == "JSONEachRow"
    assert reply.headers["Content-Type"].startswith("application/json")
    reply = call(server, {"query": "SELECT 1 AS a FORMAT JSONCompactEachRow", "default_format": "JSONEachRow"})
    assert reply.body == b"[1]\n"


def test_database_parameter_and_header(server: Server) -> None:
    call(server, body=b"CREATE DATABASE IF NOT EXISTS dbp")
    call(server, body=b"CREATE TABLE IF NOT EXISTS dbp.marker (x UInt8) ENGINE = Memory")
    assert call(server, {"query": "SELECT currentDatabase()", "database": "dbp"}).body == b"dbp\n"
    by_header = call(server, {"query": "SELECT currentDatabase()"}, headers={"X-ClickHouse-Database": "dbp"})
    assert by_header.body == b"dbp\n"
    assert call(server, {"query": "SELECT currentDatabase()"}).body == b"default\n"
    assert call(server, {"query": "EXISTS TABLE marker", "database": "dbp"}).body == b"1\n"


def test_settings_apply_to_one_request_only(server: Server) -> None:
    default = call(server, {"query": "SELECT getSetting('max_block_size')"}).body
    scoped = call(server, {"query": "SELECT getSetting('max_block_size')", "max_block_size": "1234"})
    assert scoped.body == b"1234\n"
    assert call(server, {"query": "SELECT getSetting('max_block_size')"}).body == default
    client_only = {
        "session_id": "s1",
        "session_timeout": "60",
        "wait_end_of_query": "1",
        "user": "default",
        "password": "x",
        "send_progress_in_http_headers": "1",
        "query": "SELECT 7",
    }
    assert call(server, client_only).body == b"7\n"


def test_output_format_settings_are_passed(server: Server) -> None:
    params = {"query": "SELECT toUInt64(5) AS n FORMAT JSONEachRow"}
    assert call(server, params).body == b'{"n":5}\n'
    assert call(server, {**params, "output_format_json_quote_64bit_integers": "1"}).body == b'{"n":"5"}\n'


def test_unknown_setting_is_an_error(server: Server) -> None:
    reply = call(server, {"query": "SELECT 1", "no_such_setting_xyz": "1"})
    assert (reply.status, reply.headers["X-ClickHouse-Exception-Code"]) == (404, "115")
    assert call(server, {"query": "SELECT 1"}).body == b"1\n"


def test_session_timezone_is_utc(server: Server) -> None:
    assert call(server, {"query": "SELECT timezone(), toString(toDateTime(0))"}).body == b"UTC\t1970-01-01 00:00:00\n"


# --- errors ----------------------------------------------------------------------------------------


def test_syntax_error_status_header_and_body(server: Server) -> None:
    reply = call(server, {"query": "SELEC 1"})
    assert reply.status == 400
    assert reply.headers["X-ClickHouse-Exception-Code"] == "62"
    assert reply.body.startswith(b"Code: 62. DB::Exception: Syntax error")
    assert reply.body.endswith(b")\n")


def test_unknown_table_is_404(server: Server) -> None:
    reply = call(server, body=b"SELECT * FROM default.does_not_exist")
    assert (reply.status, reply.headers["X-ClickHouse-Exception-Code"]) == (404, "60")
    assert b"(UNKNOWN_TABLE)" in reply.body


def test_get_is_readonly(server: Server) -> None:
    reply = call(server, {"query": "CREATE TABLE default.via_get (x UInt8) ENGINE = Memory"})
    assert reply.headers["X-ClickHouse-Exception-Code"] == "164"
    assert call(server, {"query": "EXISTS TABLE default.via_get"}).body == b"0\n"


def test_empty_post_is_an_error(server: Server) -> None:
    reply = call(server, body=b"")
    assert (reply.status, reply.headers["X-ClickHouse-Exception-Code"]) == (400, "62")


def test_row_policies_answer_empty(server: Server) -> None:
    moose_query = (
        "SELECT short_name, `table`, COALESCE(select_filter, '') AS select_filter FROM system.row_policies "
        "WHERE database = 'default' AND has(apply_to_list, 'moose_rls_role') ORDER BY short_name, `table`"
    )
    reply = call(server, body=moose_query.encode())
    assert (reply.status, reply.body) == (200, b"")
    assert call(server, {"query": "SELECT count() FROM system.row_policies"}).body == b"0\n"


@pytest.mark.parametrize("sql", [
    "SELECT * FROM file('/etc/hostname', LineAsString)",
    "SELECT * FROM `url`('http://127.0.0.1:1/', LineAsString)",
    "SELECT 1 INTO OUTFILE '/tmp/abi-out.txt'",
    "CREATE TABLE default.host_file (x String) ENGINE = File(CSV)",
    "SELECT * FROM executable('id', TSV, 'x String')",
    "SELECT $$'$$ AS a, * FROM file('/etc/hostname', 'LineAsString') --'",
    "SELECT 1 # '\n, * FROM url('http://127.0.0.1:1/', 'LineAsString') --'",
])
def test_nothing_outside_the_database_is_reached(server: Server, sql: str) -> None:
    reply = call(server, body=sql.encode())
    assert (reply.status, reply.headers["X-ClickHouse-Exception-Code"]) == (403, "497"), reply.body
    assert b"(ACCESS_DENIED)" in reply.body
    assert call(server, body=b"SELECT 'file(x)', domain('http://a.b/c')").body == b"file(x)\ta.b\n"


@pytest.mark.parametrize("n, statement", list(enumerate(["TRUNCATE TABLE {db}.focus_cost",
                                                    "truncate `{db}`.`focus_quarantine`",
                                                    "TRUNCATE TABLE IF EXISTS focus_cost;"])))
def test_a_truncate_of_the_focus_tables_keeps_their_rows(server: Server, n: int, statement: str) -> None:
    """``moose-cli dev`` backfills each materialized view it sees as new, truncating its target first: on every start
    of the local stack, that emptied ``focus_cost`` of every bulk load and of the other views' rows."""
    db = f"keep_test_{n}"
    call(server, body=f"CREATE DATABASE IF NOT EXISTS {db}".encode())
    for table in ("focus_cost", "focus_quarantine", "scratch"):
        call(server, body=f"CREATE TABLE IF NOT EXISTS {db}.{table} (x UInt8) ENGINE = MergeTree ORDER BY x".encode())
        call(server, body=f"INSERT INTO {db}.{table} VALUES (1), (2)".encode())
    reply = call(server, {"database": db}, body=statement.format(db=db).encode())
    assert reply.status == 200, reply.body
    for table in ("focus_cost", "focus_quarantine"):
        assert call(server, body=f"SELECT count() FROM {db}.{table}".encode()).body == b"2\n"
    assert call(server, body=f"TRUNCATE TABLE {db}.scratch".encode()).status == 200  # other tables: as ClickHouse
    assert call(server, body=f"SELECT count() FROM {db}.scratch".encode()).body == b"0\n"
