"""A/B tests on the command line: `modelops ab status | evaluate | start | shadow`.

Each command does its work in this process (it needs the database only, not a worker): an
operator asking for a look now gets the same look the daily beat task would make, since a look is
the test's day and is written once.
"""
from __future__ import annotations

import json

import click

from modelops import clock, db, devstack
from cli.base import CommandError, checked, main
from modelops.config import settings

OPERATOR = "operator"


@main.group()
def ab() -> None:
    """A/B tests: where they stand, a look now, starting one, replaying a candidate in shadow."""


def _ready() -> None:
    checked(devstack.check_postgres, settings().database_url)


def _refusals(action, *args, **kwargs):
    from modelops.experiments.lifecycle import ExperimentRefused

    try:
        return action(*args, **kwargs)
    except ExperimentRefused as refusal:
        raise CommandError(str(refusal)) from None


@ab.command()
@click.option("--agent", "agent_type", default=None, help="only this agent's tests")
@click.option("--tenant", default=None, help="only this tenant's tests")
@click.option("--limit", default=50, show_default=True, help="at most this many tests, running ones first")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def status(agent_type: str | None, tenant: str | None, limit: int, as_json: bool) -> None:
    """Running and recent tests with their latest look's figures."""
    from modelops.experiments import lifecycle

    _ready()
    with db.operator_scope() as connection:
        tests = _refusals(lifecycle.overview, connection, agent_type, tenant, limit)
    if as_json:
        click.echo(json.dumps({"tests": tests}))
        return
    if not tests:
        click.echo("no A/B tests")
        return
    for test in tests:
        _show_test(test)


@ab.command()
@click.argument("test_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def evaluate(test_id: str | None, as_json: bool) -> None:
    """Today's look at TEST_ID, or at every running test without one."""
    from modelops.experiments import evaluation

    _ready()
    if test_id:
        results = [_refusals(evaluation.evaluate_test, test_id, clock.now())]
    else:
        results = evaluation.evaluate_all_running(clock.now())["tests"]
    if as_json:
        click.echo(json.dumps({"tests": results}))
        return
    if not results:
        click.echo("no running A/B tests")
    for result in results:
        _show_evaluation(result)


@ab.command()
@click.option("--version", "version_id", required=True, help="the candidate's model version id")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def start(version_id: str, as_json: bool) -> None:
    """Start an A/B test of a candidate against its scope's production model."""
    from modelops.experiments import lifecycle

    _ready()
    with db.operator_scope() as connection:
        outcome = _refusals(lifecycle.start_test, connection, version_id, actor=OPERATOR, now=clock.now())
    if as_json:
        click.echo(json.dumps(outcome))
    elif outcome["status"] == "queued":
        click.echo(outcome["reason"])
    else:
        plan = outcome["planned_sample_size"]
        planned = f"{plan['treatment']} treatment + {plan['control']} control labelled" if plan else "at the first analysed look"
        click.echo(f"test     {outcome['test_id']} ({outcome['status']})\n"
                   f"split    {outcome['allocation']:.0%} to the candidate\nplanned  {planned}")


@ab.command()
@click.option("--version", "version_id", required=True, help="the candidate's model version id")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def shadow(version_id: str, as_json: bool) -> None:
    """Replay a candidate on production's labelled logged predictions, beside production."""
    from modelops.experiments import shadow as replay

    _ready()
    report = _refusals(replay.shadow_evaluate, version_id, clock.now())
    if as_json:
        click.echo(json.dumps(report))
        return
    if not report["rows"]:
        click.echo(f"no labelled predictions of production {report['production']['version']} to replay")
        return
    candidate, production = report["candidate"], report["production"]
    click.echo(f"rows        {report['rows']} labelled predictions of production {production['version']}"
               f" ({report['window']['from'][:10]} to {report['window']['to'][:10]})")
    click.echo(f"candidate   {candidate['version']}  accuracy {candidate['accuracy']:.4f}")
    click.echo(f"production  {production['version']}  accuracy {production['accuracy']:.4f} replayed, "
               f"{production['logged_accuracy']:.4f} as logged")
    click.echo(f"lift        {report['lift']:+.4f}  (only the candidate right on {report['only_candidate_correct']} rows, "
               f"only production on {report['only_production_correct']}; McNemar p = {report['mcnemar_p_value']:.3g})")


def _show_test(test: dict) -> None:
    ended = f", ended {test['ended_at'][:16]}" if test["ended_at"] else ""
    click.echo(f"{test['id']}  {test['agent_type']} {test['scope_key']}  {test['status']}"
               f" (started {test['started_at'][:16]}{ended})")
    click.echo(f"  control {test['control_version']} vs treatment {test['treatment_version']} at {test['allocation']:.0%}")
    latest = test["latest_decision"]
    if latest is None:
        click.echo("  not evaluated yet")
    else:
        click.echo(f"  look {latest['look_number']}: {latest['decision']}: {latest['reason']}")
        click.echo(f"  control {latest['control_correct']}/{latest['control_samples']}, treatment "
                   f"{latest['treatment_correct']}/{latest['treatment_samples']} right; planned treatment "
                   f"{latest['required_sample_size'] or '-'}; split p = {_figure(latest['srm_p_value'])}, "
                   f"p = {_figure(latest['p_value'])}")
    if test["end_reason"]:
        click.echo(f"  ended: {test['end_reason']}")


def _show_evaluation(result: dict) -> None:
    if "error" in result:
        click.echo(f"{result['test_id']}  could not be evaluated: {result['error']}")
        return
    decision = result["decision"]
    what = f"look {decision['look_number']}: {decision['decision']}: {decision['reason']}" if decision else result.get("note", "")
    written = "" if result["written"] else " (already recorded)"
    click.echo(f"{result['test_id']}  {result['agent_type']} {result['scope_key']}  {result['test_status']}{written}\n  {what}")
    if result.get("next_test"):
        click.echo(f"  next: {json.dumps(result['next_test'])}")


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
