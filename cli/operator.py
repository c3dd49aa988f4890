"""The operator's overview and hand moves: `modelops status`, `modelops promote`."""
from __future__ import annotations

import json
import uuid

import click

from modelops import AGENT_TYPES, clock, db, devstack
from cli.base import CommandError, checked, existing_tenant, main
from modelops.config import settings

OPERATOR = "operator"


@main.command()
@click.option("--agent", "agent_type", default=None, help="only this agent")
@click.option("--tenant", default=None, help="only this tenant (its id)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def status(agent_type: str | None, tenant: str | None, as_json: bool) -> None:
    """The production model and running A/B test of each agent and tenant, and the open alerts."""
    from modelops.dashboard.filters import Query
    from modelops.dashboard.panels import models
    from modelops.experiments import lifecycle
    from modelops.alerting import alerts

    if agent_type is not None and agent_type not in AGENT_TYPES:
        raise CommandError(f"unknown agent {agent_type!r}; the agents are {', '.join(AGENT_TYPES)}")
    checked(devstack.check_postgres, settings().database_url)
    tenant_id = existing_tenant(tenant) if tenant else None
    query = Query(agent_type=agent_type, tenant_id=tenant_id, now=clock.now(), is_operator=True)
    with db.operator_scope() as connection:
        production = models.read(connection, query)["models"]
        running = [test for test in lifecycle.overview(connection, agent_type, tenant_id, limit=1000) if test["status"] == "running"]
        open_alerts = [alert for alert in alerts.open_alerts(connection, tenant_id)
                       if agent_type is None or alert["agent_type"] == agent_type]
    tests = {(test["agent_type"], test["scope_key"]): test for test in running}
    scopes = [{**_model_view(model), "ab_test": _test_view(tests.get((model["agent_type"], model["scope_key"])))}
              for model in production]
    if as_json:
        click.echo(json.dumps({"at": query.now.isoformat(), "models": scopes, "open_alerts": open_alerts}))
        return
    _show_status(scopes, open_alerts)


@main.command()
@click.argument("version_id")
@click.option("--reason", required=True, help="why, recorded in the production history")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def promote(version_id: str, reason: str, as_json: bool) -> None:
    """Make VERSION_ID production for its agent and scope by hand (the one it replaces is retired)."""
    from modelops.experiments import lifecycle
    from modelops.registry import promotion

    if not reason.strip():
        raise CommandError("say why (--reason): it is recorded in the production history")
    try:
        version = uuid.UUID(version_id)
    except ValueError:
        raise CommandError(f"{version_id!r} is not a model version id (a UUID)") from None
    checked(devstack.check_postgres, settings().database_url)
    with db.operator_scope() as connection:
        try:
            outcome = lifecycle.promote_by_hand(connection, version, OPERATOR, reason.strip(), clock.now())
        except promotion.PromotionError as error:
            raise CommandError(str(error)) from None
    promoted, replaced, ended_test = outcome["promoted"], outcome["replaced"], outcome["ended_ab_test"]
    if as_json:
        click.echo(json.dumps(outcome))
    elif not outcome["changed"]:
        click.echo(f"{outcome['agent_type']} {promoted['version']} is already production for {outcome['scope_key']}")
    else:
        click.echo(f"{outcome['agent_type']} {promoted['version']} ({promoted['id']}) is production for {outcome['scope_key']}"
                   + (f", replacing {replaced['version']} ({replaced['id']})" if replaced else ""))
        if ended_test:
            click.echo(f"A/B test {ended_test['id']} ended: {ended_test['status']}")


def _model_view(model: dict) -> dict:
    keys = ("agent_type", "scope_key", "tenant_id", "tenant_name", "id", "version", "trained_on", "validation_accuracy",
            "predictions_today", "accuracy", "avg_response_time_ms", "open_alerts")
    return {key: model[key] for key in keys}


def _test_view(test: dict | None) -> dict | None:
    if test is None:
        return None
    latest = test["latest_decision"]
    return {"id": test["id"], "control_version": test["control_version"], "treatment_version": test["treatment_version"],
            "allocation": test["allocation"], "started_at": test["started_at"],
            "latest_decision": None if latest is None else {key: latest[key] for key in (
                "look_number", "decision", "control_accuracy", "treatment_accuracy", "control_samples", "treatment_samples", "p_value")}}


def _show_status(scopes: list[dict], open_alerts: list[dict]) -> None:
    click.echo(f"production models: {len(scopes)}")
    for scope in scopes:
        who = scope["tenant_name"] or scope["scope_key"]
        live = (f"today {scope['predictions_today']} predictions, accuracy {_figure(scope['accuracy'])}"
                if scope["predictions_today"] else "no predictions today")
        click.echo(f"  {scope['agent_type']:<15} {who:<24} {scope['version']:<7} validation {_figure(scope['validation_accuracy'])}"
                   f"  {live}")
        test = scope["ab_test"]
        if test:
            latest = test["latest_decision"]
            look = (f"look {latest['look_number']}: {latest['decision']} ({_figure(latest['control_accuracy'])} vs "
                    f"{_figure(latest['treatment_accuracy'])})" if latest else "no look yet")
            click.echo(f"  {'':<15} {'':<24} A/B {test['control_version']} vs {test['treatment_version']}"
                       f" at {test['allocation']:.0%}, {look}")
    click.echo(f"open alerts: {len(open_alerts)}")
    for alert in open_alerts:
        click.echo(f"  {alert['severity']:<8} {alert['alert_type']:<24} {alert['agent_type'] or '-':<15} {alert['message']}")


def _figure(value) -> str:
    return "-" if value is None else f"{value:.4f}"
