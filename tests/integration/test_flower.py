"""Flower as `modelops flower` starts it, behind basic auth: its HTTP API lists the workers of the
pools that run (two real pools here) and the tasks they carried out, by name."""
from __future__ import annotations

import os
import socket
import subprocess

import pytest
import requests

from modelops.supervisor import ProcessGroup
from tests.fixtures import running_pool
from tests.integration.dashboard_support import MODELOPS, STARTUP_WAIT, free_port, wait_for
from tests.integration.training_support import other_workers, workers_paused
from workers.roundtrip import round_trip

pytestmark = pytest.mark.integration
AUTH = ("watcher", "s3cret-flower")
POOLS = ("serving", "ingest")


@pytest.fixture(scope="module")
def pools(database, broker, tmp_path_factory):
    with running_pool(tmp_path_factory.mktemp("flower-serving"), "serving"), \
            running_pool(tmp_path_factory.mktemp("flower-ingest"), "ingest"):
        yield


@pytest.fixture(scope="module")
def flower(pools, tmp_path_factory):
    port = free_port()
    group = ProcessGroup(tmp_path_factory.mktemp("flower"), {**os.environ, "MODELOPS_FLOWER_AUTH": ":".join(AUTH)})
    group.start("flower", [MODELOPS, "flower", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _listening(url) or group.exited(), "Flower to listen")
        assert not group.exited(), (group.log_dir / "flower.log").read_text()
        yield url
    finally:
        group.stop()


def _listening(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
        return True
    except requests.ConnectionError:
        return False


def api(url: str, path: str, **params) -> dict:
    response = requests.get(f"{url}{path}", params=params, auth=AUTH, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_flower_lists_the_running_pools_and_the_tasks_they_ran(flower):
    host = socket.gethostname()
    wanted = {f"{pool}@{host}" for pool in POOLS}
    workers = wait_for(lambda: wanted <= set(api(flower, "/api/workers", refresh="true")) and api(flower, "/api/workers"),
                       "Flower to see both pools")
    for name in wanted:
        assert workers[name]["stats"]["pool"]["max-concurrency"] == 2

    # the session's worker of every queue (when another test started it) steps aside, so each pool's own queue reaches it
    with workers_paused([name for name in other_workers() if name not in wanted]):
        answers = {answer["queue"]: answer for answer in round_trip(("predict", "ingest"), timeout=STARTUP_WAIT)}
    ran_by = {"predict": f"serving@{host}", "ingest": f"ingest@{host}"}

    def seen() -> dict:
        tasks = api(flower, "/api/tasks")
        return {queue: tasks.get(answer["task_id"]) for queue, answer in answers.items()}

    wait_for(lambda: all(task and task["state"] == "SUCCESS" for task in seen().values()), "Flower to see the tasks done")
    for queue, task in seen().items():
        assert task["name"] == "modelops.maintenance.ping" and task["worker"] == ran_by[queue]
    totals = api(flower, "/api/workers", refresh="true")
    for name in wanted:
        assert totals[name]["stats"]["total"]["modelops.maintenance.ping"] >= 1


def test_flower_refuses_a_request_without_its_basic_auth(flower):
    assert requests.get(f"{flower}/api/workers", timeout=30).status_code == 401
    assert requests.get(f"{flower}/api/workers", auth=("watcher", "wrong"), timeout=30).status_code == 401


def test_a_malformed_flower_password_stops_the_command(database):
    result = subprocess.run([MODELOPS, "flower", "--port", str(free_port())],
                            env={**os.environ, "MODELOPS_FLOWER_AUTH": "no-colon"}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "MODELOPS_FLOWER_AUTH must be user:password" in result.stderr
    assert "Traceback" not in result.stderr
