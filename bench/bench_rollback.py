"""Breach to rollback: from the moment ai.model_metrics shows a breach to the previous version serving.

    python bench/bench_rollback.py [--database-url URL] [--redis-url URL] [--runs 7] [--json PATH]

Runs `modelops worker --pool serving`, `--pool monitoring` and beat (which folds the metric
counters every second), as deployed. Each run gives a new tenant two classification models, v1.0
and v1.1, and then:

1. baseline: with both models loaded in the serving processes (v1.1 promoted once and served), v1.0
   is put back by hand (one transaction, as a rollback's); a client sends single predictions back to
   back and times the commit to the first answer from v1.0. That is what the serving pool's pointer
   polling costs alone, the floor of any rollback's pickup. Then v1.1 is promoted again.
2. breach: 2,000 predictions of v1.1 with 1,000 overrides are added to the live Redis counters (as
   the intake adds a batch of feedback). A watcher polls ai.model_metrics every 5 ms; the breach
   moment is when v1.1's row first shows an override rate above 20% (the fold committed it). From
   then on the fold's check (sent by the fold task after its commit) judges the week, rolls v1.1
   back to v1.0, and the serving pool's pointer poll picks the move up: the run's figure is the time
   from the breach moment to the first answer from v1.0 (a prediction sent after the breach).

Printed per run and as medians, with the two parts of the rollback: breach to the start of the check
that rolled back (the rollback event's time, this host's clock) and from then to the first answer.
``--json PATH`` also writes every run's figures there (for bench/suite.py).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/modelops_bench_rollback"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
PREDICT = "modelops.serving.predict"
SERVICE = "bench-rollback"  # the calling service the bench's predictions are signed as
AGENT = "classification"


class Answers:
    """A client sending single predictions back to back, each signed by ``caller`` (before its
    send time is taken), noting which version answered when."""

    def __init__(self, client, caller, request: dict):
        self.client, self.caller, self.request = client, caller, request
        self.seen: list[tuple[float, float, str]] = []  # (sent, answered, version id), time.time()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            signed = self.caller.kwargs(PREDICT, **self.request)
            sent = time.time()
            answer = self.client.send_task(PREDICT, kwargs=signed, queue="predict").get(timeout=60)
            self.seen.append((sent, time.time(), answer["model_version"]["id"]))

    def __enter__(self) -> "Answers":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=60)

    def first(self, version: uuid.UUID, sent_after: float, timeout: float = 60.0) -> float:
        """When the first answer from ``version`` to a request sent after ``sent_after`` arrived."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for sent, answered, seen in list(self.seen):
                if seen == str(version) and sent >= sent_after:
                    return answered
            time.sleep(0.005)
        raise RuntimeError(f"no answer from {version} within {timeout} s")


def breach_seen(engine, version: uuid.UUID, timeout: float = 60.0) -> float:
    """When ai.model_metrics first shows the version's override rate above 20%."""
    from sqlalchemy import text

    query = text("SELECT coalesce(sum(user_overrides), 0), coalesce(sum(total_predictions), 0) "
                 "FROM ai.model_metrics WHERE model_version_id = :v")
    deadline = time.time() + timeout
    with engine.connect() as connection:
        while time.time() < deadline:
            overrides, predictions = connection.execute(query, {"v": version}).one()
            connection.commit()
            if predictions and overrides / predictions > 0.2:
                return time.time()
            time.sleep(0.005)
    raise RuntimeError(f"no breach of {version} in ai.model_metrics within {timeout} s")


def one_run(client, engine, counters_script, seed: int) -> dict:
    from sqlalchemy import text

    from modelops import clock, db, tenants
    from modelops.agents.synthetic import generate
    from modelops.auth import services
    from modelops.auth.client import ServiceCaller
    from modelops.monitoring import counters
    from modelops.registry import promotion
    from tests.integration.serving_models import record_model

    phase = random.Random(seed)
    tenant = tenants.create_tenant(f"bench-rollback-{uuid.uuid4().hex[:8]}")
    issued = services.ensure(SERVICE, [tenant])
    caller = ServiceCaller.from_hex(issued.name, issued.credential)
    previous = record_model(AGENT, tenant, tenant_seed=seed, rows=400)["id"]
    degrading = record_model(AGENT, tenant, tenant_seed=seed + 1, rows=400, promote=False)["id"]
    request = {"tenant_id": str(tenant), "agent_type": AGENT, "input_data": generate(AGENT, 1, seed=seed, tenant_seed=seed)[0][0]}
    def move_to(version, event: str) -> float:
        """Seconds from the move's commit to the first answer from ``version``."""
        time.sleep(phase.uniform(0.5, 1.5))  # no phase lock with the pointer caches' last re-read
        with db.tenant_scope(tenant) as connection:
            promotion.promote(connection, version, actor="bench", reason="bench: a move", event=event, now=clock.now())
        moved = time.time()
        return answers.first(version, sent_after=moved) - moved

    with Answers(client, caller, request) as answers:
        answers.first(previous, sent_after=0)  # the model is loaded and the route known
        move_to(degrading, "promotion")  # loads v1.1 in the serving processes
        pickup = move_to(previous, "manual")  # both models loaded: the pointer's pickup alone
        move_to(degrading, "promotion")

        time.sleep(phase.uniform(0.5, 1.5))
        tally = counters.Tally()
        tally.add(degrading, clock.today(), "predictions", 2_000)
        tally.add(degrading, clock.today(), "overrides", 1_000)
        added = time.time()
        counters_script(keys=[counters.LIVE], args=tally.arguments())
        breach = breach_seen(engine, degrading)
        served = answers.first(previous, sent_after=breach)
    with engine.connect() as connection:
        event = connection.execute(text("SELECT created_at, outcome FROM ai.rollback_events WHERE from_version_id = :v"),
                                   {"v": degrading}).one()
    assert event.outcome == "rolled_back", event
    checked = event.created_at.replace(tzinfo=dt.timezone.utc).timestamp()
    return {"pickup": pickup, "fold": breach - added, "breach_to_serving": served - breach,
            "breach_to_check": checked - breach, "check_to_serving": served - checked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", help="also write every run's figures to this file")
    args = parser.parse_args()
    # Before anything reads the settings: this process and the workers it starts use the bench's servers.
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    for name in ("RESULT_BACKEND_URL", "APP_DATABASE_URL", "MODELOPS_CLOCK", "MODELOPS_ALERT_WEBHOOK_URL"):
        os.environ.pop(name, None)
    os.environ.setdefault("MODELOPS_HOME", str(PROJECT / ".modelops-bench"))
    env = dict(os.environ, PYTHONPATH=str(PROJECT))

    import redis
    from celery import Celery
    from sqlalchemy import create_engine

    from modelops import migrations
    from modelops.monitoring import counters
    from modelops.supervisor import ProcessGroup
    from workers import pools
    from workers.roundtrip import round_trip

    migrations.ensure_database(args.database_url)
    migrations.upgrade(database_url=args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()  # no counters or messages of an earlier run
    engine = create_engine(args.database_url)
    client = Celery(broker=args.redis_url, backend=args.redis_url)
    client.conf.update(task_serializer="json", accept_content=["json"], result_accept_content=["json"])
    script = redis.Redis.from_url(args.redis_url).register_script(counters.ADD_SCRIPT)

    group = ProcessGroup(Path(tempfile.mkdtemp(prefix="bench-rollback-")), env)
    group.start("serving", pools.worker_command("serving", loglevel="WARNING"))
    group.start("monitoring", pools.worker_command("monitoring", loglevel="WARNING"))
    group.start("beat", pools.beat_command(str(group.log_dir / "beat-schedule"), loglevel="WARNING"))
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start ({time.strftime('%Y-%m-%d %H:%M')})")
    try:
        round_trip(pools.queues_of("serving") + pools.queues_of("monitoring"), timeout=120)
        runs = [one_run(client, engine, script, seed=500 + 10 * n) for n in range(args.runs)]
    finally:
        group.stop()
        engine.dispose()

    print(f"{'run':>4} {'move->served':>18} {'counted->breach':>16} {'breach->check':>14} {'check->served':>14} {'breach->served':>15}")
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    for n, run in [*enumerate(runs, 1), ("med", median)]:
        print(f"{n:>4} {run['pickup']:>16.2f} s {run['fold']:>14.2f} s {run['breach_to_check']:>12.2f} s "
              f"{run['check_to_serving']:>12.2f} s {run['breach_to_serving']:>13.2f} s")
    print(f"breach to the previous version serving: median {median['breach_to_serving']:.2f} s, "
          f"max {max(run['breach_to_serving'] for run in runs):.2f} s (target <= 10 s); "
          f"a move's pickup alone (baseline): median {median['pickup']:.2f} s")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
