"""Evaluating a running A/B test: one look a day, its decision row, and the decision carried out.

A look reads the test's counts from the audit log in one query, aggregated by the unit the split
is drawn by (the sticky ``request_key``) and summed per arm and tenant: keys assigned, predictions
served, labelled and right, and the sums of squares and products over keys that the variance by
key needs (``clustered``). The tenants of a shared model's test are its segments. It reads the
looks analysed before from earlier decision rows, and asks ``modelops.experiments.evaluate``. It
writes exactly one decision row, with every figure, and acts in the same transaction: promote (the
registry's promotion, the test 'promoted'), reject (the candidate retired as 'rejected', the test
'rejected'), end inconclusive at the maximum duration (the candidate retired as 'rejected' with
that reason, control stays, the test 'inconclusive'), stop on a sample ratio or label-rate
mismatch (the test 'stopped', a critical alert), or nothing.

Looks are numbered by the test's day (day 1 is its first 24 hours), so a look is a natural key: a
redelivered or repeated evaluation on the same day finds that day's row and writes nothing. This
also keeps looks to one a day, the cadence the sample size is planned for (``planning_looks``);
looking more often would cost power.

Evaluations span tenants (the beat evaluates every running test), so they run in the operator's
scope. The test's scope lock, then its row lock, serialise two evaluations of one test.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from modelops import db
from modelops.alerting import alerts
from modelops.experiments import lifecycle
from modelops.experiments.decision import (
    CONTINUE,
    INCONCLUSIVE,
    PROMOTE,
    REJECT,
    STOP_LABEL_RATE,
    STOP_SRM,
    ABCounts,
    Decision,
    KeySums,
    Look,
    VariantCounts,
    evaluate,
)
from modelops.registry import promotion

log = logging.getLogger(__name__)

DAY = dt.timedelta(days=1)
# the decision table's name for the statistics' "continue"
STORED_DECISION = {PROMOTE: "promote", REJECT: "reject", CONTINUE: "continue_testing", STOP_SRM: "stop_srm",
                   STOP_LABEL_RATE: "stop_label_rate", INCONCLUSIVE: "inconclusive"}
ENDED_STATUS = {PROMOTE: "promoted", REJECT: "rejected", STOP_SRM: "stopped", STOP_LABEL_RATE: "stopped",
                INCONCLUSIVE: "inconclusive"}
STOPPED = {STOP_SRM: "ab_test_sample_ratio_mismatch", STOP_LABEL_RATE: "ab_test_label_rate_mismatch"}

# Per arm and tenant, the sums over keys: a prediction logged without a key is its own key.
COUNTS_BY_KEY = text("""
    WITH per_key AS (
        SELECT ab_group, tenant_id, count(*) AS served,
               count(*) FILTER (WHERE was_correct IS NOT NULL) AS labelled, count(*) FILTER (WHERE was_correct) AS correct
        FROM ai.prediction_log
        WHERE ab_test_id = :test AND prediction_timestamp >= :started AND prediction_timestamp <= :now
        GROUP BY ab_group, tenant_id, coalesce(request_key, id::text)
    )
    SELECT k.ab_group, k.tenant_id, t.name AS tenant_name, count(*) AS assigned, sum(k.served) AS served,
           sum(k.labelled) AS labelled, sum(k.correct) AS correct,
           count(*) FILTER (WHERE k.labelled > 0) AS labelled_keys, sum(k.labelled * k.labelled) AS labelled_sq,
           sum(k.correct * k.correct) AS correct_sq, sum(k.labelled * k.correct) AS labelled_correct,
           sum(k.served * k.served) AS served_sq, sum(k.served * k.labelled) AS served_labelled
    FROM per_key k LEFT JOIN ai.tenants t ON t.id = k.tenant_id
    GROUP BY k.ab_group, k.tenant_id, t.name
""")

DECISIONS = text("SELECT * FROM ai.ab_test_decisions WHERE ab_test_id = :test ORDER BY look_number")
DECISION_AT = text("SELECT * FROM ai.ab_test_decisions WHERE ab_test_id = :test AND look_number = :look")

INSERT_DECISION = text("""
    INSERT INTO ai.ab_test_decisions (
        ab_test_id, tenant_id, evaluated_at, look_number, decision, reason, control_samples, control_correct,
        treatment_samples, treatment_correct, control_accuracy, treatment_accuracy, p_value, z_statistic,
        alpha_spent, required_sample_size, srm_p_value, details)
    VALUES (:test, :tenant, :now, :look, :decision, :reason, :control_samples, :control_correct,
            :treatment_samples, :treatment_correct, :control_accuracy, :treatment_accuracy, :p_value, :z,
            :alpha_spent, :required, :srm_p_value, CAST(:details AS jsonb))
    ON CONFLICT (ab_test_id, look_number) DO NOTHING
    RETURNING *
""")

def evaluate_test(test_id: Any, now: dt.datetime) -> dict:
    """This day's look at one test: {test_id, test_status, written, decision (the row's figures), ...}."""
    with db.operator_scope() as connection:
        return _evaluate(connection, test_id, now)


def evaluate_all_running(now: dt.datetime) -> dict:
    """Every running test's look for today, each in its own transaction: one test that cannot be
    evaluated is reported and does not hold up the others."""
    with db.operator_scope() as connection:
        running = connection.execute(text("SELECT id FROM ai.ab_tests WHERE status = 'running' ORDER BY started_at")).scalars().all()
    results = []
    for test_id in running:
        try:
            results.append(evaluate_test(test_id, now))
        except OperationalError:
            raise  # may pass (lost connection, lock timeout): the task retries, and done looks are not redone
        except Exception as error:
            log.exception("A/B test %s could not be evaluated", test_id)
            results.append({"test_id": str(test_id), "error": f"{type(error).__name__}: {error}"})
    return {"evaluated_at": now.isoformat(), "tests": results}


def _evaluate(connection: Connection, test_id: Any, now: dt.datetime) -> dict:
    test = lifecycle.get_test(connection, test_id)
    lifecycle.lock_scope(connection, test["agent_type"], test["scope_key"])
    test = lifecycle.get_test(connection, test_id, for_update=True)
    if test["status"] != lifecycle.RUNNING:
        return _result(test, None, written=False, note=f"the test already ended ({test['status']}: {test['end_reason']})")
    if now < test["started_at"]:
        raise lifecycle.ExperimentRefused(f"A/B test {test['id']} starts at {test['started_at'].isoformat()}, "
                                          f"after the evaluation time {now.isoformat()}")
    look_number = (now - test["started_at"]) // DAY + 1
    earlier = [dict(row) for row in connection.execute(DECISIONS, {"test": test["id"]}).mappings()]
    done = next((row for row in earlier if row["look_number"] == look_number), None)
    if done is not None:
        return _result(test, done, written=False, note=f"look {look_number} (day {look_number} of the test) was already evaluated")
    if lifecycle.end_if_control_moved(connection, test, now):
        test = lifecycle.get_test(connection, test["id"])
        next_test = lifecycle.start_next(connection, test["agent_type"], test["scope_key"], lifecycle.ACTOR, now)
        return _result(test, None, written=False, note=test["end_reason"], next_test=next_test)

    decision = evaluate(_counts(connection, test, now), [Look.from_dict(row["details"]["look"]) for row in earlier
                                                          if row["details"].get("look")],
                        lifecycle.test_config(test), test["started_at"], now, lifecycle.baseline_accuracy(test))
    row = connection.execute(INSERT_DECISION, _decision_row(test, look_number, decision, now)).mappings().first()
    if row is None:  # a concurrent evaluation wrote this look first (the locks make it unexpected): its action stands
        row = connection.execute(DECISION_AT, {"test": test["id"], "look": look_number}).mappings().one()
        return _result(test, dict(row), written=False, note=f"look {look_number} was written by a concurrent evaluation")
    next_test = _act(connection, test, decision, now)
    return _result(lifecycle.get_test(connection, test["id"]), dict(row), written=True, next_test=next_test)


def _counts(connection: Connection, test: dict, now: dt.datetime) -> ABCounts:
    """The test's counts by arm; a shared model's test also by tenant (its segments)."""
    rows = connection.execute(COUNTS_BY_KEY, {"test": test["id"], "started": test["started_at"], "now": now}).all()

    def arm(group: str, selected) -> VariantCounts:
        chosen = [row for row in selected if row.ab_group == group]
        total = {name: sum(int(getattr(row, name)) for row in chosen) for name in (
            "assigned", "served", "labelled", "correct", "labelled_keys", "labelled_sq", "correct_sq",
            "labelled_correct", "served_sq", "served_labelled")}
        by_key = KeySums(total["labelled_keys"], total["labelled_sq"], total["correct_sq"], total["labelled_correct"],
                         total["assigned"], total["served_sq"], total["served_labelled"])
        return VariantCounts(total["labelled"], total["correct"], assigned=total["assigned"], served=total["served"],
                             by_key=by_key)

    segments = {}
    if test["tenant_id"] is None:
        for tenant in sorted({(row.tenant_id, row.tenant_name) for row in rows}, key=str):
            mine = [row for row in rows if row.tenant_id == tenant[0]]
            segments[f"tenant {tenant[1]} ({tenant[0]})"] = ABCounts(arm("control", mine), arm("treatment", mine))
    return ABCounts(arm("control", rows), arm("treatment", rows), segments, shared=test["tenant_id"] is None)


def _decision_row(test: dict, look_number: int, decision: Decision, now: dt.datetime) -> dict:
    figures = decision.as_dict()
    return {
        "test": test["id"], "tenant": test["tenant_id"], "now": now, "look": look_number,
        "decision": STORED_DECISION[decision.decision], "reason": decision.reason,
        "control_samples": figures["control_labelled"], "control_correct": figures["control_correct"],
        "treatment_samples": figures["treatment_labelled"], "treatment_correct": figures["treatment_correct"],
        "control_accuracy": figures["control_accuracy"], "treatment_accuracy": figures["treatment_accuracy"],
        "p_value": figures["p_value"], "z": figures["z"], "alpha_spent": figures["alpha_spent"],
        # the treatment arm's planned labelled predictions (the control arm's is in details)
        "required": decision.plan.treatment if decision.plan else None,
        "srm_p_value": figures["srm_p_value"],
        "details": json.dumps(figures, allow_nan=False),
    }


def _act(connection: Connection, test: dict, decision: Decision, now: dt.datetime) -> dict | None:
    """Carry out an ending decision; returns the next test the scope's queue started, if any."""
    if decision.decision == CONTINUE:
        return None
    reason = f"A/B test {test['id']}: {decision.reason}"
    candidate = test["treatment_version_id"]
    lifecycle.end_test(connection, test, ENDED_STATUS[decision.decision], decision.reason, now)
    if decision.decision in STOPPED:
        lifecycle.return_to_candidates(connection, test, f"{reason}; fix assignment, logging or feedback, then start "
                                                         f"a new test", now)
        _raise_stop_alert(connection, test, decision, now)
        return None
    if decision.decision == PROMOTE:
        promotion.promote(connection, candidate, actor=lifecycle.ACTOR, reason=reason, event="promotion", now=now)
    else:
        promotion.retire(connection, candidate, status="rejected", reason=reason, now=now)
    return lifecycle.start_next(connection, test["agent_type"], test["scope_key"], lifecycle.ACTOR, now)


def _raise_stop_alert(connection: Connection, test: dict, decision: Decision, now: dt.datetime) -> None:
    figures = decision.as_dict()
    shown = ("control_assigned", "treatment_assigned", "allocation", "observed_treatment_share", "srm_p_value",
             "control_label_rate", "treatment_label_rate", "label_rate_p_value")
    alerts.raise_alert(
        connection, alert_type=STOPPED[decision.decision], severity="critical",
        tenant_id=test["tenant_id"], agent_type=test["agent_type"], model_version_id=test["treatment_version_id"],
        message=f"A/B test {test['id']} of {test['agent_type']} for {test['scope_key']} stopped: {decision.reason}",
        details={"ab_test_id": str(test["id"]), **{name: figures[name] for name in shown}},
        now=now,
    )


def decision_view(row: dict) -> dict:
    """A decision row as plain JSON values."""
    view = {key: row[key] for key in ("look_number", "decision", "reason", "control_samples", "control_correct",
                                      "treatment_samples", "treatment_correct", "required_sample_size")}
    view |= {key: None if row[key] is None else float(row[key])
             for key in ("control_accuracy", "treatment_accuracy", "p_value", "z_statistic", "alpha_spent", "srm_p_value")}
    return {**view, "evaluated_at": row["evaluated_at"].isoformat(), "details": row["details"]}


def _result(test: dict, row: dict | None, *, written: bool, note: str | None = None, next_test: dict | None = None) -> dict:
    result = {"test_id": str(test["id"]), "agent_type": test["agent_type"], "scope_key": test["scope_key"],
              "test_status": test["status"], "written": written, "decision": decision_view(row) if row else None}
    if note:
        result["note"] = note
    if next_test:
        result["next_test"] = next_test
    return result
