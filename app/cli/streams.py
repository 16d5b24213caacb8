"""The command's standard streams and the system errors it reports: one line naming the path (or the stream) and the
problem, never a traceback."""

from __future__ import annotations

import errno
import io
import os
import sys

STDOUT = "standard output"


class Output(io.RawIOBase):
    """Standard output's descriptor (``None``: closed), whose write errors name it: ``standard output: No space left
    on device`` (a write error names no file otherwise)."""

    def __init__(self, fd: int | None) -> None:
        super().__init__()
        self.fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        if self.fd is None:
            raise OSError(errno.EBADF, "it is closed", STDOUT)
        return self.fd

    def isatty(self) -> bool:
        return self.fd is not None and os.isatty(self.fd)

    def write(self, data) -> int:  # noqa: ANN001 - a bytes-like object
        try:
            return os.write(self.fileno(), data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, STDOUT) from None


def prepare() -> None:
    """The process's standard streams as ``abi`` writes them: a character their encoding lacks is written as an
    escape (``\\u2502``), never a crash; standard output's errors name it; a closed one is an ``Output(None)``."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the process's stream
    elif isinstance(sys.stderr, io.TextIOWrapper):
        sys.stderr.reconfigure(errors="backslashreplace")
    if sys.stdout is None or (sys.stdout is sys.__stdout__ and isinstance(sys.stdout, io.TextIOWrapper)):
        fd, encoding = (None, "utf-8") if sys.stdout is None else (sys.stdout.fileno(), sys.stdout.encoding)
        line_buffering = sys.stdout is not None and sys.stdout.line_buffering
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(Output(fd)), encoding=encoding, errors="backslashreplace",
                                      line_buffering=line_buffering)


def closed_output() -> bool:
    """Whether standard output was closed when the command started (``abi sql … >&-``)."""
    raw = getattr(getattr(sys.stdout, "buffer", None), "raw", None)
    return isinstance(raw, Output) and raw.fd is None


def os_problem(exc: OSError) -> str:
    """What failed, in one line: ``/data/.abi.lock: Permission denied``, ``standard output: No space left on
    device``; standard output's buffer is dropped after its own error, so that exiting writes nothing more."""
    if exc.filename == STDOUT:
        silence_output()
    where = f"{os.fsdecode(exc.filename)}: " if exc.filename is not None else ""
    return (where + (exc.strerror or str(exc) or repr(exc))).splitlines()[0]


def silence_output() -> None:
    """Point standard output at ``/dev/null`` (a closed one: drop what it holds): its buffer goes there at exit,
    without an error."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        raw = getattr(getattr(sys.stdout, "buffer", None), "raw", None)
        if isinstance(raw, Output):
            raw.fd = os.open(os.devnull, os.O_WRONLY)


def exit_now(code: int) -> None:
    """Ends the process without interpreter finalization: the Temporal client's native runtime (with protobuf's)
    crashes there now and then (exit 139 after the command's output). Output is flushed first; warehouses must be
    closed by then."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
