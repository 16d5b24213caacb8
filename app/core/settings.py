"""Run-time settings of ABI, read from the environment (never from committed files)."""

import os
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "sql"
DATABASE = os.environ.get("ABI_DATABASE", "abi")


class SettingError(ValueError):
    """A setting that cannot be used as it is; the message names it and says why."""


def data_dir() -> Path:
    """Folder of the embedded engine's data (``ABI_DATA_DIR``, default ``.abi/`` in the project); a
    ``SettingError`` when it is, or is below, a file (``engine_folder`` checks it for the engine: a folder that only
    holds the connector registry beside a ClickHouse server may have any name)."""
    path = Path(os.environ.get("ABI_DATA_DIR") or PROJECT_ROOT / ".abi").resolve()
    held = next(p for p in (path, *path.parents) if p.exists())
    if not held.is_dir():
        raise SettingError(f"ABI_DATA_DIR {path}: {'it' if held == path else held} is a file, not a folder: "
                           "name a folder for the warehouse")
    return path


def engine_folder(path: Path, setting: str) -> Path:
    """``path``, a folder the embedded engine keeps its data in; a ``SettingError`` naming ``setting`` when the engine
    would misread it: it takes what follows a ``?`` as its options (``/x/wh?one`` opens ``/x/wh``)."""
    if "?" in str(path):
        raise SettingError(f"{setting} {path}: the embedded engine reads what follows '?' in its folder's path as "
                           f"options (it would open {str(path).split('?')[0]}): name a folder without '?'")
    if not engine_text(path):
        raise SettingError(f"{setting} {os.fsencode(path).decode('utf-8', 'backslashreplace')}: {LOCALE_NAME}")
    return path


LOCALE_NAME = (f"its name cannot be passed to the engine in this locale's encoding ({sys.getfilesystemencoding()}): "
               "use a UTF-8 locale (e.g. LC_ALL=C.UTF-8) or rename it")
"""Why a path is refused whose bytes on disk are not its UTF-8 text (a non-ASCII name in a Latin-1 locale)."""


def engine_text(path: Path | str) -> bool:
    """Whether the engine, which takes a path as UTF-8 text, finds ``path``: its bytes on disk are that text (not so
    for a non-ASCII name in a locale of another encoding, such as ISO-8859-1)."""
    try:
        return os.fsencode(path) == str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False


def engine_message(exc: BaseException) -> str:
    """What the engine said: chdb raises ``UnicodeDecodeError`` for a message that quotes a file's text cut inside
    a character (``Cannot parse input: … before: '…東``): its bytes are the message, read with U+FFFD there."""
    if isinstance(exc, UnicodeDecodeError) and isinstance(exc.object, bytes):
        return exc.object.decode("utf-8", "replace").strip()
    return str(exc).strip()


def clickhouse_url() -> str | None:
    """URL of a ClickHouse server (``ABI_CLICKHOUSE_URL``, e.g. ``http://user:pass@host:8123``), if set."""
    return os.environ.get("ABI_CLICKHOUSE_URL") or None


ENGINE_ALLOCATOR = "dirty_decay_ms:1000,muzzy_decay_ms:0"
"""jemalloc options of the embedded engine: freed pages go back to the system within a second, so a long load's
memory stays flat instead of growing with the file (measured: 1.78 GB → 1.4 GB plateau on 1 M rows, same speed)."""


def prepare_engine_environment() -> None:
    """Call before chdb is first imported: its allocator reads ``JE_MALLOC_CONF`` once, at load (user's wins), and
    its server time zone is the process's ``TZ`` then: UTC, so that functions which ignore ``session_timezone``
    (``toString`` of a ``DateTime64`` without a zone) show UTC whatever the machine's zone."""
    _check_temporary_folder()
    os.environ.setdefault("JE_MALLOC_CONF", ENGINE_ALLOCATOR)
    if os.environ.get("TZ") != "UTC" and "chdb" not in sys.modules:
        os.environ["TZ"] = "UTC"
        time.tzset()


def _check_temporary_folder() -> None:
    """A ``SettingError`` when ``TMPDIR`` names something that is there but is no folder this process can write:
    the engine fails to start in it (with a long native trace), and a load's copies go there."""
    folder = os.environ.get("TMPDIR")
    if folder and os.path.exists(folder) and not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
        problem = "not writable" if os.path.isdir(folder) else "not a folder"
        raise SettingError(f"TMPDIR {folder}: {problem}: the engine and a load's copies need a writable temporary "
                           "folder: name one, or unset TMPDIR")


def cache_dir() -> Path:
    """Where derived facts are cached (``ABI_CACHE_DIR``, else ``$XDG_CACHE_HOME/abi``, else ``~/.cache/abi``)."""
    if os.environ.get("ABI_CACHE_DIR"):
        return Path(os.environ["ABI_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "abi"
