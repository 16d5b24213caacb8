"""The error of a file that cannot be read as billing data (``sources`` and ``parquet`` raise it)."""

from __future__ import annotations

import glob
import os
from pathlib import Path

NO_MATCH = "a glob matching no billing file (.csv, .csv.gz, .parquet or .zip)"


class SourceError(ValueError):
    """A file that cannot be read as billing data; the message names the file and the problem."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem


def not_a_file(path: Path) -> str:
    """Why ``path`` (no regular file) cannot be loaded."""
    try:
        if path.is_dir():
            return ("a folder that cannot be read (permission denied)" if not os.access(path, os.R_OK | os.X_OK)
                    else "a folder with no billing file in it (.csv, .csv.gz, .parquet or .zip)")
        path.stat()
    except FileNotFoundError:
        return NO_MATCH if glob.has_magic(str(path)) else "no such file"
    except PermissionError:
        return "cannot be read (permission denied)"
    return "no such file" if not path.exists() else "not a regular file"
