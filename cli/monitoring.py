"""Alerts and rollbacks on the command line: `modelops alerts [resolve]`, `modelops rollback`.

Each command does its work in this process (it needs the database only): an operator's rollback
is the same transaction the monitoring worker's is, under the same scope lock, so it cannot race
a promotion or an automatic rollback of the same model. Alerts it raises are notified before it
returns.
"""
from __future__ import annotations

import json

import click

from modelops import clock, db, devstack
from cli.base import CommandError, checked, main
from modelops.config import settings

GLOBAL = "global"


def _ready() -> None:
    checked(devstack.check_postgres, settings().database_url)


@main.group(invoke_without_command=True)
@click.option("--tenant", default=None, help="only this tenant's alerts")
@click.option("--all", "include_resolved", is_flag=True, help="resolved alerts too, after the open ones")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.pass_context
def alerts(context: click.Context, tenant: str | None, include_resolved: bool, as_json: bool) -> None:
    """Open alerts, the most severe first (`modelops alerts resolve ID` closes one)."""
    if context.invoked_subcommand is not None:
        return
    from modelops.alerting import alerts as registry

    _ready()
    with db.operator_scope() as connection:
        try:
            listed = registry.listing(connection, tenant, include_resolved=include_resolved)
        except registry.AlertError as error:
            raise CommandError(str(error)) from None
    if as_json:
        click.echo(json.dumps({"alerts": listed}))
        return
    if not listed:
        click.echo("no open alerts" if not include_resolved else "no alerts")
        return
    for alert in listed:
        _show_alert(alert)


@alerts.command()
@click.argument("alert_id")
@click.option("--by", "resolved_by", required=True, help="who resolves it (recorded)")
@click.option("--note", default=None, help="what was done about it (recorded)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def resolve(alert_id: str, resolved_by: str, note: str | None, as_json: bool) -> None:
    """Close ALERT_ID: a new alert of its kind may be raised from now on."""
    from modelops.alerting import alerts as registry

    _ready()
    try:
        with db.operator_scope() as connection:
            resolved = registry.resolve_alert(connection, alert_id, resolved_by=resolved_by, note=note, now=clock.now())
    except registry.AlertError as error:
        raise CommandError(str(error)) from None
    if as_json:
        click.echo(json.dumps(resolved))
    else:
        click.echo(f"resolved {resolved['id']} ({resolved['alert_type']}) by {resolved['resolved_by']} at {resolved['resolved_at']}")


@main.command()
@click.option("--agent", "agent_type", required=True, help="the agent type, e.g. classification")
@click.option("--tenant", default=None, help="the tenant's id, or 'global' for the global model")
@click.option("--region", default=None, help="the region whose aggregate model to roll back (instead of --tenant)")
@click.option("--reason", required=True, help="why (recorded on the rollback event and the ticket)")
@click.option("--by", "actor", default="operator", show_default=True, help="who asks (recorded)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def rollback(agent_type: str, tenant: str | None, region: str | None, reason: str, actor: str, as_json: bool) -> None:
    """Put the previous stable version of AGENT back in production for TENANT (or REGION, or the
    global model), as the automatic rollback does: event, investigation ticket and alert."""
    from modelops.alerting import alerts as registry
    from modelops.monitoring import rollback as policy

    if (tenant is None) == (region is None):
        raise CommandError("name exactly one of --tenant (a tenant id or 'global') and --region")
    _ready()
    tenant_id = None if tenant in (None, GLOBAL) else tenant
    try:
        with db.operator_scope() as connection:
            result = policy.trigger_rollback(connection, agent_type, tenant_id, region=region, actor=actor, reason=reason,
                                             triggers={"manual": {"requested_by": actor, "reason": reason}}, now=clock.now())
    except ValueError as error:  # a refusal, an unknown agent or a malformed id
        raise CommandError(str(error)) from None
    result["notified"] = registry.deliver_pending(clock.now())
    if as_json:
        click.echo(json.dumps(result))
    elif result["outcome"] == "rolled_back":
        click.echo(f"rolled back {agent_type} {result['scope_key']}: {result['from_version']} -> {result['to_version']}\n"
                   f"event    {result['rollback_event_id']}\nticket   {result['ticket_id']}\nalert    {result['alert_id']}")
    elif result["outcome"] == "no_previous_version":
        raise CommandError(f"no previous version of {agent_type} for {result['scope_key']} to roll back to: "
                           f"{result['from_version']} stays in production; operations were alerted ({result['emergency_alert_id']})")
    else:
        click.echo(f"nothing rolled back: {result['reason']}")


def _show_alert(alert: dict) -> None:
    where = " ".join(part for part in (alert["agent_type"], f"tenant {alert['tenant_id']}" if alert["tenant_id"] else None) if part)
    seen = f", seen {alert['occurrences']} times, last {alert['last_seen_at'][:19]}" if alert["occurrences"] > 1 else ""
    click.echo(f"{alert['id']}  {alert['severity']:<8} {alert['status']:<9} {alert['alert_type']}  {where}".rstrip())
    click.echo(f"  {alert['message']}")
    click.echo(f"  raised {alert['created_at'][:19]} for the {alert['audience']} team{seen}")
    if alert["resolved_at"]:
        note = f": {alert['resolution_note']}" if alert["resolution_note"] else ""
        click.echo(f"  resolved {alert['resolved_at'][:19]} by {alert['resolved_by']}{note}")
