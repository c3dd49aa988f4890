"""Serving through real workers: batched and single predictions, latency, memory, beside a Celery no-op.

    python bench/bench_serving.py [--database-url URL] [--redis-url URL] [--tenants 100]
                                  [--agents classification,insight] [--batch 1000] [--batches 20]
                                  [--rounds 3] [--singles 5000] [--rate 500 | --load-share 0.5] [--seconds 10]
                                  [--clients 2] [--senders prepared|celery]
                                  [--single-tenants N] [--concurrency N] [--steps throughput,memory,scaling]
                                  [--profile-tenants 1]
                                  [--shapes 1x1,1x2,1x4,2x1,4x1] [--json PATH]
                                  [--brokers redis,amqp] [--amqp-url URL]

Every figure is end to end, from a plain Celery client (no import of ours, as another service has),
each message in an envelope signed as the bench's calling service (made before any clock starts:
the worker's checking of it is measured, the client's signing is not). By default (``--senders
prepared``) the client also makes each whole message before the clock starts, and the timed client
processes only hand the messages to the broker: the callers of a deployment run on their own hosts,
and Celery's ``send_task`` in the timed loop (``--senders celery``) takes 0.37 ms of CPU per message
from the two cores the worker is measured on, against 0.08 for the hand-over (LPUSH) itself. The
messages are the same bytes either way:
enqueue → a serving worker predicts → its audit rows are committed → the result is stored in the
Redis result backend. A prediction's result is stored only after its batch's audit rows commit, so
the time a result is stored is the time its row is committed and its answer available.

Baseline, measured in the same run against the same broker and backend with the project's Celery
settings (celeryconfig): a task that does nothing, run by a worker of the same concurrency and
prefetch, (a) one message per request, (b) one message per batch carrying the same payload (the
same signed envelopes).

Steps:
  1. models: ``--tenants`` tenants, each with a model of each of the six agents (trained once on
     2,000 synthetic rows of its own tenant seed, then reused by later runs on the bench database);
  2. no-op worker: single messages as fast as ``--clients`` client processes send them, the same
     at ``--rate`` per second (or at ``--load-share`` of the rate just measured) for ``--seconds``
     (latency percentiles, open loop: each message is sent at its slot whatever came back), and
     batches;
  3. `modelops worker --pool serving`: the same three measurements with ``modelops.serving.predict``
     and ``modelops.serving.predict_batch`` (each batch is one tenant's requests, the tenants in turn),
     after an untimed batch and an untimed pass of half as many single messages, so that every pool
     process has loaded every model;
     then how soon after a promotion commits the running worker answers with the promoted version;
  4. memory: a serving worker with one pool process, its resident set as it takes on every
     tenant's model of each of the six agents in turn;
  5. profile (not run by default): one ``predict_batch`` of ``--batch`` requests of one tenant (or spread
     over ``--profile-tenants``, as single requests from many tenants gather into a batch) taken
     apart in this process, stage by stage as the serving worker runs them, each stage beside a
     floor measured alone on the same data (what the stage cannot cost less than); medians of
     ``--rounds`` (at least 7) repetitions;
  6. scaling (not run by default): single messages of the first agent as fast as the clients send
     them, for each of ``--shapes`` (workers x pool processes: one worker with N pool processes,
     or N workers of one process each, as N hosts would run), the no-op worker of the same shape
     beside each. The serving workers are first sent an untimed pass of half as many messages,
     so that every process has loaded its models before the timed rounds.

``--brokers redis,amqp`` runs the throughput step once per broker, each beside its own no-op, and
prints the figures side by side: Redis (``--redis-url``) or RabbitMQ (``--amqp-url``) as the broker,
the result backend Redis in both. The first broker's figures stay the run's ``throughput``.

``--concurrency`` sets the pool processes of both workers of the throughput step (default: the
serving pool's own); ``--json PATH`` also writes the figures there, for bench/suite.py.

Latency is the time from the send (client clock) to the result's ``date_done`` (worker clock, the
same host), read back from the backend after the run. Medians of ``--rounds`` where repeated.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from functools import partial
from typing import Any, Callable

from celery import Celery, states

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/modelops_bench_serving"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
PREDICT, PREDICT_BATCH, NOOP = "modelops.serving.predict", "modelops.serving.predict_batch", "bench.noop"
TENANT_PREFIX = "bench-serving-"
SERVICE = "bench-serving"  # the calling service the bench signs as, a member of every bench tenant
CALLER = None  # its ServiceCaller, once registered (register)
PREPARED = "bench-prepared"  # where prepared messages are made (a Redis key prefix, a RabbitMQ queue), with a suffix of each call
PICKUP_CALLS = 1000  # signed requests ready per promotion the pickup step waits out
# How often the bench reads the stored results. Each answer's time is its own date_done, written by
# the worker, so reading less often changes no figure; reading every 5 ms cost a tenth of this
# machine's CPU, taken from the worker being measured.
POLL_EVERY = 0.25

# The baseline's worker: the project's Celery settings, one task that does nothing, on the
# serving pool's queue (nothing else consumes it while the baseline runs).
noop_app = Celery("bench-noop")
noop_app.config_from_object("celeryconfig")


@noop_app.task(name=NOOP)
def noop(*args, **kwargs) -> None:
    return None


# -- setup --------------------------------------------------------------------------------------

def prepare(database_url: str, tenant_count: int, agents: list[str]) -> list[tuple[uuid.UUID, int]]:
    """The bench tenants, each with a production model of every agent (made once, then reused),
    with the synthetic tenant seed its models and requests are drawn from."""
    from sqlalchemy import text

    from modelops import db, migrations, tenants
    from tests.integration.serving_models import record_model

    migrations.ensure_database(database_url)
    migrations.upgrade(database_url=database_url)
    with db.operator_scope() as connection:
        existing = dict(connection.execute(text("SELECT name, id FROM ai.tenants WHERE name LIKE :prefix"),
                                           {"prefix": TENANT_PREFIX + "%"}).all())
        served = set(connection.execute(text("SELECT tenant_id, agent_type FROM ai.model_versions WHERE is_production "
                                             "AND tenant_id IS NOT NULL")).all())
    started, made = time.perf_counter(), 0
    ids = []
    for number in range(tenant_count):
        name = f"{TENANT_PREFIX}{number:03d}"
        tenant = existing.get(name) or tenants.create_tenant(name)
        for agent in agents:
            if (tenant, agent) not in served:
                record_model(agent, tenant, tenant_seed=100 + number, rows=2000)
                made += 1
        ids.append((tenant, 100 + number))
    print(f"{tenant_count} tenants x {len(agents)} agents: {made} models trained now in {time.perf_counter() - started:.0f} s, "
          f"the rest reused; {os.cpu_count()} cores")
    return ids


def register(tenants: list[tuple[uuid.UUID, int]]) -> None:
    """The bench's calling service, registered and made a member of every bench tenant."""
    from modelops.auth import services
    from modelops.auth.client import ServiceCaller

    global CALLER
    issued = services.ensure(SERVICE, [tenant for tenant, _ in tenants])
    CALLER = ServiceCaller.from_hex(issued.name, issued.credential)


def call(name: str, request) -> dict:
    """The kwargs of one message of ``name``: a request (a list of them: a batch) in an envelope
    signed as the bench's service. An envelope is good for one message: sign again to send again."""
    if isinstance(request, list):
        return CALLER.kwargs(name, items=request)
    return CALLER.kwargs(name, **request)


def workload(tenants: list[tuple[uuid.UUID, int]], agent: str, count: int, seed: int) -> list[dict]:
    """``count`` requests of ``agent``, the tenants in turn, inputs from each tenant's own generator."""
    from modelops.agents.synthetic import generate

    per_tenant = -(-count // len(tenants))
    inputs = [[i for i, _ in generate(agent, per_tenant, seed=seed, tenant_seed=tenant_seed)] for _, tenant_seed in tenants]
    # (a generator may return a row or two fewer than asked: compliance does)
    return [{"tenant_id": str(tenants[k % len(tenants)][0]), "agent_type": agent,
             "input_data": inputs[k % len(tenants)][(k // len(tenants)) % len(inputs[k % len(tenants)])]}
            for k in range(count)]


def start_worker(argv: list[str], name: str, env: dict, count: int = 1):
    """``count`` workers started with ``argv``, each under a node name of its own."""
    from modelops.supervisor import ProcessGroup

    group = ProcessGroup(Path(tempfile.mkdtemp(prefix=f"bench-serving-{name}-")), env)
    if count == 1:
        group.start(name, argv)
        return group
    at = argv.index("--hostname") + 1
    for number in range(count):
        group.start(f"{name}{number}", [*argv[:at], f"{name}{number}@%h", *argv[at + 1:]])
    return group


def noop_command(concurrency: int, prefetch: int) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "bench_serving:noop_app", "worker", "--queues", "predict",
            "--hostname", "noop@%h", "--concurrency", str(concurrency), "--prefetch-multiplier", str(prefetch),
            "--loglevel", "WARNING", "--task-events"]


def wait_ready(client: Celery, name: str, request: dict, timeout: float = 120.0) -> None:
    client.send_task(name, kwargs=call(name, request), queue="predict").get(timeout=timeout)


# -- measuring ----------------------------------------------------------------------------------

def prepared(broker_url: str, name: str, calls: list[dict]) -> list[tuple[str, Any]]:
    """(task id, message) of each call: the message a plain Celery client publishes for it, made by
    one before any clock starts and taken back as the broker holds it. On Redis the client writes
    under a key prefix of its own (kombu's ``global_keyprefix``), so the message, its queue and its
    routing key are the ones a send to the predict queue makes, and no worker sees it; on RabbitMQ
    it goes to a queue of its own, and the routing key is given again at the hand-over. The prefix
    and the queue are new for each call, so that nothing an interrupted run left behind is taken."""
    scratch = f"{PREPARED}-{uuid.uuid4().hex[:12]}"
    client = Celery(broker=broker_url)
    client.conf.task_serializer = "json"
    if broker_url.startswith("redis"):
        import redis

        client.conf.broker_transport_options = {"global_keyprefix": scratch + ":"}
        ids = [client.send_task(name, queue="predict", kwargs=kwargs).id for kwargs in calls]
        client.close()
        server = redis.Redis.from_url(broker_url)
        messages = server.lrange(scratch + ":predict", 0, -1)[::-1]  # LPUSHed: the first sent is last
        server.delete(*server.keys(scratch + ":*"))
        found = [json.loads(message)["headers"]["id"] for message in messages]
    else:
        from kombu import Connection

        ids = [client.send_task(name, queue=scratch, kwargs=kwargs).id for kwargs in calls]
        client.close()
        with Connection(broker_url) as connection:
            channel = connection.default_channel
            messages = [channel.basic_get(scratch, no_ack=True) for _ in ids]
            channel.queue_delete(scratch)
        found = [message.headers["id"] if message is not None else None for message in messages]
    assert found == ids, f"{sum(a != b for a, b in zip(found, ids)) + abs(len(found) - len(ids))} prepared messages missing or out of order"
    return list(zip(ids, messages))


def publisher(broker_url: str) -> Callable[[Any], Any]:
    """What hands a prepared message to the broker, onto the predict queue."""
    if broker_url.startswith("redis"):
        import redis

        return partial(redis.Redis.from_url(broker_url).lpush, "predict")  # kombu's own write, priority 0
    from kombu import Connection

    # with publisher confirms, as the workers publish: a send returns once RabbitMQ has the message
    # (without them, a client process that exits right after its last send lost some, now and then)
    channel = Connection(broker_url, transport_options={"confirm_publish": True}).default_channel
    return partial(channel.basic_publish, exchange="", routing_key="predict")


def send_share(broker_url: str, name: str, share: list[tuple[int, Any]], start: float, rate: float | None,
               senders: str, out) -> None:
    """One client process: send its share of the signed calls (each at its slot when paced), report
    (position, task id, send time). A share of prepared messages is handed to the broker as it is;
    otherwise each call goes through Celery's ``send_task``. It has no result backend: the worker
    stores results all the same, and the sender need not subscribe to each one (the parent reads
    them from Redis)."""
    if senders == "prepared":  # (task id, prepared message)
        publish = publisher(broker_url)

        def send(prepared_call):
            task_id, message = prepared_call
            publish(message)
            return task_id
    else:
        client = Celery(broker=broker_url)

        def send(kwargs):
            return client.send_task(name, queue="predict", kwargs=kwargs).id
    sent = []
    for position, item in share:
        if rate:
            pause = start + position / rate - time.time()
            if pause > 0:
                time.sleep(pause)
        sent.append((position, send(item), time.time()))
    out.send(sent)


def run_clients(broker_url: str, name: str, requests: list, clients: int, rate: float | None = None,
                senders: str = "prepared") -> list[tuple[str, float]]:
    """(task id, send time) of every request, in order, sent by ``clients`` processes together: one
    Python client sends a few hundred to two thousand messages a second, less than a worker takes.
    ``senders``: "prepared" (the messages made before the clock starts, the clients only hand
    them over) or "celery" (each sent by Celery's ``send_task`` in the timed loop)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    calls = [call(name, request) for request in requests]  # signed before the clock starts
    if senders == "prepared":
        calls = prepared(broker_url, name, calls)
    start = time.time() + 0.5
    pipes, processes = [], []
    for number in range(clients):
        receive, send = context.Pipe(duplex=False)
        share = [(position, item) for position, item in enumerate(calls) if position % clients == number]
        process = context.Process(target=send_share, args=(broker_url, name, share, start, rate, senders, send))
        process.start()
        pipes.append(receive)
        processes.append(process)
    sent = sorted(entry for pipe in pipes for entry in pipe.recv())
    for process in processes:
        process.join()
    return [(task_id, at) for _, task_id, at in sent]


def stored(client: Celery, task_ids: list[str], timeout: float = 600.0) -> list[dict]:
    """Each task's result as the backend stored it, waiting until all are there. Read in bulk: one
    process waiting on thousands of results with .get() is slower than the worker that makes them
    (Celery's result consumer polls), and a service waits on its own few only. Read by orjson: this
    process shares the machine with the worker it measures, and a round's results are megabytes."""
    import orjson

    keys = [client.backend.get_key_for_task(task_id) for task_id in task_ids]
    found: dict[bytes, dict] = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(keys):
        assert time.monotonic() < deadline, f"{len(keys) - len(found)} results missing after {timeout:.0f} s"
        missing = [key for key in keys if key not in found]
        for start in range(0, len(missing), 1000):
            chunk = missing[start:start + 1000]
            for key, value in zip(chunk, client.backend.client.mget(chunk)):
                meta = orjson.loads(value) if value is not None else None
                if meta and meta["status"] in states.READY_STATES:  # not STARTED (task_track_started)
                    found[key] = meta
        time.sleep(POLL_EVERY)
    metas = [found[key] for key in keys]
    failed = [meta for meta in metas if meta["status"] != "SUCCESS"]
    assert not failed, failed[:3]
    return metas


def finished(meta: dict) -> float:
    return dt.datetime.fromisoformat(meta["date_done"]).timestamp()


def as_fast_as_possible(client: Celery, broker_url: str, name: str, requests: list, clients: int,
                        senders: str) -> tuple[float, float]:
    """(requests answered per second from the first send to the last result stored, requests sent
    per second): when the two are close, the clients and not the worker set the pace."""
    sent = run_clients(broker_url, name, requests, clients, senders=senders)
    metas = stored(client, [task_id for task_id, _ in sent])
    check(name, metas)
    count = sum(len(r) if isinstance(r, list) else 1 for r in requests)
    first, last_sent = min(at for _, at in sent), max(at for _, at in sent)
    return count / (max(map(finished, metas)) - first), count / (last_sent - first)


def at_rate(client: Celery, broker_url: str, name: str, requests: list[dict], rate: float, clients: int, senders: str) -> dict:
    """Offered at ``rate`` per second; latency percentiles from send to result stored."""
    sent = run_clients(broker_url, name, requests, clients, rate, senders)
    metas = stored(client, [task_id for task_id, _ in sent])
    check(name, metas)
    latencies = sorted((finished(meta) - at) * 1000 for meta, (_, at) in zip(metas, sent))
    offered = len(requests) / (sent[-1][1] - sent[0][1])
    return {"offered": offered, "p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "max": latencies[-1]}


def check(name: str, metas: list[dict]) -> None:
    """Every serving answer was a prediction (a refusal would be cheaper and flatter the figures)."""
    if name == NOOP:
        return
    answers = [answer for meta in metas for answer in (meta["result"] if name == PREDICT_BATCH else [meta["result"]])]
    statuses = {answer["status"] for answer in answers}
    assert statuses == {"predicted"}, statuses


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(share / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(runs: list[tuple[float, float]]) -> str:
    """Median answered per second, with each run's answered / sent per second."""
    return (f"median {median([answered for answered, _ in runs]):,.0f} (runs, answered/sent: "
            f"{', '.join(f'{answered:,.0f}/{sent:,.0f}' for answered, sent in runs)})")


def rate(runs: list[tuple[float, float]]) -> float:
    return median([answered for answered, _ in runs])


# -- the steps ----------------------------------------------------------------------------------

def worker_cpu(group, name: str, database_url: str) -> float:
    """CPU seconds used so far by a worker (its main process and its pool processes) and by the
    Postgres backends serving the bench database (the audit rows' share of the work)."""
    import psutil
    from sqlalchemy.engine import make_url

    main = psutil.Process(group.processes[name].pid)
    processes = [main, *main.children(recursive=True)]
    database = f" {make_url(database_url).database} "
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and database in " ".join(process.info["cmdline"] or ()) + " ":
            processes.append(process)
    used = 0.0
    for process in processes:
        try:
            used += sum(process.cpu_times()[:2])
        except psutil.NoSuchProcess:  # a backend that closed meanwhile
            pass
    return used


def measure(client: Celery, single: str, batch: str, args, tenants, agent: str, seed: int, cpu=None) -> dict:
    """``cpu()``, when given, reads the worker's CPU seconds: the batched rounds are also counted
    per CPU-second of the worker, a figure the machine's other work moves much less than time."""
    senders = tenants[:args.single_tenants] if args.single_tenants else tenants
    singles = workload(senders, agent, args.singles, seed)
    payloads = [workload([tenants[n % len(tenants)]], agent, args.batch, seed + 2 + n) for n in range(args.batches)]
    figures = {"singles": [as_fast_as_possible(client, args.broker_url, single, singles, args.clients, args.senders)
                           for _ in range(args.rounds)]}
    # open loop: offered at a fixed pace, or at a share of the capacity this worker just showed
    offered = args.rate if args.load_share is None else args.load_share * rate(figures["singles"])
    paced = workload(senders, agent, int(offered * args.seconds), seed + 1)
    figures["latency"] = {**at_rate(client, args.broker_url, single, paced, offered, args.clients, args.senders), "asked": offered}
    figures["batched"], figures["batched_cpu_seconds"] = [], []
    for _ in range(args.rounds):
        before = cpu() if cpu else 0.0
        figures["batched"].append(as_fast_as_possible(client, args.broker_url, batch, payloads, args.clients, args.senders))
        figures["batched_cpu_seconds"].append(cpu() - before if cpu else None)
    return figures


def report(label: str, figures: dict, baseline: dict | None, args) -> None:
    latency = figures["latency"]
    print(f"  {label}")
    print(f"    single messages, as fast as {args.clients} clients send: {spread(figures['singles'])} per s"
          + (f"  ({rate(figures['singles']) / rate(baseline['singles']):.2f}x the no-op)" if baseline else ""))
    share = f" ({args.load_share:.0%} of its capacity above)" if args.load_share is not None else ""
    print(f"    single messages at {latency['offered']:.0f}/s offered{share}: p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms, "
          f"max {latency['max']:.1f} ms" + (f"  (no-op: p50 {baseline['latency']['p50']:.1f}, p99 {baseline['latency']['p99']:.1f})" if baseline else ""))
    print(f"    batches of {args.batch}, {args.batches} in flight: {spread(figures['batched'])} items per s"
          + (f"  ({rate(figures['batched']) / rate(baseline['batched']):.2f}x the no-op)" if baseline else ""))
    used = [seconds for seconds in figures.get("batched_cpu_seconds", []) if seconds]
    if used:
        per_cpu = args.batch * args.batches / median(used)
        print(f"      CPU of the worker (main and pool processes) and its Postgres backends: median {median(used):.2f} s a round, "
              f"{per_cpu:,.0f} items per CPU-second")


def resident_mb(group, name: str) -> dict:
    import psutil

    main = psutil.Process(group.processes[name].pid)
    children = main.children(recursive=True)
    return {"main": main.memory_info().rss / 2**20, "pool": [child.memory_info().rss / 2**20 for child in children]}


def memory(client: Celery, env: dict, tenants: list[tuple[uuid.UUID, int]]) -> None:
    """Resident memory of a serving worker's pool process as it takes on every tenant's model of
    each agent in turn, beside the artifacts' size on disk."""
    from sqlalchemy import text

    from modelops import AGENT_TYPES, db
    from workers import pools

    with db.operator_scope() as connection:
        artifact_mb = dict(connection.execute(text(
            "SELECT agent_type, sum(artifact_size_bytes) / 1048576.0 FROM ai.model_versions WHERE is_production "
            "AND tenant_id = ANY(CAST(:tenants AS uuid[])) GROUP BY agent_type"), {"tenants": [t for t, _ in tenants]}).all())
    group = start_worker(pools.worker_command("serving", concurrency=1, loglevel="WARNING"), "memory", env)
    print(f"\n== memory of a serving worker (1 pool process) taking on {len(tenants)} tenants' models, agent by agent")
    try:
        client.send_task(PREDICT_BATCH, kwargs=call(PREDICT_BATCH, workload(tenants[:1], "insight", 5, 7)), queue="predict").get(timeout=300)
        previous = resident_mb(group, "memory")
        print(f"  after one insight model: main process {previous['main']:.0f} MB, pool process {previous['pool'][0]:.0f} MB")
        for agent in AGENT_TYPES:
            answers = client.send_task(PREDICT_BATCH, kwargs=call(PREDICT_BATCH, workload(tenants, agent, 2 * len(tenants), 8)),
                                       queue="predict").get(timeout=900)
            assert {a["status"] for a in answers} == {"predicted"}
            now = resident_mb(group, "memory")
            grown, on_disk = now["pool"][0] - previous["pool"][0], float(artifact_mb[agent])
            print(f"  + {len(tenants)} {agent} models: pool process {now['pool'][0]:,.0f} MB (+{grown:,.0f} MB, "
                  f"{grown / len(tenants):.2f} MB per model; artifacts {on_disk:.0f} MB on disk, {grown / on_disk:.1f}x)")
            previous = now
    finally:
        group.stop()


def pickup(client: Celery, tenant: tuple[uuid.UUID, int], moves: int) -> list[float]:
    """Seconds from a promotion's commit until the running worker answers with the promoted
    version (single messages sent back to back), moving between two insight versions."""
    from modelops import clock, db
    from modelops.registry import promotion, store, versions
    from tests.integration.serving_models import record_model

    tenant_id, tenant_seed = tenant
    scope = versions.scope_key(tenant_id)
    with db.tenant_scope(tenant_id) as connection:
        listed = store.listing(connection, "insight", scope)
    if len(listed) < 2:
        record_model("insight", tenant_id, tenant_seed=tenant_seed + 1000, rows=2000, promote=False)
        with db.tenant_scope(tenant_id) as connection:
            listed = store.listing(connection, "insight", scope)
    production = next(version.id for version in listed if version.is_production)
    other = next(version.id for version in listed if not version.is_production)
    request = workload([tenant], "insight", 1, 9)[0]
    seconds = []
    for move in range(moves):
        target = (other, production)[move % 2]
        ready = [call(PREDICT, request) for _ in range(PICKUP_CALLS)]  # signed before the clock starts
        with db.tenant_scope(tenant_id) as connection:
            promotion.promote(connection, target, actor="bench", reason="bench: pointer pickup", event="manual", now=clock.now())
        committed = time.monotonic()
        while client.send_task(PREDICT, kwargs=ready.pop() if ready else call(PREDICT, request),
                               queue="predict").get(timeout=30)["model_version"]["id"] != str(target):
            pass
        seconds.append(time.monotonic() - committed)
        time.sleep(0.3)
    print(f"  a promotion answered by the promoted version after: median {median(seconds):.2f} s "
          f"(runs: {', '.join(f'{value:.2f}' for value in seconds)}; the pointer cache re-reads every 0.5 s)")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--agents", default="classification,insight")
    parser.add_argument("--batch", type=int, default=1000, help="requests per predict_batch message")
    parser.add_argument("--batches", type=int, default=20, help="batch messages in flight at once")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--singles", type=int, default=5000, help="single messages per as-fast-as-possible round")
    parser.add_argument("--rate", type=float, default=500.0, help="offered single messages per second for latency")
    parser.add_argument("--load-share", type=float, default=None,
                        help="offer single messages for latency at this share of each worker's single-message "
                             "capacity measured just before (e.g. 0.5), instead of at --rate")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=2, help="client processes sending together")
    parser.add_argument("--senders", choices=("prepared", "celery"), default="prepared",
                        help="prepared: each message made by a Celery client before the clock starts, the timed "
                             "clients only hand it to the broker; celery: send_task in the timed loop")
    parser.add_argument("--profile-tenants", type=int, default=1,
                        help="profile step: spread the batch over the first N tenants (one model call each)")
    parser.add_argument("--single-tenants", type=int, default=None,
                        help="draw single messages from the first N tenants only (default: all)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="pool processes of the throughput step's workers (default: the serving pool's)")
    parser.add_argument("--steps", default="throughput,memory",
                        help="which of throughput, memory, scaling, profile to run")
    parser.add_argument("--shapes", default="1x1,1x2,1x4,2x1,4x1",
                        help="scaling step: workers x pool processes per worker, comma-separated")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--brokers", default="redis", help="the throughput step on each: redis, amqp (comma-separated)")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP_URL, help="RabbitMQ, for --brokers amqp (its predict queue is purged)")
    args = parser.parse_args()
    brokers = {"redis": args.redis_url, "amqp": args.amqp_url}
    unknown = set(args.brokers.split(",")) - set(brokers)
    if unknown:
        parser.error(f"unknown broker {', '.join(sorted(unknown))}: choose among redis, amqp")
    # Before anything reads the settings: this process and the workers it starts use the bench's servers.
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL=args.redis_url)
    for name in ("RESULT_BACKEND_URL", "BROKER_URL", "APP_DATABASE_URL", "MODELOPS_CLOCK"):
        os.environ.pop(name, None)
    os.environ.setdefault("MODELOPS_HOME", str(PROJECT / ".modelops-bench"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PROJECT), str(PROJECT / "bench")]))
    agents = args.agents.split(",")

    from modelops import AGENT_TYPES

    tenants = prepare(args.database_url, args.tenants, list(AGENT_TYPES))
    register(tenants)
    args.broker_url = args.redis_url
    client = plain_client(args)

    steps = args.steps.split(",")
    figures = {"agents": agents, "tenants": len(tenants), "cores": os.cpu_count(), "host_probe_ms": [host_probe()]}
    print(f"host probe (the same fixed work in every run; compare runs on other days by it): {figures['host_probe_ms'][0]:.1f} ms")
    if "throughput" in steps:
        by_broker = {}
        for broker in args.brokers.split(","):
            print(f"\n=== broker: {broker}")
            args.broker_url = brokers[broker]
            by_broker[broker] = throughput(plain_client(args), on_broker(env, args.broker_url), args, tenants, agents)
        figures["throughput"] = next(iter(by_broker.values()))
        if len(by_broker) > 1:
            figures["brokers"] = by_broker
            side_by_side(by_broker, agents, args)
        args.broker_url = args.redis_url
    if "memory" in steps:
        memory(client, env, tenants)
    if "scaling" in steps:
        figures["scaling"] = scaling(client, env, args, tenants, agents[0])
    if "profile" in steps:
        figures["profile"] = profile(args, tenants, agents[0])
    figures["host_probe_ms"].append(host_probe())
    print(f"\nhost probe at the end: {figures['host_probe_ms'][1]:.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


def host_probe() -> float:
    """Milliseconds of CPU that a fixed piece of work takes in this process (median of 7): string
    handling, dictionary look-ups and JSON in Python, and small numpy arrays, as serving does.
    This host's speed moves from one day to the next by more than any change measured here, so a
    run's figures are comparable with another day's only beside this."""
    import numpy as np

    words = [f"word{n % 997}" for n in range(20_000)]
    vocabulary = {word: n for n, word in enumerate(sorted(set(words)))}
    values = np.arange(2_000, dtype=np.float32)

    def work() -> None:
        columns = [vocabulary.get(word.upper().lower()) for word in words]
        json.loads(json.dumps({"columns": columns}))
        for start in range(0, 2_000, 20):
            np.unique(values[start:start + 20], return_counts=True)

    timings = []
    for _ in range(7):
        started = time.process_time()
        work()
        timings.append((time.process_time() - started) * 1000)
    return median(timings)


def plain_client(args) -> Celery:
    """A plain client of the broker being measured, reading results from Redis."""
    client = Celery(broker=args.broker_url, backend=args.redis_url)
    client.conf.update(task_serializer="json", accept_content=["json"], result_accept_content=["json"])
    return client


def on_broker(env: dict, broker_url: str) -> dict:
    """The workers' environment with ``broker_url`` as their broker (Redis stays their result
    backend); a RabbitMQ predict queue starts empty."""
    if broker_url == env["REDIS_URL"]:
        return {name: value for name, value in env.items() if name != "BROKER_URL"}
    from kombu import Connection

    with Connection(broker_url) as connection:
        connection.default_channel.queue_declare("predict", durable=True, auto_delete=False)  # as the workers declare it
        connection.default_channel.queue_purge("predict")
    return {**env, "BROKER_URL": broker_url}


def side_by_side(by_broker: dict, agents: list[str], args) -> None:
    print("\n== side by side (each beside its own no-op)")
    print(f"  {'':30}" + "".join(f"{broker:>34}" for broker in by_broker))
    for agent in agents:
        rows = {
            "singles per s": lambda t: f"{rate(t['serving'][agent]['singles']):.0f} ({rate(t['serving'][agent]['singles']) / rate(t['noop'][agent]['singles']):.2f}x)",
            "paced: offered/s, p50/p99 ms": lambda t: (f"{t['serving'][agent]['latency']['offered']:.0f}: {t['serving'][agent]['latency']['p50']:.0f}"
                                                       f" / {t['serving'][agent]['latency']['p99']:.0f}"),
            "batched items per s": lambda t: f"{rate(t['serving'][agent]['batched']):.0f} ({rate(t['serving'][agent]['batched']) / rate(t['noop'][agent]['batched']):.2f}x)",
        }
        print(f"  {agent}")
        for label, cell in rows.items():
            print(f"    {label:28}" + "".join(f"{cell(t):>34}" for t in by_broker.values()))


def throughput(client: Celery, env: dict, args, tenants: list[tuple[uuid.UUID, int]], agents: list[str]) -> dict:
    from workers import pools

    serving = pools.POOLS["serving"]
    concurrency = args.concurrency or serving.concurrency
    print(f"workers: {concurrency} pool processes, prefetch multiplier {serving.prefetch}; single messages from "
          f"{args.single_tenants or len(tenants)} tenants")
    print("\n== baseline: a Celery task that does nothing")
    group = start_worker(noop_command(concurrency, serving.prefetch), "noop", env)
    try:
        wait_ready(client, NOOP, {})
        baselines = {agent: measure(client, NOOP, NOOP, args, tenants, agent, seed=1, cpu=lambda: worker_cpu(group, "noop", args.database_url))
                     for agent in agents}
    finally:
        group.stop()
    for agent, figures in baselines.items():
        report(f"no-op, {agent} payloads", figures, None, args)

    print("\n== modelops worker --pool serving")
    group = start_worker(pools.worker_command("serving", concurrency, loglevel="WARNING"), "serving", env)
    measured = {}
    try:
        for agent in agents:  # every model loaded by every pool process before anything is timed
            wait_ready(client, PREDICT, workload(tenants[:1], agent, 1, 3)[0])
            client.send_task(PREDICT_BATCH, kwargs=call(PREDICT_BATCH, workload(tenants, agent, 4 * len(tenants), 4)),
                             queue="predict").get(timeout=600)
            # a batch message reaches one process: an untimed pass of single messages reaches the
            # others (without it, the first timed round of singles measured their loading)
            as_fast_as_possible(client, args.broker_url, PREDICT, workload(tenants, agent, args.singles // 2, 2),
                                args.clients, args.senders)
        for agent in agents:
            measured[agent] = measure(client, PREDICT, PREDICT_BATCH, args, tenants, agent, seed=1,
                                      cpu=lambda: worker_cpu(group, "serving", args.database_url))
            report(agent, measured[agent], baselines[agent], args)
        moves = pickup(client, tenants[0], moves=7)
    finally:
        group.stop()
    return {"concurrency": concurrency, "clients": args.clients, "singles": args.singles, "rate": args.rate,
            "load_share": args.load_share, "batch": args.batch, "batches": args.batches, "rounds": args.rounds,
            "single_tenants": args.single_tenants or len(tenants), "noop": baselines, "serving": measured, "pickup": moves}


def scaling(client: Celery, env: dict, args, tenants: list[tuple[uuid.UUID, int]], agent: str) -> dict:
    """Single messages answered per second by each shape of workers x pool processes, beside the
    no-op worker of the same shape; medians of ``--rounds``."""
    from workers import pools

    prefetch = pools.POOLS["serving"].prefetch
    singles = workload(tenants, agent, args.singles, seed=1)

    def answered(name: str, requests: list) -> tuple[float, float]:
        return as_fast_as_possible(client, args.broker_url, name, requests, args.clients, args.senders)

    print(f"\n== scaling: {agent} single messages from {len(tenants)} tenants, {args.singles} a round, "
          f"{args.clients} clients, median of {args.rounds} rounds")
    shapes = []
    for shape in args.shapes.split(","):
        workers, processes = (int(part) for part in shape.split("x"))
        figures = {"workers": workers, "processes": processes}
        group = start_worker(noop_command(processes, prefetch), "noop", env, count=workers)
        try:
            wait_ready(client, NOOP, {})
            figures["noop"] = [answered(NOOP, singles) for _ in range(args.rounds)]
        finally:
            group.stop()
        group = start_worker(pools.worker_command("serving", processes, loglevel="WARNING"), "serving", env, count=workers)
        try:
            wait_ready(client, PREDICT, singles[0])
            answered(PREDICT, singles[:len(singles) // 2])  # models loaded
            figures["serving"] = [answered(PREDICT, singles) for _ in range(args.rounds)]
        finally:
            group.stop()
        print(f"  {workers} worker(s) x {processes} process(es): serving {spread(figures['serving'])} per s; "
              f"no-op {spread(figures['noop'])} ({rate(figures['serving']) / rate(figures['noop']):.2f}x the no-op)")
        shapes.append(figures)
    return {"agent": agent, "tenants": len(tenants), "singles": args.singles, "clients": args.clients, "rounds": args.rounds,
            "shapes": shapes}


# -- the per-stage profile ------------------------------------------------------------------------

def profile(args, tenants: list[tuple[uuid.UUID, int]], agent: str) -> dict:
    """The stages of one predict_batch, in this process, each timed beside its floor.

    The worker's own path, step by step: its main process decodes the message; the pool process
    opens the envelope, checks the batch, routes it, extracts features, predicts, writes the
    audit rows, counts, and stores the answer. Each floor is the least that stage's work could
    cost, measured alone on the same data in the same run: what a stage costs above it is ours."""
    import hashlib
    import hmac

    import orjson
    import redis
    from celery import states as celery_states

    from modelops import db, serving
    from modelops.agents import get_agent
    from modelops.monitoring import counters
    from modelops.serving import auditlog, callers
    from workers.answers import answers_backend
    from workers.app import app
    from workers.authentication import open_calls

    server = serving.server()
    items = workload(tenants[:args.profile_tenants], agent, args.batch, seed=11)
    repetitions = max(7, args.rounds)
    timings: dict[str, list[tuple[float, float]]] = {}  # stage -> (wall ms, CPU ms of this process) per repetition

    def timed(stage: str, work, *arguments):
        started, cpu = time.perf_counter(), time.process_time()
        result = work(*arguments)
        timings.setdefault(stage, []).append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000))
        return result

    redis_client = redis.Redis.from_url(args.redis_url)
    for repetition in range(repetitions + 2):  # the first two warm the caches, and are dropped
        kwargs = call(PREDICT_BATCH, items)
        message = json.dumps([[], kwargs, {}])
        task_id = str(uuid.uuid4())
        decoded = timed("message decoded (worker main process)", json.loads, message)
        opened = timed("envelope opened: signature, body, nonce", open_calls, PREDICT_BATCH, [(task_id, (), decoded[1])])[0]
        body = opened.arguments["items"]
        _, admitted = timed("membership of each request's tenant", callers.admitted, [(opened.service, item) for item in body])
        allowed = [body[index] for index in admitted]
        answers: list = [None] * len(allowed)
        valid = timed("requests checked and validated", lambda: (serving.batch_problem(allowed), server.checked(allowed, answers))[1])
        by_model = timed("routed", server.planned, valid, answers)
        planned = next(iter(by_model.values()))
        estimator = server.models.get(planned[0].model)
        # the compiled pipeline's parts (modelops.serving.compiled), or a plain pipeline's
        pipeline = getattr(estimator, "pipeline", estimator)
        extract = getattr(estimator, "features", pipeline[:-1].transform)
        model = getattr(estimator, "model", pipeline[-1])
        inputs = [p.request.features_input for p in planned]
        features = timed("features extracted", extract, inputs)
        timed("predicted (model alone)", model.predict_proba, features)
        started = time.perf_counter()
        rows, failed = timed("predicted, answers and audit rows built", server.predicted, by_model, server.now(), started, answers)
        timed("audit rows written and committed", auditlog.write, rows)
        timed("counted (Redis)", counters.recorder().predictions, rows, failed, rows[0].prediction_timestamp.date())
        timed("answer stored (result backend)", answers_backend(app).store_result, task_id, answers, celery_states.SUCCESS)

        # the floors, each alone on the same data
        timed("floor: JSON decode of the message", json.loads, message)
        key = CALLER.credential
        timed("floor: HMAC-SHA256 of the body and one Redis round trip",
              lambda: (hmac.new(key, kwargs["envelope"]["body"].encode(), hashlib.sha256).hexdigest(), redis_client.ping()))
        members = {item["tenant_id"] for item in body}
        timed("floor: one set look-up per request", lambda: [item for item in body if item["tenant_id"] in members])
        timed("floor: the input model validated alone, one call per request",
              lambda: [get_agent(agent).input_model.model_validate(item["input_data"]) for item in allowed])
        routes = {(item["agent_type"], item["tenant_id"]): planned[0].model for item in allowed}
        timed("floor: one dict look-up per request", lambda: [routes[(item["agent_type"], item["tenant_id"])] for item in allowed])
        timed("floor: the model's text analyzers alone", lambda: [
            [step[1].build_analyzer()(document) for document in step[0].transform(inputs)]
            for _, step in pipeline[0].transformer_list if hasattr(step[1], "build_analyzer")])
        coefficients = _coefficients(model)
        timed("floor: one sparse product with the coefficients", lambda: features @ coefficients)
        timed("floor: a tuple per row", lambda: [(row.id, row.confidence) for row in rows])
        timed("floor: binary COPY of the rows into a temporary table", _copy_floor, db, rows)
        timed("floor: one Redis round trip", redis_client.ping)
        timed("floor: JSON encode of the answers", orjson.dumps, answers)

    stages = {stage: median([wall for wall, _ in values[2:]]) for stage, values in timings.items()}
    cpu = {stage: median([used for _, used in values[2:]]) for stage, values in timings.items()}
    spread = "one tenant" if args.profile_tenants == 1 else f"{args.profile_tenants} tenants (features and model alone: the first tenant's)"
    print(f"\n== profile: one predict_batch of {args.batch} {agent} requests of {spread}, in this process, "
          f"median of {repetitions}: wall ms (CPU ms of this process; Postgres and Redis not counted)")
    pairs = [
        ("message decoded (worker main process)", "floor: JSON decode of the message"),
        ("envelope opened: signature, body, nonce", "floor: HMAC-SHA256 of the body and one Redis round trip"),
        ("membership of each request's tenant", "floor: one set look-up per request"),
        ("requests checked and validated", "floor: the input model validated alone, one call per request"),
        ("routed", "floor: one dict look-up per request"),
        ("features extracted", "floor: the model's text analyzers alone"),
        ("predicted (model alone)", "floor: one sparse product with the coefficients"),
        ("predicted, answers and audit rows built", "floor: a tuple per row"),
        ("audit rows written and committed", "floor: binary COPY of the rows into a temporary table"),
        ("counted (Redis)", "floor: one Redis round trip"),
        ("answer stored (result backend)", "floor: JSON encode of the answers"),
    ]
    print(f"  {'stage':<44} {'wall':>6} {'(CPU)':>7}   {'its floor, measured alone':<58} {'wall':>6} {'(CPU)':>7}")
    for stage, floor in pairs:
        print(f"  {stage:<44} {stages[stage]:6.1f} ({cpu[stage]:5.1f})   {floor[len('floor: '):]:<58} "
              f"{stages[floor]:6.1f} ({cpu[floor]:5.1f})")
    counted = [stage for stage, _ in pairs if stage not in ("features extracted", "predicted (model alone)")]
    total, total_cpu = sum(stages[stage] for stage in counted), sum(cpu[stage] for stage in counted)
    print(f"  {'all stages (features, model within predicted)':<44} {total:6.1f} ({total_cpu:5.1f})   "
          f"= {args.batch / total * 1000:,.0f} requests per second of one process, {args.batch / total_cpu * 1000:,.0f} per CPU-second")
    return {"batch": args.batch, "agent": agent, "repetitions": repetitions, "wall_ms": stages, "cpu_ms": cpu}


def _coefficients(model):
    """The fitted linear model's coefficients, transposed for ``features @``: found under the
    wrappers that choose or calibrate it (modelops.agents.estimators)."""
    while not hasattr(model, "coef_"):
        model = model.estimator_
    return model.coef_.T


def _copy_floor(db, rows) -> None:
    """The rows into a temporary table of the audit log's columns by binary COPY: no row-level
    security, foreign key or index; what moving the rows into Postgres costs at least."""
    from psycopg.types.json import Jsonb

    from modelops import jsontext
    from modelops.serving import auditlog

    with db.unscoped() as connection:
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE profile_floor (id uuid, model_version_id uuid, agent_type text, "
                           "tenant_id uuid, input_data jsonb, predicted_output jsonb, confidence_score numeric, "
                           "prediction_timestamp timestamp, prediction_duration_ms float8, ab_group text, "
                           "request_key text) ON COMMIT DROP")
            with cursor.copy("COPY profile_floor FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["uuid", "uuid", "text", "uuid", "jsonb", "jsonb", "numeric", "timestamp", "float8",
                                "text", "text"])
                for row in rows:
                    copy.write_row((row.id, row.model_version_id, row.agent_type, row.tenant_id, Jsonb(row.input_data, jsontext.dumps),
                                    Jsonb(row.predicted_output, jsontext.dumps), auditlog.logged_confidence(row.confidence),
                                    row.prediction_timestamp, round(row.duration_ms, 2), row.ab_group, row.request_key))


if __name__ == "__main__":
    main()
