"""Runs the scenario against a running system: tenants and their history, then day after day of
predictions and feedback, with what happened reported at the end of each simulated day.

Everything goes through the public tasks, by name, as another service of the platform would send
it (``send`` is a Celery app's ``send_task``); the system's own reactions (retraining, A/B tests,
rollbacks, alerts) come from beat and the worker pools, on the shared simulated clock.
"""
from __future__ import annotations

import datetime as dt
import functools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import text

from modelops import AGENT_TYPES, clock, db
from modelops import tenants as tenant_registry
from modelops.auth import services
from modelops.auth.client import ServiceCaller
from modelops.registry import store
from modelops.simulation import traffic
from modelops.simulation.platform import Tenant
from modelops.simulation.report import Ledger
from schemas.tasks import TaskName

CALLER = "platform-simulator"
CHUNK = 1000           # requests or events per message
RESULT_TIMEOUT = 300.0  # seconds a batch may take before the run gives up on it
# The day's traffic starts this far into the day, after the checks beat fires at its start.
TRAFFIC_OFFSET = dt.timedelta(hours=2)


@dataclass
class Figures:
    predictions: int = 0
    unanswered: int = 0
    feedback: int = 0
    sending_seconds: float = 0.0
    per_day: list[str] = field(default_factory=list)


def set_up(specs: list[Tenant], run_tag: str, send: Callable[..., Any], echo: Callable[[str], None]) -> list[tuple[uuid.UUID, Tenant]]:
    """The tenants, their members and their history of verified bookings, stored before day 0."""
    made = []
    for spec in specs:
        tenant_id = tenant_registry.create_tenant(f"{spec.name} ({run_tag})", country=spec.country, region=spec.region,
                                                  opt_in=spec.opt_in, actor="modelops demo")
        made.append((tenant_id, spec))
    services.ensure(CALLER, [tenant_id for tenant_id, _ in made])
    events = [event for tenant_id, spec in made for agent in AGENT_TYPES for event in traffic.history(tenant_id, spec, agent)]
    started = time.monotonic()
    _record(send, events)
    _wait_for(lambda: _stored(made) >= len(events), f"{len(events)} history events stored", timeout=600)
    echo(f"history  {len(events):,} verified bookings of {len(made)} tenants stored in {time.monotonic() - started:.1f}s")
    return made


def train_shared_models(send: Callable[..., Any], echo: Callable[[str], None]) -> None:
    """The global models every tenant starts from (trained once per deployment; later runs reuse them)."""
    started = time.monotonic()
    results = [send(TaskName.TRAINING_TRAIN_GLOBAL, args=[agent]) for agent in AGENT_TYPES]
    outcomes = [result.get(timeout=1800) for result in results]
    echo(f"global   models of {len(outcomes)} agents ready in {time.monotonic() - started:.1f}s")


def run_days(made: list[tuple[uuid.UUID, Tenant]], days: int, day_zero: dt.datetime, send: Callable[..., Any],
             echo: Callable[[str], None]) -> tuple[Figures, Ledger]:
    ledger = Ledger({tenant_id: spec.name for tenant_id, spec in made})
    ledger.news()  # what existed before the run is not news
    figures = Figures()
    merged: set[uuid.UUID] = set()
    for day in range(days):
        start = day_zero + dt.timedelta(days=day)
        _sleep_until(start + TRAFFIC_OFFSET)
        for tenant_id, spec in made:
            if spec.merges and tenant_id not in merged and _promoted(tenant_id, "classification"):
                merged.add(tenant_id)
                echo(f"         EPISODE   {spec.name} acquired a business: from today its bank feed carries that business's transactions")
        before = (figures.predictions, figures.feedback)
        began = time.monotonic()
        for tenant_id, spec in made:
            for agent in AGENT_TYPES:
                _one_day(figures, send, tenant_id, spec, agent, day, tenant_id in merged)
        sending = time.monotonic() - began
        figures.sending_seconds += sending
        _sleep_until(start + dt.timedelta(days=1))
        late = (clock.now() - start - dt.timedelta(days=1)) / dt.timedelta(hours=1)
        headline = (f"day {day:>2} ({start:%Y-%m-%d}): {figures.predictions - before[0]:,} predictions, "
                    f"{figures.feedback - before[1]:,} feedback events, sent and answered in {sending:.1f}s"
                    + (f" (the day ran {late:.0f} simulated hours late)" if late > 1 else ""))
        echo(headline)
        for line in ledger.news():
            echo(f"         {line}")
    return figures, ledger


def settle(ledger: Ledger, seconds: float, echo: Callable[[str], None]) -> None:
    """The last day's reactions (a rollback after the last fold) reported before the summary."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1.0)
        for line in ledger.news():
            echo(f"         {line}")


def _one_day(figures: Figures, send, tenant_id: uuid.UUID, spec: Tenant, agent: str, day: int, merged: bool) -> None:
    pairs = traffic.rows(spec, agent, spec.volume.get(agent, 0), day, merged)
    requests = traffic.requests(tenant_id, agent, pairs)
    results = [_send_signed(send, TaskName.SERVING_PREDICT_BATCH, items=requests[i:i + CHUNK])
               for i in range(0, len(requests), CHUNK)]
    predictions = [answer for result in results for answer in result.get(timeout=RESULT_TIMEOUT)]
    figures.predictions += sum(answer.get("status") == "predicted" for answer in predictions)
    figures.unanswered += sum(answer.get("status") != "predicted" for answer in predictions)
    events = traffic.answers(spec, tenant_id, agent, pairs, predictions, day)
    _record(send, events)
    figures.feedback += len(events)


@functools.cache
def _caller() -> ServiceCaller:
    issued = services.current(CALLER)
    return ServiceCaller.from_hex(issued.name, issued.credential)


def _send_signed(send, task_name: str, **arguments):
    """A call of a public task, signed as the platform's services sign theirs."""
    return send(task_name, kwargs=_caller().kwargs(task_name, **arguments))


def _record(send, events: list[dict]) -> None:
    results = [_send_signed(send, TaskName.FEEDBACK_RECORD_BATCH, events=events[i:i + CHUNK])
               for i in range(0, len(events), CHUNK)]
    for result in results:
        counts = result.get(timeout=RESULT_TIMEOUT)["counts"]
        if counts.get("rejected") or counts.get("refused"):
            raise RuntimeError(f"the platform's own feedback was refused: {counts}")


def _promoted(tenant_id: uuid.UUID, agent_type: str) -> bool:
    """Whether a candidate of the tenant's own won its way into production (an A/B test or an operator)."""
    with db.operator_scope() as connection:
        return store.was_promoted(connection, tenant_id, agent_type)


def _stored(made: list[tuple[uuid.UUID, Tenant]]) -> int:
    with db.operator_scope() as connection:
        return connection.execute(text("SELECT count(*) FROM ai.training_data WHERE tenant_id = ANY(:tenants)"),
                                  {"tenants": [tenant_id for tenant_id, _ in made]}).scalar_one()


def _wait_for(condition: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done within {timeout:.0f}s: {what}")
        time.sleep(0.5)


def _sleep_until(moment: dt.datetime) -> None:
    """Real seconds until the simulated ``moment`` (none if it has passed)."""
    remaining = (moment - clock.now()).total_seconds() / clock.speed()
    if remaining > 0:
        time.sleep(remaining)
