"""`modelops service create|rotate|revoke|redis-acl`: the credential is printed once, works, and
stops working when rotated or revoked."""
from __future__ import annotations

import re
import uuid

import pytest

from modelops.auth import services
from modelops.auth.client import ServiceCaller
from modelops.auth.envelope import Unauthenticated
from tests.cli import run

pytestmark = pytest.mark.integration


def credential_in(output: str) -> str:
    return re.search(r"^credential: ([0-9a-f]{64})$", output, re.MULTILINE).group(1)


def test_a_service_is_created_for_its_tenants_and_its_credential_rotated_and_revoked(database, make_tenant):
    tenant, name = make_tenant(), f"svc-cli-{uuid.uuid4().hex[:6]}"
    created = run("service", "create", name, "--tenant", str(tenant))
    assert created.returncode == 0, created.stdout
    first = credential_in(created.stdout)
    lookup = services.CredentialLookup(lookup_seconds=0)
    assert lookup(name).hex() == first

    again = run("service", "create", name, "--tenant", str(tenant))
    assert again.returncode != 0 and "exists already" in (again.stdout + again.stderr)

    second = credential_in(run("service", "rotate", name).stdout)
    assert second != first and lookup(name).hex() == second

    assert run("service", "revoke", name).returncode == 0
    with pytest.raises(Unauthenticated, match="valid credential"):
        lookup(name)
    assert ServiceCaller.from_hex(name, first).service == name


@pytest.mark.parametrize("name", ["Ledger", "ledger_service", "x" * 64, ""])
def test_a_service_name_that_cannot_be_one_is_refused(database, make_tenant, name):
    result = run("service", "create", name, "--tenant", str(make_tenant()))
    assert result.returncode != 0 and "lowercase letters" in (result.stdout + result.stderr)


def test_the_redis_acl_command_limits_the_service_to_its_queues_and_answers(database):
    result = run("service", "redis-acl", "ledger")
    assert result.returncode == 0
    command = result.stdout.splitlines()[0]
    assert command.startswith("ACL SETUSER ledger on resetkeys resetchannels -@all")
    assert "~celery-task-meta-ledger-*" in command and "~ingest*" in command and "~scrub" not in command
