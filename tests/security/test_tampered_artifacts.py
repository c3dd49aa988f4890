"""A model artifact changed on disk is refused wherever models are loaded (serving, reproduction),
before a byte of it is unpickled: one changed byte, a whole file swapped for another tenant's
valid model, and a pickle built to run a command when loaded. Nothing is predicted, nothing logged."""
from __future__ import annotations

import hashlib
import os
import pickle
import uuid

import pytest
from sqlalchemy import text

from modelops.config import settings
from tests.integration.serving_models import record_model
from tests.security.support import rows_of, tenant_with_member
from workers.app import app

pytestmark = pytest.mark.integration

REQUEST = {"agent_type": "classification", "input_data": {"description": "AWS", "amount": 10.0, "currency": "USD",
                                                          "direction": "debit", "date": "2031-06-01"}}


class RunsACommand:
    """Unpickling this runs ``touch marker``: what a planted artifact would do."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def version_row(owner, version_id) -> dict:
    with owner.connect() as connection:
        return dict(connection.execute(text("SELECT * FROM ai.model_versions WHERE id = :v"), {"v": version_id}).mappings().one())


def logged_prediction(owner, version: dict) -> uuid.UUID:
    prediction = uuid.uuid4()
    with owner.begin() as connection:
        connection.execute(text("""INSERT INTO ai.prediction_log (id, model_version_id, agent_type, tenant_id, input_data,
                                                                  predicted_output, confidence_score)
                                   VALUES (:p, :v, 'classification', :t, :input, '{"category": "Software"}', 0.9)"""),
                           {"p": prediction, "v": version["id"], "t": version["tenant_id"],
                            "input": '{"description": "AWS", "merchant": null, "amount": 10.0, "currency": "USD", '
                                     '"direction": "debit", "date": "2031-06-01"}'})
    return prediction


@pytest.mark.parametrize("tampering", ["one changed byte", "another tenant's model", "a pickle that runs a command"])
def test_a_tampered_artifact_is_refused_before_it_is_unpickled(worker, owner, tmp_path, tampering):
    tenant, _ = tenant_with_member("tamper")
    seed = 5000 + ["one changed byte", "another tenant's model", "a pickle that runs a command"].index(tampering)
    version = version_row(owner, record_model("classification", tenant, tenant_seed=seed)["id"])
    prediction = logged_prediction(owner, version)
    artifact = settings().artifact_dir / version["model_artifact_path"]
    original = artifact.read_bytes()
    marker = tmp_path / "unpickled"
    if tampering == "one changed byte":
        planted = bytearray(original)
        planted[len(planted) // 2] ^= 0x01
    elif tampering == "another tenant's model":
        other, _ = tenant_with_member("tamper-other")
        planted = (settings().artifact_dir / version_row(owner, record_model("classification", other, tenant_seed=seed + 100)["id"])
                   ["model_artifact_path"]).read_bytes()
    else:
        planted = pickle.dumps(RunsACommand(str(marker)))
    assert hashlib.sha256(bytes(planted)).hexdigest() != version["artifact_sha256"]
    logged_before = len(rows_of(owner, "prediction_log", tenant))
    artifact.write_bytes(bytes(planted))
    try:
        (served,) = app.send_task("modelops.serving.predict_batch", args=[[{**REQUEST, "tenant_id": str(tenant)}]]).get(timeout=60)
        reproduced = app.send_task("modelops.audit.reproduce_prediction", args=[str(prediction)]).get(timeout=60)
    finally:
        artifact.write_bytes(original)
    assert served["status"] == "unavailable" and "refusing to load" in served["reason"], served
    assert reproduced["status"] == "unavailable" and "refusing to load" in reproduced["reason"], reproduced
    assert not marker.exists(), "the planted pickle was loaded"
    assert len(rows_of(owner, "prediction_log", tenant)) == logged_before
