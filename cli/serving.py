"""Predictions and their reproduction on the command line: `modelops predict`, `modelops reproduce`."""
from __future__ import annotations

import json
import sys
import uuid
from itertools import islice

import click

from modelops import devstack
from cli.base import CommandError, check_messaging, checked, main
from modelops.config import settings
from schemas.tasks import TaskName

CLI_SERVICE = "modelops-cli"
PREDICT_BATCH_TASK = TaskName.SERVING_PREDICT_BATCH
# lines sent per batch: big enough for one vectorised predict to pay off, small enough to stream
CHUNK = 1000


@main.command()
@click.option("--agent", "agent_type", required=True, help="the agent type, e.g. classification or chat")
@click.option("--tenant", required=True, help="the tenant's id")
@click.option("--inline", is_flag=True, help="predict in this process instead of on a serving worker")
@click.option("--timeout", default=60.0, show_default=True, help="seconds to wait for each batch's answers")
def predict(agent_type: str, tenant: str, inline: bool, timeout: float) -> None:
    """Read one input_data JSON object per line of standard input; write one JSON answer per line
    (prediction id, output, confidence, model version, A/B group; or the reason it was refused)."""
    from modelops.agents import get_agent

    try:
        get_agent(agent_type)
    except ValueError as error:
        raise CommandError(str(error)) from None
    try:
        tenant_id = str(uuid.UUID(tenant))
    except ValueError:
        raise CommandError(f"tenant {tenant!r} is not a tenant id (a UUID)") from None
    if inline:
        checked(devstack.check_postgres, settings().database_url)
    else:
        check_messaging()
    lines = (line for line in sys.stdin if line.strip())
    while chunk := list(islice(lines, CHUNK)):
        for answer in _answers(chunk, agent_type, tenant_id, inline, timeout):
            click.echo(json.dumps(answer, ensure_ascii=False))


def _answers(lines: list[str], agent_type: str, tenant_id: str, inline: bool, timeout: float) -> list[dict]:
    """One answer per line, in order; a line that is not JSON is refused here and never sent."""
    from modelops import serving

    answers: list[dict | None] = [None] * len(lines)
    requests, positions = [], []
    for position, line in enumerate(lines):
        try:
            input_data = json.loads(line)
        except ValueError as error:
            answers[position] = serving.refused(f"input_data: not JSON: {error}")
            continue
        requests.append({"tenant_id": tenant_id, "agent_type": agent_type, "input_data": input_data})
        positions.append(position)
    for position, answer in zip(positions, _predict(requests, inline, timeout) if requests else []):
        answers[position] = answer
    return answers


def _predict(requests: list[dict], inline: bool, timeout: float) -> list[dict]:
    if inline:
        from modelops import serving

        return serving.predict_many(requests)
    from celery.exceptions import TimeoutError as CeleryTimeout

    from modelops.auth import services as calling_services
    from modelops.auth.client import ServiceCaller
    from workers.app import app

    # The operator predicts as a calling service of its own, a member of the tenants it asks for.
    issued = calling_services.ensure(CLI_SERVICE, sorted({request["tenant_id"] for request in requests}))
    signed = ServiceCaller.from_hex(issued.name, issued.credential).kwargs(PREDICT_BATCH_TASK, items=requests)
    try:
        return app.send_task(PREDICT_BATCH_TASK, kwargs=signed).get(timeout=timeout)
    except CeleryTimeout:
        raise CommandError(f"no answer within {timeout:g}s: is a serving worker running (`modelops worker --pool serving`)?") from None


@main.command()
@click.argument("prediction_id")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def reproduce(prediction_id: str, as_json: bool) -> None:
    """Predict a logged prediction again, in this process, from the exact artifact and logged input,
    and say whether the answer is identical; exits 1 when it is not."""
    from modelops import audit

    checked(devstack.check_postgres, settings().database_url)
    try:
        result = audit.reproduce_prediction(prediction_id)
    except audit.ReproductionError as error:
        if as_json:
            click.echo(json.dumps(error.as_result()))
        raise CommandError(str(error)) from None
    if as_json:
        click.echo(json.dumps(result))
    else:
        _show(result)
    if not result["is_identical"]:
        sys.exit(1)


def _show(result: dict) -> None:
    version, original, reproduced = result["model_version"], result["original"], result["reproduced"]
    click.echo(f"prediction   {result['prediction_id']} ({result['agent_type']}, tenant {result['tenant_id']}, "
               f"{result['prediction_timestamp']})")
    click.echo(f"model        {version['version']} ({version['scope']}) {version['id']}, artifact sha256 {version['artifact_sha256'][:16]}…")
    click.echo(f"original     {json.dumps(original['output'])}  confidence {original['confidence']:.2f}")
    click.echo(f"reproduced   {json.dumps(reproduced['output'])}  confidence {reproduced['confidence']:.2f}")
    click.echo(f"identical    {'yes' if result['is_identical'] else 'NO'}")
    logged = "yes" if result["is_reproducible"] else f"no: {result['reproducibility_note']}"
    click.echo(f"logged as reproducible  {logged}")
    environment = result["environment"]
    same = ", ".join(f"{name} {version}" for name, version in sorted(environment["current"].items()))
    click.echo(f"environment  {environment['note'] or 'as recorded at training: ' + same}")
