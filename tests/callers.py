"""Calls of the public tasks as other services send them: the arguments in an envelope signed with
a service's credential (docs/contracts.md). The test process holds the run's secret key, so it
derives any service's credential, as the operator's tools do."""
from __future__ import annotations

import uuid
from typing import Any, Iterable

from modelops.auth import services
from modelops.auth.client import ServiceCaller
from modelops.config import settings

SERVICE = "test-client"
# What was registered where: a fault scenario points this process at a database of its own.
_callers: dict[tuple[str, str], ServiceCaller] = {}
_members: set[tuple[str, str, str]] = set()


def caller(service: str = SERVICE, tenants: Iterable[uuid.UUID | str] = ()) -> ServiceCaller:
    """The service's caller, registered (and made a member of ``tenants``) if it is not yet."""
    database = settings().database_url
    wanted = {str(tenant) for tenant in tenants} - {tenant for where, name, tenant in _members
                                                     if (where, name) == (database, service)}
    if (database, service) not in _callers or wanted:
        issued = services.ensure(service, sorted(wanted))
        _callers[database, service] = ServiceCaller.from_hex(issued.name, issued.credential)
        _members.update((database, service, tenant) for tenant in wanted)
    return _callers[database, service]


def signed(task_name: str, service: str = SERVICE, tenants: Iterable[uuid.UUID | str] = (), **arguments: Any) -> dict:
    """The ``kwargs`` of a call of ``task_name``, signed as ``service``."""
    return caller(service, tenants).kwargs(task_name, **arguments)


def signed_prediction(task_name: str, service: str = SERVICE, **request: Any) -> dict:
    """A ``predict`` call for a member of the request's tenant."""
    return signed(task_name, service, [request["tenant_id"]], **request)


def signed_batch(task_name: str, items: list[dict], service: str = SERVICE) -> dict:
    """A ``predict_batch`` call for a member of every tenant its items name."""
    tenants = {item["tenant_id"] for item in items if isinstance(item, dict) and _is_uuid(item.get("tenant_id"))}
    return signed(task_name, service, tenants, items=items)


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
