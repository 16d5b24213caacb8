"""HTTP for source plugins: a transport (live, or recorded for offline tests) behind a retrying client.

``429`` and ``5xx`` answers and connection failures are retried, waiting what ``Retry-After`` says or else a
capped exponential backoff with jitter, within a budget of attempts and of total waiting time; past the budget the
call fails with a message that says so.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from app.connectors.base import ExtractError, PermanentError
from app.core.redaction import redact_text

log = logging.getLogger(__name__)
RETRIABLE = frozenset({429, 500, 502, 503, 504})
RATE_LIMIT_WAIT = re.compile(r"(?i)^x-ms-ratelimit-.*retry-after$")
"""``x-ms-ratelimit-microsoft.consumption-retry-after``, ``x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after``…"""
sleep: Callable[[float], None] = time.sleep
"""Module-level so tests can watch the waits."""


class Transport(ABC):
    """Sends one request and returns the response (no retries)."""

    @abstractmethod
    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """``kwargs``: headers, params, json, data, stream, timeout."""


class LiveTransport(Transport):
    """requests over the network; ``verify`` is True, False or a CA bundle path."""

    def __init__(self, verify: bool | str = True) -> None:
        self.session, self.verify = requests.Session(), verify

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        # per request: a session's verify loses to REQUESTS_CA_BUNDLE in the environment
        return self.session.request(method, url, verify=self.verify, **kwargs)


class RecordedTransport(Transport):
    """Replays recorded responses in order (offline tests); checks each request against its recording."""

    def __init__(self, recording: Path | list[dict[str, Any]]) -> None:
        self.interactions = json.loads(recording.read_text()) if isinstance(recording, Path) else list(recording)
        self.sent: list[tuple[str, str]] = []

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if len(self.sent) >= len(self.interactions):
            raise AssertionError(f"unexpected request beyond the recording: {method} {url}")
        item = self.interactions[len(self.sent)]
        url = requests.Request(method, url, params=kwargs.get("params")).prepare().url or url
        self.sent.append((method, url))
        got, want = urlsplit(url), urlsplit(item["url"])
        if method != item["method"] or (got.path, got.query) != (want.path, want.query):
            raise AssertionError(f"request {method} {url} does not match recording {item['method']} {item['url']}")
        resp = requests.Response()
        resp.status_code, resp.url = item["status"], url
        resp.headers.update(item.get("headers", {}))
        body = item.get("body", "")
        resp._content = (json.dumps(body) if isinstance(body, dict | list) else body).encode()
        resp._content_consumed = True
        return resp


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_total_wait: float = 900.0

    @classmethod
    def of(cls, config: Mapping[str, Any], quick: bool = False) -> RetryPolicy:
        """From a config's ``max_attempts`` / ``max_wait_seconds``; ``quick`` (connection tests) caps them."""
        attempts, wait = int(config.get("max_attempts", 6)), float(config.get("max_wait_seconds", 900))
        return cls(max_attempts=min(3, attempts), max_total_wait=min(30.0, wait)) if quick else cls(attempts, 1.0,
                                                                                                      60.0, wait)


class Http:
    """A retrying HTTP client over a transport; ``auth`` returns the headers that authenticate a call."""

    def __init__(self, transport: Transport, policy: RetryPolicy | None = None,
                 auth: Callable[[], Mapping[str, str]] | None = None, timeout: float = 60.0,
                 renew: Callable[[], None] | None = None) -> None:
        """``renew``: gets new credentials for ``auth``; a ``401`` is then tried once more with them."""
        self.transport, self.policy, self.auth, self.timeout = transport, policy or RetryPolicy(), auth, timeout
        self.renew = renew

    def request(self, method: str, url: str, authenticate: bool = True, **kwargs: Any) -> requests.Response:
        """The first non-retriable response; raises ExtractError past the retry budget."""
        waited, host = 0.0, urlsplit(url).netloc
        headers = dict(kwargs.pop("headers", None) or {})
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                resp = self._send(method, url, headers if not authenticate else None, headers, kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem, delay = f"cannot reach {host}: {exc.__class__.__name__}", self._backoff(attempt)
            else:
                if resp.status_code not in RETRIABLE:
                    return resp
                problem = f"{host} answered {resp.status_code} ({_reason(resp)})"
                told = retry_after(resp)
                delay = self._backoff(attempt) if told is None else told
                resp.close()
            if attempt == self.policy.max_attempts or waited + delay > self.policy.max_total_wait:
                raise ExtractError(f"{problem}; gave up after {attempt} attempts and {waited:.0f}s of waiting "
                                   "(retry budget exhausted; run the sync again later)")
            log.warning("retrying %s %s in %.1fs: %s", method, _safe(url), delay, problem)
            sleep(delay)
            waited += delay
        raise AssertionError("unreachable")

    def _send(self, method: str, url: str, plain: Mapping[str, str] | None, headers: Mapping[str, str],
              kwargs: dict[str, Any]) -> requests.Response:
        """One request (``plain``: sent as they are, no ``auth``); a ``401`` is tried once more after ``renew``."""
        for renewed in (False, True):
            sent = dict(plain) if plain is not None else {**headers, **(self.auth() if self.auth else {})}
            resp = self.transport.send(method, url, headers=sent, timeout=self.timeout, **kwargs)
            if resp.status_code != 401 or plain is not None or self.renew is None or renewed:
                return resp
            log.warning("%s answered 401 (%s): trying once more with a new token", urlsplit(url).netloc,
                        _reason(resp))
            resp.close()
            self.renew()
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        cap = min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1))
        return cap * random.uniform(0.5, 1.0)


def retry_after(resp: requests.Response) -> float | None:
    """Seconds to wait, if the answer says: the longest of ``Retry-After`` (delta-seconds or HTTP date) and
    Microsoft's ``x-ms-ratelimit-…-retry-after`` headers (a 429 of Cost Management may carry only those)."""
    waits = [_seconds(value) for name, value in resp.headers.items()
             if name.lower() == "retry-after" or RATE_LIMIT_WAIT.match(name)]
    known = [w for w in waits if w is not None]
    return max(known) if known else None


def _seconds(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def same_origin(link: str, base: str, what: str) -> str:
    """``link`` (as an answer gives it: ``nextLink``, ``Location``) resolved against ``base``; ExtractError when it
    leaves ``base``'s scheme and host: the credentials go to the configured host only."""
    url = urljoin(base, link)
    got, want = urlsplit(url), urlsplit(base)
    if got.username is not None or _origin(got) != _origin(want):
        raise ExtractError(f"{what} points at {got.scheme}://{got.netloc}, not the configured "
                           f"{want.scheme}://{want.netloc}: not followed (credentials go to that host only)")
    return url


def _origin(parts) -> tuple[str, str, int | None]:
    """Scheme, host and port as a browser compares origins (``:443`` of https is no port; ``host.`` is ``host``)."""
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:  # a port that is not a number
        port = -1
    return scheme, (parts.hostname or "").rstrip("."), port


def _reason(resp: requests.Response) -> str:
    """What the answer says went wrong, without the credentials it may quote back (its request's SAS link, a
    token)."""
    return redact_text(_said(resp))


def _said(resp: requests.Response) -> str:
    try:
        body = resp.json()
        err = body.get("error", body) if isinstance(body, dict) else {}
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or resp.reason)[:300]
        return str(body.get("error_description") or err)[:300]
    except ValueError:
        return (resp.reason or resp.text[:200] or "no details").strip()


def describe_failure(resp: requests.Response, what: str) -> str:
    """A clear message for a failed call, without the URL's query (SAS tokens live there)."""
    hint = {401: "check the credentials", 403: "check the credentials and their permissions on the scope",
            404: "check the scope / ids"}.get(resp.status_code, "")
    return f"{what}: HTTP {resp.status_code} ({_reason(resp)}){'; ' + hint if hint else ''}"


def failure(resp: requests.Response, what: str) -> ExtractError:
    """The error of a failed call (``describe_failure``): permanent for a request the source refuses as such (400,
    401 after a new token), which trying again cannot fix; a 403 or 404 may pass (a role assignment still
    propagating, an operation just created)."""
    kind = PermanentError if resp.status_code in (400, 401) else ExtractError
    return kind(describe_failure(resp, what))


def _safe(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
