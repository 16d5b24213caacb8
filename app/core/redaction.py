"""Credentials a text may carry whoever wrote it (a library's error, a server's answer, a traceback), masked.

What is masked: a URL's password (``scheme://user:PASSWORD@host``), query values that are credentials (a SAS URL's
``sig``, an S3 presigned URL's ``X-Amz-Signature`` and ``X-Amz-Security-Token``, OAuth codes and tokens; also
URL-encoded or JSON-escaped), a storage connection string's ``AccountKey``, a ``SharedKey`` signature, the
signature of an S3 request's ``Authorization`` header (botocore's debug lines), and ``Bearer``/``Basic`` credentials
or JSON Web Tokens quoted back by a server. The rest (host, path, file name, HTTP status) stays, so a message keeps
saying what failed where.
"""

from __future__ import annotations

import re

REDACTED = "REDACTED"
CREDENTIAL_NAMES = (r"(?:sig|signature|x-amz-signature|x-amz-security-token|x-goog-signature|code|client_secret|"
                    r"access_token|refresh_token|id_token|api_key|apikey|password|accountkey|sharedaccesskey)")
CREDENTIAL_QUERY = re.compile(rf"(?i)((?:^|[?&;]|\\u0026){CREDENTIAL_NAMES}=)[^&;\s\"'<>\\]+")
"""Query values that are credentials: a SAS URL's ``sig`` (a library's debug line prints whole URLs; a SAS token
alone starts with one), a token, a storage connection string's ``AccountKey``; also JSON-escaped (``\\u0026sig=``,
as .NET and Go write a URL in JSON)."""
ENCODED_QUERY = re.compile(rf"(?i)((?:%26|%3F){CREDENTIAL_NAMES}%3D)"
                           r"(?:[^%&\s\"'<>]|%(?:[013-9a-f][0-9a-f]|2[0-57-9a-f]))+")
"""The same in a URL-encoded URL (a link carried as a query value: ``…%26sig%3D…``), up to its next ``%26``."""
SHARED_KEY = re.compile(r"(?i)\b(sharedkey(?:lite)?\s+[^\s:]+:)[A-Za-z0-9+/]{16,}=*")
"""An Azure Storage ``SharedKey account:signature`` authorization."""
USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@:\"'<>]*):[^\s\"'<>]*@")
"""The password of a URL's user info (``http://user:password@host``), up to the last ``@``: a password may hold an
``@`` or a ``/`` that was not percent-encoded."""
AUTHORIZATION = re.compile(r"(?i)\b(bearer|basic)(\s+)(?!(?-i:[A-Z]?[a-z]+)(?:[\s\"'<>,;:)\]]|\.(?:\s|$)|$))"
                           r"[A-Za-z0-9\-._~+/]{8,}=*")
"""An ``Authorization`` header's credential, as a server quoting the request back writes it; not a word that follows
"basic" or "bearer" in a sentence ("Basic authentication failed")."""
SIGV4 = re.compile(r"(?i)\b(signature[=:]\s*)[0-9a-f]{64}\b")
"""An AWS Signature Version 4 as botocore's debug lines write it: in the ``Authorization`` header it sends
(``…, Signature=<hex>``) and on its own (``Signature:\\n<hex>``)."""
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
"""A JSON Web Token (an Entra ID access token) anywhere in the text."""


RULES = ((CREDENTIAL_QUERY, rf"\1{REDACTED}"), (ENCODED_QUERY, rf"\1{REDACTED}"), (SHARED_KEY, rf"\1{REDACTED}"),
         (USERINFO, rf"\1:{REDACTED}@"), (AUTHORIZATION, rf"\1\2{REDACTED}"),
         (SIGV4, rf"\1{REDACTED}"), (JWT, REDACTED))
"""Each pattern and its replacement, in order."""
NAME_RULES = tuple(rule for rule in RULES if rule[0] is not AUTHORIZATION)
"""The rules for a name (a file's, a batch id): credentials of a shape of their own (a URL's, a signature, a token).
A header's words would mask part of a name ("exports/Basic Subscription-2026-01.csv" → "exports/Basic REDACTED"),
and two files would become one. RE2 runs them too (``stream_sql.redacted``): a replacement's ``\\1`` reads the same
in Python and ClickHouse."""


def redact_text(text: str, rules: tuple[tuple[re.Pattern[str], str], ...] = RULES) -> str:
    """``text`` with every credential it carries masked (see the module's doc)."""
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def redact_name(name: str) -> str:
    """A name (a file's, a batch id) with the credentials it carries masked, and nothing else (``NAME_RULES``)."""
    return redact_text(name, NAME_RULES)


def holds_credentials(text: str) -> bool:
    """True when ``text`` carries something :func:`redact_text` masks."""
    return redact_text(text) != text
