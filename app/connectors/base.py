"""The source-plugin contract: metadata, config validation, connection test, streamed extraction, output schema.

A plugin extracts *units*: each unit is one atomic piece of a sync (e.g. one Cost Details report = one month of
one metric, all its blobs). A unit's parts are files already landed on disk or batches of rows; the sync lands the
parts one by one (never a whole month in memory) and loads the unit through the core data path all or nothing.
"""

from __future__ import annotations

import calendar
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar


class PluginError(RuntimeError):
    """A user-facing plugin failure; the message says what went wrong and what to check."""


class ConfigError(PluginError, ValueError):
    """A configuration that fails its schema; ``field`` names the offending field (dotted path)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"config field '{field_name}': {message}")
        self.field = field_name


class ConnectionFailed(PluginError):
    """``test_connection`` could not prove reachability and credentials."""


class ExtractError(PluginError):
    """Extraction failed (source unreachable, throttled beyond the retry budget, bad content…)."""


class PermanentError(ExtractError):
    """Extraction that trying again cannot fix (credentials refused, a period the source does not serve, a folder
    that is not there): a workflow does not retry it."""


@dataclass(frozen=True)
class PluginInfo:
    """A plugin's metadata, shown by ``abi plugins`` and the management API."""

    name: str
    version: str
    description: str
    author: str
    category: str
    tags: tuple[str, ...]
    requirements: tuple[str, ...]
    config_schema: dict[str, Any]
    documentation_url: str
    retired: bool = False
    retired_note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "version": self.version, "description": self.description, "author": self.author,
            "category": self.category, "tags": list(self.tags), "requirements": list(self.requirements),
            "config_schema": self.config_schema, "documentation_url": self.documentation_url,
            "retired": self.retired, "retired_note": self.retired_note,
        }


@dataclass
class RowBatch:
    """A page of rows (dicts keyed by ``columns``) to land as CSV."""

    columns: list[str]
    rows: list[dict[str, Any]]


Part = Path | RowBatch


@dataclass
class Unit:
    """One atomic piece of extraction: all its parts load together or not at all."""

    key: str
    """Stable identity, e.g. ``2026-10/ActualCost`` or an export run folder."""
    parts: Iterator[Part]
    source: str | None = None
    """Core source format hint (``azure-cost``, ``azure-focus``, ``focus``) or None to detect."""
    dataset: str | None = None
    """``ActualCost`` / ``AmortizedCost`` hint, or None."""
    fingerprint: str | None = None
    """Version of the unit's content (e.g. ETags and sizes); recorded after a successful load."""


@dataclass
class ExtractContext:
    """What a sync gives a plugin: a folder to land files in and what was already loaded."""

    workdir: Path
    loaded: Mapping[str, str] = field(default_factory=dict)
    """unit key → fingerprint of the last successful load (incremental plugins skip unchanged units)."""
    on_bytes: Callable[[int], None] | None = None

    def progress(self, n: int) -> None:
        if self.on_bytes:
            self.on_bytes(n)


class SourcePlugin(ABC):
    """Base class of source plugins. Heavy client libraries are imported inside methods (lazy)."""

    info: ClassVar[PluginInfo]

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check a config against ``config_schema`` (defaults filled in); raise ConfigError naming the field."""
        from app.connectors.schema import validate

        return validate(self.info.config_schema, config)

    @abstractmethod
    def test_connection(self, config: Mapping[str, Any]) -> str:
        """Make one real, cheap call proving credentials and reachability; return a short description.

        Raises ConnectionFailed with a clear message otherwise."""

    @abstractmethod
    def extract(self, config: Mapping[str, Any], start: date, end: date, ctx: ExtractContext) -> Iterator[Unit]:
        """Yield the units covering the months from ``start`` to ``end`` (inclusive)."""

    @abstractmethod
    def get_schema(self) -> dict[str, Any]:
        """The data this plugin produces (see :func:`output_schema`)."""


def output_schema(sources: list[str], datasets: list[str], file_formats: list[str]) -> dict[str, Any]:
    """``{"sources", "datasets", "file_formats", "columns": {source: [canonical columns]}}``: what a plugin lands.

    Sources are the core data path's formats (``azure-cost``, ``azure-focus``, ``focus``)."""
    from app.core.formats import AZURE_COST_COLUMNS, FOCUS_SOURCE_COLUMNS

    columns = {s: list(AZURE_COST_COLUMNS if s == "azure-cost" else FOCUS_SOURCE_COLUMNS) for s in sources}
    return {"sources": sources, "datasets": datasets, "file_formats": file_formats, "columns": columns}


def months(start: date, end: date) -> list[date]:
    """First days of the months from ``start``'s to ``end``'s, inclusive."""
    if end < start:
        raise ValueError(f"end {end:%Y-%m} is before start {start:%Y-%m}")
    out, current = [], start.replace(day=1)
    while current <= end:
        out.append(current)
        current = add_months(current, 1)
    return out


def utc_today() -> date:
    """Today in UTC: the day Azure's billing data and the workflows count in, whatever the machine's time zone (a
    local day is a day ahead or behind for hours each day: a month's first charges skipped, or a day asked of Azure
    that has not begun there)."""
    return datetime.now(UTC).date()


def month_end(month: date) -> date:
    """Last day of ``month``."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after ``month``'s (``n`` may be negative)."""
    year, index = divmod(month.year * 12 + month.month - 1 + n, 12)
    return date(year, index + 1, 1)
