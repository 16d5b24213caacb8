"""SQL as the engine reads it: string literals, quoted names and comments set aside, for checks on a query's text."""

from __future__ import annotations

import re

QUOTED_OR_COMMENT = re.compile(
    r"'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|\"(?:[^\"\\]|\\.)*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
"""String literals, quoted names and comments: text, not SQL, when a query is checked."""

OUTSIDE_THE_DATABASE = re.compile(
    r"\b(file|fileCluster|url|urlCluster|s3|s3Cluster|gcs|hdfs|hdfsCluster|azureBlobStorage|azureBlobStorageCluster"
    r"|remote|remoteSecure|cluster|clusterAllReplicas|mysql|postgresql|mongodb|redis|sqlite|odbc|jdbc|executable"
    r"|deltaLake|hudi|iceberg)\s*\(|\bINTO\s+OUTFILE\b|\bENGINE\s*=\s*(File|URL|S3|HDFS|MySQL|PostgreSQL|MongoDB"
    r"|SQLite|ODBC|JDBC|Executable|ExecutablePool|AzureBlobStorage|Redis)\b", re.IGNORECASE)
"""Table functions, engines and clauses that read or write outside the database: the host's files, URLs, other
servers, programs."""


def code_of(sql: str) -> str:
    """``sql`` with its literals, quoted names and comments blanked: what the engine reads as SQL."""
    return QUOTED_OR_COMMENT.sub(" ", sql)


def reaches_outside(sql: str) -> str | None:
    """The first table function, engine or clause of ``sql`` that reaches outside the database, else None."""
    named = re.sub(r"`(\w+)`|\"(\w+)\"", lambda m: m.group(1) or m.group(2), sql)  # `file`(…) is file(…)
    found = OUTSIDE_THE_DATABASE.search(code_of(named))
    return found.group(0).rstrip("( ") if found else None
