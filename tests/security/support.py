"""What the security checks share: two tenants with a member service each (registered), the command line run
as an operator runs it, and rows read as the owner (past row-level security)."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import text

from modelops import tenants
from modelops.auth import services

MODELOPS = str(Path(sys.executable).parent / "modelops")


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([MODELOPS, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def tenant_with_member(prefix: str) -> tuple[uuid.UUID, str]:
    """A new tenant and the one service principal that may act for it."""
    suffix = uuid.uuid4().hex[:6]
    tenant = tenants.create_tenant(f"{prefix}-{suffix}")
    member = f"svc-{prefix}-{suffix}"
    services.ensure(member, [tenant])  # a registered calling service, as `modelops service create` makes one
    return tenant, member


def rows_of(owner, table: str, tenant: uuid.UUID) -> list[dict]:
    with owner.connect() as connection:
        return [dict(row) for row in connection.execute(text(f"SELECT * FROM ai.{table} WHERE tenant_id = :t"), {"t": tenant}).mappings()]


def event(tenant: uuid.UUID, key: str, **fields) -> dict:
    return {"tenant_id": str(tenant), "agent_type": "classification", "source": "classification_correction",
            "input_data": {"description": "CARD PAYMENT OFFICE DEPOT", "amount": 12.5, "currency": "USD",
                           "direction": "debit", "date": "2031-06-01"},
            "expected_output": {"category": "Office Supplies"}, "actual_output": {"category": "Travel"},
            "idempotency_key": key, **fields}
