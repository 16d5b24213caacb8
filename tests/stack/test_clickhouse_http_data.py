"""End-to-end tests of the ClickHouse HTTP server over chdb: compression, inserts, clickhouse-connect, lifecycle.

Each server runs in a subprocess on a free port (``--port 0 --port-file``) with a temporary data
directory; readiness is polled on ``/ping`` with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import struct
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import lz4.frame
import pytest
from clickhouse_cityhash.cityhash import CityHash128
from clickhouse_connect.driver.exceptions import DatabaseError
from stacktest import Server, call, client, run_server

from app.stack.ch_compress import compress_native, decompress_native, iter_native_blocks


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("chhttp")
    with run_server(work / "data", work) as srv:
        yield srv


# --- compression -----------------------------------------------------------------------------------


def test_native_compressed_response_is_checksummed_lz4_blocks(server: Server) -> None:
    query = {"query": "SELECT number, toString(number) FROM numbers(200000)"}
    plain = call(server, query).body
    packed = call(server, {**query, "compress": "1"}).body
    assert len(plain) > 1 << 20  # several blocks
    assert decompress_native(packed) == plain  # verifies every block's checksum
    assert len(list(iter_native_blocks(packed))) >= 2
    method, size, raw_size = struct.unpack_from("<BII", packed, 16)
    assert method == 0x82 and raw_size == 1 << 20
    h = CityHash128(packed[16 : 16 + size])
    assert packed[:16] == struct.pack("<QQ", h >> 64, h & (2**64 - 1))


def test_native_compressed_block_layout() -> None:
    block = compress_native(b"hello hello hello hello")
    method, size, raw_size = struct.unpack_from("<BII", block, 16)
    assert (method, raw_size, len(block)) == (0x82, 23, 16 + size)
    corrupted = block[:-1] + bytes([block[-1] ^ 0xFF])  # last payload byte
    with pytest.raises(ValueError, match="Checksum"):
        decompress_native(corrupted)


def test_decompress_request_body(server: Server) -> None:
    call(server, body=b"CREATE TABLE default.nb (a UInt32, s String) ENGINE = MergeTree ORDER BY a")
    rows = b"".join(struct.pack("<I", i) + bytes([2]) + b"v%d" % (i % 10) for i in range(5000))
    reply = call(
        server,
        {"query": "INSERT INTO default.nb FORMAT RowBinary", "decompress": "1"},
        body=compress_native(rows, block_size=4096),
    )
    assert reply.status == 200, reply.body
    assert json.loads(reply.headers["X-ClickHouse-Summary"])["written_rows"] == "5000"
    assert call(server, {"query": "SELECT count(), sum(a) FROM default.nb"}).body == b"5000\t12497500\n"
    bad = bytearray(compress_native(rows[:50]))
    bad[0] ^= 1
    reply = call(server, {"query": "INSERT INTO default.nb FORMAT RowBinary", "decompress": "1"}, body=bytes(bad))
    assert reply.headers["X-ClickHouse-Exception-Code"] == "40"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "lz4", "zstd"])
def test_http_response_compression(server: Server, encoding: str) -> None:
    query = {"query": "SELECT number FROM numbers(1000)"}
    plain = call(server, query).body
    reply = call(server, {**query, "enable_http_compression": "1"}, headers={"Accept-Encoding": encoding})
    assert reply.headers["Content-Encoding"] == encoding
    decoders = {"gzip": gzip.decompress, "lz4": lz4.frame.decompress, "deflate": zlib.decompress}
    if encoding == "zstd":
        from backports import zstd

        decoders["zstd"] = zstd.decompress
    assert decoders[encoding](reply.body) == plain
    assert "Content-Encoding" not in call(server, query, headers={"Accept-Encoding": encoding}).headers


# --- inserts over raw HTTP -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_table(server: Server) -> str:
    call(
        server,
        body=b"CREATE TABLE default.raw (id UInt32, name String, v Nullable(Float64)) ENGINE = MergeTree ORDER BY id",
    )
    return "default.raw"


@pytest.mark.parametrize(
    ("fmt", "data", "ids"),
    [
        ("CSV", b'1,"a,b",1.5\n2,c,\\N\n', [1, 2]),
        ("TabSeparated", b"3\td\t\\N\n", [3]),
        ("JSONEachRow", b'{"id":4,"name":"e","v":null}\n{"id":5,"name":"f","v":2}\n', [4, 5]),
        ("Values", b"(6,'g',NULL)", [6]),
    ],
)
def test_insert_body_formats(server: Server, raw_table: str, fmt: str, data: bytes, ids: list[int]) -> None:
    reply = call(server, {"query": f"INSERT INTO {raw_table} FORMAT {fmt}"}, body=data)
    assert reply.status == 200, reply.body
    assert json.loads(reply.headers["X-ClickHouse-Summary"])["written_rows"] == str(len(ids))
    got = call(server, {"query": f"SELECT id FROM {raw_table} WHERE id IN {tuple(ids) + (0,)} ORDER BY id"}).body
    assert [int(x) for x in got.split()] == ids


def test_insert_with_query_and_data_in_body(server: Server, raw_table: str) -> None:
    body = f'INSERT INTO {raw_table} (id, name) FORMAT JSONEachRow\n{{"id":10,"name":"FORMAT x"}}\n'.encode()
    assert call(server, body=body).status == 200
    assert call(server, body=f"INSERT INTO {raw_table} (id, name) VALUES (11, 'FORMAT y')".encode()).status == 200
    got = call(server, {"query": f"SELECT name FROM {raw_table} WHERE id IN (10, 11) ORDER BY id"}).body
    assert got == b"FORMAT x\nFORMAT y\n"


def test_insert_chunked_transfer_encoding(server: Server, raw_table: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    query = urllib.parse.urlencode({"query": f"INSERT INTO {raw_table} FORMAT CSV"})
    chunks = (b"%d,chunk,%d\n" % (i, i) for i in range(100, 130))
    conn.request("POST", f"/?{query}", body=chunks, encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    resp.read()
    conn.request("POST", "/", body=f"SELECT count() FROM {raw_table} WHERE name = 'chunk'".encode())
    assert conn.getresponse().read() == b"30\n"  # same keep-alive connection still in sync
    conn.close()


def test_bad_insert_data_is_400(server: Server, raw_table: str) -> None:
    reply = call(server, {"query": f"INSERT INTO {raw_table} FORMAT CSV"}, body=b"not-a-number,x,1\n")
    assert reply.status == 400
    assert reply.body.startswith(b"Code: ")


# --- clickhouse-connect --------------------------------------------------------------------------

COLUMNS = ["id", "amount", "ts", "ts64", "note", "cat", "tags", "doc"]
ROWS = [
    [
        1,
        Decimal("12.3456"),
        dt.datetime(2024, 1, 2, 3, 4, 5),
        dt.datetime(2024, 1, 2, 3, 4, 5, 678000),
        None,
        "compute",
        ["a", "b"],
        {"k": 1, "s": "v"},
    ],
    [
        2,
        Decimal("-0.0001"),
        dt.datetime(2025, 6, 7, 8, 9, 10),
        dt.datetime(2025, 6, 7, 8, 9, 10),
        "note",
        "storage",
        [],
        {"k": 2},
    ],
]


@pytest.mark.parametrize("compress", [True, False])
def test_clickhouse_connect_roundtrip(server: Server, compress: bool) -> None:
    ch = client(server, compress)
    db = f"cc_{int(compress)}"
    ch.command(f"CREATE DATABASE IF NOT EXISTS {db}")
    ch.command(
        f"CREATE TABLE {db}.billing (id UInt32, amount Decimal(18, 4), ts DateTime, ts64 DateTime64(3, 'UTC'), "
        "note Nullable(String), cat LowCardinality(String), tags Array(String), doc JSON) "
        "ENGINE = MergeTree ORDER BY id"
    )
    summary = ch.insert(f"{db}.billing", ROWS, column_names=COLUMNS)
    assert summary.written_rows == 2
    result = ch.query(f"SELECT {', '.join(COLUMNS)} FROM {db}.billing ORDER BY id")
    assert [list(row) for row in result.result_rows] == ROWS
    assert result.column_names == tuple(COLUMNS)
    assert ch.command(f"SELECT count() FROM {db}.billing") == 2


@pytest.mark.parametrize("compress", [True, False])
def test_clickhouse_connect_parameters_and_errors(server: Server, compress: bool) -> None:
    ch = client(server, compress)
    rows = ch.query("SELECT {a:UInt32} + 1 AS b, {s:String} AS s", parameters={"a": 41, "s": "it's"}).result_rows
    assert rows == [(42, "it's")]
    assert ch.query("SELECT %(x)s AS x", parameters={"x": "client-side"}).result_rows == [("client-side",)]
    with pytest.raises(DatabaseError) as info:
        ch.query("SELECT * FROM default.missing_table")
    assert info.value.code == 60
    with pytest.raises(DatabaseError) as info:
        ch.command("SELEC 1")
    assert info.value.code == 62


def test_clickhouse_connect_large_insert_and_df(server: Server) -> None:
    ch = client(server, True)
    ch.command("CREATE TABLE default.big (n UInt64, s String) ENGINE = MergeTree ORDER BY n")
    ch.insert("default.big", [[i, f"row{i}"] for i in range(50000)], column_names=["n", "s"])
    assert ch.query("SELECT count(), sum(n), max(s) FROM default.big").result_rows == [(50000, 1249975000, "row9999")]
    frame = ch.query_df("SELECT n, s FROM default.big WHERE n < 3 ORDER BY n")
    assert frame["s"].tolist() == ["row0", "row1", "row2"]


# --- lifecycle -------------------------------------------------------------------------------------


def test_sigterm_is_graceful_and_data_persists(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(data, tmp_path) as srv:
        call(srv, body=b"CREATE TABLE default.keep (x UInt8) ENGINE = MergeTree ORDER BY x")
        call(srv, {"query": "INSERT INTO default.keep FORMAT CSV"}, body=b"7\n")
    assert '"msg": "stopped"' in (tmp_path / "server.log").read_text()
    with run_server(data, tmp_path) as srv:
        assert call(srv, {"query": "SELECT x FROM default.keep"}).body == b"7\n"
    log_text = (tmp_path / "server.log").read_text()
    assert "x UInt8" not in log_text  # SQL text is never logged
