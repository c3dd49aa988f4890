"""Defence in depth on the broker: a service given its own Redis user (modelops.auth.redis_acl)
sends its calls and reads its own answers, and nothing more. Done with a real Redis ACL user on the
run's Redis, through a plain Celery client that imports nothing of ours."""
from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from kombu.exceptions import OperationalError

from modelops.auth.redis_acl import setuser_command
from modelops.config import settings
from tests.callers import signed
from tests.security.support import event, tenant_with_member

pytestmark = pytest.mark.integration

RECORD = "modelops.feedback.record"


def as_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port}"))


@pytest.fixture
def service_user(broker):
    """A tenant, its member service, and a Redis user of that service's own."""
    tenant, service = tenant_with_member("acl")
    password = secrets.token_hex(16)
    admin = redis.Redis.from_url(settings().redis_url)
    admin.execute_command(*setuser_command(service, password))
    try:
        yield tenant, service, as_user(settings().redis_url, service, password)
    finally:
        admin.execute_command("ACL", "DELUSER", service)
        admin.close()


def test_a_service_redis_user_sends_its_calls_and_reads_its_own_answers(worker, service_user):
    tenant, service, url = service_user
    client = Celery(broker=url, backend=url)
    try:
        result = client.send_task(RECORD, kwargs=signed(RECORD, service, event=event(tenant, f"acl-{uuid.uuid4()}")),
                                  queue="ingest", task_id=f"{service}-{uuid.uuid4()}")
        assert result.get(timeout=60)["status"] == "accepted"
    finally:
        client.close()


def test_a_service_redis_user_cannot_reach_internal_queues_other_answers_or_others_requests(worker, service_user):
    tenant, service, url = service_user
    client = Celery(broker=url, backend=url)
    try:
        with pytest.raises(OperationalError, match="no permissions"):
            client.send_task("modelops.privacy.scrub_and_store", args=[[event(tenant, "acl-scrub")]], queue="scrub",
                             task_id=f"{service}-{uuid.uuid4()}")
    finally:
        client.close()
    direct = redis.Redis.from_url(url)
    try:
        refused = {
            "another service's answer": ("GET", f"celery-task-meta-svc-other-{uuid.uuid4()}"),
            "another service's answers announced": ("SUBSCRIBE", "celery-task-meta-svc-other-1"),
            "others' prediction requests": ("BRPOP", "predict", 1),
            "a queue's contents": ("LRANGE", "ingest", 0, -1),
            "an internal queue": ("LPUSH", "train", "{}"),
            "the key space": ("KEYS", "*"),
            "the database": ("FLUSHDB",),
        }
        for what, command in refused.items():
            with pytest.raises(redis.exceptions.NoPermissionError):
                direct.execute_command(*command)
                pytest.fail(f"{what} was reachable")
    finally:
        direct.close()
