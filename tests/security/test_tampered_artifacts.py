"""A model artifact that is not the one its trainer recorded is refused wherever models are loaded
(serving, reproduction), before a byte of it is unpickled.

On disk: one changed byte, a whole file swapped for another tenant's valid model, a pickle built
to run a command when loaded. In the database, as an attacker with a session would try it: the
runtime role cannot rewrite a version's artifact path or hash, nor can the owner; and a version
row pointed at a planted pickle anyway (the owner lifting that lock) is refused by the artifact's
signature, or by the store's paths when the planted file lies outside it. Nothing is predicted,
nothing logged, no planted code runs."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import uuid
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from modelops import audit, db, serving
from modelops.config import settings
from modelops.registry.artifacts import signature
from tests.callers import signed_batch
from tests.integration.serving_models import record_model
from tests.security.support import rows_of, tenant_with_member
from workers.app import app

pytestmark = pytest.mark.integration

PREDICT_BATCH = "modelops.serving.predict_batch"

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
        (served,) = app.send_task(PREDICT_BATCH, kwargs=signed_batch(PREDICT_BATCH, [{**REQUEST, "tenant_id": str(tenant)}])).get(timeout=60)
        reproduced = app.send_task("modelops.audit.reproduce_prediction", args=[str(prediction)]).get(timeout=60)
    finally:
        artifact.write_bytes(original)
    assert served["status"] == "unavailable" and "refusing to load" in served["reason"], served
    assert reproduced["status"] == "unavailable" and "refusing to load" in reproduced["reason"], reproduced
    assert not marker.exists(), "the planted pickle was loaded"
    assert len(rows_of(owner, "prediction_log", tenant)) == logged_before


# -- the version row, as a database session would rewrite it

ARTIFACT_COLUMNS = ("model_artifact_path", "artifact_sha256", "training_config")


@contextmanager
def runtime_session(tenant: uuid.UUID):
    """A session as the runtime login role, with its URL, in ``tenant``'s scope set by hand as psql would."""
    engine = create_engine(db.engine().url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT current_user")).scalar_one() == "modelops_app"
            connection.execute(text("SELECT set_config('app.tenant_id', :t, false)"), {"t": str(tenant)})
            connection.commit()  # for the session: a setting made in a transaction rolled back would go with it
            yield connection
    finally:
        engine.dispose()


def artifact_of(owner, version_id) -> dict:
    row = version_row(owner, version_id)
    return {column: row[column] for column in ARTIFACT_COLUMNS}


REWRITES = {
    "path to an absolute file": "model_artifact_path = '/tmp/planted.joblib'",
    "path": "model_artifact_path = 'ab/' || repeat('a', 64) || '.joblib'",
    "sha256": "artifact_sha256 = repeat('a', 64)",
    "path and sha256": "model_artifact_path = 'ab/planted.joblib', artifact_sha256 = repeat('a', 64)",
}


@pytest.mark.parametrize("rewrite", REWRITES)
def test_the_runtime_role_cannot_rewrite_which_file_a_version_loads(owner, rewrite):
    tenant, _ = tenant_with_member("swap")
    version_id = record_model("classification", tenant, tenant_seed=5200)["id"]
    before = artifact_of(owner, version_id)
    with runtime_session(tenant) as session:
        with pytest.raises(DBAPIError):  # refused, where row-level security would only have matched no row
            session.execute(text(f"UPDATE ai.model_versions SET {REWRITES[rewrite]} WHERE id = :v"), {"v": version_id})
        session.rollback()
    assert artifact_of(owner, version_id) == before


def test_not_even_the_owner_can_rewrite_a_recorded_artifact(owner):
    tenant, _ = tenant_with_member("swap-owner")
    version_id = record_model("classification", tenant, tenant_seed=5201)["id"]
    validation_model = {"artifact_path": "cd/" + "c" * 64 + ".joblib", "artifact_sha256": "c" * 64}
    with owner.begin() as connection:  # recorded once (the test model has none): allowed
        connection.execute(text("""UPDATE ai.model_versions SET training_config = training_config
                                   || jsonb_build_object('validation_model', CAST(:m AS jsonb)) WHERE id = :v"""),
                           {"m": json.dumps(validation_model), "v": version_id})
    before = artifact_of(owner, version_id)
    rewrites = [*REWRITES.values(), "training_config = jsonb_set(training_config, '{validation_model,artifact_sha256}', '\"dd\"')"]
    for rewrite in rewrites:
        with pytest.raises(IntegrityError, match="cannot change once recorded"):
            with owner.begin() as connection:
                connection.execute(text(f"UPDATE ai.model_versions SET {rewrite} WHERE id = :v"), {"v": version_id})
    with owner.begin() as connection:  # the rest of the row stays the registry's to update
        connection.execute(text("UPDATE ai.model_versions SET status_reason = 'still writable' WHERE id = :v"), {"v": version_id})
    assert artifact_of(owner, version_id) == before


# -- a version row pointed at a planted pickle all the same

def rewritten_by_the_owner(owner, version_id, path: str, sha256: str) -> None:
    """What a session that got past the lock would do: the owner lifts it for one transaction."""
    with owner.begin() as connection:
        connection.execute(text("ALTER TABLE ai.model_versions DISABLE TRIGGER model_versions_artifact_fixed"))
        connection.execute(text("UPDATE ai.model_versions SET model_artifact_path = :p, artifact_sha256 = :s WHERE id = :v"),
                           {"p": path, "s": sha256, "v": version_id})
        connection.execute(text("ALTER TABLE ai.model_versions ENABLE TRIGGER model_versions_artifact_fixed"))


def plant(store: Path, outside: Path, placement: str, data: bytes) -> tuple[str, list[Path]]:
    """Put ``data`` where ``placement`` says; (the path to record, the files made).

    Outside the store, the planted file even gets a signature that would verify for the recorded
    path and hash (made here, with the deployment's key), so that the store's paths alone refuse it."""
    sha256 = hashlib.sha256(data).hexdigest()
    name = f"planted-{uuid.uuid4().hex}.joblib"
    recorded, file = {
        "at its own content address, unsigned": (f"{sha256[:2]}/{sha256}.joblib", store / sha256[:2] / f"{sha256}.joblib"),
        "outside the store, by absolute path": (str(outside / name), outside / name),
        "outside the store, by '..'": (f"../{name}", store.parent / name),
        "through a symlink in the store": (f"{sha256[:2]}/{name}", outside / name),
    }[placement]
    beside = store / recorded  # the recorded path as a careless store would open it
    beside.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(data)
    if placement == "through a symlink in the store":
        beside.symlink_to(file)
    if placement == "at its own content address, unsigned":
        return recorded, [file]
    signature_file = beside.with_name(beside.name + ".sig")
    signature_file.write_text(signature(PurePosixPath(recorded), sha256))
    return recorded, [beside, file, signature_file]


PLACEMENTS = {
    "at its own content address, unsigned": "has no signature",
    "outside the store, by absolute path": "is absolute",
    "outside the store, by '..'": "climbs out of the artifact store",
    "through a symlink in the store": "a symlink leads it out",
}


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_a_version_pointed_at_a_planted_pickle_is_refused_before_it_is_unpickled(owner, tmp_path, placement):
    """Served and reproduced here, by the code a serving worker runs: the planted pickle's command
    would run in this process."""
    tenant, _ = tenant_with_member("planted")
    version = version_row(owner, record_model("classification", tenant, tenant_seed=5300 + list(PLACEMENTS).index(placement))["id"])
    prediction = logged_prediction(owner, version)
    marker = tmp_path / "unpickled"
    data = pickle.dumps(RunsACommand(str(marker)))
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(RunsACommand(str(control))))
    assert control.exists(), "the planted kind of pickle runs its command when unpickled"
    outside = tmp_path / "outside"
    outside.mkdir()
    logged_before = len(rows_of(owner, "prediction_log", tenant))
    recorded, made = plant(settings().artifact_dir, outside, placement, data)
    try:
        rewritten_by_the_owner(owner, version["id"], recorded, hashlib.sha256(data).hexdigest())
        (served,) = serving.predict_many([{**REQUEST, "tenant_id": str(tenant)}])
        with pytest.raises(audit.ArtifactUnavailable) as reproduced:
            audit.reproduce_prediction(prediction)
    finally:
        rewritten_by_the_owner(owner, version["id"], version["model_artifact_path"], version["artifact_sha256"])
        for file in made:
            file.unlink(missing_ok=True)
    assert served["status"] == "unavailable", served
    for reason in (served["reason"], str(reproduced.value)):
        assert PLACEMENTS[placement] in reason and recorded.split("/")[-1] in reason, reason
    assert not marker.exists(), "the planted pickle was loaded"
    assert len(rows_of(owner, "prediction_log", tenant)) == logged_before
