"""Structured logs: one JSON object per line (time, level, logger, message and a record's ``fields``)."""

from __future__ import annotations

import json
import logging
import sys

from app.core.redaction import redact_text


class JsonFormatter(logging.Formatter):
    """One JSON object per log line: time, level, logger, message and structured ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as JSON."""
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exc"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure(level: int | str, stream=None) -> None:
    """JSON lines on ``stream`` (standard error by default) from ``level`` up."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler])
