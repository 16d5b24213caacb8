"""Column lists of the FOCUS model (:mod:`app.models.focus`), without importing moose-lib on every use.

``FOCUS_COLUMNS``, ``X_COLUMNS``, ``ALL_COLUMNS`` and ``MANDATORY_COLUMNS`` are derived from ``FocusCost`` and
cached by the content of ``app/models`` (:mod:`app.core.derived`); they are computed on first access.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from app.core import derived, settings

NAMES = ("FOCUS_COLUMNS", "X_COLUMNS", "ALL_COLUMNS", "MANDATORY_COLUMNS")


def _from_model() -> dict[str, list[str]]:
    from app.models import focus

    return {name: list(getattr(focus, name)) for name in NAMES}


@cache
def _lists() -> dict[str, tuple[str, ...]]:
    files = settings.PROJECT_ROOT.joinpath("app", "models").glob("*.py")
    return {k: tuple(v) for k, v in derived.cached("focus-columns", files, _from_model).items()}


def __getattr__(name: str) -> Any:
    if name in NAMES:
        return _lists()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
