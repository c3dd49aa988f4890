"""How fast batched feedback intake is, scrubbing and Postgres write included, beside the raw scrubber.

    python bench/bench_intake.py [--database-url URL] [--batch 1000] [--rounds 7] [--tenants 4] [--seed 11]
                                 [--worker --redis-url URL] [--profile] [--json PATH]

Events are realistic feedback of all six agents: the agents' synthetic inputs and labels, with their
free text (bank descriptors, reconciliation memos, chat messages, the user's correction notes)
taken from the scrubber's labelled corpus (bench/scrub_corpus.py), so that 60% carry names,
emails, phones, card and account numbers. Every source kind appears; 30% name a prediction whose
log row the intake updates; 1% are re-sent (duplicates) and 0.5% are malformed (rejected).

In process, each round runs what the two tasks run on one batch: ``intake.admit`` (validate,
authorise, look up stored keys), then ``intake.scrub_batch`` and ``intake.store`` (what
``intake.scrub_and_store`` is made of), and times each stage. Then, in the same round, the raw
scrubber (``scrub_many``) runs on the very values the intake scrubbed. Both start from the same
word cache (cleared, then warmed on a batch of other events), so neither profits from the other.

With ``--worker`` it then starts ``modelops worker --pool ingest`` and ``modelops worker --pool
privacy`` and sends ``modelops.feedback.record_batch`` by name from a plain Celery client, each
batch in an envelope signed as the calling service (made before the clock starts), timing
from the send until every accepted row is visible in the table: one batch at a time, then all
rounds' batches at once (after four small warm-up batches); the workers' logs give how long each
task ran.

The database (default modelops_bench_intake on the local Postgres) is created and migrated when
needed; each run adds its own tenants, so runs never collide. Rates are wall clock; beside each
stage the CPU time of this process is printed, and the load average, since Postgres and any other
work on the machine share its cores. ``--json PATH`` also writes the figures there (for bench/suite.py).
"""
from __future__ import annotations

import argparse
import copy
import cProfile
import datetime as dt
import gc
import json
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil  # noqa: E402
from celery import Celery  # noqa: E402
from scrub_corpus import CorpusGenerator  # noqa: E402
from sqlalchemy import text  # noqa: E402

from modelops import db, intake, migrations, tenants  # noqa: E402
from modelops.agents.synthetic import generate  # noqa: E402
from modelops.auth import services  # noqa: E402
from modelops.auth.client import ServiceCaller  # noqa: E402
from modelops.privacy.pii import lexicon, names, scrub_many  # noqa: E402
from modelops.supervisor import ProcessGroup  # noqa: E402
from schemas.feedback import FeedbackEvent  # noqa: E402
from workers.authentication import SigningCelery  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/modelops_bench_intake"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
CALLER = "bench-ledger-service"
TASK_NAME = "modelops.feedback.record_batch"
AGENT_MIX = {"classification": 40, "reconciliation": 20, "journal": 10, "compliance": 10, "chat": 15, "insight": 5}
PREDICTION_SHARE, FEEDBACK_SHARE, DUPLICATE_SHARE, MALFORMED_SHARE = 0.3, 0.6, 0.01, 0.005
SOURCES = [
    "user_correction", "classification_correction", "manual_override", "accuracy_feedback", "suggestion_approved",
    "manual_match", "verified_mapping", "auto_match_confirmed", "pattern_confirmed", "journal_entry_validated",
    "classification_confirmed", "satisfaction_rating", "implicit_signal",
]
DISAGREEING = {"user_correction", "classification_correction", "manual_override"}
MALFORMED = [  # (field, bad value): each is rejected by validation
    ("agent_type", "forecasting"), ("confidence_score", 1.7), ("input_data", "not an object"), ("tenant_id", None),
]


class EventGenerator:
    """Feedback events of one run: seeded, so a seed always gives the same texts, labels and kinds
    (prediction ids are fresh, since the prediction log outlives a run)."""

    def __init__(self, seed: int, tenants: list[uuid.UUID]):
        self.random = random.Random(seed)
        self.corpus = CorpusGenerator(seed)
        self.tenants = tenants

    def batch(self, size: int, label: str) -> tuple[list[dict], list[dict]]:
        """A batch of events, and the prediction rows the events name (to be logged before it is sent)."""
        texts = self._texts(size * 3)
        agents = self.random.choices(list(AGENT_MIX), weights=list(AGENT_MIX.values()), k=size)
        rows = {agent: generate(agent, agents.count(agent), seed=self.random.randrange(10**6), tenant_seed=1)
                for agent in sorted(set(agents))}
        drawn = {agent: iter(agent_rows) for agent, agent_rows in rows.items()}
        events, predictions = [], []
        for index, agent in enumerate(agents):
            input_data, label_value = next(drawn[agent])
            alternative = self.random.choice(rows[agent])[1]
            feedback = self.random.choice(texts["chat" if agent in ("chat", "insight") else "note"])
            event = self._event(agent, self._with_text(agent, input_data, texts), label_value, alternative, feedback)
            event["idempotency_key"] = f"bench-{label}-{index}"  # the tenants are new in every run
            if self.random.random() < PREDICTION_SHARE:
                event["prediction_id"] = str(uuid.uuid4())
                predictions.append(event)
            events.append(event)
        for index in range(size):
            roll = self.random.random()
            if roll < DUPLICATE_SHARE and index:
                events[index] = copy.deepcopy(events[self.random.randrange(index)])
            elif roll < DUPLICATE_SHARE + MALFORMED_SHARE:
                field, bad = self.random.choice(MALFORMED)
                events[index][field] = bad
                events[index].pop("prediction_id", None)
        named = {event["prediction_id"] for event in events if "prediction_id" in event}
        return events, [event for event in predictions if event.get("prediction_id") in named]

    def _texts(self, count: int) -> dict[str, list[str]]:
        by_source: dict[str, list[str]] = defaultdict(list)
        for record in self.corpus.records(count):
            by_source[record.source].append(record.text)
        return by_source

    def _with_text(self, agent: str, input_data: dict, texts: dict[str, list[str]]) -> dict:
        """The agent's input with its free text replaced by corpus text of the same kind."""
        data = copy.deepcopy(input_data)
        if agent in ("classification", "journal", "compliance"):
            data["description"] = self.random.choice(texts["bank"])
        elif agent == "reconciliation":
            data["bank_line"]["description"] = self.random.choice(texts["bank"])
            data["candidate"]["description"] = self.random.choice(texts["memo"])
        elif agent == "chat":
            data["message"] = self.random.choice(texts["chat"])
        return data

    def _event(self, agent: str, input_data: dict, label, alternative, feedback: str) -> dict:
        source = self.random.choice(SOURCES)
        event = {
            "tenant_id": str(self.random.choice(self.tenants)), "agent_type": agent, "source": source,
            "input_data": input_data, "confidence_score": round(self.random.uniform(0.3, 0.99), 2),
            "occurred_at": (dt.datetime(2026, 11, 2, 9) + dt.timedelta(seconds=self.random.randrange(86400))).isoformat(),
        }
        if source in DISAGREEING or source in ("manual_match", "verified_mapping"):
            event["expected_output"] = label
            event["actual_output"] = alternative if source in DISAGREEING else label
        elif source == "accuracy_feedback":
            event["is_accurate"] = self.random.random() < 0.7
            event["actual_output"] = label if event["is_accurate"] else alternative
        elif source == "satisfaction_rating":
            event["rating"] = self.random.randint(1, 5)
        elif source == "implicit_signal":
            event["engagement"] = self.random.choice(["accepted", "edited", "ignored", "dismissed"])
            event["seconds_to_resolution"] = round(self.random.expovariate(1 / 90), 1)
        else:
            event["actual_output"] = label
        if self.random.random() < FEEDBACK_SHARE or source == "satisfaction_rating":
            event["user_feedback"] = feedback
        return event


# -- the database -------------------------------------------------------------------------------

def prepare_database(url: str, tenant_count: int) -> tuple[list[uuid.UUID], dict]:
    """Migrate the bench database; new tenants with the bench's caller, a registered calling
    service, as a member; a model version per tenant and agent, for the prediction log."""
    migrations.ensure_database(url)
    migrations.upgrade(database_url=url)
    run = uuid.uuid4().hex[:8]
    created = []
    for number in range(tenant_count):
        created.append(tenants.create_tenant(f"bench-intake-{run}-{number}", country="US", region="NA"))
    services.ensure(CALLER, created)
    versions = {}
    with db.operator_scope() as connection:
        for tenant in created:
            for agent in AGENT_MIX:
                versions[(tenant, agent)] = connection.execute(text(
                    """INSERT INTO ai.model_versions (agent_type, version, trained_on, tenant_id)
                       VALUES (:agent, 'v1.0', now(), :tenant) RETURNING id"""), {"agent": agent, "tenant": tenant}).scalar_one()
    return created, versions


def log_predictions(events: list[dict], versions: dict) -> None:
    """The prediction log rows the events answer, as the serving path would have written them."""
    rows = [{"id": e["prediction_id"], "version": versions[(uuid.UUID(e["tenant_id"]), e["agent_type"])],
             "agent": e["agent_type"], "tenant": e["tenant_id"], "input": json.dumps(e["input_data"]),
             "output": json.dumps(e.get("actual_output"))} for e in events]
    if rows:
        with db.operator_scope() as connection:
            connection.execute(text(
                """INSERT INTO ai.prediction_log (id, model_version_id, agent_type, tenant_id, input_data, predicted_output)
                   VALUES (:id, :version, :agent, :tenant, :input, :output)"""), rows)


def stored_keys(keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (tenant, idempotency key) pairs have a training row: one probe of the unique
    index each (the LIMIT keeps the planner from scanning the table instead)."""
    tenant_ids, idempotency_keys = zip(*keys)
    with db.operator_scope() as connection:
        rows = connection.execute(text("""
            SELECT k.tenant_id::text, k.idempotency_key
            FROM unnest(CAST(:tenants AS uuid[]), CAST(:keys AS text[])) AS k(tenant_id, idempotency_key)
            CROSS JOIN LATERAL (SELECT 1 FROM ai.training_data AS t
                                WHERE t.tenant_id = k.tenant_id AND t.idempotency_key = k.idempotency_key LIMIT 1) AS row"""),
            {"tenants": list(tenant_ids), "keys": list(idempotency_keys)})
        return {tuple(row) for row in rows}


def answered_predictions(events: list[dict]) -> int:
    ids = [e["prediction_id"] for e in events]
    with db.operator_scope() as connection:
        return connection.execute(text(
            "SELECT count(*) FROM ai.prediction_log WHERE id = ANY(CAST(:ids AS uuid[])) AND feedback_at IS NOT NULL"),
            {"ids": ids}).scalar_one()


# -- CPU spent, wherever it was spent -------------------------------------------------------------
# The machine is shared, so wall-clock rates move with whatever else runs. The CPU seconds the
# intake costs (its own processes and the Postgres server processes of their connections) do not,
# and say what the 2 cores could carry if the intake had them to itself.

def postgres_backends() -> list[psutil.Process]:
    """The server processes of every connection to the bench database."""
    with db.operator_scope() as connection:
        pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars()
        return [psutil.Process(pid) for pid in pids if psutil.pid_exists(pid)]


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    """User and system CPU seconds of each process still running (Linux counts in 10 ms ticks)."""
    spent = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        spent[process.pid] = times.user + times.system
    return spent


def cpu_since(before: dict[int, float], processes: list[psutil.Process]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in cpu_seconds(processes).items())


# -- in process ---------------------------------------------------------------------------------

def reset_word_cache(warm_values: list) -> None:
    """The scrubber's per-process word caches, cleared and warmed on other events: each stage that
    is timed starts from the same cache, as a process that has already seen some traffic."""
    names.describe.cache_clear()
    lexicon.fold.cache_clear()
    scrub_many(warm_values)


class Stages:
    """Wall-clock and CPU seconds of this process per named stage, and the seconds its garbage
    collector took in it (a full collection walks every object the process holds)."""

    def __init__(self):
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.gc: dict[str, float] = {}
        self._collecting = {"since": 0.0, "total": 0.0}

    def _on_collection(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._collecting["since"] = time.perf_counter()
        else:
            self._collecting["total"] += time.perf_counter() - self._collecting["since"]

    @contextmanager
    def __call__(self, stage: str):
        self._collecting["total"] = 0.0
        gc.callbacks.append(self._on_collection)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[stage] = time.perf_counter() - wall
            self.cpu[stage] = time.process_time() - cpu
            gc.callbacks.remove(self._on_collection)
            self.gc[stage] = self._collecting["total"]


def in_process_round(events: list[dict], warm: list, profile: cProfile.Profile | None) -> dict:
    stages = Stages()
    reset_word_cache(warm)
    postgres_before = cpu_seconds(postgres_backends())
    if profile:
        profile.enable()
    with stages("admit"):
        verdicts, accepted = intake.admit(events, CALLER, TASK_NAME)
    with stages("scrub"):
        batch = intake.scrub_batch(accepted)
    with stages("insert"):
        stored = intake.store(batch)
    if profile:
        profile.disable()
    postgres_cpu = cpu_since(postgres_before, postgres_backends())

    # the raw scrubber on the very values the intake scrubbed, from the same word cache
    parsed = [FeedbackEvent.model_validate(event) for event in accepted]
    values = [[e.input_data, e.label(), e.actual_output, e.user_feedback] for e in parsed]
    reset_word_cache(warm)
    with stages("scrubber"):
        scrub_many(values)
    return {"stages": stages, "postgres_cpu": postgres_cpu, "verdicts": Counter(v.status for v in verdicts),
            "stored": stored, "accepted": len(accepted)}


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):6.0f}  (min {min(values):.0f}, max {max(values):.0f})"


INTAKE_STAGES = [("admit", "validate, authorise, look up stored keys, record rejections"),
                 ("scrub", "validate again, scrub, shape rows"), ("insert", "insert rows, answer predictions")]


def report_in_process(rounds: list[dict], batch: int) -> dict:
    print(f"\n== in process, one core: admit + scrub_and_store on batches of {batch} events, {len(rounds)} rounds")
    intake_rates = [batch / sum(r["stages"].wall[stage] for stage, _ in INTAKE_STAGES) for r in rounds]
    scrubber_rates = [r["accepted"] / r["stages"].wall["scrubber"] for r in rounds]
    print(f"  intake, events/s:                      {spread(intake_rates)}")
    print(f"  raw scrubber on the same values, events/s: {spread(scrubber_rates)}")
    print(f"  intake / raw scrubber (medians):       {statistics.median(intake_rates) / statistics.median(scrubber_rates):.2f}")
    print(f"  raw scrubber: CPU {statistics.median(r['stages'].cpu['scrubber'] for r in rounds) * 1000:.0f} ms per batch, "
          f"garbage collection {statistics.mean(r['stages'].gc['scrubber'] for r in rounds) * 1000:.1f} ms (mean)")
    print("  per stage, median per batch: wall ms (share of the intake's) and CPU ms of this process; mean ms of")
    print("  garbage collection in the stage (full collections are rare and long, so a mean, not a median)")
    walls = {stage: statistics.median(r["stages"].wall[stage] for r in rounds) for stage, _ in INTAKE_STAGES}
    for stage, meaning in INTAKE_STAGES:
        cpu = statistics.median(r["stages"].cpu[stage] for r in rounds)
        collecting = statistics.mean(r["stages"].gc[stage] for r in rounds)
        print(f"    {stage:7s} {walls[stage] * 1000:6.1f} ms ({walls[stage] / sum(walls.values()):4.0%})  "
              f"cpu {cpu * 1000:6.1f} ms  gc {collecting * 1000:5.1f} ms  {meaning}")
    own = statistics.median(sum(r["stages"].cpu[stage] for stage, _ in INTAKE_STAGES) for r in rounds)
    postgres = statistics.median(r["postgres_cpu"] for r in rounds)
    print(f"  CPU per batch, median: this process {own * 1000:.0f} ms + its Postgres backends {postgres * 1000:.0f} ms "
          f"= {(own + postgres) * 1000:.0f} ms, i.e. {batch / (own + postgres):.0f} events per CPU-second")
    verdicts = sum((r["verdicts"] for r in rounds), Counter())
    print(f"  verdicts over all rounds: {dict(verdicts)}; rows stored {sum(r['stored']['stored'] for r in rounds)}")
    hits = sum((Counter(r["stored"]["scrub_hits"]) for r in rounds), Counter())
    print(f"  scrub hits over all rounds: {dict(hits.most_common())}")
    return {"intake": statistics.median(intake_rates), "scrubber": statistics.median(scrubber_rates),
            "events_per_cpu_second": batch / (own + postgres)}


# -- through real workers -----------------------------------------------------------------------

def start_workers(log_dir: Path, database_url: str, redis_url: str):
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url)
    env.pop("RESULT_BACKEND_URL", None)
    env.pop("APP_DATABASE_URL", None)
    group = ProcessGroup(log_dir, env)
    entry = "import sys; from cli import main; sys.exit(main())"  # the `modelops` command
    for pool in ("ingest", "privacy"):
        group.start(pool, [sys.executable, "-c", entry, "worker", "--pool", pool])
    return group


def wait_ready(client, timeout: float = 90.0) -> None:
    sent = time.monotonic()
    pending = [client.send_task("modelops.maintenance.ping", kwargs={"queue": q}, queue=q) for q in ("ingest", "scrub")]
    for result in pending:
        result.get(timeout=max(0.1, timeout - (time.monotonic() - sent)))


POLL_SECONDS = 0.02


def wait_visible(keys: set[tuple[str, str]], sentinels: set[tuple[str, str]], timeout: float = 300.0) -> float:
    """The moment every (tenant, key) pair has its row. Polls cheaply for a few sentinel pairs
    first (the last event of each batch and tenant), then checks every pair once and keeps polling
    any still missing: the answer is exact, and polling hardly competes with the workers. A check
    sees the rows committed before it started, so that moment is the one returned."""
    missing, deadline = set(sentinels), time.monotonic() + timeout
    while missing and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        missing -= stored_keys(missing)
    missing = set(keys)
    while time.monotonic() < deadline:
        checked = time.monotonic()
        missing -= stored_keys(missing)
        if not missing:
            return checked
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{len(missing)} of {len(keys)} rows not stored within {timeout}s")


TASK_DONE = re.compile(r"Task (modelops\.[\w.]+)\[[^\]]+\] succeeded in ([\d.]+)s")


def log_sizes(log_dir: Path) -> dict[Path, int]:
    return {log: log.stat().st_size for log in log_dir.glob("*.log")}


def task_seconds(since: dict[Path, int]) -> dict[str, list[float]]:
    """How long each task ran in the workers, from what their logs gained since ``since``."""
    seconds: dict[str, list[float]] = defaultdict(list)
    for log, offset in since.items():
        with log.open("rb") as handle:
            handle.seek(offset)
            for name, value in TASK_DONE.findall(handle.read().decode("utf-8", "replace")):
                seconds[name].append(float(value))
    return seconds


def send_and_wait(client, caller: ServiceCaller, batches: list[list[dict]]) -> float:
    """Send the batches at once, each signed by ``caller``; seconds from the first send until every
    accepted row is visible (the envelopes are made before: a service's signing is not the intake's work)."""
    calls = [caller.kwargs(TASK_NAME, events=events) for events in batches]
    keys = {(e["tenant_id"], e["idempotency_key"]) for events in batches for e in events if accepted_shape(e)}
    last_of_batch_and_tenant = {(index, e["tenant_id"]): (e["tenant_id"], e["idempotency_key"])
                                for index, events in enumerate(batches) for e in events if accepted_shape(e)}
    sent = time.monotonic()
    for kwargs in calls:
        client.send_task(TASK_NAME, kwargs=kwargs, queue="ingest")
    return wait_visible(keys, set(last_of_batch_and_tenant.values())) - sent


def through_workers(warm_up: list[list[dict]], batches: list[list[dict]], redis_url: str, database_url: str) -> dict:
    # A plain client, as another service has: nothing of ours imported, no routes, so the queue is
    # named (without it a message goes to Celery's default queue, which no pool consumes).
    client = Celery(broker=redis_url, backend=redis_url)
    issued = services.current(CALLER)
    caller = ServiceCaller.from_hex(issued.name, issued.credential)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-intake-workers-"))
    group = start_workers(log_dir, database_url, redis_url)
    try:
        wait_ready(SigningCelery(broker=redis_url, backend=redis_url))  # pings are internal: the system's own messages
        # Every worker process loads the name lists and opens its connections on its first task.
        send_and_wait(client, caller, warm_up)
        time.sleep(1)  # a task logs its success just after its rows are visible
        measured_from = log_sizes(log_dir)
        print(f"\n== through real workers: ingest and privacy pools, 2 processes each (logs in {log_dir})")
        half = len(batches) // 2
        rates = [len(events) / send_and_wait(client, caller, [events]) for events in batches[:half]]
        print(f"  one batch at a time, events/s from send to all rows visible: {spread(rates)}")
        in_flight = batches[half:]
        total = sum(len(events) for events in in_flight)
        workers = [psutil.Process(p.pid) for p in group.processes.values()]
        workers += [child for worker in workers for child in worker.children(recursive=True)]
        backends = postgres_backends()
        before = cpu_seconds(workers + backends)
        seconds = send_and_wait(client, caller, in_flight)
        spent = cpu_since(before, workers + postgres_backends())
        print(f"  {len(in_flight)} batches sent at once: {total} events in {seconds:.2f} s = {total / seconds:.0f} events/s")
        print(f"  CPU the workers and their Postgres backends spent on them: {spent:.2f} s, "
              f"i.e. {total / spent:.0f} events per CPU-second")
    finally:
        group.stop()  # a task logs its success after its rows are visible: read the logs once it is down
    for name, values in sorted(task_seconds(measured_from).items()):
        if name != "modelops.maintenance.ping":
            print(f"  {name}: {len(values)} runs, median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")
    return {"one_at_a_time": statistics.median(rates), "in_flight": total / seconds, "batches_in_flight": len(in_flight),
            "events_per_cpu_second": total / spent}


def load() -> str:
    """Other work on the machine competes for its cores: say how much there was."""
    return "load average (1, 5, 15 min): " + ", ".join(f"{value:.1f}" for value in os.getloadavg())


def accepted_shape(event: dict) -> bool:
    """Whether the bench made this event malformed (it is then rejected, and no row appears)."""
    return all(event.get(field) != bad for field, bad in MALFORMED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--worker", action="store_true", help="also measure end to end through real workers")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="broker for --worker")
    parser.add_argument("--profile", action="store_true", help="print where the in-process time goes")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    # Before anything reads the settings: every scope of this process talks to the bench database.
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ.pop("APP_DATABASE_URL", None)

    tenant_ids, versions = prepare_database(args.database_url, args.tenants)
    generator = EventGenerator(args.seed, tenant_ids)
    started = time.perf_counter()
    warm_events, _ = generator.batch(args.batch, "warm")
    warm = [[e.get("input_data"), e.get("expected_output"), e.get("actual_output"), e.get("user_feedback")] for e in warm_events]
    rounds = [generator.batch(args.batch, f"round{n}") for n in range(args.rounds)]
    print(f"{args.rounds} batches of {args.batch} events over {args.tenants} tenants generated in "
          f"{time.perf_counter() - started:.1f} s; {os.cpu_count()} cores; {load()}")

    profile = cProfile.Profile() if args.profile else None
    results = []
    for events, predictions in rounds:
        log_predictions(predictions, versions)
        results.append(in_process_round(events, warm, profile))
    figures = {"batch": args.batch, "rounds": args.rounds, "in_process": report_in_process(results, args.batch)}
    print(f"  {load()}")
    named = [p for _, predictions in rounds for p in predictions]
    print(f"  prediction log rows answered: {answered_predictions(named)} of {len(named)} named")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)

    if args.worker:
        batches = []
        for n in range(args.rounds * 2):
            events, predictions = generator.batch(args.batch, f"worker{n}")
            log_predictions(predictions, versions)
            batches.append(events)
        warm_up = [generator.batch(args.batch // 4, f"worker-warm-up{n}")[0] for n in range(4)]
        figures["workers"] = through_workers(warm_up, batches, args.redis_url, args.database_url)
        worker_named = [e for events in batches for e in events if "prediction_id" in e and accepted_shape(e)]
        print(f"  prediction log rows answered: {answered_predictions(worker_named)} of {len(set(e['prediction_id'] for e in worker_named))} named")
        print(f"  {load()}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
