"""The main job's story: the simulated platform driven through the running system, then a summary."""
from __future__ import annotations

import datetime as dt
import os
import time
import uuid

import click

from modelops import clock
from modelops.simulation import driver, platform

# After the last day, how long the run waits for the system's last reactions (a rollback after
# the last metrics fold) before its summary.
SETTLE_SECONDS = 30.0


def use_scaled_clock(speed: float) -> None:
    """Every process started from now on (pools, beat) shares this simulated clock. It starts at
    midnight today, so the dates on the dashboard look current."""
    start = dt.datetime.combine(clock.SystemClock().today(), dt.time())
    spec = clock.ScaledClock(start, time.time(), speed).spec()
    os.environ["MODELOPS_CLOCK"] = spec
    clock.use(clock.parse(spec))


def prepare(specs: list[platform.Tenant]) -> list:
    """Global models and the tenants with their history: everything before day 0."""
    from workers.app import app

    driver.train_shared_models(app.send_task, click.echo)
    return driver.set_up(specs, uuid.uuid4().hex[:6], app.send_task, click.echo)


def play(made: list, days: int, started: float) -> None:
    """Day 0 starts now (beat has just started): the days, then what they added up to."""
    from workers.app import app

    figures, ledger = driver.run_days(made, days, clock.now(), app.send_task, click.echo)
    driver.settle(ledger, SETTLE_SECONDS, click.echo)
    elapsed = time.monotonic() - started
    click.echo(f"\nsummary of {days} simulated days with {len(made)} tenants ({elapsed / 60:.1f} real minutes):")
    for name, count in sorted(ledger.totals.items()):
        click.echo(f"  {name:<32} {count:>6,}")
    rate = figures.predictions / figures.sending_seconds if figures.sending_seconds else 0.0
    click.echo(f"  {'predictions answered':<32} {figures.predictions:>6,}   (not answered: {figures.unanswered:,})")
    click.echo(f"  {'feedback events':<32} {figures.feedback:>6,}")
    click.echo(f"  {'traffic sent':<32} {rate:>6,.0f} predictions/s while sending, with their feedback")
