"""The registry's store: every read and write of model versions, the production pointers and the
pointers' history, built on the tables' Core metadata (schemas/tables.py).

Other packages ask it for what they need rather than naming the tables in their own SQL, so a
change of the tables is a change of this module and of the migrations alone. The rules on top (how
versions are numbered, when the pointer may move) live in versions.py and promotion.py.

A version comes back as a ModelVersion, a frozen dataclass of every column of the table (the
callers' view of a version, as serving and the artifact loader read it); narrower answers as
smaller frozen dataclasses (VersionRef, VersionIdentity) or plain values (labels, ids, times,
counts). A write refused by a unique constraint raises RegistryConflict naming the constraint,
never the driver's error.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, Connection, Integer, cast, exists, func, insert, literal, select, true, update
from sqlalchemy.exc import IntegrityError

from schemas.tables import model_versions as versions_table
from schemas.tables import production_history as history_table

UNIQUE_VIOLATION = "23505"


class RegistryConflict(RuntimeError):
    """A write the registry's unique constraints refuse: a version number, a training run or a
    production pointer that another transaction took first."""


@dataclass(frozen=True)
class ModelVersion:
    """One row of the model versions table, a field per column in the table's order (a unit test
    holds the two to the same names, types and nullability)."""
    id: uuid.UUID
    agent_type: str
    version: str
    trained_on: dt.datetime
    training_samples: int | None
    validation_samples: int | None
    accuracy_score: Decimal | None
    precision_score: Decimal | None
    recall_score: Decimal | None
    f1_score: Decimal | None
    training_duration: dt.timedelta | None
    is_active: bool | None
    is_production: bool | None
    rollback_version: uuid.UUID | None
    model_artifact_path: str | None
    training_config: dict[str, Any] | None
    created_by: uuid.UUID | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    tenant_id: uuid.UUID | None
    scope: str
    region: str | None
    scope_key: str | None  # computed by Postgres from scope, tenant_id and region
    status: str
    status_reason: str | None
    artifact_sha256: str | None
    artifact_size_bytes: int | None
    metrics_detail: dict[str, Any] | None
    training_run_id: uuid.UUID | None


@dataclass(frozen=True)
class VersionRef:
    id: uuid.UUID
    version: str


@dataclass(frozen=True)
class VersionIdentity:
    """Who a version is, for figures reported per version."""
    id: uuid.UUID
    agent_type: str
    version: str
    tenant_id: uuid.UUID | None


# --- reads ---------------------------------------------------------------------------------------------

def _number_order():
    """v1.10 after v1.9: the numbers compared as integers, newest first."""
    return cast(func.string_to_array(func.substr(versions_table.c.version, 2), "."), ARRAY(Integer)).desc()


def _one(connection: Connection, query) -> ModelVersion | None:
    row = connection.execute(query).mappings().first()
    return ModelVersion(**row) if row else None


def _all(connection: Connection, query) -> list[ModelVersion]:
    return [ModelVersion(**row) for row in connection.execute(query).mappings()]


def _of_scope(agent_type: str, scope: str):
    return (versions_table.c.agent_type == agent_type) & (versions_table.c.scope_key == scope)


def get(connection: Connection, version_id: uuid.UUID | str) -> ModelVersion | None:
    return _one(connection, select(versions_table).where(versions_table.c.id == version_id))


def get_many(connection: Connection, version_ids: Iterable[uuid.UUID | str]) -> list[ModelVersion]:
    """Those of ``version_ids`` that exist (and the transaction's tenant may see)."""
    ids = list(version_ids)
    if not ids:
        return []
    return _all(connection, select(versions_table).where(versions_table.c.id.in_(ids)))


def latest(connection: Connection, agent_type: str, scope: str) -> ModelVersion | None:
    """The most recently recorded version of the agent and scope, whatever its status."""
    return _one(connection, select(versions_table).where(_of_scope(agent_type, scope)).order_by(_number_order()).limit(1))


def production(connection: Connection, agent_type: str, scope: str) -> ModelVersion | None:
    return _one(connection, select(versions_table).where(_of_scope(agent_type, scope), versions_table.c.is_production))


def listing(connection: Connection, agent_type: str, scope: str) -> list[ModelVersion]:
    """Every version of the agent and scope, oldest first."""
    v = versions_table.c
    return _all(connection, select(versions_table).where(_of_scope(agent_type, scope)).order_by(v.created_at, v.version))


def version_labels(connection: Connection, agent_type: str, scope: str) -> list[str]:
    """Every version label (v1.0, v1.1, ...) recorded for the agent and scope."""
    return list(connection.execute(select(versions_table.c.version).where(_of_scope(agent_type, scope))).scalars())


def by_training_run(connection: Connection, training_run_id: uuid.UUID) -> VersionRef | None:
    """The version a training run recorded, if it recorded one."""
    row = connection.execute(select(versions_table.c.id, versions_table.c.version)
                             .where(versions_table.c.training_run_id == training_run_id)).first()
    return VersionRef(row.id, row.version) if row else None


def last_trained_on(connection: Connection, agent_type: str, tenant_id: Any) -> dt.datetime | None:
    """When the newest model of the tenant's own for the agent was trained."""
    return connection.execute(select(func.max(versions_table.c.trained_on))
                              .where(versions_table.c.agent_type == agent_type,
                                     versions_table.c.tenant_id == tenant_id)).scalar()


def last_trained_per_tenant(connection: Connection, agent_type: str) -> dict[uuid.UUID, dt.datetime]:
    """When each tenant's newest model of its own for the agent was trained (tenants without one absent)."""
    rows = connection.execute(select(versions_table.c.tenant_id, func.max(versions_table.c.trained_on))
                              .where(versions_table.c.agent_type == agent_type, versions_table.c.tenant_id.is_not(None))
                              .group_by(versions_table.c.tenant_id)).all()
    return dict(rows)


def queued_candidates(connection: Connection, agent_type: str, scope: str, reason_prefix: str) -> list[VersionRef]:
    """Candidates of the scope waiting for an A/B test (their status reason starts with
    ``reason_prefix``), newest first."""
    v = versions_table.c
    rows = connection.execute(
        select(v.id, v.version)
        .where(_of_scope(agent_type, scope), v.status == "candidate", ~v.is_production,
               func.starts_with(v.status_reason, reason_prefix))
        .order_by(_number_order())
    ).all()
    return [VersionRef(row.id, row.version) for row in rows]


def production_ids(connection: Connection) -> list[uuid.UUID]:
    """Every production version, in id order."""
    return list(connection.execute(select(versions_table.c.id).where(versions_table.c.is_production)
                                   .order_by(versions_table.c.id)).scalars())


def production_versions(connection: Connection, version_ids: list[Any] | None = None) -> list[ModelVersion]:
    """The production versions (those among ``version_ids`` when given), in id order."""
    v = versions_table.c
    query = select(versions_table).where(v.is_production).order_by(v.id)
    if version_ids is not None:
        query = query.where(v.id.in_(version_ids))
    return _all(connection, query)


def identities(connection: Connection, version_ids: Iterable[Any]) -> dict[uuid.UUID, VersionIdentity]:
    """Agent, version label and tenant of those of ``version_ids`` that exist."""
    v = versions_table.c
    rows = connection.execute(select(v.id, v.agent_type, v.version, v.tenant_id).where(v.id.in_(list(version_ids))))
    return {row.id: VersionIdentity(row.id, row.agent_type, row.version, row.tenant_id) for row in rows}


def first_served(connection: Connection, version_ids: Iterable[Any]) -> dict[uuid.UUID, dt.datetime]:
    """When each of ``version_ids`` first went to production (those never served are absent)."""
    h = history_table.c
    rows = connection.execute(select(h.model_version_id, func.min(h.started_at))
                              .where(h.model_version_id.in_(list(version_ids))).group_by(h.model_version_id))
    return dict(rows.all())


def previous_stable(connection: Connection, agent_type: str, scope: str, current: uuid.UUID,
                    excluding: Iterable[uuid.UUID]) -> ModelVersion | None:
    """The version that held the scope's pointer most recently before, other than ``current``,
    never rejected and not among ``excluding``: the row a rollback goes back to."""
    h = history_table.c
    excluded = list(excluding)
    query = (select(versions_table).join(history_table, versions_table.c.id == h.model_version_id)
             .where(h.agent_type == agent_type, h.scope_key == scope, h.model_version_id != current,
                    versions_table.c.status != "rejected")
             .order_by(h.started_at.desc(), h.id).limit(1))
    if excluded:
        query = query.where(versions_table.c.id.not_in(excluded))
    return _one(connection, query)


def of_tenants(connection: Connection, tenant_ids: list[Any]) -> list[ModelVersion]:
    """The versions of those tenants and the shared (global and regional) ones."""
    v = versions_table.c
    return _all(connection, select(versions_table).where(v.tenant_id.in_(tenant_ids) | v.tenant_id.is_(None)))


def count_by_status(connection: Connection) -> list[tuple[str, str, int]]:
    """(agent_type, status, how many versions), every pair that has one."""
    v = versions_table.c
    return [tuple(row) for row in connection.execute(select(v.agent_type, v.status, func.count()).group_by(v.agent_type, v.status))]


def was_promoted(connection: Connection, tenant_id: Any, agent_type: str) -> bool:
    """Whether a model of the tenant's went to production by winning (an A/B test or an operator),
    rather than as its first model or a rollback's."""
    h = history_table.c
    return connection.execute(select(exists().where(h.tenant_id == tenant_id, h.agent_type == agent_type,
                                                    h.event == "promotion"))).scalar_one()


# --- writes --------------------------------------------------------------------------------------------

def _unique(connection: Connection, statement):
    """Run a write; a unique violation becomes RegistryConflict."""
    try:
        return connection.execute(statement)
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        raise RegistryConflict(f"the registry refused the write: {constraint or 'a unique constraint'} "
                               f"holds it already") from None


def insert_version(connection: Connection, values: dict[str, Any]) -> VersionRef:
    """A new version row of ``values`` (columns by name); its id and label."""
    row = _unique(connection, insert(versions_table).values(**values)
                  .returning(versions_table.c.id, versions_table.c.version)).one()
    return VersionRef(row.id, row.version)


def lock_for_move(connection: Connection, version_id: uuid.UUID) -> ModelVersion | None:
    """The version, its row locked until the transaction ends."""
    return _one(connection, select(versions_table).where(versions_table.c.id == version_id).with_for_update())


def lock_production(connection: Connection, agent_type: str, scope: str) -> uuid.UUID | None:
    """The scope's production version, locked until the transaction ends."""
    return connection.execute(select(versions_table.c.id).where(_of_scope(agent_type, scope), versions_table.c.is_production)
                              .with_for_update()).scalar()


def point_production_at(connection: Connection, version_id: uuid.UUID, *, replaced: uuid.UUID | None, agent_type: str,
                        tenant_id: uuid.UUID | None, scope: str, event: str, reason: str, actor: str, now: dt.datetime) -> None:
    """Make the version production (naming the one it ``replaced`` as its rollback version) and
    open its history row; the replaced one must have been taken out of service first."""
    v = versions_table.c
    rollback_version = func.coalesce(literal(replaced, versions_table.c.id.type), v.rollback_version)
    _unique(connection, update(versions_table).where(v.id == version_id).values(
        is_production=true(), is_active=true(), status="production", status_reason=reason,
        rollback_version=rollback_version, updated_at=now))
    _unique(connection, insert(history_table).values(
        agent_type=agent_type, tenant_id=tenant_id, scope_key=scope, model_version_id=version_id, event=event,
        reason=reason, actor=actor, started_at=now))


def take_out_of_service(connection: Connection, version_id: uuid.UUID, *, status: str, reason: str, now: dt.datetime) -> None:
    """Set the version's status, off production, and close its open history row."""
    connection.execute(update(versions_table).where(versions_table.c.id == version_id).values(
        is_production=False, is_active=False, status=status, status_reason=reason, updated_at=now))
    h = history_table.c
    connection.execute(update(history_table).where(h.model_version_id == version_id, h.ended_at.is_(None))
                       .values(ended_at=now, ended_reason=reason))


def set_status(connection: Connection, version_id: uuid.UUID, status: str, reason: str, now: dt.datetime) -> None:
    connection.execute(update(versions_table).where(versions_table.c.id == version_id)
                       .values(status=status, status_reason=reason, updated_at=now))


def set_status_reason(connection: Connection, version_id: uuid.UUID, reason: str, now: dt.datetime) -> None:
    connection.execute(update(versions_table).where(versions_table.c.id == version_id)
                       .values(status_reason=reason, updated_at=now))


def add_to_metrics_detail(connection: Connection, version_id: uuid.UUID, key: str, value: Any) -> None:
    """Set ``metrics_detail[key]`` to ``value`` (JSON-able), keeping the rest of the detail."""
    detail = versions_table.c.metrics_detail
    connection.execute(update(versions_table).where(versions_table.c.id == version_id).values(
        metrics_detail=func.coalesce(detail, cast({}, detail.type)).op("||")(cast({key: value}, detail.type))))
