"""Moving the production pointer, in one transaction each.

Exactly one production model per agent and scope holds because moves of one scope take turns (a
transaction-scoped advisory lock) and the previous model is retired in the same transaction that
promotes the next (and a partial unique index refuses a second one regardless). Every move closes the open history row and opens a new one saying who
moved it, when and why; the promoted version's ``rollback_version`` names the one it replaced.
"""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Connection, text

from modelops.registry import store

# The spec's gate: a candidate may be at most 2% worse than production on the same validation set.
GATE_RATIO = 0.98
# The advisory-lock namespace (first key) of production pointers; the second key hashes agent and scope.
SCOPE_LOCK_NAMESPACE = 0x707264  # "prd"


class PromotionError(RuntimeError):
    """The move cannot happen as asked (a stale candidate, a lost race)."""


def passes_gate(candidate_accuracy: float, production_accuracy: float) -> tuple[bool, str]:
    """The spec's promote_model_version rule, with both scored on the same rows."""
    floor = production_accuracy * GATE_RATIO
    if candidate_accuracy >= floor:
        return True, f"accuracy {candidate_accuracy:.4f} >= {GATE_RATIO} x production {production_accuracy:.4f} = {floor:.4f}"
    return False, f"accuracy {candidate_accuracy:.4f} < {GATE_RATIO} x production {production_accuracy:.4f} = {floor:.4f}"


def beats_baseline(candidate_accuracy: float, majority_accuracy: float) -> tuple[bool, str]:
    """The first model of a scope has nothing to be compared with but always guessing the majority class."""
    if candidate_accuracy > majority_accuracy:
        return True, f"first model: accuracy {candidate_accuracy:.4f} beats the majority-class baseline {majority_accuracy:.4f}"
    return False, f"first model: accuracy {candidate_accuracy:.4f} does not beat the majority-class baseline {majority_accuracy:.4f}"


def promote(connection: Connection, version_id: uuid.UUID, *, actor: str, reason: str, event: str, now: dt.datetime) -> dict:
    """Make ``version_id`` production for its agent and scope; returns {promoted, replaced}."""
    candidate = store.lock_for_move(connection, version_id)
    if candidate is None:
        raise PromotionError(f"model version {version_id} does not exist (or belongs to another tenant)")
    if candidate.is_production:
        return {"promoted": str(version_id), "replaced": None, "changed": False}
    if candidate.status == "rejected":
        raise PromotionError(f"model version {version_id} was rejected and cannot be promoted")
    # one move per agent and scope at a time: a second promotion waits, then replaces the first's model
    connection.execute(text(f"SELECT pg_advisory_xact_lock({SCOPE_LOCK_NAMESPACE}, hashtext(CAST(:agent AS text) || ' ' || CAST(:scope AS text)))"),
                       {"agent": candidate.agent_type, "scope": candidate.scope_key})
    current = store.lock_production(connection, candidate.agent_type, candidate.scope_key)
    if current is not None:
        retire(connection, current, status="retired", reason=f"replaced by {version_id}: {reason}", now=now)
    store.point_production_at(connection, version_id, replaced=current, agent_type=candidate.agent_type,
                              tenant_id=candidate.tenant_id, scope=candidate.scope_key, event=event, reason=reason,
                              actor=actor, now=now)
    return {"promoted": str(version_id), "replaced": str(current) if current else None, "changed": True}


def retire(connection: Connection, version_id: uuid.UUID, *, status: str, reason: str, now: dt.datetime) -> None:
    """Take a version out of service (rejected candidate, rolled-back model) with the reason."""
    if status not in ("retired", "rejected"):
        raise ValueError(f"status must be retired or rejected, got {status!r}")
    store.take_out_of_service(connection, version_id, status=status, reason=reason, now=now)
