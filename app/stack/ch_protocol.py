"""The ClickHouse HTTP protocol without I/O: errors, statement parsing, request and response shapes.

Everything here is pure (no chdb, no sockets), so the engine and the HTTP server share one
definition of what a request is and how an answer is framed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.core.sql_text import reaches_outside
from app.stack.ch_compress import CompressionError, decode_content, decompress_native

_INSERT_RE = re.compile(r"\s*(INSERT\s+INTO\b.*?)\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)[ \t]*(?:\r?\n)?", re.I | re.S)
_VALUES_RE = re.compile(r"\bVALUES\b", re.I)
_TRAILING_FORMAT_RE = re.compile(r"\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)\s*;?\s*$", re.I)
_CODE_RE = re.compile(r"Code: (\d+)\. ")
_NAME_RE = re.compile(r"\(([A-Z][A-Z0-9_]+)\)")
_HEAD_LIMIT = 1 << 20
"""Bytes of a request searched for an INSERT's FORMAT clause: the ``max_query_size`` ABI sets (1 MiB)."""

# URL parameters that are not settings (same list as ClickHouse's HTTPHandler, plus the query itself).
RESERVED_PARAMS = frozenset(
    """query database default_format compress decompress user password quota_key query_id stacktrace
    buffer_size wait_end_of_query session_id session_timeout session_check client_protocol_version
    close_session role""".split()
)
# Real ClickHouse settings that only steer the HTTP layer: handled here, never SET in chdb.
# ``readonly`` is emulated (chdb could not undo it once set).
HTTP_SETTINGS = frozenset(
    """enable_http_compression http_zlib_compression_level send_progress_in_http_headers
    http_headers_progress_interval_ms cancel_http_readonly_queries_on_client_close
    http_native_compression_disable_checksumming_on_decompress add_http_cors_header
    http_response_buffer_size http_wait_end_of_query http_write_exception_in_output_format readonly""".split()
)
PARAM_PREFIX = "param_"
_TRUE = frozenset({"1", "true", "True", "TRUE", "yes"})

# System tables that chdb's default user may not read: answered as empty tables of the same shape.
EMPTY_SYSTEM_TABLES: dict[str, str] = {
    "row_policies": (
        "name String, short_name String, database String, table String, id UUID, storage String, "
        "select_filter Nullable(String), is_restrictive UInt8, apply_to_all UInt8, "
        "apply_to_list Array(String), apply_to_except Array(String)"
    ),
}
_SYSTEM_TABLE_RE = re.compile(r"\bsystem\s*\.\s*`?(" + "|".join(EMPTY_SYSTEM_TABLES) + r")\b`?", re.I)
_BAD_REQUEST = frozenset(
    """BAD_ARGUMENTS CANNOT_COMPILE_REGEXP CANNOT_PARSE_TEXT CANNOT_PARSE_ESCAPE_SEQUENCE
    CANNOT_PARSE_QUOTED_STRING CANNOT_PARSE_DATE CANNOT_PARSE_DATETIME CANNOT_PARSE_NUMBER
    CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING CANNOT_PARSE_IPV4 CANNOT_PARSE_IPV6
    CANNOT_PARSE_INPUT_ASSERTION_FAILED
    CANNOT_PARSE_UUID DUPLICATE_COLUMN ILLEGAL_COLUMN UNKNOWN_ELEMENT_IN_AST UNKNOWN_TYPE_OF_AST_NODE
    THERE_IS_NO_COLUMN TOO_DEEP_AST TOO_BIG_AST UNEXPECTED_AST_STRUCTURE SYNTAX_ERROR INCORRECT_DATA
    TYPE_MISMATCH VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE""".split()
)
_NOT_FOUND = frozenset(
    "UNKNOWN_TABLE UNKNOWN_FUNCTION UNKNOWN_IDENTIFIER UNKNOWN_TYPE UNKNOWN_STORAGE UNKNOWN_DATABASE "
    "UNKNOWN_SETTING UNKNOWN_DIRECTION_OF_SORTING UNKNOWN_AGGREGATE_FUNCTION UNKNOWN_FORMAT "
    "UNKNOWN_DATABASE_ENGINE UNKNOWN_TYPE_OF_QUERY UNKNOWN_ROLE".split()
)
_FORBIDDEN = frozenset("UNKNOWN_USER WRONG_PASSWORD AUTHENTICATION_FAILED SET_NON_GRANTED_ROLE ACCESS_DENIED".split())
_OTHER_STATUS = {
    "QUERY_IS_TOO_LARGE": 413,
    "NOT_IMPLEMENTED": 501,
    "SOCKET_TIMEOUT": 503,
    "CANNOT_OPEN_FILE": 503,
    "HTTP_LENGTH_REQUIRED": 411,
    "TIMEOUT_EXCEEDED": 408,
    "CANNOT_SCHEDULE_TASK": 503,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "REQUIRED_PASSWORD": 401,
}


class ClickHouseError(Exception):
    """An error with a ClickHouse error code and a ``Code: N. DB::Exception: ...`` message."""

    def __init__(self, code: int, message: str) -> None:
        text = message if message.startswith("Code: ") else f"Code: {code}. DB::Exception: {message}"
        super().__init__(text)
        self.code = code
        self.message = text

    @classmethod
    def from_chdb(cls, exc: BaseException) -> ClickHouseError:
        """Build from a chdb exception, whose text embeds ``Code: N. DB::Exception: ...``."""
        text = str(exc)
        match = _CODE_RE.search(text)
        if match is None:
            return cls(1001, f"{text} (STD_EXCEPTION)")
        return cls(int(match.group(1)), text[match.start() :].strip())

    @property
    def http_status(self) -> int:
        """HTTP status that ClickHouse's exceptionCodeToHTTPStatus gives this error."""
        names = _NAME_RE.findall(self.message)
        name = names[-1] if names else ""
        if name in _BAD_REQUEST:
            return 400
        if name in _NOT_FOUND:
            return 404
        if name in _FORBIDDEN:
            return 403
        return _OTHER_STATUS.get(name, 500)


@dataclass(frozen=True)
class Statement:
    """A parsed request: ``sql``, or an INSERT (without FORMAT) plus its raw data."""

    sql: str
    insert_format: str | None = None
    data: bytes = b""


@dataclass
class QueryRequest:
    """Everything the engine needs to run one HTTP query."""

    statement: Statement
    default_format: str = "TabSeparated"
    database: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    readonly: bool = False

    @property
    def kind(self) -> str:
        """First keyword of the statement (for logs: never the SQL text itself)."""
        words = self.statement.sql.split(None, 1)
        return words[0].upper() if words else ""


@dataclass
class QueryResult:
    """Output bytes, the output format and the progress counters of one statement."""

    data: bytes
    fmt: str
    read_rows: int = 0
    read_bytes: int = 0
    written_rows: int = 0
    written_bytes: int = 0
    elapsed_ns: int = 0


def parse_statement(url_query: str, body: bytes) -> Statement:
    """Split ``query`` parameter + newline + body the way ClickHouse concatenates them."""
    full = (url_query.encode() + b"\n" + body) if url_query else body
    head = full[:_HEAD_LIMIT].decode("latin-1")
    match = _INSERT_RE.match(head)
    if match and not _VALUES_RE.search(match.group(1)):
        sql = match.group(1).encode("latin-1").decode("utf-8", "replace").strip()
        return Statement(sql=sql, insert_format=match.group(2), data=full[match.end() :])
    try:
        return Statement(sql=full.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ClickHouseError(62, f"Query is not valid UTF-8: {exc}. (SYNTAX_ERROR)") from exc


def output_format(sql: str, default_format: str) -> str:
    """The format a statement's result is written in (its FORMAT clause wins)."""
    match = _TRAILING_FORMAT_RE.search(sql)
    return match.group(1) if match else default_format


def rewrite_system_tables(sql: str) -> str:
    """Replace unreadable system tables with empty tables of the same structure."""
    return _SYSTEM_TABLE_RE.sub(lambda m: f"null('{EMPTY_SYSTEM_TABLES[m.group(1).lower()]}')", sql)


def quote(value: str) -> str:
    """A ClickHouse string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def is_true(value: str | None) -> bool:
    """ClickHouse-style boolean URL parameter."""
    return value in _TRUE


def decode_body(body: bytes, content_encoding: str | None, params: Mapping[str, str]) -> bytes:
    """Undo HTTP Content-Encoding, then native block compression when ``decompress=1``."""
    try:
        body = decode_content(body, content_encoding)
        if is_true(params.get("decompress")):
            skip = is_true(params.get("http_native_compression_disable_checksumming_on_decompress"))
            body = decompress_native(body, verify=not skip)
    except CompressionError as exc:
        raise ClickHouseError(exc.code, str(exc)) from None
    return body


def build_request(params: Mapping[str, str], headers: Mapping[str, str], body: bytes, method: str) -> QueryRequest:
    """Turn URL parameters, headers and the (decoded) body into an engine request."""
    if headers.get("Content-Type", "").startswith("multipart/form-data"):
        raise ClickHouseError(48, "External data (multipart/form-data) is not supported. (NOT_IMPLEMENTED)")
    statement = parse_statement(params.get("query", ""), body)
    if not statement.insert_format and not statement.sql.strip():
        raise ClickHouseError(62, "Empty query. (SYNTAX_ERROR)")
    if outside := reaches_outside(statement.sql):
        raise ClickHouseError(497, f"{outside}: this development endpoint does not read or write outside its "
                                   "database (the host's files, URLs, other servers, programs). (ACCESS_DENIED)")
    skip = RESERVED_PARAMS | HTTP_SETTINGS
    default_format = headers.get("X-ClickHouse-Format") or params.get("default_format")
    return QueryRequest(
        statement=statement,
        default_format=default_format or "TabSeparated",
        database=headers.get("X-ClickHouse-Database") or params.get("database") or None,
        params={k[len(PARAM_PREFIX) :]: v for k, v in params.items() if k.startswith(PARAM_PREFIX)},
        settings={k: v for k, v in params.items() if k and k not in skip and not k.startswith(PARAM_PREFIX)},
        readonly=method == "GET" or params.get("readonly", "0") not in ("", "0"),
    )


def content_type(fmt: str) -> str:
    """HTTP Content-Type ClickHouse uses for an output format."""
    lower = fmt.lower()
    if lower.startswith(("tabseparated", "tsv")):
        return "text/tab-separated-values; charset=UTF-8"
    if lower.startswith("csv"):
        return "text/csv; charset=UTF-8; header=absent"
    if lower.startswith("json"):
        return "application/json; charset=UTF-8"
    if lower.startswith(("native", "rowbinary", "parquet", "arrow", "orc", "avro", "msgpack", "protobuf")):
        return "application/octet-stream"
    return "text/plain; charset=UTF-8"


def summary_header(result: QueryResult) -> str:
    """X-ClickHouse-Summary JSON (values as strings, like ClickHouse).

    chdb does not report result rows of a SELECT, so ``result_rows`` is only set for INSERTs.
    """
    summary = {
        "read_rows": result.read_rows,
        "read_bytes": result.read_bytes,
        "written_rows": result.written_rows,
        "written_bytes": result.written_bytes,
        "total_rows_to_read": 0,
        "result_rows": result.written_rows,
        "result_bytes": len(result.data),
        "elapsed_ns": result.elapsed_ns,
    }
    return json.dumps({k: str(v) for k, v in summary.items()}, separators=(",", ":"))


def error_body(exc: ClickHouseError, version: str) -> bytes:
    """``Code: N. DB::Exception: ... (NAME) (version V)`` plus a newline, as ClickHouse sends it."""
    message = exc.message.rstrip()
    if "(version " not in message:
        message = f"{message} (version {version})"
    return (message + "\n").encode()


