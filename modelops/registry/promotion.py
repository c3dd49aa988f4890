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
    candidate = connection.execute(
        text("SELECT id, agent_type, scope_key, tenant_id, status, is_production FROM ai.model_versions WHERE id = :id FOR UPDATE"),
        {"id": version_id},
    ).mappings().first()
    if candidate is None:
        raise PromotionError(f"model version {version_id} does not exist (or belongs to another tenant)")
    if candidate["is_production"]:
        return {"promoted": str(version_id), "replaced": None, "changed": False}
    if candidate["status"] == "rejected":
        raise PromotionError(f"model version {version_id} was rejected and cannot be promoted")
    # one move per agent and scope at a time: a second promotion waits, then replaces the first's model
    connection.execute(text(f"SELECT pg_advisory_xact_lock({SCOPE_LOCK_NAMESPACE}, hashtext(CAST(:agent AS text) || ' ' || CAST(:scope AS text)))"),
                       {"agent": candidate["agent_type"], "scope": candidate["scope_key"]})
    current = connection.execute(
        text("""SELECT id FROM ai.model_versions WHERE agent_type = :agent AND scope_key = :scope AND is_production
                FOR UPDATE"""),
        {"agent": candidate["agent_type"], "scope": candidate["scope_key"]},
    ).scalar()
    if current is not None:
        retire(connection, current, status="retired", reason=f"replaced by {version_id}: {reason}", now=now)
    connection.execute(
        text("""UPDATE ai.model_versions
                SET is_production = true, is_active = true, status = 'production', status_reason = :reason,
                    rollback_version = coalesce(:previous, rollback_version), updated_at = :now
                WHERE id = :id"""),
        {"id": version_id, "previous": current, "reason": reason, "now": now},
    )
    connection.execute(
        text("""INSERT INTO ai.production_history (agent_type, tenant_id, scope_key, model_version_id, event, reason, actor, started_at)
                VALUES (:agent, :tenant, :scope, :id, :event, :reason, :actor, :now)"""),
        {"agent": candidate["agent_type"], "tenant": candidate["tenant_id"], "scope": candidate["scope_key"],
         "id": version_id, "event": event, "reason": reason, "actor": actor, "now": now},
    )
    return {"promoted": str(version_id), "replaced": str(current) if current else None, "changed": True}


def retire(connection: Connection, version_id: uuid.UUID, *, status: str, reason: str, now: dt.datetime) -> None:
    """Take a version out of service (rejected candidate, rolled-back model) with the reason."""
    if status not in ("retired", "rejected"):
        raise ValueError(f"status must be retired or rejected, got {status!r}")
    connection.execute(
        text("""UPDATE ai.model_versions
                SET is_production = false, is_active = false, status = :status, status_reason = :reason, updated_at = :now
                WHERE id = :id"""),
        {"id": version_id, "status": status, "reason": reason, "now": now},
    )
    connection.execute(
        text("""UPDATE ai.production_history SET ended_at = :now, ended_reason = :reason
                WHERE model_version_id = :id AND ended_at IS NULL"""),
        {"id": version_id, "reason": reason, "now": now},
    )
