"""Tenants, feedback import and the scrubber on the command line."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.base import CommandError, main


@main.group()
def tenant() -> None:
    """Tenants, their members and their consent to aggregate learning."""


@tenant.command("create")
@click.argument("name")
@click.option("--id", "tenant_id", type=click.UUID, default=None)
@click.option("--country", default=None, help="ISO 3166-1 alpha-2 code")
@click.option("--region", default=None)
@click.option("--opt-in", is_flag=True, help="contribute scrubbed data to the country/region aggregate")
@click.option("--member", "members", multiple=True, help="a service principal that may act for the tenant")
def tenant_create(name, tenant_id, country, region, opt_in, members) -> None:
    """Create a tenant and print its id."""
    from modelops import tenants

    try:
        created = tenants.create_tenant(name, tenant_id=tenant_id, country=country, region=region, opt_in=opt_in)
    except ValueError as error:
        raise CommandError(str(error)) from None
    for principal in members:
        tenants.add_member(created, principal, "service")
    click.echo(str(created))


@main.group()
def feedback() -> None:
    """Feedback intake."""


@feedback.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--caller", required=True, help="the principal the events come from (a tenant member)")
@click.option("--inline", is_flag=True, help="scrub and store in this process instead of enqueuing")
def feedback_import(file: str, caller: str, inline: bool) -> None:
    """Import one JSON event per line; print accepted / duplicate / rejected counts with reasons."""
    from modelops import feedback_import as importer

    report = importer.import_file(Path(file), caller, importer.admit_inline if inline else _admit_via_broker)
    for status in ("accepted", "duplicate", "rejected", "refused"):
        click.echo(f"{status}: {report.counts.get(status, 0)}")
    for line, reason in report.problems:
        click.echo(f"  line {line}: {reason}")


def _admit_via_broker(events: list, caller: str) -> list[dict]:
    """The intake's batch task, called as the caller (a registered service: this process holds the
    secret key, so it signs as any service)."""
    from modelops.auth import services
    from modelops.auth.client import ServiceCaller
    from modelops.feedback_import import TASK_NAME
    from workers.app import app

    issued = services.current(caller)
    signed = ServiceCaller.from_hex(issued.name, issued.credential).kwargs(TASK_NAME, events=events)
    return app.send_task(TASK_NAME, kwargs=signed).get(timeout=300)["results"]


@main.command()
def scrub() -> None:
    """Scrub one JSON value per line of standard input, with the pipeline's own scrubber."""
    for number, line in enumerate(sys.stdin.buffer, start=1):  # bytes: a line may not be UTF-8
        if line.strip():
            click.echo(scrubbed_line(number, line))


def scrubbed_line(number: int, line: bytes) -> str:
    """One line of input, scrubbed, as one line of JSON; CommandError naming the line when it is
    no JSON this process can read (not UTF-8, not JSON, or nested deeper than the parser goes)."""
    from modelops.privacy.pii import scrub_many

    try:
        value = json.loads(line.decode("utf-8"))
        # the scrubber walks any depth; the json module recurses, reading and writing alike
        scrubbed = scrub_many([value])[0].value
        text = json.dumps(scrubbed, ensure_ascii=False)
    except UnicodeDecodeError as error:
        raise CommandError(f"line {number} is not valid UTF-8: {error}") from None
    except ValueError as error:
        raise CommandError(f"line {number} is not JSON: {error}") from None
    except RecursionError:
        raise CommandError(f"line {number} is nested too deeply to be read as JSON") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JSON's escapes carry one), which only an escape can write
        text = json.dumps(scrubbed)
    return text
