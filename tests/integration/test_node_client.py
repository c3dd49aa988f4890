"""A service written in Node.js gets a prediction by task name: celery-node from npm, an envelope
signed with Node's own crypto, through the run's real broker and worker (tests/node/predict.js)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from modelops.config import settings
from tests.callers import caller
from tests.integration.serving_models import record_model

pytestmark = pytest.mark.integration

CLIENT = Path(__file__).resolve().parents[1] / "node" / "predict.js"
INPUT = {"description": "AMZN MKTP US*2K4", "amount": 12.5, "currency": "USD", "direction": "debit", "date": "2031-06-01"}


def run_node(**env: str) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, "node is needed for this test"
    assert (CLIENT.parent / "node_modules" / "celery-node").is_dir(), "run `make install` (npm ci --prefix tests/node)"
    return subprocess.run([node, str(CLIENT)], env={**os.environ, "BROKER_URL": settings().redis_url, **env},
                          capture_output=True, text=True, timeout=120)


def test_a_nodejs_service_with_its_credential_gets_a_prediction(worker, make_tenant):
    tenant = make_tenant("node-client")
    record_model("classification", tenant, tenant_seed=7)
    service = caller("svc-node", tenants=[tenant])
    done = run_node(SERVICE=service.service, CREDENTIAL=service.credential.hex(), TENANT_ID=str(tenant),
                    INPUT_DATA=json.dumps(INPUT))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == "predicted" and answer["tenant_id"] == str(tenant), answer
    assert answer["output"]["category"]


def test_a_nodejs_service_with_a_wrong_credential_is_refused(worker, make_tenant):
    tenant = make_tenant("node-client-forged")
    service = caller("svc-node", tenants=[tenant])
    done = run_node(SERVICE=service.service, CREDENTIAL="00" * 32, TENANT_ID=str(tenant), INPUT_DATA=json.dumps(INPUT))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == "refused" and "does not verify" in answer["reason"]
