"""The error of a file that cannot be read as billing data (``sources`` and ``parquet`` raise it)."""

from __future__ import annotations

from pathlib import Path


class SourceError(ValueError):
    """A file that cannot be read as billing data; the message names the file and the problem."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem
