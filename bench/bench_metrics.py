"""Metrics: what counting costs a serving batch, and how soon a prediction is in ai.model_metrics.

    python bench/bench_metrics.py [--database-url URL] [--redis-url URL] [--tenants 10]
                                  [--probes 40] [--in-flight 4] [--steps cost,hot-row,delay] [--json PATH]

Steps, each beside a baseline measured in the same run:
  cost     in one process, per batch of 1,000 predictions over ``--tenants`` model versions: the
           tally alone, and the tally plus its one Redis call (what a serving batch now pays), beside
           a Redis PING (the floor of any call) and the batch's audit-log write (what a batch already
           paid); then one fold of those counts (move aside, one transaction, delete).
  hot-row  the spec's sketch, one upsert per prediction on the same (version, day) row, from 4
           connections for 5 s: the predictions per second one row can take, against the 10,000/s
           that serving answers.
  delay    `modelops worker --pool serving`, `--pool monitoring` and beat (which folds every second),
           as deployed. A probe sends one prediction of its own tenant, takes the answer (sent only
           after the prediction's audit row committed), then polls ai.model_metrics every 5 ms until
           the probe version's count includes it: that wait is the metric delay. Probes run first on
           an idle system (the baseline: what the fold interval alone costs), then while another
           process keeps ``--in-flight`` batches of 1,000 predictions over the other tenants in
           flight (full load: the serving pool busy on both cores). Every prediction is sent as a
           calling service sends it, in a signed envelope, made before the probe's clock starts.

``--json PATH`` also writes the delay step's figures there (for bench/suite.py).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/modelops_bench_metrics"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
TENANT_PREFIX = "bench-metrics-"
PREDICT_BATCH = "modelops.serving.predict_batch"
SERVICE = "bench-metrics"  # the calling service the bench signs its predictions as


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def describe(values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    return (f"p50 {percentile(values, 0.5) * scale:8.2f} {unit}  p99 {percentile(values, 0.99) * scale:8.2f} {unit}  "
            f"max {max(values) * scale:8.2f} {unit}  (n={len(values)})")


def timed(action, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


# -- setup --------------------------------------------------------------------------------------

def prepare(database_url: str, tenant_count: int) -> tuple[list[tuple[uuid.UUID, uuid.UUID, int]], tuple[uuid.UUID, uuid.UUID]]:
    """(tenant, classification version, tenant seed) of the load tenants, and the probe's (tenant, version)."""
    from sqlalchemy import text

    from modelops import db, migrations, tenants
    from tests.integration.serving_models import record_model

    migrations.ensure_database(database_url)
    migrations.upgrade(database_url=database_url)
    with db.operator_scope() as connection:
        existing = {row.name: (row.id, row.version_id) for row in connection.execute(text("""
            SELECT t.name, t.id, v.id AS version_id FROM ai.tenants t
            LEFT JOIN ai.model_versions v ON v.tenant_id = t.id AND v.is_production AND v.agent_type = 'classification'
            WHERE t.name LIKE :prefix"""), {"prefix": TENANT_PREFIX + "%"})}
    made = []
    for number in range(tenant_count + 1):
        name = f"{TENANT_PREFIX}{'probe' if number == tenant_count else f'{number:03d}'}"
        tenant, version = existing.get(name, (None, None))
        tenant = tenant or tenants.create_tenant(name)
        version = version or record_model("classification", tenant, tenant_seed=200 + number, rows=2000)["id"]
        made.append((tenant, version, 200 + number))
    return made[:-1], made[-1][:2]


def requests(tenants: list[tuple[uuid.UUID, uuid.UUID, int]], count: int, seed: int) -> list[dict]:
    from modelops.agents.synthetic import generate

    per_tenant = -(-count // len(tenants))
    inputs = [[i for i, _ in generate("classification", per_tenant, seed=seed, tenant_seed=s)] for _, _, s in tenants]
    return [{"tenant_id": str(tenants[k % len(tenants)][0]), "agent_type": "classification",
             "input_data": inputs[k % len(tenants)][k // len(tenants)]} for k in range(count)]


# -- cost ---------------------------------------------------------------------------------------

def cost(tenants) -> None:
    from modelops import clock
    from modelops.monitoring import counters, fold
    from modelops.serving import auditlog

    now = clock.now()

    def batch(size: int) -> list:
        return [auditlog.LogRow(
            id=uuid.uuid4(), model_version_id=tenants[k % len(tenants)][1], agent_type="classification",
            tenant_id=tenants[k % len(tenants)][0], input_data={"description": "bench", "amount": 1.0},
            predicted_output={"category": "Software"}, confidence=random.random(), prediction_timestamp=now,
            duration_ms=random.uniform(5, 50), reproducibility_note=None, ab_test_id=None, ab_group=None,
            request_key=None) for k in range(size)]

    client = counters.client()
    recorder = counters.recorder()
    client.delete(counters.LIVE)
    print(f"\n== cost per serving batch ({len(tenants)} model versions in a batch)")
    for size in (10, 1000):
        rows = batch(size)
        tally = timed(lambda: counters.tally_predictions(rows, {}, now.date(), recorder.load.sample()), 200)
        counted = timed(lambda: recorder.predictions(rows, {}, now.date()), 200)
        print(f"batch of {size:5d}: tally only          {describe(tally)}")
        print(f"batch of {size:5d}: tally + Redis call  {describe(counted)}")
    ping = timed(client.ping, 200)
    print(f"baseline: Redis PING                {describe(ping)}")
    writes = [timed(lambda: auditlog.write(batch(1000)), 1)[0] for _ in range(20)]
    print(f"baseline: audit write of 1,000 rows {describe(writes)}")

    fold.fold_counters(client, clock.now())  # what the loops above counted, out of the way
    recorder.predictions(batch(1000), {}, now.date())
    once = timed(lambda: fold.fold_counters(client, clock.now()), 1)
    print(f"one fold of a batch's counts ({len(tenants)} version-days): {once[0] * 1000:.1f} ms")
    empty = timed(lambda: fold.fold_counters(client, clock.now()), 50)
    print(f"one fold run with nothing counted:   {describe(empty)}")


# -- the spec's hot row -------------------------------------------------------------------------

SPEC_UPSERT = """
    INSERT INTO ai.model_metrics (model_version_id, metric_date, total_predictions, correct_predictions, accuracy,
                                  avg_confidence, user_overrides, avg_response_time_ms)
    VALUES (%(v)s, %(d)s, 1, 0, 0, %(c)s, 0, %(t)s)
    ON CONFLICT (model_version_id, metric_date) DO UPDATE SET
        total_predictions = ai.model_metrics.total_predictions + 1,
        avg_confidence = (ai.model_metrics.avg_confidence * ai.model_metrics.total_predictions + %(c)s)
                         / (ai.model_metrics.total_predictions + 1),
        avg_response_time_ms = (ai.model_metrics.avg_response_time_ms * ai.model_metrics.total_predictions + %(t)s)
                               / (ai.model_metrics.total_predictions + 1)
"""


def hammer(database_url: str, version: str, day: str, seconds: float, out) -> None:
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    latencies = []
    with psycopg.connect(url, autocommit=True) as connection:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            connection.execute(SPEC_UPSERT, {"v": version, "d": day, "c": 0.8, "t": 12.0})
            latencies.append(time.perf_counter() - started)
    out.send(latencies)


def hot_row(database_url: str, connections: int = 4, seconds: float = 5.0) -> None:
    """One row, as the spec's sketch updates it: a version of its own on a far-off day, removed after."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as connection:
        version = connection.execute(text("""INSERT INTO ai.model_versions (agent_type, version, trained_on, scope)
                                              VALUES ('classification', 'v-bench', now(), 'global') RETURNING id""")).scalar_one()
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    for _ in range(connections):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=hammer, args=(database_url, str(version), "2000-01-01", seconds, send))
        process.start()
        pipes.append(receive)
        processes.append(process)
    latencies = [value for pipe in pipes for value in pipe.recv()]
    for process in processes:
        process.join()
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM ai.model_metrics WHERE model_version_id = :v"), {"v": version})
        connection.execute(text("DELETE FROM ai.model_versions WHERE id = :v"), {"v": version})
    engine.dispose()
    print(f"\n== the spec's sketch: one upsert per prediction on one row, {connections} connections, {seconds:.0f} s")
    print(f"{len(latencies) / seconds:,.0f} predictions/s on the row (serving answers 10,000/s); upsert {describe(latencies)}")


# -- delay --------------------------------------------------------------------------------------

def load(redis_url: str, caller, batches: list[list[dict]], in_flight: int, stop, out) -> None:
    """Keep ``in_flight`` batches in flight until told to stop; report (predictions, seconds). Each
    batch is signed by ``caller`` while the ones before it are in flight."""
    from celery import Celery

    client = Celery(broker=redis_url, backend=redis_url)
    client.conf.update(task_serializer="json", accept_content=["json"], result_accept_content=["json"])
    started, answered, turn = time.perf_counter(), 0, 0
    pending = []
    ready = caller.kwargs(PREDICT_BATCH, items=batches[0])
    while not stop.is_set() or pending:
        while not stop.is_set() and len(pending) < in_flight:
            pending.append(client.send_task(PREDICT_BATCH, kwargs=ready, queue="predict"))
            turn += 1
            ready = caller.kwargs(PREDICT_BATCH, items=batches[turn % len(batches)])
        answered += len(pending.pop(0).get(timeout=300))
    out.send((answered, time.perf_counter() - started))


def waiting_in_redis(version: uuid.UUID) -> bool:
    """Whether counts of ``version`` are still in Redis, live or moved aside by a fold not finished."""
    from modelops.monitoring import counters, fold

    client = counters.client()
    keys = [counters.LIVE] + [fold.fold_key(member.decode()) for member in client.smembers(counters.PENDING)]
    return any(name.startswith(str(version).encode()) for key in keys for name in client.hkeys(key))


def probe_delays(client, caller, engine, probe: tuple, count: int) -> tuple[list[float], list[float]]:
    """(from answer to count, from send to count) for ``count`` probes, one at a time."""
    from sqlalchemy import text

    from modelops.agents.synthetic import generate

    tenant, version = probe
    inputs = [i for i, _ in generate("classification", count, seed=int(time.time()), tenant_seed=999)]
    query = text("SELECT coalesce(sum(total_predictions), 0) FROM ai.model_metrics WHERE model_version_id = :v")
    while waiting_in_redis(version):  # the count to start from is the table's once earlier predictions are folded
        time.sleep(0.05)
    with engine.connect() as connection:
        counted = connection.execute(query, {"v": version}).scalar_one()
    from_answer, from_send = [], []
    for input_data in inputs:
        time.sleep(random.uniform(0, 1.0))  # no phase lock with beat's ticks
        signed = caller.kwargs(PREDICT_BATCH, items=[{"tenant_id": str(tenant), "agent_type": "classification",
                                                      "input_data": input_data}])
        sent = time.perf_counter()
        answer = client.send_task(PREDICT_BATCH, kwargs=signed, queue="predict").get(timeout=120)
        answered = time.perf_counter()
        assert answer[0]["status"] == "predicted", answer
        counted += 1
        while True:
            with engine.connect() as connection:
                if connection.execute(query, {"v": version}).scalar_one() >= counted:
                    break
            if time.perf_counter() - answered > 60:
                raise AssertionError("a probe's prediction was not counted within 60 s")
            time.sleep(0.005)
        seen = time.perf_counter()
        from_answer.append(seen - answered)
        from_send.append(seen - sent)
    return from_answer, from_send


def delay(args, env: dict, tenants, probe) -> dict:
    from celery import Celery
    from sqlalchemy import create_engine

    from modelops.auth import services
    from modelops.auth.client import ServiceCaller
    from modelops.supervisor import ProcessGroup
    from workers import pools

    issued = services.ensure(SERVICE, [tenant for tenant, _, _ in tenants] + [probe[0]])
    caller = ServiceCaller.from_hex(issued.name, issued.credential)
    group = ProcessGroup(Path(tempfile.mkdtemp(prefix="bench-metrics-")), env)
    client = Celery(broker=args.redis_url, backend=args.redis_url)
    client.conf.update(task_serializer="json", accept_content=["json"], result_accept_content=["json"])
    engine = create_engine(args.database_url)
    group.start("serving", pools.worker_command("serving", loglevel="WARNING"))
    group.start("monitoring", pools.worker_command("monitoring", loglevel="WARNING"))
    group.start("beat", pools.beat_command(str(group.log_dir / "beat-schedule"), loglevel="WARNING"))
    try:
        warm = requests(tenants + [(probe[0], probe[1], 999)], 4 * (len(tenants) + 1), seed=1)
        client.send_task(PREDICT_BATCH, kwargs=caller.kwargs(PREDICT_BATCH, items=warm), queue="predict").get(timeout=300)  # every model loaded
        batches = [requests(tenants, 1000, seed=10 + n) for n in range(8)]
        print(f"\n== metric delay: serving pool ({pools.POOLS['serving'].concurrency} processes), monitoring pool, beat")
        idle_answer, idle_send = probe_delays(client, caller, engine, probe, args.probes)
        print(f"idle (baseline)      from answer: {describe(idle_answer)}")
        print(f"                     from send:   {describe(idle_send)}")

        context = multiprocessing.get_context("fork")
        stop, (receive, send) = context.Event(), context.Pipe(duplex=False)
        loader = context.Process(target=load, args=(args.redis_url, caller, batches, args.in_flight, stop, send))
        loader.start()
        time.sleep(5)  # the load is running
        load_answer, load_send = probe_delays(client, caller, engine, probe, args.probes)
        stop.set()
        answered, seconds = receive.recv()
        loader.join()
        print(f"under load           from answer: {describe(load_answer)}")
        print(f"                     from send:   {describe(load_send)}")
        print(f"load: {answered:,} predictions in {seconds:.1f} s = {answered / seconds:,.0f} predictions/s "
              f"({args.in_flight} batches of 1,000 in flight, {len(tenants)} tenants)")
    finally:
        group.stop()
        engine.dispose()
    return {"idle": {"from_answer": idle_answer, "from_send": idle_send},
            "load": {"from_answer": load_answer, "from_send": load_send},
            "load_predictions_per_s": answered / seconds, "in_flight": args.in_flight, "probes": args.probes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--probes", type=int, default=40, help="probe predictions per phase (idle, under load)")
    parser.add_argument("--in-flight", type=int, default=4, help="batches of 1,000 kept in flight for the load")
    parser.add_argument("--steps", default="cost,hot-row,delay")
    parser.add_argument("--json", help="also write the delay step's figures to this file")
    args = parser.parse_args()
    # Before anything reads the settings: this process and the workers it starts use the bench's servers.
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    for name in ("RESULT_BACKEND_URL", "APP_DATABASE_URL", "MODELOPS_CLOCK", "MODELOPS_TEST_FOLD_STALL"):
        os.environ.pop(name, None)
    os.environ.setdefault("MODELOPS_HOME", str(PROJECT / ".modelops-bench"))
    env = dict(os.environ, PYTHONPATH=str(PROJECT))

    tenants, probe = prepare(args.database_url, args.tenants)
    load_average = os.getloadavg()[0]
    print(f"{len(tenants)} load tenants and a probe tenant, each with a classification model; "
          f"{os.cpu_count()} cores, load average {load_average:.2f} at the start ({time.strftime('%Y-%m-%d %H:%M')})")
    steps = args.steps.split(",")
    if "cost" in steps:
        cost(tenants)
    if "hot-row" in steps:
        hot_row(args.database_url)
    if "delay" in steps:
        figures = delay(args, env, tenants, probe)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
