"""Automatic rollback: the spec's ``check_model_rollback_conditions`` and ``trigger_rollback``.

Conditions, over the version's last 7 days of ``ai.model_metrics`` (``baseline`` says what they
are compared with):

- ``accuracy_drop``: accuracy below 0.95 x the baseline (validation) accuracy;
- ``high_override_rate``: user overrides above 20% of its predictions, or, for a version whose
  expected accuracy is below 0.842, above the error rate the accuracy rule tolerates
  (1 - 0.95 x expected accuracy): an agent about 75% right is overridden more than 20% of the time
  when it is what it always was, and is rolled back for getting worse, not for that;
- ``performance_degradation``: average response time above 1.5 x the baseline response time;
- ``sudden_failure``: the CUSUM of a 20-point drop over its last 200 labelled predictions past its
  threshold (``sudden``), so that a model that breaks outright goes back within about a hundred
  labelled predictions rather than the days the 7-day window needs.

Noise guard. A check runs after every metrics fold (every second), so a rule that fired whenever
an observed figure crossed its threshold would roll back a sound model on its first few unlucky
predictions. Each rate condition therefore needs both a minimum count and a one-sided test at
``ALPHA`` that the true figure is past the threshold: for accuracy, the score test that live
accuracy is below 0.95 x validation accuracy, both being estimates (a validation set of 80 rows
is itself a noisy yardstick); for overrides, the z-test that the rate is above 20%. The average
response time has no variance in the table (only its sum), so it needs ``MIN_TIMED_PREDICTIONS``
predictions in the window and in the baseline: a mean over a thousand predictions does not move by half through chance, only
through a slower model or host. ``tests/unit/test_rollback_noise.py`` simulates four weeks of
ordinary noise, checked every ten simulated minutes, over many runs: no stable model is rolled
back, and each injected degradation is once the week's figures show it (a degradation that starts
at once must take a share of the 7-day window before the week is past its threshold).

The functions of the conditions take NumPy arrays as well as numbers, so that the simulation runs
the very rules the checker does.

Rollback, in one transaction that holds the scope's production lock (the one promotions take):
the version must still be production (a second rollback, or a promotion that got the lock first,
leaves nothing to do: exactly one wins), the ML team is alerted, the previous stable version (the
scope's most recently served version that was never rolled back itself nor rejected) is made
production by the registry's promotion with event 'rollback' after the degraded one is retired,
the rollback event with its triggers and an investigation ticket are written, and an A/B test
whose control was the degraded model is cancelled (its candidate waits for a test against the
restored model). With no previous version the model stays, and operations get the spec's
emergency alert (once while it is open), which names the early retrain queued on the tenant's
recent feedback (its traffic changed under it: that is what an operator would do); for a shared
model, whose first version has nothing earlier to go back to by design, that is a warning with its
cause and no critical alert. Serving processes see the new pointer within a second.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError
from statsmodels.stats.proportion import test_proportions_2indep

from modelops import db
from modelops.agents import check_agent
from modelops.alerting import alerts
from modelops.experiments import lifecycle
from modelops.monitoring import sudden
from modelops.monitoring.baseline import VersionState, states
from modelops.registry import promotion, store, versions
from modelops.training import runs

log = logging.getLogger(__name__)

ACCURACY_RATIO = 0.95
OVERRIDE_LIMIT = 0.20
RESPONSE_TIME_RATIO = 1.5
# One-sided level of each rate test. Checks repeat every second on a window that changes slowly,
# so the level is strict (at 0.001, one simulated stable model in a thousand was rolled back on its
# first day, when the window is small and each look adds new evidence); a clear drop still passes
# it once the week's figures show it (docs/rollback.md has the simulated detection rates).
ALPHA = 0.0001
MIN_LABELLED = 100  # labelled predictions in the window before accuracy is judged
MIN_PREDICTIONS = 100  # predictions in the window before the override rate is judged
MIN_TIMED_PREDICTIONS = 1000  # predictions in the window, and in the baseline, before response time is judged

CHECKER = "rollback-monitor"
ACCURACY_DROP, HIGH_OVERRIDE_RATE, PERFORMANCE_DEGRADATION = "accuracy_drop", "high_override_rate", "performance_degradation"
SUDDEN_FAILURE = "sudden_failure"


class RollbackRefused(ValueError):
    """A rollback that cannot be asked for as it was (unknown agent, no production model, no reason)."""

    def as_result(self) -> dict:
        return {"outcome": "refused", "reason": str(self)}


# --- the conditions (pure; numbers or NumPy arrays) -------------------------------------------------

def accuracy_p_value(correct, labelled, baseline_accuracy, validation_samples=None):
    """One-sided p-value of "live accuracy >= 0.95 x validation accuracy" against "below it".

    Both accuracies are estimates: the live one from ``labelled`` predictions, the validation one
    from ``validation_samples`` rows. Their ratio is tested by the score test of Farrington and
    Manning (with Miettinen and Nurminen's correction), whose variance is taken where the null
    hypothesis puts both rates: a validation score that was lucky on 40 rows (39 of 40 for a model
    that is right 85% of the time) does not make an ordinary live week look like a collapse, as a
    Wald test's variance at 39/40 would. With no validation size recorded the baseline is taken
    as exact (a one-sample z-test at the threshold)."""
    labelled = np.asarray(labelled, dtype=float)
    baseline = np.asarray(baseline_accuracy, dtype=float)
    if validation_samples is None:
        live = np.divide(correct, labelled, out=np.zeros_like(labelled), where=labelled > 0)
        threshold = ACCURACY_RATIO * baseline
        z = (live - threshold) / np.sqrt(np.maximum(threshold * (1 - threshold), 1e-12) / np.maximum(labelled, 1))
        p_value = norm.cdf(z)
    else:
        m = np.asarray(validation_samples, dtype=float)
        with np.errstate(all="ignore"):
            p_value = test_proportions_2indep(
                correct, np.maximum(labelled, 1), np.rint(baseline * m), m, value=ACCURACY_RATIO, compare="ratio",
                alternative="smaller", method="score").pvalue
    return np.where(labelled > 0, p_value, 1.0)


def accuracy_breached(correct, labelled, baseline_accuracy, validation_samples=None):
    labelled = np.asarray(labelled)
    live = np.divide(correct, labelled, out=np.zeros(np.shape(labelled)), where=labelled > 0)
    return ((labelled >= MIN_LABELLED) & (live < ACCURACY_RATIO * np.asarray(baseline_accuracy))
            & (accuracy_p_value(correct, labelled, baseline_accuracy, validation_samples) < ALPHA))


def override_limit(expected_accuracy=None):
    """The override rate a version may show: 20%, or the error rate the accuracy rule tolerates for
    its expected accuracy (1 - 0.95 x accuracy) when that is higher."""
    if expected_accuracy is None:
        return OVERRIDE_LIMIT
    return np.maximum(OVERRIDE_LIMIT, 1.0 - ACCURACY_RATIO * np.asarray(expected_accuracy, dtype=float))


def override_p_value(overrides, predictions, expected_accuracy=None):
    """One-sided p-value of "override rate <= its limit" against "above it" (z-test at the limit)."""
    predictions = np.asarray(predictions, dtype=float)
    limit = override_limit(expected_accuracy)
    rate = np.divide(overrides, predictions, out=np.zeros_like(predictions), where=predictions > 0)
    z = (rate - limit) / np.sqrt(limit * (1 - limit) / np.maximum(predictions, 1))
    return norm.sf(z)


def override_breached(overrides, predictions, expected_accuracy=None):
    predictions = np.asarray(predictions)
    rate = np.divide(overrides, predictions, out=np.zeros(np.shape(predictions)), where=predictions > 0)
    return ((predictions >= MIN_PREDICTIONS) & (rate > override_limit(expected_accuracy))
            & (override_p_value(overrides, predictions, expected_accuracy) < ALPHA))


def response_time_breached(response_time_sum_ms, predictions, baseline_ms, baseline_predictions):
    predictions = np.asarray(predictions, dtype=float)
    average = np.divide(response_time_sum_ms, predictions, out=np.zeros_like(predictions), where=predictions > 0)
    return ((predictions >= MIN_TIMED_PREDICTIONS) & (np.asarray(baseline_predictions) >= MIN_TIMED_PREDICTIONS)
            & (average > RESPONSE_TIME_RATIO * np.asarray(baseline_ms)))


@dataclass(frozen=True)
class Verdict:
    conditions: dict[str, dict]  # every condition: observed, threshold, breached, why

    @property
    def triggers(self) -> dict[str, dict]:
        return {name: condition for name, condition in self.conditions.items() if condition["breached"]}


def judge(state: VersionState) -> Verdict:
    """The three conditions of one version's window against its baseline."""
    w, b = state.window, state.baseline
    return Verdict({ACCURACY_DROP: _accuracy(w, b), HIGH_OVERRIDE_RATE: _overrides(w, b),
                    PERFORMANCE_DEGRADATION: _response_time(w, b), SUDDEN_FAILURE: _sudden(state)})


def _accuracy(w, b) -> dict:
    condition = {"current": w.accuracy, "baseline": b.accuracy, "threshold": ACCURACY_RATIO, "labelled": w.labelled,
                 "validation_samples": b.validation_samples, "p_value": None, "breached": False}
    if b.accuracy is None:
        return {**condition, "why": "no validation accuracy recorded for this version"}
    if w.labelled < MIN_LABELLED:
        return {**condition, "why": f"{w.labelled} labelled predictions in the window, fewer than {MIN_LABELLED}"}
    p_value = float(accuracy_p_value(w.correct, w.labelled, b.accuracy, b.validation_samples))
    breached = bool(accuracy_breached(w.correct, w.labelled, b.accuracy, b.validation_samples))
    limit = ACCURACY_RATIO * b.accuracy
    why = (f"accuracy {w.accuracy:.4f} on {w.labelled} labelled predictions "
           f"{'<' if w.accuracy < limit else '>='} {ACCURACY_RATIO} x baseline {b.accuracy:.4f} = {limit:.4f}"
           f" (one-sided p = {p_value:.3g}, {'below' if p_value < ALPHA else 'not below'} {ALPHA})")
    return {**condition, "p_value": p_value, "breached": breached, "why": why}


def _overrides(w, b) -> dict:
    limit = float(override_limit(b.accuracy))
    condition = {"current": w.override_rate, "threshold": limit, "predictions": w.predictions,
                 "overrides": w.overrides, "expected_accuracy": b.accuracy, "p_value": None, "breached": False}
    if w.predictions < MIN_PREDICTIONS:
        return {**condition, "why": f"{w.predictions} predictions in the window, fewer than {MIN_PREDICTIONS}"}
    p_value = float(override_p_value(w.overrides, w.predictions, b.accuracy))
    breached = bool(override_breached(w.overrides, w.predictions, b.accuracy))
    basis = "" if limit == OVERRIDE_LIMIT else f" (1 - {ACCURACY_RATIO} x expected accuracy {b.accuracy:.4f})"
    why = (f"override rate {w.override_rate:.4f} ({w.overrides} of {w.predictions}) "
           f"{'>' if w.override_rate > limit else '<='} {limit:.4f}{basis}"
           f" (one-sided p = {p_value:.3g}, {'below' if p_value < ALPHA else 'not below'} {ALPHA})")
    return {**condition, "p_value": p_value, "breached": breached, "why": why}


def _sudden(state: VersionState) -> dict:
    w, b = state.window, state.baseline
    reference = sudden.reference_accuracy(w.correct, w.labelled, b.accuracy, b.validation_samples)
    recent = state.recent_outcomes
    condition = {"reference_accuracy": reference, "recent_labelled": len(recent), "drop": sudden.SUDDEN_DROP,
                 "threshold": sudden.THRESHOLD, "statistic": None, "breached": False}
    if reference is None:
        return {**condition, "why": "no reference accuracy: neither live labels nor a validation accuracy"}
    by_band = sudden.band_references(state.confidence_bands, reference)
    references = sudden.prediction_references(state.recent_confidences or [None] * len(recent), by_band, reference)
    value = sudden.statistic(recent, references)
    breached = value >= sudden.THRESHOLD
    right = sum(recent)
    adjusted = f", each at its confidence band's accuracy ({sum(n for n, _ in state.confidence_bands.values())} " \
               f"labelled before them)" if by_band else ""
    why = (f"CUSUM {value:.2f} {'>=' if breached else '<'} {sudden.THRESHOLD} for a {sudden.SUDDEN_DROP:.0%} drop "
           f"from {reference:.4f}{adjusted} over the last {len(recent)} labelled predictions ({right} right)")
    return {**condition, "statistic": value, "breached": breached, "why": why,
            "band_accuracy": {str(b): round(p0, 4) for b, p0 in sorted(by_band.items())}}


def _response_time(w, b) -> dict:
    condition = {"current": w.avg_response_time_ms, "baseline": b.response_time_ms, "threshold": RESPONSE_TIME_RATIO,
                 "predictions": w.predictions, "baseline_predictions": b.response_time_predictions, "breached": False}
    if b.response_time_ms is None:
        return {**condition, "why": f"no response-time baseline: {b.response_time_note}"}
    if b.response_time_predictions < MIN_TIMED_PREDICTIONS or w.predictions < MIN_TIMED_PREDICTIONS:
        return {**condition, "why": f"{w.predictions} predictions in the window and {b.response_time_predictions} in the "
                                    f"baseline; each needs {MIN_TIMED_PREDICTIONS}"}
    breached = bool(response_time_breached(w.response_time_sum_ms, w.predictions, b.response_time_ms,
                                           b.response_time_predictions))
    limit = RESPONSE_TIME_RATIO * b.response_time_ms
    why = (f"average response time {w.avg_response_time_ms:.2f} ms {'>' if breached else '<='} {RESPONSE_TIME_RATIO} x "
           f"baseline {b.response_time_ms:.2f} ms = {limit:.2f} ms ({b.response_time_note})")
    return {**condition, "breached": breached, "why": why}


# --- the checks --------------------------------------------------------------------------------------

RECORD_CHECK = text("""
    INSERT INTO ai.rollback_checks (model_version_id, tenant_id, agent_type, checked_at, outcome, figures, conditions)
    VALUES (:version, :tenant, :agent, :now, :outcome, CAST(:figures AS jsonb), CAST(:conditions AS jsonb))
    ON CONFLICT (model_version_id) DO UPDATE SET checked_at = EXCLUDED.checked_at, outcome = EXCLUDED.outcome,
        figures = EXCLUDED.figures, conditions = EXCLUDED.conditions
""")


def check_models(model_version_ids: list[Any], now: dt.datetime) -> list[dict]:
    """Check each production version among ``model_version_ids`` and roll back those whose
    conditions fire; one result per id (versions that are not production are only reported)."""
    if not isinstance(model_version_ids, (list, tuple)):
        raise RollbackRefused(f"model_version_ids must be a list of model version ids, got {model_version_ids!r}")
    ids = [as_uuid(value, "a model version id") for value in model_version_ids]
    with db.operator_scope() as connection:
        found = {state.id: state for state in states(connection, ids, now.date())}
    results, healthy = [], []
    for version_id in ids:
        state = found.get(version_id)
        if state is None:
            results.append({"model_version_id": str(version_id), "outcome": "unknown", "reason": "no such model version"})
        elif not state.is_production:
            results.append({"model_version_id": str(version_id), "outcome": "not_production"})
        else:
            verdict = judge(state)
            if verdict.triggers:
                results.append(_roll_back_isolated(state, verdict, now))
            else:
                healthy.append((state, verdict))
                results.append({"model_version_id": str(version_id), "outcome": "healthy"})
    if healthy:
        with db.operator_scope() as connection:
            connection.execute(RECORD_CHECK, [_check_row(state, verdict, "healthy", now) for state, verdict in healthy])
    return results


def check_all(now: dt.datetime) -> list[dict]:
    """Every production version: the safety net under the checks that follow each fold."""
    with db.operator_scope() as connection:
        ids = store.production_ids(connection)
    return check_models(ids, now)


def _roll_back_isolated(state: VersionState, verdict: Verdict, now: dt.datetime) -> dict:
    """One version's rollback; a failure of its own is reported and does not hold up the others'
    (one that may pass, a lost connection, goes up for the task to retry)."""
    try:
        return _roll_back_degraded(state, verdict, now)
    except OperationalError:
        raise
    except Exception as error:
        log.exception("the rollback of %s %s (%s) failed", state.agent_type, state.version, state.id)
        return {"model_version_id": str(state.id), "outcome": "error", "reason": f"{type(error).__name__}: {error}"}


def _roll_back_degraded(state: VersionState, verdict: Verdict, now: dt.datetime) -> dict:
    reason = "; ".join(condition["why"] for condition in verdict.triggers.values())
    with db.operator_scope() as connection:
        outcome = trigger_rollback(connection, state.agent_type, state.tenant_id, region=state.region,
                                   expected_version_id=state.id, triggers=verdict.triggers, actor=CHECKER,
                                   reason=reason, now=now)
        connection.execute(RECORD_CHECK, _check_row(state, verdict, outcome["outcome"], now))
    return {"model_version_id": str(state.id), **outcome}


def _check_row(state: VersionState, verdict: Verdict, outcome: str, now: dt.datetime) -> dict:
    return {"version": state.id, "tenant": state.tenant_id, "agent": state.agent_type, "now": now, "outcome": outcome,
            "figures": json.dumps(state.figures()), "conditions": json.dumps(verdict.conditions)}


# --- the rollback ------------------------------------------------------------------------------------

# versions of the scope rolled back from once: never the version a later rollback goes back to
ROLLED_BACK_FROM = text("""
    SELECT from_version_id FROM ai.rollback_events
    WHERE agent_type = :agent AND scope_key = :scope AND outcome = 'rolled_back'
""")

INSERT_EVENT = text("""
    INSERT INTO ai.rollback_events (agent_type, tenant_id, scope_key, from_version_id, to_version_id, outcome, triggers,
                                    actor, reason, created_at)
    VALUES (:agent, :tenant, :scope, :from_version, :to_version, :outcome, CAST(:triggers AS jsonb), :actor, :reason, :now)
    RETURNING id
""")

INSERT_TICKET = text("""
    INSERT INTO ai.investigation_tickets (tenant_id, model_version_id, rollback_event_id, title, details, created_at, updated_at)
    VALUES (:tenant, :version, :event, :title, CAST(:details AS jsonb), :now, :now)
    RETURNING id
""")


def previous_stable(connection: Connection, agent_type: str, scope: str, current_id: uuid.UUID) -> store.ModelVersion | None:
    """The version a rollback of ``current_id`` would restore: the scope's most recently served
    version other than it, never rolled back itself and not rejected."""
    rolled_back = connection.execute(ROLLED_BACK_FROM, {"agent": agent_type, "scope": scope}).scalars().all()
    return store.previous_stable(connection, agent_type, scope, current_id, excluding=rolled_back)


def trigger_rollback(connection: Connection, agent_type: str, tenant_id: Any, *, triggers: dict, actor: str, reason: str,
                     now: dt.datetime, region: str | None = None, expected_version_id: Any = None) -> dict:
    """Roll the agent's production model of the tenant (or ``region``'s, or the global one when
    both are None) back to its previous stable version.

    ``expected_version_id`` is the version the caller judged; without it, the version in
    production when this is called. Whatever the caller judged, the rollback happens only if that
    version is still production once the scope's lock is held; otherwise the result's outcome is
    'no_op'. Outcomes: rolled_back, no_previous_version, no_op."""
    check_agent(agent_type)
    # Only None means "no tenant": a false, empty or zero id from a caller is malformed, not global.
    tenant = None if tenant_id is None else as_uuid(tenant_id, "a tenant id")
    scope = versions.scope_key(tenant, region)
    if not isinstance(triggers, dict) or not triggers:
        raise RollbackRefused("say what triggered the rollback (triggers: a non-empty object)")
    if not all(isinstance(value, str) and value.strip() for value in (actor, reason)):
        raise RollbackRefused("a rollback needs an actor and a reason (both are recorded)")
    if expected_version_id is not None:
        expected = as_uuid(expected_version_id, "a model version id")
    else:
        expected = _production_id(connection, agent_type, scope)
    lifecycle.lock_scope(connection, agent_type, scope)
    current = store.production(connection, agent_type, scope)
    if current is None or current.id != expected:
        serving = f"{current.version} ({current.id}) is production now" if current else "the scope has no production model now"
        return {"outcome": "no_op", "from_version_id": str(expected), "agent_type": agent_type, "scope_key": scope,
                "reason": f"version {expected} is no longer production ({serving}): it was moved while this waited"}
    what = f"{agent_type} {current.version} of {scope}"
    previous = previous_stable(connection, agent_type, scope, current.id)
    if previous is None and current.tenant_id is None:
        return _emergency(connection, current, scope, triggers, actor, reason, None, now)
    alert = alerts.raise_alert(
        connection, alert_type="rollback_triggered", severity="critical", audience="ml", tenant_id=current.tenant_id,
        agent_type=agent_type, model_version_id=current.id, now=now,
        message=f"Rollback triggered for model {what} ({', '.join(triggers)}): {reason}",
        details={"triggers": triggers, "actor": actor})
    if previous is None:
        return _emergency(connection, current, scope, triggers, actor, reason, alert, now)

    why = f"rolled back by {actor} to {previous.version}: {reason}"
    promotion.retire(connection, current.id, status="retired", reason=why, now=now)
    promotion.promote(connection, previous.id, actor=actor, event="rollback", now=now,
                      reason=f"restored in place of {current.version}, which was {why}")
    event_id = _log_event(connection, current, previous, scope, "rolled_back", triggers, actor, reason, now)
    ticket_id = connection.execute(INSERT_TICKET, {
        "tenant": current.tenant_id, "version": current.id, "event": event_id, "now": now,
        "title": f"Investigate {what}: rolled back to {previous.version} ({', '.join(triggers)})",
        "details": json.dumps({"triggers": triggers, "reason": reason, "actor": actor,
                               "restored_version_id": str(previous.id), "restored_version": previous.version}, default=str),
    }).scalar_one()
    cancelled = _cancel_test_of(connection, agent_type, scope, now)
    log.warning("rolled back %s to %s: %s", what, previous.version, reason)
    return {"outcome": "rolled_back", "agent_type": agent_type, "scope_key": scope,
            "from_version_id": str(current.id), "from_version": current.version,
            "to_version_id": str(previous.id), "to_version": previous.version,
            "rollback_event_id": str(event_id), "ticket_id": str(ticket_id), "alert_id": alert["id"],
            "cancelled_ab_test_id": cancelled, "triggers": sorted(triggers), "reason": reason}


# Why a shared model with no earlier version is a warning: it is the first model its tenants
# have, nothing better can serve them, and its live labels are often ones it could not know.
SHARED_FIRST_MODEL = ("it is the first shared model of its scope and serves tenants without a model of their own, "
                      "whose labels it may never have seen (a tenant's own accounts or categories); nothing earlier can "
                      "serve them: train the tenants' own models")


def _emergency(connection: Connection, current: store.ModelVersion, scope: str, triggers: dict, actor: str, reason: str,
               alert: dict | None, now: dt.datetime) -> dict:
    """No version to go back to: the degraded model keeps serving and operations are told. The
    event and ticket are written with the alert, once while it stays open, not at every check.

    For a tenant's model that is the spec's emergency (critical, after the rollback alert). A
    shared model without an earlier version gets one warning with its cause instead (``alert`` is
    None): on day 0 the global model, trained on synthetic data, meets tenants' own labels, and a
    critical alert nobody can act on would bury the ones that can be."""
    shared = alert is None
    cause = f" ({SHARED_FIRST_MODEL})" if shared else ""
    queued = None if shared else _queue_retrain(connection, current, scope, triggers, reason, now)
    run = None if shared else _retrain_of(connection, current, scope, queued)
    remedy = (f"; a retrain on the tenant's recent feedback: training run {run['id']}, {run['status']}" if run else "")
    run_id = run["id"] if run else None
    emergency = alerts.raise_alert(
        connection, alert_type="rollback_impossible", severity="warning" if shared else "critical",
        audience="operations",
        tenant_id=current.tenant_id, agent_type=current.agent_type, model_version_id=current.id, now=now,
        message=(f"No previous model available for rollback: {current.agent_type} {current.version} of {scope} "
                 f"stays in production although {', '.join(triggers)} fired{cause}{remedy}: {reason}"),
        details={"triggers": triggers, "actor": actor, **({"cause": SHARED_FIRST_MODEL} if shared else {}),
                 **({"training_run_id": str(run_id)} if run_id else {})})
    result = {"outcome": "no_previous_version", "agent_type": current.agent_type, "scope_key": scope,
              "from_version_id": str(current.id), "from_version": current.version,
              "alert_id": alert["id"] if alert else None, "training_run_id": str(queued) if queued else None,
              "emergency_alert_id": emergency["id"], "triggers": sorted(triggers), "reason": reason}
    if not emergency["created"]:
        return {**result, "rollback_event_id": None, "note": "the emergency alert was already open (its occurrence was counted)"}
    event_id = _log_event(connection, current, None, scope, "no_previous_version", triggers, actor, reason, now)
    ticket_id = connection.execute(INSERT_TICKET, {
        "tenant": current.tenant_id, "version": current.id, "event": event_id, "now": now,
        "title": f"Investigate {current.agent_type} {current.version} of {scope}: degraded, no version to roll back to",
        "details": json.dumps({"triggers": triggers, "reason": reason, "actor": actor}, default=str),
    }).scalar_one()
    log.error("no previous version of %s %s to roll back to: %s", current.agent_type, scope, reason)
    return {**result, "rollback_event_id": str(event_id), "ticket_id": str(ticket_id)}


def _queue_retrain(connection: Connection, current: store.ModelVersion, scope: str, triggers: dict, reason: str,
                   now: dt.datetime) -> uuid.UUID | None:
    """A degraded tenant model with nothing to go back to is what an operator would retrain: its
    traffic has changed (a merger, a new bank feed), and its recent feedback is the evidence of how.
    Once per version (the run's key); None when a run is already in flight for the scope."""
    return runs.create(connection, agent_type=current.agent_type, tenant_id=current.tenant_id, scope_key=scope,
                       trigger="degraded", reason=f"{current.version} degraded ({', '.join(triggers)}) with no version "
                       f"to roll back to: {reason}", requested_by=CHECKER, run_key=_retrain_key(current), now=now)


def _retrain_key(current: store.ModelVersion) -> str:
    return f"degraded:{current.id}"


def _retrain_of(connection: Connection, current: store.ModelVersion, scope: str, queued: uuid.UUID | None) -> dict | None:
    """The run that answers the degradation: the one just queued, else the scope's run in flight
    (a scheduled retrain already under way learns from the same recent feedback), else the one an
    earlier check queued for this version. The alert's message is the latest occurrence's."""
    run_id = queued or runs.in_flight(connection, current.agent_type, scope) or runs.by_key(connection, _retrain_key(current))
    return runs.get(connection, run_id) if run_id else None


def _log_event(connection: Connection, current: store.ModelVersion, previous: store.ModelVersion | None, scope: str,
               outcome: str, triggers: dict, actor: str, reason: str, now: dt.datetime) -> uuid.UUID:
    return connection.execute(INSERT_EVENT, {
        "agent": current.agent_type, "tenant": current.tenant_id, "scope": scope, "from_version": current.id,
        "to_version": previous.id if previous else None, "outcome": outcome,
        "triggers": json.dumps(triggers, default=str), "actor": actor, "reason": reason, "now": now,
    }).scalar_one()


def _cancel_test_of(connection: Connection, agent_type: str, scope: str, now: dt.datetime) -> str | None:
    """The scope's running A/B test compared its candidate with the degraded model: it is cancelled,
    and the newest waiting candidate is tested against the restored model instead."""
    test = lifecycle.running_test(connection, agent_type, scope)
    if test is None or not lifecycle.end_if_control_moved(connection, test, now):
        return None
    lifecycle.start_next(connection, agent_type, scope, lifecycle.ACTOR, now)
    return str(test["id"])


def _production_id(connection: Connection, agent_type: str, scope: str) -> uuid.UUID:
    current = store.production(connection, agent_type, scope)
    if current is None:
        raise RollbackRefused(f"{agent_type} for {scope} has no production model to roll back")
    return current.id


def as_uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise RollbackRefused(f"{what} must be a UUID, got {value!r}") from None

