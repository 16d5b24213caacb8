"""Clients of the legacy EA reporting API: the abstract interface and its HTTP implementation.

``GET {base}/{v}/enrollments/{n}/billingPeriods/{YYYYMM}/usagedetails`` with ``Authorization: bearer {API key}``
answers ``{"id", "data": [...], "nextLink"}``; pages are followed by ``nextLink`` until it is empty.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from app.connectors.base import ExtractError
from app.connectors.http import Http, failure, same_origin


class EaUsageClient(ABC):
    @abstractmethod
    def billing_periods(self, enrollment: str) -> list[str]:
        """The enrollment's billing periods (``YYYYMM``): the connection test."""

    @abstractmethod
    def usage_pages(self, enrollment: str, month: date) -> Iterator[list[dict[str, Any]]]:
        """The usage rows of one billing period, page by page (numbers as Decimal)."""


class HttpEaUsageClient(EaUsageClient):
    def __init__(self, client: Http, base_url: str, version: str = "v3", max_pages: int = 100_000) -> None:
        self.http, self.base, self.version, self.max_pages = client, base_url.rstrip("/"), version, max_pages

    def billing_periods(self, enrollment: str) -> list[str]:
        resp = self.http.request("GET", f"{self.base}/{self.version}/enrollments/{enrollment}/billingperiods")
        if resp.status_code != 200:
            raise failure(resp, f"listing the billing periods of enrollment {enrollment}")
        return [str(p.get("billingPeriodId")) for p in resp.json()]

    def usage_pages(self, enrollment: str, month: date) -> Iterator[list[dict[str, Any]]]:
        url: str | None = (f"{self.base}/{self.version}/enrollments/{enrollment}/billingPeriods/{month:%Y%m}"
                           "/usagedetails")
        seen: set[str] = set()
        for page in range(1, self.max_pages + 1):
            if not url:
                return
            if url in seen:
                raise ExtractError(f"usage of {month:%Y-%m}: nextLink loops back to an earlier page ({page})")
            seen.add(url)
            resp = self.http.request("GET", url)
            if resp.status_code != 200:
                raise failure(resp, f"reading usage of {month:%Y-%m}, page {page}")
            try:
                body = resp.json(parse_float=Decimal)
            except ValueError as exc:
                raise ExtractError(f"usage of {month:%Y-%m}, page {page}: the answer is not JSON") from exc
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise ExtractError(f"usage of {month:%Y-%m}, page {page}: no 'data' array in the answer")
            yield body["data"]
            url = same_origin(str(body["nextLink"]), self.base, f"usage of {month:%Y-%m}, page {page}: nextLink") \
                if body.get("nextLink") else None
        raise ExtractError(f"usage of {month:%Y-%m}: more than {self.max_pages} pages")
