"""The life of an A/B test: started for a candidate that passed the promotion gate, ended by its
evaluation (promoted, rejected, stopped) or by an operator (cancelled); and where each test stands.

One test runs per agent and scope (a partial unique index holds it). A candidate that arrives while
another candidate's test runs is queued, not swapped in: retraining can produce a candidate every
day (classification retrains at 50 new corrections), while a test needs at least a week and
usually its planned three to four, so replacing the running test with each newer candidate would
end every test before it could decide and nothing would ever be promoted. When a test ends with a
verdict (promoted or rejected) the newest queued candidate gets the next test, and older queued
ones are retired as superseded (the newest learned from the most evidence). A test stopped by a
sample ratio mismatch or cancelled by an operator starts nothing, and its candidate is not queued:
both need a person's look first. A test whose control stopped being production (a rollback) is
cancelled and its candidate queued again, to be tested against the model that serves now.

Each function takes the caller's connection (a tenant's scope for the tenant's own models, as the
training pipeline holds it, or the operator's) and commits nothing itself: a started test commits
with whatever the caller recorded in the same transaction.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import Connection, text

from modelops.experiments.config import SPEC_KEYS, ABTestConfig
from modelops.experiments.sample_size import plan_sample_size
from modelops.registry import promotion, store

ACTOR = "experiments"
# Production's live accuracy over this window, when it has enough labelled predictions, is the
# baseline the sample size is planned for: it is what control will show during the test.
BASELINE_WINDOW = dt.timedelta(days=30)
RUNNING = "running"
# The status_reason of a candidate waiting for its scope's test to end. The schema's statuses have
# no 'queued', and a plain 'candidate' may also be one the gate held or a person must look at first
# (its test was cancelled or stopped): only candidates marked so are started when a test ends.
QUEUED = "queued: "
FIELD_TO_SPEC_KEY = {field: key for key, field in SPEC_KEYS.items()}


class ExperimentRefused(ValueError):
    """A test that cannot be started, ended or evaluated as asked; the message says why."""

    def as_result(self) -> dict:
        return {"status": "refused", "reason": str(self)}


def as_uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ExperimentRefused(f"{what} must be a UUID, got {value!r}") from None


def lock_scope(connection: Connection, agent_type: str, scope: str) -> None:
    """The lock ``promotion.promote`` takes for the same agent and scope: test starts and ends take
    turns with production moves, so a test's control is production when its transaction commits."""
    connection.execute(text(f"SELECT pg_advisory_xact_lock({promotion.SCOPE_LOCK_NAMESPACE}, "
                            "hashtext(CAST(:agent AS text) || ' ' || CAST(:scope AS text)))"),
                       {"agent": agent_type, "scope": scope})


def get_test(connection: Connection, test_id: Any, for_update: bool = False) -> dict:
    row = connection.execute(text("SELECT * FROM ai.ab_tests WHERE id = :id" + (" FOR UPDATE" if for_update else "")),
                             {"id": as_uuid(test_id, "an A/B test id")}).mappings().first()
    if row is None:
        raise ExperimentRefused(f"A/B test {test_id} does not exist (or belongs to another tenant)")
    return dict(row)


def running_test(connection: Connection, agent_type: str, scope: str) -> dict | None:
    row = connection.execute(text("SELECT * FROM ai.ab_tests WHERE agent_type = :agent AND scope_key = :scope AND status = 'running'"),
                             {"agent": agent_type, "scope": scope}).mappings().first()
    return dict(row) if row else None


def test_config(test: dict) -> ABTestConfig:
    return ABTestConfig.from_spec(test["config"]["settings"])


def baseline_accuracy(test: dict) -> float | None:
    """The accuracy the test's sample size was planned for; None: control's at the first analysed look."""
    return test["config"]["baseline"]["accuracy"]


def start_test(connection: Connection, candidate_version_id: Any, actor: str, now: dt.datetime,
               config: ABTestConfig | None = None) -> dict:
    """A running test of the candidate against its scope's production model, at ``config``'s
    allocation (the spec's AB_TEST_CONFIG by default); the candidate's status becomes 'testing'.

    The same candidate again returns its running test. A candidate of a scope whose test runs for
    another candidate is queued (status stays 'candidate', the reason says behind which test)."""
    candidate = _version(connection, candidate_version_id)
    agent_type, scope = candidate.agent_type, candidate.scope_key
    lock_scope(connection, agent_type, scope)
    running = running_test(connection, agent_type, scope)
    if running is not None and running["treatment_version_id"] == candidate.id:
        return _outcome("running", running, candidate)
    if candidate.status not in ("candidate", "testing"):
        raise ExperimentRefused(f"model version {candidate.id} ({candidate.version}) is {candidate.status}: "
                                f"only a candidate can be A/B tested")
    production = store.production(connection, agent_type, scope)
    if production is None:
        raise ExperimentRefused(f"{agent_type} for {scope} has no production model to test {candidate.version} against "
                                f"(a scope's first model goes to production through the promotion gate alone)")
    if running is not None and end_if_control_moved(connection, running, now):
        running = None
    if running is not None:
        reason = f"{QUEUED}waits for A/B test {running['id']} of {agent_type} for {scope} to end"
        _set_candidate_status(connection, candidate.id, "candidate", reason, now)
        return {"status": "queued", "test_id": None, "running_test_id": str(running["id"]),
                "candidate_version_id": str(candidate.id), "reason": reason}
    config = config or ABTestConfig()
    test = _insert_test(connection, candidate, production, actor, now, config)
    _set_candidate_status(connection, candidate.id, "testing",
                          f"in A/B test {test['id']} against production {production.version}", now)
    return _outcome("started", test, candidate)


def cancel_test(connection: Connection, test_id: Any, actor: str, reason: str, now: dt.datetime) -> dict:
    """End a running test by hand: its candidate is a candidate again (`modelops ab start` tests it
    anew, under a new test id and so a fresh split). Cancelling an ended test changes nothing."""
    if not reason or not reason.strip():
        raise ExperimentRefused("say why the test is cancelled (the reason is recorded on the test)")
    test = get_test(connection, test_id)
    lock_scope(connection, test["agent_type"], test["scope_key"])
    test = get_test(connection, test_id, for_update=True)
    if test["status"] != RUNNING:
        return {"test_id": str(test["id"]), "status": test["status"], "changed": False,
                "reason": f"the test already ended ({test['status']}: {test['end_reason']})"}
    why = f"cancelled by {actor}: {reason.strip()}"
    end_test(connection, test, "cancelled", why, now)
    return_to_candidates(connection, test, f"A/B test {test['id']} {why}", now)
    return {"test_id": str(test["id"]), "status": "cancelled", "changed": True, "reason": why}


def end_test(connection: Connection, test: dict, status: str, reason: str, now: dt.datetime) -> None:
    connection.execute(text("UPDATE ai.ab_tests SET status = :status, ended_at = :now, end_reason = :reason WHERE id = :id"),
                       {"id": test["id"], "status": status, "now": now, "reason": reason})


def return_to_candidates(connection: Connection, test: dict, reason: str, now: dt.datetime) -> None:
    """The test's candidate waits again, untested (its test ended without a verdict on it)."""
    _set_candidate_status(connection, test["treatment_version_id"], "candidate", reason, now)


def start_next(connection: Connection, agent_type: str, scope: str, actor: str, now: dt.datetime) -> dict | None:
    """After a test of the scope ended: the newest queued candidate's test, or None.

    Queued candidates recorded before the production model, and all but the newest of the rest, are
    retired as superseded: each learned from less evidence than a model already chosen."""
    production = store.production(connection, agent_type, scope)
    if production is None:
        return None
    waiting = store.queued_candidates(connection, agent_type, scope, QUEUED)
    newest = None
    for version in waiting:
        if _number(version.version) < _number(production.version):
            reason = f"superseded before its A/B test: production {production.version} is newer"
        elif newest is not None:
            reason = f"superseded before its A/B test by the newer candidate {newest.version}"
        else:
            newest = version
            continue
        promotion.retire(connection, version.id, status="retired", reason=reason, now=now)
    return None if newest is None else start_test(connection, newest.id, actor, now)


TESTS_WITH_LATEST_DECISION = text("""
    SELECT a.id, a.agent_type, a.tenant_id, a.scope_key, a.status, a.allocation, a.started_at, a.ended_at,
           a.end_reason, a.created_by, a.config,
           a.control_version_id, a.treatment_version_id,
           d.look_number, d.evaluated_at, d.decision, d.reason, d.control_samples, d.control_correct,
           d.treatment_samples, d.treatment_correct, d.control_accuracy, d.treatment_accuracy, d.p_value,
           d.z_statistic, d.alpha_spent, d.required_sample_size, d.srm_p_value
    FROM ai.ab_tests a
    LEFT JOIN LATERAL (SELECT * FROM ai.ab_test_decisions WHERE ab_test_id = a.id
                       ORDER BY look_number DESC LIMIT 1) d ON true
    WHERE (CAST(:agent AS text) IS NULL OR a.agent_type = :agent)
      AND (CAST(:tenant AS uuid) IS NULL OR a.tenant_id = CAST(:tenant AS uuid))
    ORDER BY a.status = 'running' DESC, coalesce(a.ended_at, a.started_at) DESC
    LIMIT :limit
""")


def overview(connection: Connection, agent_type: str | None = None, tenant_id: Any = None, limit: int = 50) -> list[dict]:
    """Running tests first, then the most recently ended, each with its latest look's figures."""
    tenant = str(as_uuid(tenant_id, "a tenant id")) if tenant_id else None
    rows = connection.execute(TESTS_WITH_LATEST_DECISION, {"agent": agent_type, "tenant": tenant, "limit": limit}).mappings().all()
    labels = store.identities(connection, {row[side] for row in rows for side in ("control_version_id", "treatment_version_id")})
    # a test whose versions the caller may not see (row-level security) is not shown
    return [_view({**row, "control_version": labels[row["control_version_id"]].version,
                   "treatment_version": labels[row["treatment_version_id"]].version})
            for row in rows if row["control_version_id"] in labels and row["treatment_version_id"] in labels]


def _view(row: dict) -> dict:
    test = {key: row[key] for key in ("agent_type", "scope_key", "status", "end_reason", "created_by",
                                      "control_version", "treatment_version")}
    test |= {key: str(row[key]) if row[key] else None for key in ("id", "tenant_id", "control_version_id", "treatment_version_id")}
    test |= {key: row[key].isoformat() if row[key] else None for key in ("started_at", "ended_at")}
    test |= {"allocation": float(row["allocation"]), "planned_sample_size": row["config"]["planned_sample_size"]}
    latest = None
    if row["look_number"] is not None:
        latest = {"look_number": row["look_number"], "evaluated_at": row["evaluated_at"].isoformat(),
                  "decision": row["decision"], "reason": row["reason"]}
        for key in ("control_samples", "control_correct", "treatment_samples", "treatment_correct", "required_sample_size"):
            latest[key] = row[key]
        for key in ("control_accuracy", "treatment_accuracy", "p_value", "z_statistic", "alpha_spent", "srm_p_value"):
            latest[key] = None if row[key] is None else float(row[key])
    return {**test, "latest_decision": latest}


def _number(version: str) -> tuple[int, ...]:
    """v1.10 -> (1, 10): versions of a scope are numbered in the order they were recorded."""
    return tuple(int(part) for part in version[1:].split("."))


def _version(connection: Connection, version_id: Any) -> store.ModelVersion:
    version = store.get(connection, as_uuid(version_id, "a model version id"))
    if version is None:
        raise ExperimentRefused(f"model version {version_id} does not exist (or belongs to another tenant)")
    return version


def _set_candidate_status(connection: Connection, version_id: uuid.UUID, status: str, reason: str, now: dt.datetime) -> None:
    store.set_status(connection, version_id, status, reason, now)


def end_if_control_moved(connection: Connection, test: dict, now: dt.datetime) -> bool:
    """Cancel a running test whose control is no longer production (a rollback or a manual move
    took it out of service, and serving routes a scope's traffic to a test only through its
    production model); True when it did."""
    production = store.production(connection, test["agent_type"], test["scope_key"])
    if production is not None and production.id == test["control_version_id"]:
        return False
    now_serving = f"{production.version} is production now" if production else "the scope has no production model now"
    reason = f"cancelled: its control {test['control_version_id']} is no longer production ({now_serving})"
    end_test(connection, test, "cancelled", reason, now)
    # not the candidate's fault: it waits for a test against the new production model
    return_to_candidates(connection, test, f"{QUEUED}its A/B test {test['id']} was {reason}", now)
    return True


def _insert_test(connection: Connection, candidate: store.ModelVersion, production: store.ModelVersion, actor: str, now: dt.datetime,
                 config: ABTestConfig) -> dict:
    accuracy, source = _baseline(connection, production, config, now)
    plan = plan_sample_size(accuracy, config) if accuracy is not None else None
    settings = {FIELD_TO_SPEC_KEY.get(name, name): value for name, value in dataclasses.asdict(config).items()}
    stored = {"settings": settings, "baseline": {"accuracy": accuracy, "source": source},
              "planned_sample_size": plan.as_dict() if plan else None}
    row = connection.execute(
        text("""INSERT INTO ai.ab_tests (agent_type, tenant_id, scope_key, control_version_id, treatment_version_id,
                                         allocation, status, config, started_at, created_by)
                VALUES (:agent, :tenant, :scope, :control, :treatment, :allocation, 'running', CAST(:config AS jsonb), :now, :actor)
                RETURNING *"""),
        {"agent": candidate.agent_type, "tenant": candidate.tenant_id, "scope": candidate.scope_key,
         "control": production.id, "treatment": candidate.id, "allocation": config.allocation,
         "config": json.dumps(stored), "now": now, "actor": actor},
    ).mappings().one()
    return dict(row)


PRODUCTION_LIVE_ACCURACY = text("""
    SELECT count(*) FILTER (WHERE was_correct IS NOT NULL) AS labelled, count(*) FILTER (WHERE was_correct) AS correct
    FROM ai.prediction_log
    WHERE model_version_id = :version AND prediction_timestamp > :since AND prediction_timestamp <= :now
""")


def _baseline(connection: Connection, production: store.ModelVersion, config: ABTestConfig, now: dt.datetime) -> tuple[float | None, str]:
    """Production's accuracy on its labelled predictions of the last 30 days when there are at least
    ``min_samples_per_variant`` of them; else its validation accuracy; else none (the first
    analysed look plans from control's observed accuracy)."""
    live = connection.execute(PRODUCTION_LIVE_ACCURACY, {"version": production.id, "since": now - BASELINE_WINDOW,
                                                         "now": now}).one()
    if live.labelled >= config.min_samples_per_variant:
        return live.correct / live.labelled, (f"production {production.version}'s accuracy on its {live.labelled} "
                                              f"labelled predictions of the last {BASELINE_WINDOW.days} days")
    if production.accuracy_score is not None:
        return float(production.accuracy_score), (f"production {production.version}'s validation accuracy "
                                                     f"({live.labelled} labelled live predictions were too few)")
    return None, "none recorded: control's accuracy at the first analysed look"


def _outcome(status: str, test: dict, candidate: store.ModelVersion) -> dict:
    return {"status": status, "test_id": str(test["id"]), "candidate_version_id": str(candidate.id),
            "control_version_id": str(test["control_version_id"]), "allocation": float(test["allocation"]),
            "started_at": test["started_at"].isoformat(), "planned_sample_size": test["config"]["planned_sample_size"]}


def promote_by_hand(connection: Connection, version_id: uuid.UUID, actor: str, reason: str, now: dt.datetime) -> dict:
    """An operator's promotion of a version (the command line's `modelops promote`): it replaces the
    scope's production model, and a test running in the scope no longer compares against
    production, so promoting its candidate ends it as promoted and promoting anything else cancels
    it (its candidate waits again). Raises promotion.PromotionError when the version cannot be."""
    moved = promotion.promote(connection, version_id, actor=actor, reason=reason, event="manual", now=now)
    promoted = store.get(connection, version_id)
    replaced = store.get(connection, moved["replaced"]) if moved["replaced"] else None
    ended = None
    test = running_test(connection, promoted.agent_type, promoted.scope_key) if moved["changed"] else None
    if test is not None and test["treatment_version_id"] == promoted.id:
        end_test(connection, test, "promoted", f"its candidate was promoted by hand by {actor}: {reason}", now)
        ended = {"id": str(test["id"]), "status": "promoted"}
    elif test is not None:
        end_if_control_moved(connection, test, now)
        ended = {"id": str(test["id"]), "status": "cancelled"}
    return {"changed": moved["changed"], "agent_type": promoted.agent_type, "scope_key": promoted.scope_key,
            "promoted": {"id": str(promoted.id), "version": promoted.version},
            "replaced": {"id": str(replaced.id), "version": replaced.version} if replaced else None,
            "ended_ab_test": ended}
