"""Bringing the system up and down on this host: servers, worker pools, beat, the round trip."""
from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time

import click

from modelops import devstack, migrations
from cli import scenario
from cli.base import CommandError, check_messaging, checked, main
from cli.dashboard import (DASHBOARD_PORT, FLOWER_PORT, SIGN_IN_LINK_LIFETIME, create_token, dashboard_command,
                                    dashboard_environment, flower_command, free_port, sign_in_link)
from cli.flower_auth import flower_auth
from modelops.config import redact, runtime_environment, settings
from modelops.simulation import platform


# The demo's dashboard and Flower listen on this host only; a browser signed in through its link stays so this long.
LOCAL = "127.0.0.1"
DEMO_TOKEN_TTL = "12h"
# A simulated day every 20 real seconds: long enough for a day's traffic and the system's reactions.
DEMO_SPEED = 4320.0
# The scenario's shortest run and a day to spare: a late-starting A/B test still ends in a promotion
# and a rollback before the run does.
DEMO_DAYS = platform.MIN_DAYS + 1


def _export(found: devstack.Services) -> None:
    os.environ["DATABASE_URL"] = found.database_url
    os.environ["REDIS_URL"] = found.redis_url


def _bring_up_stack() -> devstack.Services:
    """Database and broker found or started, schema migrated: what every run needs first."""
    found = checked(devstack.bring_up, settings().home)
    _export(found)
    check_messaging()  # a broker of its own (BROKER_URL) is never started here: it must answer
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
    stopped = devstack.bring_down(settings().home)
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
    check_messaging()
    os.execve(argv[0], argv, pools.environment(pool))


@main.command()
def beat() -> None:
    """Start the scheduler. Run exactly one per deployment."""
    from workers import pools

    check_messaging()
    argv = pools.beat_command(str(settings().home / "celerybeat-schedule"))
    os.execve(argv[0], argv, pools.beat_environment())


@main.command()
@click.option("--timeout", default=30.0, show_default=True, help="seconds to wait for every answer")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per queue")
def ping(timeout: float, as_json: bool) -> None:
    """Send a probe through every queue and show who answered."""
    check_messaging()
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


def _start_watching(group, dashboard_port: int, flower_port: int) -> None:
    """The dashboard (with a sign-in link that carries an operator's token) and Flower, on this host only."""
    # made here, so that the password is shown on this terminal rather than in Flower's log (and a
    # malformed MODELOPS_FLOWER_AUTH stops the demo now, not Flower later)
    flower = flower_auth(os.environ, settings().home)
    token = create_token("operator", None, "demo", DEMO_TOKEN_TTL, created_by="modelops demo")["token"]
    dashboard_port, flower_port = free_port(LOCAL, dashboard_port), free_port(LOCAL, flower_port)
    group.start("dashboard", dashboard_command(LOCAL, dashboard_port), env=dashboard_environment(os.environ))
    group.start("flower", flower_command(LOCAL, flower_port))  # the group's environment: no database URL
    link = sign_in_link(f"http://{LOCAL}:{dashboard_port}", token)
    click.echo(f"dashboard {link} (an operator's sign-in link, for one browser, within {SIGN_IN_LINK_LIFETIME}; "
               "`modelops token create --role operator --link` prints another)")
    click.echo(f"flower    http://{LOCAL}:{flower_port}/ ({flower.described})")


@main.command()
@click.option("--once", is_flag=True, help="play the scenario once, stop the processes and exit")
@click.option("--days", default=DEMO_DAYS, show_default=True, help="simulated days to play")
@click.option("--tenants", default=3, show_default=True, help="simulated tenants (the first three are scripted)")
@click.option("--speed", default=DEMO_SPEED, show_default=True, help="simulated seconds per real second")
@click.option("--timeout", default=120.0, show_default=True, help="seconds to wait for the pools to answer")
@click.option("--dashboard-port", default=DASHBOARD_PORT, show_default=True, help="the dashboard's port (another if taken)")
@click.option("--flower-port", default=FLOWER_PORT, show_default=True, help="Flower's port (another if taken)")
def demo(once: bool, days: int, tenants: int, speed: float, timeout: float, dashboard_port: int, flower_port: int) -> None:
    """The main job: database and broker, migrations, every worker pool and beat, the dashboard and
    Flower; then a simulated accounting platform plays DAYS days against them (retraining, A/B tests,
    a refused candidate, a rollback), with a report per day and a summary. Keeps running until
    Ctrl-C (or exits with --once)."""
    from workers import pools

    try:
        specs = platform.tenants(tenants, days)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if speed <= 0:
        raise CommandError(f"--speed must be positive, got {speed:g}")
    begun = time.monotonic()
    found = _bring_up_stack()
    home = settings().home
    click.echo(f"database {redact(found.database_url)} ({found.origin['postgres']})")
    if settings().broker_url == found.redis_url:
        click.echo(f"broker   {redact(found.redis_url)} ({found.origin['redis']})")
    else:
        click.echo(f"broker   {redact(settings().broker_url)} (env)")
        click.echo(f"redis    {redact(found.redis_url)} ({found.origin['redis']}): results, counters, caches")
    click.echo(f"schema   at revision {migrations.current_revision()}")
    scenario.use_scaled_clock(speed)
    click.echo(f"clock    simulated, {speed:g}x: a day every {86400 / speed:.0f}s")

    from modelops.supervisor import ProcessGroup

    # Each process is given the database roles it needs and never the owner's URL (workers.pools).
    group = ProcessGroup(home / "logs", runtime_environment(os.environ, ()))
    # A stop request (`kill`, a closed terminal) ends the command through the `finally` below, which
    # stops the pools and beat; Ctrl-C arrives as KeyboardInterrupt.
    for request in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(request, lambda *_: sys.exit(0))
    try:
        for name in pools.POOLS:
            group.start(f"worker-{name}", pools.worker_command(name), env=pools.environment(name))
        click.echo(f"started  {len(pools.POOLS)} worker pools (logs in {home / 'logs'})")
        _start_watching(group, dashboard_port, flower_port)
        started = time.monotonic()
        answers = _round_trip(timeout)
        click.echo(f"round trip through {len(answers)} queues in {time.monotonic() - started:.1f}s:")
        _print_round_trip(answers, as_json=False)
        made = scenario.prepare(specs)
        # beat starts with day 0, from a schedule of its own: a schedule kept from an earlier run
        # would fire every task at once
        schedule = home / "demo-beat-schedule"
        for leftover in home.glob("demo-beat-schedule*"):
            leftover.unlink()
        group.start("beat", pools.beat_command(str(schedule)), env=pools.beat_environment())
        scenario.play(made, days, begun)
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
