"""Reproducing a logged prediction: the same artifact, the same feature extraction, the same answer?

The spec's ``reproduce_prediction``. What it needs is already on record: the log row holds the
input exactly as the model read it (see ``modelops.serving.auditlog``) and its answer; the
version row holds the artifact's path and sha256, the agent's configuration (feature extraction
and estimator parameters, also inside the artifact itself) and the library versions it was
trained with. Reproduction loads that artifact through the hash check, validates the logged
input again and predicts; the answer must match the logged output exactly and the confidence at
the log's precision (two decimals, the spec's DECIMAL(3,2)).

A prediction is looked up by its id alone, across tenants: reproduction is an auditor's or
operator's act, so it reads as the operator role.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text

from modelops import db
from modelops.agents import get_agent
from modelops.serving.auditlog import logged_confidence
from modelops.serving.reproducibility import current_environment
from modelops.serving.routes import ServedModel
from modelops.serving.service import server
from modelops.registry import store
from modelops.registry.artifacts import ArtifactIntegrityError


class ReproductionError(Exception):
    """A prediction that cannot be reproduced as asked; ``status`` says which kind."""

    status = "failed"

    def as_result(self) -> dict:
        return {"status": self.status, "reason": str(self)}


class InvalidPredictionId(ReproductionError, ValueError):
    status = "rejected"


class PredictionNotFound(ReproductionError, LookupError):
    status = "not_found"


class ArtifactUnavailable(ReproductionError):
    status = "unavailable"


LOOKUP = text("""
    SELECT agent_type, tenant_id, input_data, predicted_output, confidence_score, prediction_timestamp,
           is_reproducible, reproducibility_note, ab_test_id, ab_group, model_version_id
    FROM ai.prediction_log
    WHERE id = :id
""")


def reproduce_prediction(prediction_id: Any) -> dict:
    """{original, reproduced, is_identical, ...}; a ReproductionError when it cannot be attempted."""
    identifier = _prediction_uuid(prediction_id)
    with db.operator_scope() as connection:
        row = connection.execute(LOOKUP, {"id": identifier}).mappings().first()
        version = store.get(connection, row["model_version_id"]) if row else None
    if version is None:
        raise PredictionNotFound(f"prediction {identifier} is not in the audit log")
    model = ServedModel.from_version(version)
    try:
        estimator = server().models.get(model)
    except ArtifactIntegrityError as error:
        raise ArtifactUnavailable(f"model version {model.id} ({model.version}): {error}") from None
    agent = get_agent(row["agent_type"])
    prediction = agent.predict(estimator, [agent.validate_input(row["input_data"])])[0]
    original = {"output": row["predicted_output"], "confidence": float(row["confidence_score"])}
    # through JSON, as the logged output went: tuples become lists, keys strings
    reproduced = {"output": json.loads(json.dumps(prediction.output)),
                  "confidence": float(logged_confidence(prediction.confidence))}
    return {
        "status": "reproduced",
        "prediction_id": str(identifier),
        "agent_type": row["agent_type"],
        "tenant_id": str(row["tenant_id"]),
        "prediction_timestamp": row["prediction_timestamp"].isoformat(),
        "model_version": {**model.describe(), "artifact_sha256": model.artifact_sha256},
        "ab_group": row["ab_group"],
        "original": original,
        "reproduced": reproduced,
        "is_identical": original == reproduced,
        "is_reproducible": row["is_reproducible"],
        "reproducibility_note": row["reproducibility_note"],
        "environment": {"recorded": (version.training_config or {}).get("environment"),
                        "current": current_environment(), "note": model.reproducibility_note},
    }


def _prediction_uuid(prediction_id: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(prediction_id))
    except ValueError:
        raise InvalidPredictionId(f"prediction_id: {prediction_id!r} is not a UUID") from None
