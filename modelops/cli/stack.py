"""Bringing the system up and down on this host: servers, worker pools, beat, the round trip."""
from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time

import click

from modelops import migrations, services
from modelops.cli.base import CommandError, checked, main
from modelops.config import redact, settings


def _export(found: services.Services) -> None:
    os.environ["DATABASE_URL"] = found.database_url
    os.environ["REDIS_URL"] = found.redis_url


def _bring_up_stack() -> services.Services:
    """Database and broker found or started, schema migrated: what every run needs first."""
    found = checked(services.bring_up, settings().home)
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
    checked(services.check_redis, settings().redis_url)
    os.execv(argv[0], argv)


@main.command()
def beat() -> None:
    """Start the scheduler. Run exactly one per deployment."""
    from workers import pools

    checked(services.check_redis, settings().redis_url)
    argv = pools.beat_command(str(settings().home / "celerybeat-schedule"))
    os.execv(argv[0], argv)


@main.command()
@click.option("--timeout", default=30.0, show_default=True, help="seconds to wait for every answer")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per queue")
def ping(timeout: float, as_json: bool) -> None:
    """Send a probe through every queue and show who answered."""
    checked(services.check_redis, settings().redis_url)
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
    # A stop request (`kill`, a closed terminal) ends the command through the `finally` below, which
    # stops the pools and beat; Ctrl-C arrives as KeyboardInterrupt.
    for request in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(request, lambda *_: sys.exit(0))
    try:
        for name in pools.POOLS:
            group.start(f"worker-{name}", pools.worker_command(name))
        group.start("beat", pools.beat_command(str(home / "celerybeat-schedule")))
        click.echo(f"started  {len(pools.POOLS)} worker pools and beat (logs in {home / 'logs'})")
        started = time.monotonic()
        answers = _round_trip(timeout)
        click.echo(f"round trip through {len(answers)} queues in {time.monotonic() - started:.1f}s:")
        _print_round_trip(answers, as_json=False)
        if once:
            return
        click.echo("running; Ctrl-C stops the pools and beat (`modelops down` then stops the servers)")
        while not (dead := group.exited()):
            time.sleep(1)
        raise CommandError(f"stopped unexpectedly: {dead} (see {home / 'logs'})")
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        group.stop()
        click.echo("pools and beat stopped")
