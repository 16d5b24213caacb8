"""The warehouse on a ClickHouse server over HTTP (``ABI_CLICKHOUSE_URL``): the same SQL as the embedded engine."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from app.core import settings
from app.core.files import written_whole
from app.core.parquet import JSON_AS_TEXT
from app.core.warehouse import FILE_SETTINGS, SESSION_SETTINGS, Warehouse, WarehouseError, quote

PARQUET_INPUT_SETTINGS = {"input_format_parquet_preserve_order": "1", **JSON_AS_TEXT}
"""A Parquet body sent to a server is read in file order (row groups are otherwise read in parallel, in any order),
its JSON columns as text (``parquet.JSON_AS_TEXT``)."""
ORDERED_INPUT_SETTINGS = {"parallelize_output_from_storages": "0"}
"""A body's blocks are processed in the order they are read: a server otherwise spreads them over its threads right
after ``input()`` (one per core), and ``rowNumberInAllBlocks()`` — a row's number in a file sent to a server — then
numbers blocks in the order they reach it (rows misnumbered at random past the first block: a quarantined row shown
with another row's text, a row's lineage not its line)."""


class ServerWarehouse(Warehouse):
    """A ClickHouse server over HTTP (``ABI_CLICKHOUSE_URL``); files are streamed to it with ``input()``."""

    def __init__(self, url: str) -> None:
        import requests

        self._url, self._auth, database = server_url(url)
        self.database = database or settings.DATABASE
        self._http = requests.Session()
        try:
            self._post("CREATE DATABASE IF NOT EXISTS " + self.database, database="default")
        except requests.RequestException as exc:  # the message names the server, never its credentials
            raise WarehouseError(f"cannot reach the ClickHouse server at {self._url} (ABI_CLICKHOUSE_URL): "
                                 f"{exc.__class__.__name__}") from exc

    def _post(self, sql: str, data: Any = None, headers: dict | None = None, database: str | None = None,
              params: dict[str, Any] | None = None, settings: dict[str, str] | None = None, out: Path | None = None,
              ) -> bytes:
        """Run ``sql`` (with ``data`` as the body, else as the body itself); its output returned, or streamed to
        file ``out``."""
        query = {"database": database or self.database, **SESSION_SETTINGS, **(settings or {})}
        query.update({f"param_{k}": _param(v) for k, v in (params or {}).items()})
        body = data if data is not None else sql.encode()
        if data is not None:
            query["query"] = sql
        with self._http.post(self._url, params=query, data=body, headers=headers, auth=self._auth, timeout=3600,
                             stream=out is not None) as resp:
            if resp.status_code != 200:
                raise WarehouseError(resp.text.strip())
            if out is None:
                return resp.content
            with open(out, "wb") as f:
                for chunk in resp.iter_content(chunk_size=1 << 20):
                    f.write(chunk)
            return b""

    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self._post(sql, params=params)

    def raw(self, sql: str, fmt: str, params: dict[str, Any] | None = None) -> bytes:
        return self._post(f"{sql}\nFORMAT {fmt}", params=params)

    def stream(self, sql: str, fmt: str, settings: dict[str, str] | None = None) -> Iterator[bytes]:
        # wait_end_of_query: an error is a failed response (the server spills a large result to its own disk)
        # the format as the default, not a FORMAT clause: ``EXPLAIN …`` would explain the clause too
        query = {"database": self.database, **SESSION_SETTINGS, **(settings or {}), "wait_end_of_query": "1",
                 "default_format": fmt}
        with self._http.post(self._url, params=query, data=sql.encode(), auth=self._auth,
                             timeout=3600, stream=True) as resp:
            if resp.status_code != 200:
                raise WarehouseError(resp.text.strip())
            yield from resp.iter_content(chunk_size=1 << 20)

    def write_file(self, sql: str, fmt: str, out: Path, settings: dict[str, str] | None = None,
                   rows: int | None = None) -> None:
        # wait_end_of_query: the server sends the result once it is whole (spilling to its disk), so an error is
        # a failed response, not a 200 whose body ends in the error text
        with written_whole(out) as part:
            self._post(f"{sql}\nFORMAT {fmt}", settings={**(settings or {}), "wait_end_of_query": "1"}, out=part)

    def insert_file(self, insert_sql: str, source: str, path: Path, fmt: str, structure: str,
                    settings: dict[str, str] | None = None) -> None:
        if not structure:  # Parquet: the server buffers the body (Parquet is read from its footer) and keeps its
            # row order, so rowNumberInAllBlocks() is the row; the read-ahead cap is for this process's memory only
            structure, settings = self._parquet_structure(path), PARQUET_INPUT_SETTINGS
        sql = insert_sql.replace(source, f"input({quote(structure)})") + f"\nFORMAT {fmt}"
        gz = path.suffix.lower() == ".gz"
        with open(path, "rb") as body:
            self._post(sql, data=body, headers={"Content-Encoding": "gzip"} if gz else None,
                       settings={**FILE_SETTINGS, **(settings or {}), **ORDERED_INPUT_SETTINGS})

    def _parquet_structure(self, path: Path) -> str:
        """The structure the server's own inference gives a Parquet file (the embedded engine infers the same from
        ``file()``): asked of an empty file with the same schema, so only the schema travels."""
        import pyarrow.parquet as pq

        empty = io.BytesIO()
        try:
            pq.write_table(pq.read_schema(path).empty_table(), empty)
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise WarehouseError(f"not a readable Parquet file ({exc})") from exc
        schema = quote(base64.b64encode(empty.getvalue()).decode())
        as_text = ", ".join(f"{k} = {v}" for k, v in JSON_AS_TEXT.items())
        described = self.rows(f"DESCRIBE format(Parquet, base64Decode({schema})) SETTINGS {as_text}")
        return ", ".join(f"`{r['name'].replace('`', '``')}` {r['type']}" for r in described)


def server_url(url: str) -> tuple[str, tuple[str, str], str]:
    """``ABI_CLICKHOUSE_URL`` as (the server's URL without credentials, (user, password), database). The user info
    runs to the last ``@``: a password may hold ``/ # ? @`` as they are (``urlsplit`` would read what follows one as
    the port or the path, and print it back in its error), or percent-encoded. Errors never echo the URL."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise WarehouseError("ABI_CLICKHOUSE_URL must start with http:// or https:// "
                             "(http://user:password@host:8123/database)")
    userinfo, _, location = rest.rpartition("@")
    user, _, password = userinfo.partition(":")
    parts = urlsplit(f"{scheme.lower()}://{location}")
    try:
        port = parts.port or (8443 if parts.scheme == "https" else 8123)
    except ValueError:
        raise WarehouseError(f"ABI_CLICKHOUSE_URL: the port of {parts.hostname} is not a number") from None
    if not parts.hostname:
        raise WarehouseError("ABI_CLICKHOUSE_URL names no host (http://user:password@host:8123/database)")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    base = urlunsplit((parts.scheme, f"{host}:{port}", "/", "", ""))
    return base, (unquote(user) or "default", unquote(password)), parts.path.strip("/")


def _param(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
