"""Flower and the task events it reads hold no personal data, and Flower asks for a password.

As an attacker or a careless service would do it: a plain Celery client holding only the broker's
URL sends feedback with a name and a social security number in it, once as bare arguments with an
argsrepr that spells them out, once in an envelope whose body holds them. The worker's events (read
by a real event receiver, as Flower reads them) and Flower's own task pages, as `modelops flower`
serves them, show the tenant, agent and source, and neither value.
"""
from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
import requests
from celery import Celery

from modelops.config import settings
from modelops.supervisor import ProcessGroup
from tests.integration.dashboard_support import MODELOPS, free_port, wait_for
from workers.app import app

pytestmark = pytest.mark.integration
NAME, SSN = "JANE DOE", "123-45-6789"
DESCRIPTION = f"ZELLE TO {NAME} ssn {SSN}"
RECORD_BATCH = "modelops.feedback.record_batch"


def pii_event(tenant: uuid.UUID) -> dict:
    return {"tenant_id": str(tenant), "agent_type": "classification", "source": "classification_correction",
            "input_data": {"description": DESCRIPTION, "amount": 12.5, "currency": "USD", "direction": "debit",
                           "date": "2031-06-01"},
            "expected_output": {"category": "Transfers"}, "actual_output": {"category": "Travel"},
            "idempotency_key": f"pii-{uuid.uuid4().hex}"}


def send_with_pii(client: Celery, tenant: uuid.UUID) -> list[str]:
    """The two ways a message can carry PII to the worker; their task ids."""
    events = [pii_event(tenant), pii_event(tenant)]
    bare = client.send_task(RECORD_BATCH, args=[events], kwargs={"caller": NAME},
                            argsrepr=f"[{DESCRIPTION}]", kwargsrepr=f"{{'caller': '{NAME}'}}")
    envelope = {"service": NAME, "issued_at": int(time.time()), "nonce": SSN, "signature": "0" * 64,
                "body": json.dumps({"events": events})}
    enveloped = client.send_task(RECORD_BATCH, kwargs={"envelope": envelope})
    return [bare.id, enveloped.id]


def assert_no_pii(text: str) -> None:
    assert NAME not in text and SSN not in text, text


@contextmanager
def task_events(client: Celery):
    """Every task event published on the broker while inside, as Flower receives them."""
    seen: list[dict] = []
    with client.connection() as connection:
        receiver = client.events.Receiver(connection, handlers={"*": seen.append})
        thread = threading.Thread(target=receiver.capture, kwargs={"wakeup": False}, daemon=True)
        thread.start()
        time.sleep(1)  # its queue is bound before anything is sent
        try:
            yield seen
        finally:
            receiver.should_stop = True
            thread.join(timeout=10)


def test_the_events_flower_reads_show_a_summary_whatever_the_sender_wrote(worker, make_tenant):
    tenant = make_tenant()
    plain = Celery(broker=settings().redis_url, backend=settings().redis_url)  # imports nothing of ours
    with task_events(plain) as seen:
        ids = send_with_pii(plain, tenant)
        # this application's own sends too: the intake forwards events to the scrub queue unscrubbed
        ours = app.send_task("modelops.privacy.scrub_and_store", args=[[pii_event(tenant)]]).id

        def received() -> dict:
            return {event["uuid"]: event for event in seen if event.get("type") == "task-received"}

        def ended() -> set:
            return {event["uuid"] for event in seen if event.get("type") in ("task-succeeded", "task-failed")}

        wait_for(lambda: set(ids + [ours]) <= ended(), "the worker to end every task")
        sent = [event for event in seen if event.get("type") == "task-sent" and event.get("uuid") == ours]
    assert sent, "this application's send made no task-sent event"
    for task_id in ids + [ours]:
        assert_no_pii(json.dumps([event for event in seen if event.get("uuid") == task_id]))
        assert str(tenant) in received()[task_id]["args"] + received()[task_id]["kwargs"]
    assert "source=classification_correction" in received()[ids[1]]["kwargs"]
    assert_no_pii(json.dumps(sent))


def without_password(home) -> dict:
    """This process's environment with no Flower password set and ``home`` as the data folder."""
    env = {key: value for key, value in os.environ.items() if key != "MODELOPS_FLOWER_AUTH"}
    return {**env, "MODELOPS_HOME": str(home)}


@pytest.fixture
def flower_home(tmp_path):
    """`modelops flower` as a user starts it, with no password set: it makes its own."""
    port = free_port()
    group = ProcessGroup(tmp_path / "logs", without_password(tmp_path))
    group.start("flower", [MODELOPS, "flower", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "logs" / "flower.log"
    try:
        wait_for(lambda: _answers(url) or group.exited(), "Flower to listen")
        assert not group.exited(), log.read_text()
        yield url, tmp_path, log
    finally:
        group.stop()


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
        return True
    except requests.ConnectionError:
        return False


def test_flower_started_by_our_command_line_asks_for_the_password_it_generated(flower_home, worker, make_tenant):
    url, home, log = flower_home
    printed = re.search(r"basic auth user (\S+), password (\S+) ", log.read_text())
    assert printed, log.read_text()
    auth = printed.groups()
    kept = home / "flower-auth"
    assert kept.read_text().strip() == ":".join(auth) and stat.S_IMODE(kept.stat().st_mode) == 0o600

    for path in ("/", "/api/tasks", "/tasks/datatable", "/api/workers"):
        assert requests.get(f"{url}{path}", timeout=30).status_code == 401, path
        assert requests.get(f"{url}{path}", auth=(auth[0], "wrong"), timeout=30).status_code == 401, path

    ids = send_with_pii(Celery(broker=settings().redis_url), make_tenant())
    wait_for(lambda: set(ids) <= set(requests.get(f"{url}/api/tasks", auth=auth, timeout=30).json()), "Flower to see the tasks")
    tasks = requests.get(f"{url}/api/tasks", auth=auth, timeout=30)
    table = requests.get(f"{url}/tasks/datatable", params={"draw": 1, "start": 0, "length": 100, "search[value]": "",
                                                            "order[0][column]": 0, "order[0][dir]": "desc",
                                                            "columns[0][data]": "name"}, auth=auth, timeout=30)
    assert tasks.status_code == 200 and table.status_code == 200, table.text
    assert ids[0] in table.text
    assert_no_pii(tasks.text)
    assert_no_pii(table.text)

    restarted = ProcessGroup(home / "again", without_password(home))
    restarted.start("flower", [MODELOPS, "flower", "--port", str(free_port())])
    try:
        wait_for(lambda: "basic auth as kept in" in (home / "again" / "flower.log").read_text(), "Flower to start again")
    finally:
        restarted.stop()
    assert auth[1] not in (home / "again" / "flower.log").read_text()  # shown once, when it was made
