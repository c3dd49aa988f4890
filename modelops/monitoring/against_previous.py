"""Slow decay: a production model judged against the version it replaced, on the same recent traffic.

The rollback conditions compare a model with its own validation accuracy, measured once, on rows of
its training period. A model whose traffic moves away from those rows decays slowly, and its
validation score cannot say whether the version before it would now do better: a model promoted for
a lift on last month's traffic may be worse than its predecessor on this month's. So, once a day,
each production version that has a previous stable version (the one a rollback would restore) is
replayed together with that version on its own latest labelled predictions of the last
``WINDOW_DAYS`` days (at most ``COMPARE_ROWS``), row by row, as the shadow replay does for
candidates. It is rolled back (trigger ``worse_than_previous``) when the previous version

- is right on at least ``MARGIN`` more of those rows (accuracy points), and
- is right more often beyond chance: the one-sided exact binomial test on the rows where only one of
  the two was right (McNemar's, one-sided), p < ``ALPHA``.

Why a margin: the rows are the ones users labelled, and users label more readily when they correct
an answer (differential labelling, docs/experiments.md), so the labelled rows hold more of
production's errors than its traffic does, which favours the version that did not give those
answers. At 0.44 against 0.40 labelling of wrong and right answers, a production model right 85% of
the time is right on 83.7% of its labelled rows; a 3-point margin stays clear of that bias. Why a
strict level: the check looks once a day at every scope for as long as the model serves, and a
sound model must not be rolled back by the sum of those looks (1 in 1,000 per look would be one in
36 over a five-week life; with the margin, an equal predecessor needs both to fire).
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy.exc import OperationalError

from modelops import db
from modelops.experiments import shadow
from modelops.monitoring import rollback
from modelops.registry import store
from modelops.registry.artifacts import ArtifactIntegrityError

log = logging.getLogger(__name__)

WINDOW_DAYS = 7
COMPARE_ROWS = 5_000  # enough to see a 3-point difference among the rows where the two disagree
MIN_ROWS = 200  # labelled rows before the two are compared at all
MARGIN = 0.03
ALPHA = 0.001
WORSE_THAN_PREVIOUS = "worse_than_previous"
CHECKER = "decay-monitor"


def judge(current: store.ModelVersion, previous: store.ModelVersion, pair: shadow.PairedReplay) -> dict:
    """The condition, with its figures and why; ``pair`` replays previous first, current second."""
    n = pair.rows
    condition = {"previous_version": previous.version, "previous_version_id": str(previous.id), "rows": n,
                 "skipped": pair.skipped, "margin": MARGIN, "alpha": ALPHA, "p_value": None, "breached": False,
                 "current_accuracy": sum(pair.second) / n if n else None,
                 "previous_accuracy": sum(pair.first) / n if n else None,
                 "only_previous_right": pair.only_first, "only_current_right": pair.only_second}
    if n < MIN_ROWS:
        return {**condition, "why": f"{n} labelled predictions in the last {WINDOW_DAYS} days, fewer than {MIN_ROWS}"}
    lead = (pair.only_first - pair.only_second) / n
    p_value = pair.p_value_first_better()
    breached = lead >= MARGIN and p_value < ALPHA
    why = (f"on its last {n} labelled predictions, {current.version} was right on {condition['current_accuracy']:.4f} "
           f"and the previous version {previous.version} replayed on them on {condition['previous_accuracy']:.4f}: "
           f"a lead of {lead:+.4f} for the previous ({'>=' if lead >= MARGIN else '<'} the margin {MARGIN}), "
           f"one-sided exact p = {p_value:.3g} ({'below' if p_value < ALPHA else 'not below'} {ALPHA})")
    return {**condition, "lead": lead, "p_value": p_value, "breached": breached, "why": why}


def check(now: dt.datetime, model_version_ids: list[Any] | None = None) -> list[dict]:
    """Every production version (or those named) against its previous stable version; those
    clearly worse are rolled back. One result per version."""
    if model_version_ids is not None and not isinstance(model_version_ids, (list, tuple)):
        raise rollback.RollbackRefused(f"model_version_ids must be a list of model version ids, got {model_version_ids!r}")
    with db.operator_scope() as connection:
        ids = (store.production_ids(connection) if model_version_ids is None
               else [rollback.as_uuid(value, "a model version id") for value in model_version_ids])
    return [_check_one(version_id, now) for version_id in ids]


def _check_one(version_id: uuid.UUID, now: dt.datetime) -> dict:
    result = {"model_version_id": str(version_id)}
    with db.operator_scope() as connection:
        current = store.get(connection, version_id)
        if current is None or not current.is_production:
            return {**result, "outcome": "unknown" if current is None else "not_production"}
        previous = rollback.previous_stable(connection, current.agent_type, current.scope_key, current.id)
        if previous is None:
            return {**result, "outcome": "no_previous_version"}
        rows = shadow.logged_outcomes(connection, current.id, now, COMPARE_ROWS,
                                      since=now - dt.timedelta(days=WINDOW_DAYS))
    try:
        # no transaction is open while the two models load and predict
        condition = judge(current, previous, shadow.replay_pair(previous, current, rows))
    except ArtifactIntegrityError as error:
        return {**result, "outcome": "error", "reason": f"cannot replay: {error}"}
    if not condition["breached"]:
        return {**result, "outcome": "healthy", "condition": condition}
    try:
        with db.operator_scope() as connection:
            outcome = rollback.trigger_rollback(
                connection, current.agent_type, current.tenant_id, region=current.region,
                expected_version_id=current.id, triggers={WORSE_THAN_PREVIOUS: condition}, actor=CHECKER,
                reason=condition["why"], now=now)
    except OperationalError:
        raise  # the task retries a lost connection
    except Exception as error:
        log.exception("the rollback of %s %s (%s) failed", current.agent_type, current.version, current.id)
        return {**result, "outcome": "error", "reason": f"{type(error).__name__}: {error}"}
    return {**result, **outcome}
