"""A running `modelops demo` stopped by Ctrl-C or a closed terminal, or killed outright, leaves no
pool or beat behind, and its servers stay for `modelops down`."""
from __future__ import annotations

import signal
import subprocess

import pytest

from tests.integration.demo_support import (MODELOPS, PROJECT, COMMAND_WAIT, described, embedded_only_env, read_until,
                                            run_processes_of, scratch_home, server_pids, wait_until_gone)
from workers import pools

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def home():
    with scratch_home() as folder:
        yield folder


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGHUP, signal.SIGKILL], ids=lambda s: s.name)
def test_a_running_demo_stopped_or_killed_leaves_no_pool_or_beat_behind(home, stop):
    """Ctrl-C (SIGINT) and a closed terminal (SIGHUP) stop the pools and beat in order; a demo killed
    outright cannot, and its pools and beat must still go with it."""
    demo = subprocess.Popen(
        [MODELOPS, "demo"], env=embedded_only_env(home), cwd=PROJECT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # every pool is up once the round trip went through all the queues; the scenario follows
        seen = read_until(demo, "round trip through")
        assert seen[-1:] and seen[-1].startswith("round trip through"), "".join(seen) + demo.stderr.read()
        pool_processes = described(run_processes_of(home))
        assert len(pool_processes) > len(pools.POOLS) + 1, "the demo, every pool and beat should be running"

        demo.send_signal(stop)
        demo.wait(timeout=COMMAND_WAIT)
        rest, errors = demo.stdout.read(), demo.stderr.read()
    finally:
        demo.kill()
        demo.stdout.close()
        demo.stderr.close()

    if stop == signal.SIGKILL:
        assert demo.returncode == -signal.SIGKILL
    else:
        assert demo.returncode == 0, errors
        assert "Traceback" not in errors
        assert rest.splitlines()[-1] == "pools and beat stopped"
    assert not wait_until_gone(home), f"left behind after {stop.name}"
    assert server_pids(home)["postgres"] and server_pids(home)["redis-server"], "the servers stay for `modelops down`"
