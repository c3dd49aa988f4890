"""Serving's membership checks: a batch's due grants read together, not one tenant at a time."""
from __future__ import annotations

import uuid

import pytest

from modelops.privacy import tenancy
from modelops.privacy.tenancy import Memberships


class Roles:
    """Who is a member of what, and every read made of it."""

    def __init__(self, members: dict[str, set[str]]):
        self.members = members
        self.reads: list[tuple[str, list[str]]] = []

    def __call__(self, caller: str, tenants: list[str]) -> dict[str, str]:
        self.reads.append((caller, tenants))
        return {tenant: "service" for tenant in tenants if tenant in self.members.get(caller, set())}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def no_single_reads(monkeypatch):
    """``problem`` reads one membership (and records a refusal) only through ``authorize``: here every such call is counted."""
    asked = []

    def authorize(caller, tenant, action):
        asked.append((caller, tenant))
        raise PermissionError(f"{caller!r} may not act for tenant {tenant}")

    monkeypatch.setattr(tenancy, "authorize", authorize)
    return asked


def tenants(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def test_a_batch_of_many_tenants_is_read_in_one_call_and_then_answered_from_memory(no_single_reads):
    ours = tenants(50)
    roles, clock = Roles({"svc": set(ours)}), Clock()
    memberships = Memberships(remember_seconds=10, read_roles=roles, clock=clock)
    batch = [("svc", tenant) for tenant in ours] * 2  # (a tenant asked twice is read once)
    memberships.refresh(batch)
    assert roles.reads == [("svc", ours)]
    assert [memberships.problem(caller, tenant, "predict") for caller, tenant in batch] == [None] * 100
    assert no_single_reads == []
    clock.now += 4  # under half their time: nothing read again
    memberships.refresh(batch)
    assert len(roles.reads) == 1


def test_grants_past_half_their_time_are_read_again_together_and_a_removed_one_is_refused(no_single_reads):
    ours = tenants(3)
    roles, clock = Roles({"svc": set(ours)}), Clock()
    memberships = Memberships(remember_seconds=10, read_roles=roles, clock=clock)
    memberships.refresh([("svc", tenant) for tenant in ours])
    clock.now += 3
    fresh = tenants(1)[0]
    roles.members["svc"].add(fresh)
    memberships.refresh([("svc", fresh)])
    clock.now += 3  # the first three are past half their time, the fourth is not
    roles.members["svc"].discard(ours[0])
    memberships.refresh([("svc", tenant) for tenant in [*ours, fresh]])
    assert roles.reads[-1] == ("svc", ours)
    assert memberships.problem("svc", ours[1], "predict") is None
    assert memberships.problem("svc", ours[0], "predict") == f"'svc' may not act for tenant {ours[0]}"
    assert no_single_reads == [("svc", ours[0])]  # checked, and recorded, as every refusal is


def test_each_caller_is_read_in_its_own_call_and_what_is_no_caller_or_tenant_is_left_to_be_refused():
    a, b = tenants(2)
    roles = Roles({"one": {a}, "two": {b}})
    memberships = Memberships(read_roles=roles, clock=Clock())
    memberships.refresh([("one", a), ("two", b), ("one", "not-a-tenant"), (None, a), ("bad\x00name", b), ("two", a.upper())])
    assert sorted(roles.reads) == [("one", [a]), ("two", [b, a])]  # a tenant's id in any case names it
