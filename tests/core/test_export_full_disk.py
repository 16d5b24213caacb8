"""An export to a full disk fails and keeps the earlier file: the embedded engine's ``INTO OUTFILE`` reports no short
write, so the written file is checked before it replaces anything."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from abitest import PROJECT, load

from app.core.demo import generate
from app.core.export import export
from app.core.warehouse import EmbeddedWarehouse


def _short_writes(monkeypatch: pytest.MonkeyPatch, cut) -> None:
    """The engine's write to a full disk: what it wrote is cut to ``cut(bytes)``, no error raised."""
    command = EmbeddedWarehouse.command

    def writing(self, sql, params=None):
        command(self, sql, params)
        if "INTO OUTFILE" in sql:
            part = Path(sql.split("INTO OUTFILE '")[1].split("'")[0])
            part.write_bytes(cut(part.read_bytes()))

    monkeypatch.setattr(EmbeddedWarehouse, "command", writing)


@pytest.mark.parametrize(("fmt", "cut"), [
    ("parquet", lambda data: b""),
    ("parquet", lambda data: data[: len(data) // 2]),
    ("csv", lambda data: b""),
    ("csv", lambda data: data[: len(data) // 2]),  # a line cut short
    ("csv", lambda data: data[: data.rindex(b"\n", 0, len(data) // 2) + 1]),  # whole lines, too few
])
def test_a_short_write_fails_and_keeps_the_earlier_export(wh, tmp_path, monkeypatch, fmt, cut):
    files = generate(tmp_path / "demo", month=date(2026, 10, 1), scale=1)
    assert load(wh, files.actual).ok
    out = tmp_path / f"focus.{fmt}"
    rows = export(wh, fmt, out)
    earlier = out.read_bytes()
    _short_writes(monkeypatch, cut)
    with pytest.raises(OSError, match="the written file is incomplete"):
        export(wh, fmt, out)
    assert out.read_bytes() == earlier and rows > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", f"focus.{fmt}", "warehouse"]


def test_an_export_to_a_full_file_system_says_so(tmp_path):
    """A real full disk: a 5 MiB tmpfs mounted in a user namespace (skipped where none can be made)."""
    unshare, disk = shutil.which("unshare"), tmp_path / "disk"
    disk.mkdir()
    if not unshare or subprocess.run([unshare, "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("no user namespace to mount a tmpfs in")
    script = (f'mount -t tmpfs -o size=5m tmpfs "{disk}" || exit 99; abi="{sys.executable} -m app.cli.main"; '
              f'$abi demo --out "{tmp_path}/demo" >/dev/null 2>&1 || exit 98; '
              f'$abi export --format csv --out "{disk}/a.csv" 2>/dev/null || exit 97; cp "{disk}/a.csv" "{tmp_path}"; '
              f'cat /dev/zero > "{disk}/filler" 2>/dev/null; $abi export --format csv --out "{disk}/a.csv"; '
              f'echo "rc=$?"; cmp "{disk}/a.csv" "{tmp_path}/a.csv" && echo same; ls -A "{disk}"')
    env = {**os.environ, "ABI_DATA_DIR": str(tmp_path / "data")}
    env.pop("ABI_CLICKHOUSE_URL", None)
    done = subprocess.run([unshare, "-rm", "sh", "-c", script], cwd=PROJECT, env=env, capture_output=True,
                          text=True, timeout=300)
    if done.returncode == 99:
        pytest.skip("tmpfs cannot be mounted here")
    assert done.stdout.split() == ["rc=2", "same", "a.csv", "filler"], done.stdout + done.stderr
    assert done.stderr.startswith(f"abi: cannot write {disk}/a.csv: no space left on device: the written file is "
                                  "incomplete ("), done.stderr
