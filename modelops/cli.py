"""The command line, `modelops ...`.

The CLI is the composition root: the one place in this package that reaches into `workers/`
(imported inside the commands that talk to the broker), so that the domain stays importable and
testable without Celery.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path

import click

from modelops import migrations, services
from modelops.config import redact, settings


class CommandError(click.ClickException):
    """A failure the user can act on: one line on stderr, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


def _adopt_running_services() -> None:
    """Let every command find the servers `modelops up` started, when the environment names none."""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    running = services.running(settings().home)
    if running:
        os.environ.setdefault("DATABASE_URL", running.database_url)
        os.environ.setdefault("REDIS_URL", running.redis_url)


def _export(found: services.Services) -> None:
    os.environ["DATABASE_URL"] = found.database_url
    os.environ["REDIS_URL"] = found.redis_url


def _checked(action, *args, **kwargs):
    """Run ``action``, turning an unreachable or misconfigured service into one clear line."""
    try:
        return action(*args, **kwargs)
    except services.ServiceError as error:
        raise CommandError(str(error)) from None


@click.group()
def main() -> None:
    """Train, version, A/B-test, monitor and roll back the models of six AI agents."""
    _adopt_running_services()


# -- services -----------------------------------------------------------------------------------

def _bring_up_stack() -> services.Services:
    """Database and broker found or started, schema migrated: what every run needs first."""
    found = _checked(services.bring_up, settings().home)
    _export(found)
    migrations.upgrade()
    return found


@main.command()
def up() -> None:
    """Find or start Postgres and Redis, migrate, and print the URLs to export on other shells."""
    found = _bring_up_stack()
    for name, origin in found.origin.items():
        click.echo(f"# {name}: {origin}", err=True)
    # Quoted: the embedded Postgres URL names its socket folder in a query string (`?host=...`).
    click.echo(f"export DATABASE_URL={shlex.quote(found.database_url)}")
    click.echo(f"export REDIS_URL={shlex.quote(found.redis_url)}")


@main.command()
def down() -> None:
    """Stop the embedded servers that `modelops up` started (and nothing else)."""
    stopped = services.bring_down(settings().home)
    click.echo("\n".join(stopped) if stopped else "nothing to stop")


# -- database -----------------------------------------------------------------------------------

@main.group()
def db() -> None:
    """Schema migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    url = settings().database_url
    _checked(services.check_postgres, url)
    migrations.upgrade(revision)
    click.echo(f"{redact(url)} at revision {migrations.current_revision()}")


@db.command("downgrade")
@click.argument("revision", default="base")
def db_downgrade(revision: str) -> None:
    url = settings().database_url
    _checked(services.check_postgres, url)
    migrations.downgrade(revision)
    click.echo(f"{redact(url)} at revision {migrations.current_revision()}")


@db.command("current")
def db_current() -> None:
    _checked(services.check_postgres, settings().database_url)
    click.echo(migrations.current_revision() or "empty")


# -- tenants and feedback -------------------------------------------------------------------------

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

    report = importer.import_file(Path(file), caller, inline=inline)
    for status in ("accepted", "duplicate", "rejected", "refused"):
        click.echo(f"{status}: {report.counts.get(status, 0)}")
    for line, reason in report.problems:
        click.echo(f"  line {line}: {reason}")


@main.command()
def scrub() -> None:
    """Scrub one JSON value per line of standard input, with the pipeline's own scrubber."""
    from modelops.privacy.pii import scrub_many

    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as error:
            raise CommandError(f"line {number} is not JSON: {error}") from None
        click.echo(json.dumps(scrub_many([value])[0].value, ensure_ascii=False))


# -- processes ----------------------------------------------------------------------------------

@main.command()
@click.option("--pool", "pool", required=True, help="serving, ingest, privacy, training, experiments, monitoring, maintenance, or all")
@click.option("--concurrency", type=int, default=None, help="worker processes (default: the pool's own)")
def worker(pool: str, concurrency: int | None) -> None:
    """Start one worker of POOL on this host (it consumes the pool's queues)."""
    from workers import pools

    try:
        argv = pools.worker_command(pool, concurrency)
    except ValueError as error:
        raise CommandError(str(error)) from None
    _checked(services.check_redis, settings().redis_url)
    os.execv(argv[0], argv)


@main.command()
def beat() -> None:
    """Start the scheduler. Run exactly one per deployment."""
    from workers import pools

    _checked(services.check_redis, settings().redis_url)
    argv = pools.beat_command(str(settings().home / "celerybeat-schedule"))
    os.execv(argv[0], argv)


@main.command()
@click.option("--timeout", default=30.0, show_default=True, help="seconds to wait for every answer")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per queue")
def ping(timeout: float, as_json: bool) -> None:
    """Send a probe through every queue and show who answered."""
    _checked(services.check_redis, settings().redis_url)
    _print_round_trip(_round_trip(timeout), as_json)


def _round_trip(timeout: float) -> list[dict]:
    from celery.exceptions import TimeoutError as CeleryTimeout

    from workers.roundtrip import round_trip

    try:
        return round_trip(timeout=timeout)
    except CeleryTimeout:
        raise CommandError(f"no answer from every queue within {timeout:g}s: is a worker consuming each one?") from None


def _print_round_trip(answers: list[dict], as_json: bool) -> None:
    for answer in answers:
        if as_json:
            click.echo(json.dumps(answer))
        else:
            click.echo(
                f"  {answer['queue']:<12} done in {answer['seconds']:6.3f}s  by {answer['host']} pid {answer['pid']}"
                f"  (database role {answer['database_role']})"
            )


@main.command()
@click.option("--once", is_flag=True, help="run the round trip, stop the processes and exit")
@click.option("--timeout", default=120.0, show_default=True, help="seconds to wait for the pools to answer")
def demo(once: bool, timeout: float) -> None:
    """The main job: database and broker, migrations, every worker pool and beat, a task through
    every queue; then keeps running until Ctrl-C (or exits with --once)."""
    from workers import pools

    found = _bring_up_stack()
    home = settings().home
    click.echo(f"database {redact(found.database_url)} ({found.origin['postgres']})")
    click.echo(f"broker   {redact(found.redis_url)} ({found.origin['redis']})")
    click.echo(f"schema   at revision {migrations.current_revision()}")

    from modelops.supervisor import ProcessGroup

    group = ProcessGroup(home / "logs", dict(os.environ))
    for name in pools.POOLS:
        group.start(f"worker-{name}", pools.worker_command(name))
    group.start("beat", pools.beat_command(str(home / "celerybeat-schedule")))
    click.echo(f"started  {len(pools.POOLS)} worker pools and beat (logs in {home / 'logs'})")
    try:
        started = time.monotonic()
        answers = _round_trip(timeout)
        click.echo(f"round trip through {len(answers)} queues in {time.monotonic() - started:.1f}s:")
        _print_round_trip(answers, as_json=False)
        if once:
            return
        click.echo("running; Ctrl-C stops the pools and beat (`modelops down` then stops the servers)")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while not (dead := group.exited()):
            time.sleep(1)
        raise CommandError(f"stopped unexpectedly: {dead} (see {home / 'logs'})")
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        group.stop()
        click.echo("pools and beat stopped")


if __name__ == "__main__":
    main()
