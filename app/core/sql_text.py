"""SQL as the engine reads it: string literals, quoted names and comments set aside, for checks on a query's text."""

from __future__ import annotations

import re
from typing import Protocol

from app.core.warehouse import quote

QUOTED_OR_COMMENT = re.compile(
    r"\$(?P<tag>\w*)\$.*?\$(?P=tag)\$|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|\"(?:[^\"\\]|\\.)*\"|--[^\n]*|#[^\n]*"
    r"|/\*.*?\*/", re.DOTALL)
"""String literals (``'…'`` and ``$tag$…$tag$``), quoted names and comments (``--``, ``#``, ``/* */``): text, not SQL,
when a query is checked. Where this reading and the engine's could differ, ``engine_reading`` is the authority."""

OUTSIDE_FUNCTIONS = (
    "file", "fileCluster", "filesystem", "url", "urlCluster", "s3", "s3Cluster", "gcs", "oss", "cosn", "hdfs",
    "hdfsCluster", "azureBlobStorage", "azureBlobStorageCluster", "remote", "remoteSecure", "cluster",
    "clusterAllReplicas", "mysql", "postgresql", "mongodb", "redis", "sqlite", "odbc", "jdbc", "bigquery", "ytsaurus",
    "executable", "eval", "python", "arrowstream", "prometheusQuery", "prometheusQueryRange",
    "deltaLake", "deltaLakeAzure", "deltaLakeAzureCluster", "deltaLakeCluster", "deltaLakeLocal", "deltaLakeS3",
    "deltaLakeS3Cluster", "hudi", "hudiCluster", "iceberg", "icebergAzure", "icebergAzureCluster", "icebergCluster",
    "icebergHDFS", "icebergHDFSCluster", "icebergLocal", "icebergLocalCluster", "icebergS3", "icebergS3Cluster",
    "paimon", "paimonAzure", "paimonAzureCluster", "paimonCluster", "paimonHDFS", "paimonHDFSCluster", "paimonLocal",
    "paimonS3", "paimonS3Cluster")
"""The engine's table functions that read or write outside the database; every other one it has is in
``INSIDE_FUNCTIONS`` (a test checks the engine adds none unknown; ``input`` reads the request's own body)."""
INSIDE_FUNCTIONS = (
    "SQLStandardValues", "dictionary", "format", "fuzzJSON", "fuzzQuery", "generateRandom", "generateSeries",
    "generate_series", "input", "loop", "merge", "mergeTreeAnalyzeIndexes", "mergeTreeAnalyzeIndexesUUID",
    "mergeTreeCodecBlockCounts", "mergeTreeIndex", "mergeTreeProjection", "mergeTreeTextIndex", "null", "numbers",
    "numbers_mt", "primes", "timeSeriesData", "timeSeriesMetricFamilies", "timeSeriesMetrics", "timeSeriesSamples",
    "timeSeriesSelector", "timeSeriesTags", "values", "view", "viewExplain", "viewIfPermitted", "zeros", "zeros_mt")
OUTSIDE_THE_DATABASE = re.compile(
    r"\b(" + "|".join(OUTSIDE_FUNCTIONS) + r")\s*\(|\bINTO\s+OUTFILE\b|\bENGINE\s*=\s*(File|URL|S3|HDFS|MySQL"
    r"|PostgreSQL|MongoDB|SQLite|ODBC|JDBC|Executable|ExecutablePool|AzureBlobStorage|Redis|DeltaLake|Hudi|Iceberg"
    r"\w*|Paimon\w*|YTsaurus|FileLog|Kafka|RabbitMQ|NATS|S3Queue|AzureQueue)\b", re.IGNORECASE)
"""Table functions, engines and clauses that read or write outside the database: the host's files, URLs, other
servers, programs."""


def code_of(sql: str) -> str:
    """``sql`` with its literals, quoted names and comments blanked: what the engine reads as SQL."""
    return QUOTED_OR_COMMENT.sub(" ", sql)


ENDING = " \t\r\n\f\v;"


def statement(sql: str) -> str:
    """``sql`` without what may follow its one statement: whitespace, ``;`` and comments (``SELECT 1; -- done``)."""
    end = pos = 0
    for found in [*QUOTED_OR_COMMENT.finditer(sql), None]:
        code = sql[pos:found.start() if found else len(sql)]
        if kept := code.rstrip(ENDING):  # a ``;`` between comments ends the statement too
            end = pos + len(kept)
        if found and not found.group(0).startswith(("--", "#", "/*")):
            end = found.end()  # a string or a quoted name is part of the statement
        pos = found.end() if found else pos
    return sql[:end].strip()


def reaches_outside(sql: str) -> str | None:
    """The first table function, engine or clause of ``sql`` that reaches outside the database, else None."""
    named = re.sub(r"`(\w+)`|\"(\w+)\"", lambda m: m.group(1) or m.group(2), sql)  # `file`(…) is file(…)
    found = OUTSIDE_THE_DATABASE.search(code_of(named))
    return found.group(0).rstrip("( ") if found else None


class Raw(Protocol):
    def raw(self, sql: str, fmt: str, params: dict | None = None) -> bytes: ...


def engine_reading(wh: Raw, sql: str) -> str:
    """``sql`` as the engine's own parser reads it, on one line: comments gone, every literal in ``'…'`` quoting,
    names unquoted where they can be; ``WarehouseError`` when it is not exactly one statement that parses."""
    return wh.raw(f"SELECT formatQuerySingleLine({quote(sql)})", "TSVRaw").decode().strip()
