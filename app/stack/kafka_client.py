"""The Kafka client Moose's Python streaming runner imports when it runs on the local stack's tansu broker.

moose-lib pins ``kafka-python-ng`` 2.2.3. Its consumer joins a group with JoinGroup v2 and an empty member id;
tansu answers MEMBER_ID_REQUIRED (error 79, KIP-394), which that client does not know: every Python stream
transform or consumer fails in ``ensure_active_group`` with ``UnknownError``. ``kafka-python`` 2.3.x handles 79
(it rejoins with the member id the broker assigned) and provides the same ``kafka`` module.

Both distributions install a top-level ``kafka`` package, so they cannot share one environment. ABI installs the
pinned ``kafka-python`` into its own directory inside the virtual environment (``<venv>/abi-overlays/…``, made by
``abi stack up``/``abi stack prepare``) and puts that directory first on ``PYTHONPATH`` in the environment
``moose-cli`` runs with (``abi stack env`` / ``abi stack dev``). Nothing else in the environment changes: the
bulk path, tests and a Docker-based ``moose dev`` keep moose-lib's own client.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tomllib
from pathlib import Path

from app.core import settings

log = logging.getLogger("abi.stack.kafka_client")

DEFAULT_REQUIREMENT = "kafka-python==2.3.3"


def requirement() -> str:
    """The pinned client, from ``[tool.abi] moose-kafka-client`` in pyproject.toml."""
    pyproject = settings.PROJECT_ROOT / "pyproject.toml"
    if pyproject.is_file():
        tool = tomllib.loads(pyproject.read_text()).get("tool", {}).get("abi", {})
        return str(tool.get("moose-kafka-client", DEFAULT_REQUIREMENT))
    return DEFAULT_REQUIREMENT


def overlay_dir() -> Path:
    """Where the pinned client is installed: a folder of its own inside the virtual environment."""
    name = requirement().replace("==", "-")
    return Path(sys.prefix) / "abi-overlays" / name


def installed_version(directory: Path) -> str | None:
    """Version of the ``kafka`` package installed in ``directory`` (None when absent)."""
    version_file = directory / "kafka" / "version.py"
    if not version_file.is_file():
        return None
    scope: dict[str, str] = {}
    exec(version_file.read_text(), scope)  # noqa: S102 - the package's own one-line version file
    return scope.get("__version__")


def ensure_overlay() -> Path:
    """Install the pinned client into its overlay directory unless it is already there; return the directory."""
    directory = overlay_dir()
    wanted = requirement().split("==")[-1]
    if installed_version(directory) == wanted:
        return directory
    log.info("install_kafka_client requirement=%s target=%s", requirement(), directory)
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--upgrade", "--target", str(directory), requirement()], check=True)
    if installed_version(directory) != wanted:
        raise RuntimeError(f"{requirement()} did not install into {directory}")
    return directory
