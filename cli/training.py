"""Training now and reading the registry: `modelops train`, `modelops versions`."""
from __future__ import annotations

import json
import socket
import uuid
from typing import TYPE_CHECKING

import click

from modelops import clock, db, devstack
from cli.base import CommandError, check_messaging, checked, existing_tenant, main
from modelops.config import settings
from schemas.tasks import TaskName

if TYPE_CHECKING:
    from modelops.registry.store import ModelVersion

TRAIN_TASK = TaskName.TRAINING_TRAIN_MODEL
# Who asked, as recorded on the run (and, as a UUID, in the version's created_by).
OPERATOR = "operator"
GLOBAL = "global"


@main.command()
@click.option("--agent", "agent_type", required=True, help="the agent type, e.g. classification or chat")
@click.option("--tenant", required=True, help="the tenant's id")
@click.option("--inline", is_flag=True, help="train in this process instead of on a training worker")
@click.option("--wait", is_flag=True, help="wait for the training worker's result")
@click.option("--timeout", default=3600.0, show_default=True, help="seconds --wait waits")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def train(agent_type: str, tenant: str, inline: bool, wait: bool, timeout: float, as_json: bool) -> None:
    """Train AGENT for TENANT now, whatever the retraining schedule says, and print the new version,
    its validation metrics and the promotion gate's decision."""
    _known_agent(agent_type)
    checked(devstack.check_postgres, settings().database_url)
    tenant_id = existing_tenant(tenant)
    if inline:
        run_id = _create_run(agent_type, tenant_id)
        _train_inline(run_id)
        _report(run_id, tenant_id, as_json)
        return
    check_messaging()
    run_id = _create_run(agent_type, tenant_id)
    # enqueued only now that the run's transaction has committed, so the worker finds it
    from workers.app import app

    result = app.send_task(TRAIN_TASK, args=[str(run_id)])
    if not wait:
        if as_json:
            click.echo(json.dumps({"run_id": str(run_id), "task_id": result.id, "status": "queued"}))
        else:
            click.echo(f"run      {run_id} (queued)\ntask     {result.id}")
        return
    _wait_for(result, run_id, timeout)
    _report(run_id, tenant_id, as_json)


@main.command()
@click.option("--agent", "agent_type", required=True, help="the agent type, e.g. classification or chat")
@click.option("--tenant", default=GLOBAL, show_default=True, help="a tenant's id, or 'global' for the global models")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def versions(agent_type: str, tenant: str, as_json: bool) -> None:
    """List AGENT's versions for TENANT, oldest first, marking the production one."""
    from modelops.registry import store
    from modelops.registry.versions import scope_key

    _known_agent(agent_type)
    checked(devstack.check_postgres, settings().database_url)
    tenant_id = None if tenant == GLOBAL else existing_tenant(tenant)
    scope = scope_key(tenant_id)
    # an operator's read: the global models and any tenant's, whoever's they are
    with db.operator_scope() as connection:
        listed = [_version_view(version) for version in store.listing(connection, agent_type, scope)]
    if as_json:
        click.echo(json.dumps({"agent_type": agent_type, "scope": scope, "versions": listed}))
        return
    if not listed:
        click.echo(f"no {agent_type} versions for {scope}")
        return
    click.echo(f"{agent_type} for {scope}: {len(listed)} version(s); * marks production; "
               f"precision, recall and F1 {listed[-1]['metrics']['averaging']}-averaged")
    click.echo(f"  {'version':<8} {'created (UTC)':<19} {'status':<10} {'acc':>6} {'prec':>6} {'rec':>6} {'f1':>6}"
               f" {'train':>8} {'valid':>7} {'artifact':>9}")
    for version in listed:
        metrics = version["metrics"]
        click.echo(
            f"{'*' if version['is_production'] else ' '} {version['version']:<8} {version['created_at'][:19].replace('T', ' '):<19}"
            f" {version['status']:<10} {_figure(metrics['accuracy'])} {_figure(metrics['precision'])}"
            f" {_figure(metrics['recall'])} {_figure(metrics['f1'])} {version['training_samples']:>8}"
            f" {version['validation_samples']:>7} {_kilobytes(version['artifact_size_bytes']):>9}"
        )


def _known_agent(agent_type: str) -> None:
    from modelops.agents import get_agent

    try:
        get_agent(agent_type)
    except ValueError as error:
        raise CommandError(str(error)) from None


def _create_run(agent_type: str, tenant_id: uuid.UUID) -> uuid.UUID:
    from modelops.registry.versions import scope_key
    from modelops.training import runs

    scope, now = scope_key(tenant_id), clock.now()
    with db.tenant_scope(tenant_id) as connection:
        run_id = runs.create(
            connection, agent_type=agent_type, tenant_id=tenant_id, scope_key=scope, trigger="manual",
            reason="modelops train", requested_by=OPERATOR, run_key=f"manual:{agent_type}:{scope}:{uuid.uuid4()}", now=now,
        )
        busy = runs.in_flight(connection, agent_type, scope) if run_id is None else None
    if run_id is None:
        raise CommandError(f"{agent_type} for {scope} is already training (run {busy} is queued or running);"
                           f" one run at a time per agent and tenant")
    return run_id


def _train_inline(run_id: uuid.UUID) -> None:
    from modelops import workflows

    try:
        workflows.train(run_id, worker=f"cli@{socket.gethostname()}")
    except Exception as error:  # the run records its own failure
        raise CommandError(f"training run {run_id} failed: {type(error).__name__}: {error}") from None


def _wait_for(result, run_id: uuid.UUID, timeout: float) -> None:
    from celery.exceptions import TimeoutError as CeleryTimeout

    try:
        result.get(timeout=timeout)
    except CeleryTimeout:
        raise CommandError(f"training run {run_id} gave no result within {timeout:g}s: "
                           f"is a training worker running (`modelops worker --pool training`)?") from None
    except Exception as error:  # the task's own exception, re-raised here by Celery
        raise CommandError(f"training run {run_id} failed on the worker: {type(error).__name__}: {error}") from None


def _report(run_id: uuid.UUID, tenant_id: uuid.UUID, as_json: bool) -> None:
    """What the run recorded (the same whichever process trained it); a refusal exits non-zero."""
    from modelops.registry import store
    from modelops.training import runs

    with db.tenant_scope(tenant_id) as connection:
        run = runs.get(connection, run_id)
        version = store.get(connection, run["model_version_id"]) if run["model_version_id"] else None
    outcome = {"run_id": str(run_id), "status": run["status"]}
    if version is None:
        outcome["reason"] = run["error"]
        if as_json:
            click.echo(json.dumps(outcome))
        raise CommandError(f"no model trained (run {run_id} {run['status']}): {run['error'] or 'no reason recorded'}")
    view = _version_view(version)
    outcome |= {"model_version_id": view["id"], "version": view["version"], "metrics": view["metrics"],
                "training_samples": view["training_samples"], "validation_samples": view["validation_samples"],
                "artifact_size_bytes": view["artifact_size_bytes"], "decision": run["details"].get("decision")}
    if as_json:
        click.echo(json.dumps(outcome))
        return
    metrics, decision = view["metrics"], outcome["decision"] or {}
    click.echo(f"run       {run_id} ({run['status']})")
    click.echo(f"version   {view['version']}  {view['id']}")
    click.echo(f"metrics   accuracy {metrics['accuracy']:.4f}  precision {metrics['precision']:.4f}  recall "
               f"{metrics['recall']:.4f}  f1 {metrics['f1']:.4f}  ({metrics['averaging']}-averaged over classes)")
    click.echo(f"samples   {view['training_samples']} training, {view['validation_samples']} validation;"
               f" artifact {_kilobytes(view['artifact_size_bytes'])}")
    click.echo(f"decision  {decision.get('outcome', view['status'])}: {decision.get('reason', view['status_reason'])}")


def _version_view(version: ModelVersion) -> dict:
    """A version as plain JSON values, with its metrics' averaging."""
    return {
        "id": str(version.id), "version": version.version, "status": version.status, "status_reason": version.status_reason,
        "is_production": version.is_production, "created_at": version.created_at.isoformat(),
        "trained_on": version.trained_on.isoformat(),
        "metrics": {"accuracy": _number(version.accuracy_score), "precision": _number(version.precision_score),
                    "recall": _number(version.recall_score), "f1": _number(version.f1_score),
                    "averaging": (version.metrics_detail or {}).get("averaging")},
        "training_samples": version.training_samples, "validation_samples": version.validation_samples,
        "training_seconds": version.training_duration.total_seconds() if version.training_duration else None,
        "artifact_size_bytes": version.artifact_size_bytes,
        "rollback_version": str(version.rollback_version) if version.rollback_version else None,
    }


def _number(value) -> float | None:
    return None if value is None else float(value)


def _figure(value: float | None) -> str:
    return f"{value:>6.4f}" if value is not None else f"{'-':>6}"


def _kilobytes(size: int | None) -> str:
    return f"{size / 1024:.0f} KB" if size is not None else "-"
