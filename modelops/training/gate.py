"""The promotion gate a freshly trained version passes before anything serves it.

The first model of an agent and scope must beat always answering the majority class on its
validation rows. A later one is scored beside the current production model on the same validation
rows (none of which either trained on, see ``evaluation``). A tenant's candidate must reach 0.98 x
production's accuracy there, and then waits for its A/B test on live traffic.

A global or regional candidate is tested too, on the traffic of every tenant the shared model
serves, whose tenants are the test's segments (``experiments.segments``): a ratio to production's
validation score would put a candidate 2% worse in front of every tenant without a model of its
own. The gate only turns away a shared candidate significantly worse on the validation rows
(statsmodels' score test of two proportions, one-sided at ``SHARED_ALPHA``; the rows are shared,
so this unpaired test is conservative), and sends every other one to its A/B test.

A candidate whose production model cannot be loaded (its artifact failed the integrity check) is
held, not judged: the refusal is a matter for an operator, not a reason to promote or reject.

``judge`` loads and scores with no transaction open; ``apply`` records the verdict in the
transaction that records the version.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection
from statsmodels.stats.proportion import test_proportions_2indep

from modelops.agents import Agent
from modelops.registry import promotion, store
from modelops.registry.loading import load_estimator
from modelops.registry.artifacts import ArtifactIntegrityError
from modelops.training.evaluation import Validation

ACTOR = "training"
SHARED_ALPHA = 0.05


@dataclass(frozen=True)
class Verdict:
    outcome: str  # production, candidate, rejected, held
    reason: str
    event: str | None = None  # the production_history event when it goes to production
    production_version_id: str | None = None
    production_accuracy: float | None = None


def judge(agent: Agent, metrics: dict, validation: Validation, production: store.ModelVersion | None, shared: bool) -> Verdict:
    accuracy = metrics["summary"]["accuracy"]
    if production is None:
        passed, reason = promotion.beats_baseline(accuracy, metrics["majority_baseline_accuracy"])
        return Verdict("production" if passed else "rejected", reason, event="first_model")
    compared = {"production_version_id": str(production.id)}
    try:
        model = load_estimator(production)
    except ArtifactIntegrityError as error:
        return Verdict("held", f"not judged: production {production.version} could not be loaded ({error})", **compared)
    production_accuracy = accuracy_on(agent, model, validation)
    compared["production_accuracy"] = production_accuracy
    if shared:
        passed, reason = shared_candidate_passes(accuracy, production_accuracy, validation.rows)
        reason = f"{reason} (production {production.version}, on the same {validation.rows} validation rows)"
        if not passed:
            return Verdict("rejected", reason, **compared)
        return Verdict("candidate", f"passed the promotion gate: {reason}; awaiting its A/B test on the traffic of "
                                    f"the tenants it serves", **compared)
    passed, reason = promotion.passes_gate(accuracy, production_accuracy)
    reason = f"{reason} (production {production.version}, on the same {validation.rows} validation rows)"
    if not passed:
        return Verdict("rejected", reason, **compared)
    return Verdict("candidate", f"passed the promotion gate: {reason}; awaiting its A/B test", **compared)


def accuracy_on(agent: Agent, model, validation: Validation) -> float:
    """The model's accuracy on the validation side, read a batch at a time (labels compared as text,
    as ``evaluation.score`` compares them)."""
    right = sum(str(prediction.label) == str(label) for inputs, labels in validation.batches()
                for prediction, label in zip(agent.predict(model, inputs), labels))
    return right / validation.rows


def shared_candidate_passes(accuracy: float, production_accuracy: float, rows: int) -> tuple[bool, str]:
    """A shared candidate passes unless significantly less accurate than production on the rows."""
    correct, production_correct = round(accuracy * rows), round(production_accuracy * rows)
    if correct >= production_correct:
        return True, f"accuracy {accuracy:.4f} >= production's {production_accuracy:.4f}"
    p_value = float(test_proportions_2indep(correct, rows, production_correct, rows, alternative="smaller",
                                            method="score").pvalue)
    verdict = f"accuracy {accuracy:.4f} against production's {production_accuracy:.4f}, one-sided p = {p_value:.3g}"
    if p_value < SHARED_ALPHA:
        return False, f"significantly worse: {verdict} < {SHARED_ALPHA}"
    return True, f"not significantly worse: {verdict} >= {SHARED_ALPHA}"


def apply(connection: Connection, version_id: uuid.UUID, verdict: Verdict, now: dt.datetime) -> dict:
    """Promote, reject or annotate the version; a version judged before (a redelivered job) keeps
    the verdict it got."""
    candidate = store.get(connection, version_id)
    if candidate.status != "candidate":
        return {"outcome": candidate.status, "reason": candidate.status_reason}
    if verdict.outcome == "production":
        promotion.promote(connection, version_id, actor=ACTOR, reason=verdict.reason, event=verdict.event, now=now)
    elif verdict.outcome == "rejected":
        promotion.retire(connection, version_id, status="rejected", reason=verdict.reason, now=now)
    else:
        store.set_status_reason(connection, version_id, verdict.reason, now)
    decision = {"outcome": verdict.outcome, "reason": verdict.reason}
    if verdict.production_version_id:
        decision |= {"production_version_id": verdict.production_version_id, "production_accuracy": verdict.production_accuracy}
    return decision
