"""``abi stack``: the local stack comes up healthy on the ports asked for, resets Moose's state, and goes down
leaving nothing running; the Kafka client it gives Moose's Python streaming runner joins consumer groups on tansu."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from stacktest import busy_ports, running_stack, stack_config

from app.cli.main import main
from app.stack import local
from app.stack.processes import alive, start, stop
from app.stack.services import SERVICE_NAMES, StackConfig


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    with running_stack(tmp_path_factory.mktemp("stack")) as cfg:
        yield cfg


def _cli(cfg: StackConfig, *args: str) -> list[str]:
    return ["stack", *args, "--dir", str(cfg.run_dir)]


def test_up_starts_every_service_healthy_on_loopback(stack: StackConfig, capsys: pytest.CaptureFixture) -> None:
    assert main(_cli(stack, "status", "--json")) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(SERVICE_NAMES)
    assert all(r["healthy"] and r["pid"] for r in rows)
    assert {r["port"] for r in rows} == {stack.redis_port, stack.temporal_port, stack.kafka_port,
                                         stack.clickhouse_port}
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.clickhouse_port}/?query=SHOW+DATABASES") as resp:
        assert "abi" in resp.read().decode().split()


def test_env_points_moose_at_the_stack(stack: StackConfig, capsys: pytest.CaptureFixture) -> None:
    assert main(_cli(stack, "env")) == 0
    out = capsys.readouterr().out
    assert f"export MOOSE_CLICKHOUSE_CONFIG__HOST_PORT={stack.clickhouse_port}" in out
    assert f"export MOOSE_REDPANDA_CONFIG__BROKER=127.0.0.1:{stack.kafka_port}" in out
    assert f"export MOOSE_REDIS_CONFIG__URL=redis://127.0.0.1:{stack.redis_port}" in out
    assert "export MOOSE_TEMPORAL_CONFIG__TEMPORAL_SCHEME=http" in out


def test_reset_clears_moose_state_and_restarts_the_broker_empty(stack: StackConfig) -> None:
    client = redis.Redis(host="127.0.0.1", port=stack.redis_port)
    client.set("MS::infrastructure_map", "stale")
    client.set("unrelated", "kept")
    broker_before = local.load_state(stack)["kafka"]
    local.reset(stack)
    assert client.get("MS::infrastructure_map") is None
    assert client.get("unrelated") == b"kept"
    broker_after = local.load_state(stack)["kafka"]
    assert broker_after.pid != broker_before.pid and alive(broker_after) and not alive(broker_before)
    assert all(r.healthy for r in local.status(stack))


def test_up_on_a_running_stack_resets_moose_state(stack: StackConfig, capsys: pytest.CaptureFixture) -> None:
    redis.Redis(host="127.0.0.1", port=stack.redis_port).set("MS::leadership", "stale")
    before = local.load_state(stack)
    assert main(_cli(stack, "up")) == 0  # no port flags: the recorded stack is the one reset
    after = local.load_state(stack)
    assert after["kafka"].pid != before["kafka"].pid
    assert after["redis"].pid == before["redis"].pid and after["clickhouse"].pid == before["clickhouse"].pid
    assert redis.Redis(host="127.0.0.1", port=stack.redis_port).get("MS::leadership") is None
    assert capsys.readouterr().out.count("healthy") == 4


def test_reset_and_dev_are_refused_while_moose_runs_on_the_stack(stack: StackConfig,
                                                                 capsys: pytest.CaptureFixture) -> None:
    """Resetting under a running ``abi stack dev`` stopped its streams without a word, ``status`` still healthy."""
    moose = start(["sleep", "60"], stack.run_dir / "logs" / "moose-stand-in.log", stack.run_dir)
    local.record_moose(stack, moose)  # as ``abi stack dev`` records itself before it execs moose-cli
    try:
        broker = local.load_state(stack)["kafka"]
        with pytest.raises(local.StackError, match=f"Moose runs on this stack \\(PID {moose.pid}"):
            local.reset(stack)
        for command in ("reset", "dev", "up"):
            assert main(_cli(stack, command)) == 1
            assert "stop it first" in capsys.readouterr().err
        assert local.load_state(stack)["kafka"] == broker and alive(broker)
    finally:
        stop(moose)
    local.reset(stack)  # once Moose is gone
    assert local.running_moose(stack) is None


def _consume_in_group(cfg: StackConfig, env: dict[str, str], topic: str) -> subprocess.CompletedProcess[str]:
    """Produce one message, then read it back as a member of a consumer group (what a stream transform does)."""
    script = textwrap.dedent(f"""
        import time
        import kafka
        from kafka import KafkaConsumer, KafkaProducer
        print(kafka.__version__)
        producer = KafkaProducer(bootstrap_servers="127.0.0.1:{cfg.kafka_port}")
        producer.send("{topic}", b"hello").get(timeout=60)
        producer.close()
        consumer = KafkaConsumer("{topic}", bootstrap_servers="127.0.0.1:{cfg.kafka_port}", group_id="g-{topic}",
                                 auto_offset_reset="earliest", enable_auto_commit=False)
        values, deadline = [], time.monotonic() + 60  # a group join takes seconds, more on a loaded machine
        while not values and time.monotonic() < deadline:
            values += [m.value for batch in consumer.poll(timeout_ms=1000).values() for m in batch]
        consumer.close()
        print(values)
    """)
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])


def test_streaming_runner_client_joins_consumer_groups_on_tansu(stack: StackConfig) -> None:
    env = {**os.environ, "PYTHONPATH": local.moose_env(stack)["PYTHONPATH"]}
    done = _consume_in_group(stack, env, "abi_client_check")
    assert done.returncode == 0, done.stderr
    version, values = done.stdout.split()[:1], done.stdout.splitlines()[-1]
    assert version == ["2.3.3"] and values == "[b'hello']"


def test_moose_lib_default_client_cannot_join_groups_on_tansu(stack: StackConfig) -> None:
    """Why the overlay exists (trap 1). When this fails, moose-lib's own client works and the overlay can go."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = _consume_in_group(stack, env, "abi_default_client_check")
    assert done.returncode != 0 and "UnknownError" in done.stderr, done.stdout + done.stderr


def test_up_refuses_busy_ports_and_leaves_nothing_running(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))  # the busy port, held from the start (a port found free could be taken first)
        sock.listen()
        cfg = replace(stack_config(tmp_path / "busy"), kafka_port=sock.getsockname()[1])
        with pytest.raises(local.StackError, match=str(cfg.kafka_port)):
            local.up(cfg)
    assert local.load_state(cfg) == {}


def test_down_stops_exactly_what_up_started_and_frees_the_ports(tmp_path: Path) -> None:
    with running_stack(tmp_path / "s") as cfg:
        records = local.load_state(cfg)
        assert set(records) == set(SERVICE_NAMES) and all(alive(r) for r in records.values())
    assert not any(alive(r) for r in records.values())
    assert busy_ports(cfg) == []
    assert local.load_state(cfg) == {}
    assert all(not r.running for r in local.status(cfg))


def test_status_of_a_directory_without_a_stack_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run_dir = tmp_path / "never-up"
    assert main(["stack", "status", "--dir", str(run_dir)]) == 1
    out = capsys.readouterr().out
    assert f"no stack recorded in {run_dir}" in out and "not running" in out
