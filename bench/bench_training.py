"""How fast the training pipeline is, end to end, beside the bare estimator fit on in-memory data.

    .venv/bin/python bench/bench_training.py                                  # every part (banking77 needs --banking77)
    .venv/bin/python bench/bench_training.py --parts small million
    .venv/bin/python bench/bench_training.py --parts banking77 --banking77 PATH/TO/banking77/train.csv
    .venv/bin/python bench/bench_training.py --parts pool --pool-concurrency 2 10
    .venv/bin/python bench/bench_training.py --parts million --million 10000 100000 --json figures.json
    .venv/bin/python bench/bench_training.py --parts million --million 200000 3000000 --streaming auto always
    .venv/bin/python bench/bench_training.py --parts million --million 1000000 --streaming never always
    .venv/bin/python bench/bench_training.py --parts archive --archive-rows 1000000

Parts:
  small      classification, 10,000 rows: the bare fit of the estimator on the 80% training rows
             held in memory, against ``workflows.train`` (collect from Postgres as the tenant,
             scrub and validate, split, fit, score, save the artifact, record the version, gate),
             median of ``--repeats``; collect and preprocess are also timed alone.
  million    classification, 1,000,000 rows (or each of ``--million``) COPYed into training_data for one tenant, then
             ``train_run`` in a fresh process (its peak resident memory is its own), against the
             bare fit on the same rows generated in memory, also in a process of its own (up to
             1M rows). ``--streaming`` trains each size once per mode: the pipeline's own choice
             (auto), always streamed, never (in memory); then each size's time and peak memory
             beside the first size's, per mode (streamed training's memory must stay flat).
  archive    ``--archive-rows`` (1M) rows over 9 months, four fifths of them older than 12: a
             training, the archive task (``mover.archive_old_rows``), a training again from the
             archive and Postgres; each in a process of its own; the two versions' figures must be
             the same.
  banking77  the chat agent on the BANKING77 training CSV (columns text, category), stored as
             feedback through the intake (admit, scrub and store) and trained by the pipeline:
             the validation accuracy of its own split, beside the bare fit on the raw rows with
             the same split. Skipped with a message when --banking77 is not given or absent.
  pool       ``modelops worker --pool training`` started here; one job alone (median of
             ``--repeats``, after a warm-up job), then 10 jobs for 10 tenants of 10,000 rows each
             enqueued at once; every run must succeed with one v1.0 per tenant.

The database (default modelops_bench_training on the local Postgres) is dropped, created and
migrated at every start: it belongs to this script. The broker is Redis db 9 by default, flushed
at start. Artifacts go to a temporary directory, removed at the end. Times are wall clock on a
shared machine: Postgres and the workers share its cores with this process. ``--json PATH`` also
writes the figures there, by part (for bench/suite.py).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/modelops_bench_training"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
PARTS = ("small", "million", "archive", "banking77", "pool")
SERVICE = "bench-training-service"
TRAIN_TASK = "modelops.training.train_model"
# Rows are generated and COPYed this many at a time, so the bench never holds a million dicts.
CHUNK = 100_000
POOL_JOBS = 10


# -- data -----------------------------------------------------------------------------------------

def synthetic_chunks(agent_type: str, n: int, tenant_seed: int):
    """``n`` rows as (input_data, expected_output), in chunks with their own seeds; the same
    arguments give the same rows, in this process or another."""
    from modelops.agents.synthetic import generate

    for start in range(0, n, CHUNK):
        yield generate(agent_type, min(CHUNK, n - start), seed=start // CHUNK, tenant_seed=tenant_seed)


def new_tenant(name: str) -> uuid.UUID:
    from modelops import tenants

    tenant_id = tenants.create_tenant(name)
    tenants.add_member(tenant_id, SERVICE, "service")
    return tenant_id


def copy_rows(tenant_id: uuid.UUID, agent_type: str, chunks, months_ago=None) -> int:
    """COPY labelled rows straight into training_data as the owner, stamped a minute ago (or, with
    ``months_ago``, each chunk that many months ago, by the chunk's index)."""
    from modelops import clock, db

    now = clock.now()
    written = 0
    with db.owner_engine().connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        columns = ("tenant_id, agent_type, input_data, expected_output, actual_output, was_correct, source, "
                   "idempotency_key, feedback_timestamp, created_at, updated_at")
        with cursor.copy(f"COPY ai.training_data ({columns}) FROM STDIN") as copy:
            for index, chunk in enumerate(chunks):
                stamp = now - (dt.timedelta(days=30.5 * months_ago(index)) if months_ago else dt.timedelta(minutes=1))
                for input_data, expected in chunk:
                    label = json.dumps(expected)
                    copy.write_row((tenant_id, agent_type, json.dumps(input_data), label, label, True,
                                    "suggestion_approved", f"bench-{written}", stamp, stamp, stamp))
                    written += 1
        connection.connection.driver_connection.commit()
    return written


def store_through_intake(tenant_id: uuid.UUID, agent_type: str, rows) -> int:
    from modelops import intake

    stored = 0
    for start in range(0, len(rows), 1000):
        events = [{"tenant_id": str(tenant_id), "agent_type": agent_type, "source": "suggestion_approved",
                   "input_data": input_data, "actual_output": expected, "idempotency_key": f"bench-{start + i}"}
                  for i, (input_data, expected) in enumerate(rows[start:start + 1000])]
        _, accepted = intake.admit(events, SERVICE, "bench_training")
        stored += intake.scrub_and_store(accepted)["stored"]
    return stored


def queue_run(tenant_id: uuid.UUID, agent_type: str) -> uuid.UUID:
    from modelops import clock, db
    from modelops.registry.versions import scope_key
    from modelops.training import runs

    with db.tenant_scope(tenant_id) as connection:
        return runs.create(connection, agent_type=agent_type, tenant_id=tenant_id, scope_key=scope_key(tenant_id),
                           trigger="manual", reason="benchmark", requested_by="bench", run_key=str(uuid.uuid4()),
                           now=clock.now())


def recorded_version(version_id):
    from modelops import db
    from modelops.registry import store

    with db.operator_scope() as connection:
        return store.get(connection, version_id)


def bare_fit(agent_type: str, inputs: list[dict], labels: list) -> tuple[float, object, tuple]:
    """The baseline: the estimator alone, fitted on the pipeline's own split of in-memory rows."""
    from modelops.agents import get_agent
    from modelops.training.evaluation import split
    from modelops.training.schedule import RETRAINING_SCHEDULE

    agent = get_agent(agent_type)
    parts = split(inputs, labels, RETRAINING_SCHEDULE[agent_type]["validation_split"], agent.default_config()["random_state"])
    started = time.perf_counter()
    model = agent.build_estimator().fit(parts[0], parts[2])
    return time.perf_counter() - started, model, parts


def labelled(agent_type: str, rows) -> tuple[list[dict], list]:
    from modelops.agents import get_agent

    agent = get_agent(agent_type)
    return [agent.validate_input(data) for data, _ in rows], [agent.label(expected) for _, expected in rows]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- parts ----------------------------------------------------------------------------------------

def part_small(rows: int, repeats: int) -> dict:
    from modelops import clock
    from modelops.agents import get_agent
    from modelops import workflows
    from modelops.training import pipeline

    tenant = new_tenant("bench small")
    data = [row for chunk in synthetic_chunks("classification", rows, tenant_seed=1) for row in chunk]
    copy_rows(tenant, "classification", [data])
    inputs, labels = labelled("classification", data)
    bare = [bare_fit("classification", inputs, labels)[0] for _ in range(repeats)]
    collect, preprocess, full, versions = [], [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        collected, _ = pipeline.collect("classification", tenant, clock.now())
        collect.append(time.perf_counter() - started)
        started = time.perf_counter()
        pipeline.preprocess(get_agent("classification"), collected)
        preprocess.append(time.perf_counter() - started)
        del collected
        run_id = queue_run(tenant, "classification")
        started = time.perf_counter()
        outcome = workflows.train(run_id, worker="bench")
        full.append(time.perf_counter() - started)
        assert outcome["status"] == "succeeded", outcome
        versions.append(f"{outcome['version']} {outcome['decision']['outcome']}")
    fit, whole = statistics.median(bare), statistics.median(full)
    print(f"\n## classification, {rows:,} rows: median of {repeats} (seconds)")
    for label, values in ((f"bare fit, in memory, on the ~{int(rows * 0.8):,} training rows", bare),
                          ("pipeline.collect (read as the tenant, JSON text)", collect),
                          ("pipeline.preprocess (parse, scrub, validate)", preprocess),
                          ("workflows.train, end to end and recorded", full)):
        print(f"  {label:<50} {statistics.median(values):7.2f}   runs {_runs(values)}")
    print(f"  end to end / bare fit: {whole / fit:.2f}x; versions made: {', '.join(versions)}"
          " (after the first, each run also scores production for the gate)")
    return {"rows": rows, "bare_fit_s": bare, "collect_s": collect, "preprocess_s": preprocess, "train_run_s": full}


STREAMING_MODES = {"auto": None, "always": "1", "never": str(10**12)}  # MODELOPS_STREAMING_ROWS for the run
BARE_FIT_MAX_ROWS = 1_000_000  # above, the in-memory baseline would itself need more memory than the target


def existing_tenant(rows: int) -> uuid.UUID | None:
    """A tenant of an earlier run of this script (``--reuse-database``) with exactly ``rows`` rows."""
    from sqlalchemy import text

    from modelops import db

    with db.owner_engine().connect() as connection:
        return connection.execute(text("SELECT tenant_id FROM ai.training_data GROUP BY tenant_id"
                                       " HAVING count(*) = :rows LIMIT 1"), {"rows": rows}).scalar()


def part_million(rows: int, modes: list[str], bare_fit: bool = True, reuse: bool = False) -> dict:
    tenant = existing_tenant(rows) if reuse else None
    started = time.perf_counter()
    if tenant:
        copied = rows
    else:
        tenant = new_tenant("bench million")
        copied = copy_rows(tenant, "classification", synthetic_chunks("classification", rows, tenant_seed=1))
    print(f"\n## classification, {copied:,} rows from Postgres (one process each, run once;"
          " seconds wall clock, CPU seconds of that process in brackets)")
    print(f"  (COPY of the rows into training_data: {time.perf_counter() - started:.0f} s, not part of training)")
    bare = stages = None
    if bare_fit and rows <= BARE_FIT_MAX_ROWS:
        bare = _in_child(["--child-bare-fit", str(rows)])
        print(f"  bare fit, in memory, on {bare['training_rows']:,} rows: {bare['fit_s']:.1f} s ({bare['cpu_s']:.1f}),"
              f" peak {bare['peak_mb']:,.0f} MB (of which {bare['data_mb']:,.0f} MB before the fit: interpreter,"
              " libraries and the rows)")
    if bare_fit and rows <= BARE_FIT_MAX_ROWS and "never" in modes:
        stages = _in_child(["--child-stages", str(tenant)])
        print(f"  pipeline.collect alone {stages['collect_s']:.1f} s ({stages['collect_cpu_s']:.1f}), pipeline.preprocess"
              f" alone {stages['preprocess_s']:.1f} s ({stages['preprocess_cpu_s']:.1f}), {stages['usable']:,} usable rows,"
              f" peak {stages['peak_mb']:,.0f} MB")
    runs = {}
    for mode in modes:
        full = _in_child(["--child-train-run", str(queue_run(tenant, "classification"))],
                         {"MODELOPS_STREAMING_ROWS": STREAMING_MODES[mode]})
        outcome = full["outcome"]
        assert outcome["status"] == "succeeded", outcome
        version = recorded_version(outcome["model_version_id"])
        streamed = bool(version.training_config["data"].get("streamed"))
        print(f"  workflows.train end to end, streaming {mode} ({'streamed' if streamed else 'in memory'}):"
              f" {full['seconds']:.1f} s ({full['cpu_s']:.1f}), peak {full['peak_mb']:,.0f} MB;"
              f" {outcome['status']} {outcome.get('version')} ({outcome.get('decision', {}).get('outcome')})")
        print(f"    recorded: {version.training_samples:,} training / {version.validation_samples:,} validation rows,"
              f" accuracy {float(version.accuracy_score):.4f}, macro F1 {float(version.f1_score):.4f},"
              f" fits {version.training_duration.total_seconds():.1f} s inside the run,"
              f" artifact {version.artifact_size_bytes / 1024:,.0f} KB")
        if bare:
            print(f"    end to end / bare fit: {full['seconds'] / bare['fit_s']:.2f}x wall, {full['cpu_s'] / bare['cpu_s']:.2f}x"
                  f" CPU; peak memory end to end / bare fit: {full['peak_mb'] / bare['peak_mb']:.2f}x")
        runs[mode] = {"train_run": full, "streamed": streamed, "accuracy": float(version.accuracy_score),
                      "f1": float(version.f1_score), "validation_samples": version.validation_samples,
                      "artifact_bytes": version.artifact_size_bytes}
    if len(runs) > 1:
        first, *others = runs
        for other in others:
            print(f"  accuracy, streaming {other} - streaming {first}: {runs[other]['accuracy'] - runs[first]['accuracy']:+.4f}"
                  f" (same validation rows: {runs[other]['validation_samples'] == runs[first]['validation_samples']})")
    # the first mode's run where bench/suite.py reads it
    return {"rows": copied, "bare": bare, "stages": stages, "runs": runs, "train_run": runs[modes[0]]["train_run"]}


def million_summary(figures: list[dict]) -> None:
    """Peak memory and time of each size beside the smallest's, by mode: flat memory shows here."""
    first = figures[0]
    print(f"\n## sizes beside {first['rows']:,} rows (same run)")
    for size in figures:
        for mode, run in size["runs"].items():
            base = first["runs"].get(mode)
            if not base:
                continue
            full, base_full = run["train_run"], base["train_run"]
            print(f"  {size['rows']:>10,} rows, streaming {mode} ({'streamed' if run['streamed'] else 'in memory'}):"
                  f" {full['seconds']:7.1f} s = {full['seconds'] / base_full['seconds']:5.2f}x,"
                  f" peak {full['peak_mb']:7,.0f} MB = {full['peak_mb'] / base_full['peak_mb']:.2f}x,"
                  f" accuracy {run['accuracy']:.4f}")


def part_archive(rows: int, reuse: bool = False) -> dict:
    """Rows spread over months, most past the archive's threshold; a training, the archive task,
    and a training again from the archive and Postgres together: the same version figures."""
    chunks = -(-rows // CHUNK)
    recent = max(1, chunks // 5)  # a fifth stays in Postgres
    started = time.perf_counter()
    tenant = existing_tenant(rows) if reuse else None
    if tenant:
        copied = rows
    else:
        tenant = new_tenant("bench archive")
        copied = copy_rows(tenant, "classification", synthetic_chunks("classification", rows, tenant_seed=1),
                           months_ago=lambda index: 0 if index >= chunks - recent else 13 + (chunks - recent - 1 - index))
    print(f"\n## the archive: classification, {copied:,} rows over {chunks - recent + 1} months, {chunks - recent} of them"
          f" older than 12 months (COPY {time.perf_counter() - started:.0f} s)")
    before = _in_child(["--child-train-run", str(queue_run(tenant, "classification"))])
    moved = _in_child(["--child-archive"], {"MODELOPS_ARCHIVE_AFTER_MONTHS": "12"})
    after = _in_child(["--child-train-run", str(queue_run(tenant, "classification"))])
    versions = [recorded_version(run["outcome"]["model_version_id"]) for run in (before, after)]
    same = {column: getattr(versions[0], column) == getattr(versions[1], column)
            for column in ("metrics_detail", "training_samples", "validation_samples", "artifact_sha256")}
    print(f"  train from Postgres alone: {before['seconds']:.1f} s ({before['cpu_s']:.1f}), peak {before['peak_mb']:,.0f} MB,"
          f" accuracy {float(versions[0].accuracy_score):.4f}")
    print(f"  archive task: {moved['rows']:,} rows in {moved['parts']} files ({moved['bytes'] / 2**20:,.1f} MB of Parquet;"
          f" the table and its indexes took {moved['postgres_bytes'] / 2**20:,.0f} MB before) in {moved['seconds']:.1f} s ({moved['cpu_s']:.1f}), peak {moved['peak_mb']:,.0f} MB;"
          f" {moved['left_in_postgres']:,} rows left in Postgres")
    print(f"  train from the archive and Postgres: {after['seconds']:.1f} s ({after['cpu_s']:.1f}), peak {after['peak_mb']:,.0f} MB,"
          f" accuracy {float(versions[1].accuracy_score):.4f}; after / before: {after['seconds'] / before['seconds']:.2f}x"
          f" wall, {after['cpu_s'] / before['cpu_s']:.2f}x CPU, {after['peak_mb'] / before['peak_mb']:.2f}x peak")
    print(f"  the same as before archiving: {', '.join(f'{column} {value}' for column, value in same.items())}")
    return {"rows": copied, "before": before, "archive": moved, "after": after, "same": same}


def part_banking77(path: str | None) -> dict | None:
    from modelops.agents import get_agent
    from modelops import workflows

    if not path or not Path(path).is_file():
        print(f"\n## chat on BANKING77: skipped, {'no --banking77 given' if not path else f'{path} not found'}")
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [({"message": row["text"]}, {"intent": row["category"]}) for row in csv.DictReader(handle)]
    tenant = new_tenant("bench banking77")
    started = time.perf_counter()
    stored = store_through_intake(tenant, "chat", rows)
    intake_s = time.perf_counter() - started
    started = time.perf_counter()
    outcome = workflows.train(queue_run(tenant, "chat"), worker="bench")
    full_s = time.perf_counter() - started
    assert outcome["status"] == "succeeded", outcome
    version = recorded_version(outcome["model_version_id"])
    fit_s, model, (_, val_x, _, val_y) = bare_fit("chat", *labelled("chat", rows))
    bare_accuracy = statistics.fmean(p.label == y for p, y in zip(get_agent("chat").predict(model, val_x), val_y))
    detail = version.metrics_detail
    print(f"\n## chat on BANKING77: {len(rows):,} rows, {len({label['intent'] for _, label in rows})} intents")
    print(f"  stored through the intake (admit, scrub, store): {stored:,} rows in {intake_s:.1f} s")
    print(f"  pipeline: {version.training_samples:,} training / {version.validation_samples:,} validation rows,"
          f" validation accuracy {detail['summary']['accuracy']:.4f}, macro F1 {detail['summary']['f1']:.4f}"
          f" (majority class {detail['majority_baseline_accuracy']:.4f}); {full_s:.1f} s end to end")
    print(f"  bare fit on the raw (unscrubbed) rows, same split function and seed: accuracy {bare_accuracy:.4f}, fit {fit_s:.1f} s;"
          f" pipeline - bare = {detail['summary']['accuracy'] - bare_accuracy:+.4f}")
    return {"rows": len(rows), "accuracy": detail["summary"]["accuracy"], "bare_accuracy": bare_accuracy, "train_run_s": full_s}


def part_pool(concurrencies: list[int | None], rows: int, repeats: int) -> list[dict]:
    from workers import pools

    figures = []
    for concurrency in concurrencies:
        label = concurrency or pools.POOLS["training"].concurrency
        warm, singles = new_tenant("bench pool warm-up"), [new_tenant(f"bench pool single {i}") for i in range(repeats)]
        batch = [new_tenant(f"bench pool {i}") for i in range(POOL_JOBS)]
        for index, tenant in enumerate([warm, *singles, *batch]):
            copy_rows(tenant, "classification", synthetic_chunks("classification", rows, tenant_seed=index))
        with TrainingWorker(concurrency) as memory:
            _enqueue_and_wait([warm])
            alone = [_enqueue_and_wait([tenant])[0] for tenant in singles]
            memory.reset()
            wall, outcomes = _enqueue_and_wait(batch)
            peak = memory.peak_mb
        _check_one_first_version_each(batch, outcomes)
        single = statistics.median(alone)
        durations = [outcome["seconds_in_worker"] for outcome in outcomes]
        overlap = sum(durations) / wall
        print(f"\n## {POOL_JOBS} classification jobs ({rows:,} rows each, 10 tenants) at once,"
              f" `modelops worker --pool training --concurrency {label}`")
        print(f"  one job alone, enqueue to result: {single:.1f} s (median of {repeats}: {_runs(alone)})")
        floor = POOL_JOBS / min(label, os.cpu_count())
        print(f"  {POOL_JOBS} at once, enqueue to last result: {wall:.1f} s = {wall / single:.1f}x one job"
              f" (back to back: {POOL_JOBS}x; {label} processes on {os.cpu_count()} cores: at best {floor:.1f}x)")
        print(f"  each job's own time in the worker: median {statistics.median(durations):.1f} s,"
              f" max {max(durations):.1f} s; {overlap:.1f} jobs in flight on average (sum of job times / wall)")
        print(f"  worker processes' peak resident memory together: {peak:,.0f} MB")
        print(f"  all {POOL_JOBS} succeeded; each tenant has exactly one version, v1.0, made by its own run")
        figures.append({"concurrency": label, "jobs": POOL_JOBS, "rows": rows, "alone_s": alone, "wall_s": wall,
                        "in_worker_s": durations, "peak_mb": peak, "succeeded": POOL_JOBS})
    return figures


# -- pool helpers -----------------------------------------------------------------------------------

class TreeMemory:
    """Samples the summed resident memory of a process and its children, every 0.2 s."""

    def __init__(self, pid: int):
        import psutil

        self.process, self.peak_mb, self._stop = psutil.Process(pid), 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.wait(0.2):
            try:
                family = [self.process, *self.process.children(recursive=True)]
                total = sum(p.memory_info().rss for p in family if p.is_running())
            except psutil.Error:
                continue
            self.peak_mb = max(self.peak_mb, total / 2**20)

    def reset(self) -> None:
        self.peak_mb = 0.0

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class TrainingWorker:
    """`modelops worker --pool training` as a child process for the length of a with-block."""

    def __init__(self, concurrency: int | None):
        self.concurrency = concurrency

    def __enter__(self) -> TreeMemory:
        from modelops.supervisor import ProcessGroup
        from workers import pools

        self.logs = tempfile.TemporaryDirectory(prefix="bench-training-worker-")
        self.group = ProcessGroup(Path(self.logs.name), dict(os.environ))
        process = self.group.start("worker-training", pools.worker_command("training", self.concurrency, loglevel="WARNING"))
        self.memory = TreeMemory(process.pid)
        return self.memory

    def __exit__(self, *_) -> None:
        self.memory.stop()
        self.group.stop()
        self.logs.cleanup()


def _enqueue_and_wait(tenants: list[uuid.UUID]) -> tuple[float, list[dict]]:
    """Queue one run per tenant (each committed first), send them all, wait for every result."""
    from workers.app import app

    run_ids = [queue_run(tenant, "classification") for tenant in tenants]
    started = time.perf_counter()
    results = [app.send_task(TRAIN_TASK, args=[str(run_id)]) for run_id in run_ids]
    outcomes = [result.get(timeout=1800) for result in results]
    wall = time.perf_counter() - started
    for outcome in outcomes:
        outcome["seconds_in_worker"] = _run_seconds(outcome["run_id"])
    return wall, outcomes


def _run_seconds(run_id: str) -> float:
    from sqlalchemy import text

    from modelops import db

    with db.operator_scope() as connection:
        row = connection.execute(text("SELECT claimed_at, finished_at FROM ai.training_runs WHERE id = :id"), {"id": run_id}).one()
    return (row.finished_at - row.claimed_at).total_seconds()


def _check_one_first_version_each(tenants: list[uuid.UUID], outcomes: list[dict]) -> None:
    from sqlalchemy import text

    from modelops import db

    for tenant, outcome in zip(tenants, outcomes):
        assert outcome["status"] == "succeeded", outcome
        with db.operator_scope() as connection:
            made = connection.execute(
                text("SELECT v.id::text, v.version, v.is_production, r.id::text AS run_id FROM ai.model_versions v"
                     " JOIN ai.training_runs r ON r.id = v.training_run_id WHERE v.tenant_id = :t"), {"t": tenant}).all()
        assert [(row.id, row.version, row.is_production, row.run_id) for row in made] == [
            (outcome["model_version_id"], "v1.0", True, outcome["run_id"])], (tenant, made, outcome)


# -- children (one process per measurement, so peak memory is that measurement's) -------------------

def _in_child(arguments: list[str], environment: dict[str, str | None] | None = None) -> dict:
    env = dict(os.environ)
    for name, value in (environment or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    done = subprocess.run([sys.executable, __file__, *arguments], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_bare_fit(rows: int) -> dict:
    inputs, labels = [], []
    for chunk in synthetic_chunks("classification", rows, tenant_seed=1):
        chunk_inputs, chunk_labels = labelled("classification", chunk)
        inputs += chunk_inputs
        labels += chunk_labels
    data_mb, cpu = peak_mb(), time.process_time()
    fit_s, _, parts = bare_fit("classification", inputs, labels)
    return {"fit_s": fit_s, "cpu_s": time.process_time() - cpu, "training_rows": len(parts[0]), "data_mb": data_mb,
            "peak_mb": peak_mb()}


def child_stages(tenant: str) -> dict:
    from modelops import clock
    from modelops.agents import get_agent
    from modelops.training import pipeline

    started, cpu = time.perf_counter(), time.process_time()
    rows, _ = pipeline.collect("classification", uuid.UUID(tenant), clock.now())
    collect_s, collect_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    data = pipeline.preprocess(get_agent("classification"), rows)
    return {"collect_s": collect_s, "collect_cpu_s": collect_cpu, "preprocess_s": time.perf_counter() - started,
            "preprocess_cpu_s": time.process_time() - cpu, "usable": len(data.labels), "peak_mb": peak_mb()}


def child_archive(_: str) -> dict:
    from sqlalchemy import text

    from modelops import clock, db
    from modelops.archive import mover
    from modelops.archive.store import archive_url

    with db.owner_engine().connect() as connection:
        before = connection.execute(text("SELECT pg_total_relation_size('ai.training_data')")).scalar_one()
    started, cpu = time.perf_counter(), time.process_time()
    moved = mover.archive_old_rows(clock.now(), worker="bench")
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    with db.owner_engine().connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM ai.training_data")).scalar_one()
    return {"rows": moved["rows"], "parts": moved["parts"], "seconds": seconds, "cpu_s": cpu_s, "peak_mb": peak_mb(),
            "bytes": sum(path.stat().st_size for path in Path(archive_url()).rglob("*.parquet")),
            "postgres_bytes": before, "left_in_postgres": left}


def child_train_run(run_id: str) -> dict:
    from modelops import workflows

    started, cpu = time.perf_counter(), time.process_time()
    outcome = workflows.train(run_id, worker="bench")
    return {"seconds": time.perf_counter() - started, "cpu_s": time.process_time() - cpu, "peak_mb": peak_mb(),
            "outcome": {key: outcome.get(key) for key in ("status", "version", "model_version_id", "decision", "reason")}}


# -- setup and main -------------------------------------------------------------------------------

def fresh_database(url: str) -> None:
    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.engine import make_url

    from modelops import migrations

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()
    migrations.ensure_database(url)
    migrations.upgrade(database_url=url)


def _runs(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="owner URL of a database this script owns")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="broker for the pool part (flushed)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=["small", "million", "archive", "pool", "banking77"])
    parser.add_argument("--banking77", help="the BANKING77 training CSV (columns text, category)")
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the small part and of each pool job")
    parser.add_argument("--million", type=int, nargs="+", default=[1_000_000], help="rows of the million part (each size in turn)")
    parser.add_argument("--streaming", nargs="+", choices=list(STREAMING_MODES), default=["auto"],
                        help="million part: train each size with the pipeline's own choice (auto), always streamed, or"
                             " never (in memory); each mode a run of its own on the same rows")
    parser.add_argument("--reuse-database", action="store_true",
                        help="keep the database of an earlier run, and train (million part) the tenant it COPYed of each size")
    parser.add_argument("--no-bare-fit", action="store_true",
                        help="million part: no bare-fit baseline (when the modes are each other's baselines)")
    parser.add_argument("--archive-rows", type=int, default=1_000_000, help="rows of the archive part")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pool-concurrency", type=int, nargs="+", default=[None],
                        help="worker processes of the training pool to try (default: the pool's own)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child-bare-fit", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-stages", help=argparse.SUPPRESS)
    parser.add_argument("--child-train-run", help=argparse.SUPPRESS)
    parser.add_argument("--child-archive", nargs="?", const="", help=argparse.SUPPRESS)
    options = parser.parse_args()

    children = {"child_bare_fit": child_bare_fit, "child_stages": child_stages, "child_train_run": child_train_run,
                "child_archive": child_archive}
    for name, child in children.items():
        if getattr(options, name) is not None:
            print(json.dumps(child(getattr(options, name)), default=str))
            return

    with tempfile.TemporaryDirectory(prefix="bench-training-artifacts-") as artifacts:
        os.environ.update({"DATABASE_URL": options.database_url, "REDIS_URL": options.redis_url,
                           "MODELOPS_ARTIFACT_DIR": artifacts})
        os.environ.pop("APP_DATABASE_URL", None)
        os.environ.pop("RESULT_BACKEND_URL", None)
        if not options.reuse_database:
            fresh_database(options.database_url)
        if "pool" in options.parts:
            import redis

            redis.Redis.from_url(options.redis_url).flushdb()
        print(f"bench_training: {os.cpu_count()} cores; parts {' '.join(options.parts)}")
        figures = {}
        for part in options.parts:
            # the machine may be shared: how busy it was says how far to trust the wall-clock figures
            print(f"\n[{part}: 1-minute load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start]")
            if part == "small":
                figures[part] = part_small(options.rows, options.repeats)
            elif part == "million":
                figures[part] = [part_million(rows, options.streaming, not options.no_bare_fit, options.reuse_database)
                                 for rows in options.million]
                million_summary(figures[part])
            elif part == "archive":
                figures[part] = part_archive(options.archive_rows, options.reuse_database)
            elif part == "banking77":
                figures[part] = part_banking77(options.banking77)
            else:
                figures[part] = part_pool(options.pool_concurrency, options.rows, options.repeats)
        if options.json:
            Path(options.json).write_text(json.dumps(figures, indent=1, default=str))


if __name__ == "__main__":
    main()
