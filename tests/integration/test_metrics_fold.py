"""Metric counters through real workers on a simulated clock: predictions and feedback sent through
the serving, intake and privacy tasks are counted in Redis and folded into ai.model_metrics by beat
(or by a fold sent by hand), exactly: a fold killed half-way, at either side of its commit, or
run while Postgres is unreachable, neither loses nor doubles a count."""
from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from modelops import clock, db, tenants
from modelops.agents.synthetic import generate
from modelops.clock import ScaledClock
from modelops.config import settings
from modelops.monitoring import counters, fold
from tests.integration.serving_models import record_model
from tests.fixtures import clock_set_to
from tests.integration.training_support import wait_until, worker_group
from tests.callers import signed, signed_batch, signed_prediction
from workers import pools
from workers.app import app

pytestmark = pytest.mark.integration

PREDICT, PREDICT_BATCH = "modelops.serving.predict", "modelops.serving.predict_batch"
RECORD_BATCH, FOLD = "modelops.feedback.record_batch", "modelops.metrics.fold_counters"
BUILD_DAILY = "modelops.metrics.build_daily_performance"
CALLER = "metrics-tests"
# An hour of simulated time a second: feedback sent a little after its predictions lands on a later
# day than they did, and must still be counted on theirs.
SPEED = 3600


@pytest.fixture(scope="module")
def stack(worker):
    """The run's worker of every queue (serving, intake, privacy, metrics) and this process on the
    simulated clock."""
    with clock_set_to(ScaledClock(dt.datetime(2031, 6, 30, 12, 0), real_anchor=time.time(), speed=SPEED)):
        yield worker


@pytest.fixture
def beat(stack, tmp_path):
    """Celery beat with the project's schedule: it sends the fold every second."""
    group = worker_group(tmp_path / "beat", MODELOPS_CLOCK=clock.current().spec())
    group.start("beat", pools.beat_command(str(tmp_path / "beat-schedule"), loglevel="WARNING"))
    yield group
    group.stop()


def new_tenant(prefix: str) -> uuid.UUID:
    tenant = tenants.create_tenant(f"{prefix}-{uuid.uuid4().hex[:6]}")
    tenants.add_member(tenant, CALLER)
    return tenant


def requests_for(tenant, agent_type, n, seed) -> list[dict]:
    return [{"tenant_id": str(tenant), "agent_type": agent_type, "input_data": input_data}
            for input_data, _ in generate(agent_type, n, seed=seed)]


def predict_batch(items) -> list[dict]:
    return app.send_task(PREDICT_BATCH, kwargs=signed_batch(PREDICT_BATCH, items)).get(timeout=60)


def logged(owner, prediction_ids) -> dict[str, dict]:
    with owner.connect() as connection:
        rows = connection.execute(text("""SELECT id, model_version_id, prediction_timestamp, prediction_duration_ms
                                          FROM ai.prediction_log WHERE id = ANY(CAST(:ids AS uuid[]))"""),
                                  {"ids": list(prediction_ids)}).mappings().all()
    return {str(row["id"]): dict(row) for row in rows}


def metrics(owner, version_ids) -> dict[tuple[str, dt.date], dict]:
    with owner.connect() as connection:
        rows = connection.execute(text("""
            SELECT model_version_id, metric_date, total_predictions, failed_predictions, labelled_predictions,
                   correct_predictions, user_overrides, rating_count, rating_sum, class_counts, confidence_sum,
                   response_time_sum_ms, accuracy, precision, recall, f1_score, avg_confidence, avg_response_time_ms,
                   peak_memory_usage_mb, cpu_utilization_percent
            FROM ai.model_metrics WHERE model_version_id = ANY(CAST(:ids AS uuid[]))"""),
            {"ids": [str(v) for v in version_ids]}).mappings().all()
    return {(str(row["model_version_id"]), row["metric_date"]): dict(row) for row in rows}


COUNTS = ("total_predictions", "failed_predictions", "labelled_predictions", "correct_predictions", "user_overrides",
          "rating_count", "rating_sum", "class_counts")


def counts_only(table: dict) -> dict:
    return {key: {name: row[name] for name in COUNTS} for key, row in table.items()}


def totals(owner, version_id) -> dict:
    """The version's counts summed over its days (class counts left out)."""
    summed: Counter = Counter()
    for row in metrics(owner, [version_id]).values():
        summed.update({name: row[name] for name in COUNTS if name != "class_counts"})
    return dict(summed)


def nothing_left_in_redis(version_ids) -> bool:
    client = counters.client()
    names = [name.decode() for name in client.hkeys(counters.LIVE)]
    for fold_id in client.smembers(counters.PENDING):
        names += [name.decode() for name in client.hkeys(fold.fold_key(fold_id.decode()))]
    return not any(name.split(counters.SEPARATOR)[0] in {str(v) for v in version_ids} for name in names)


def event(tenant, source, answer, request, **fields) -> dict:
    return {"tenant_id": str(tenant), "agent_type": answer["agent_type"], "source": source,
            "input_data": request["input_data"], "prediction_id": answer["prediction_id"],
            "idempotency_key": f"{source}-{uuid.uuid4()}", **fields}


def send_feedback(batch: list[dict], stored: int) -> None:
    """Through the intake's task, as other services send it; returns once the scrub task stored them."""
    result = app.send_task(RECORD_BATCH, kwargs=signed(RECORD_BATCH, CALLER, events=batch)).get(timeout=60)
    assert result["counts"].get("accepted", 0) == stored, result
    keys = [item["idempotency_key"] for item in batch]

    def all_stored():
        with db.operator_scope() as connection:
            return connection.execute(text("SELECT count(*) FROM ai.training_data WHERE idempotency_key = ANY(:keys)"),
                                      {"keys": keys}).scalar_one() == len(set(keys))
    wait_until(all_stored, timeout=60, what="the feedback being stored")


def class_of(answer) -> str:
    return str(next(iter(answer["output"].values())))


def test_predictions_and_feedback_are_counted_exactly_on_the_day_of_the_prediction(stack, beat, owner):
    a, b, c = new_tenant("metrics-a"), new_tenant("metrics-b"), new_tenant("metrics-c")
    versions = {"a_classification": record_model("classification", a, tenant_seed=11)["id"],
                "b_classification": record_model("classification", b, tenant_seed=12)["id"],
                "a_chat": record_model("chat", a, tenant_seed=11)["id"],
                "c_broken": record_model("classification", c, tenant_seed=13)["id"]}
    with owner.connect() as connection:
        broken = connection.execute(text("SELECT model_artifact_path FROM ai.model_versions WHERE id = :v"),
                                    {"v": versions["c_broken"]}).scalar_one()
    # its artifact's signature no longer verifies: every request to it fails (saving the model signs it again)
    (settings().artifact_dir / f"{broken}.sig").write_text("0" * 64)

    # -- predictions: batches (with bad requests among them) and single messages
    a_requests = requests_for(a, "classification", 60, seed=1)
    batch = a_requests[:40] + requests_for(b, "classification", 40, seed=2) + requests_for(a, "chat", 30, seed=3)
    batch += requests_for(c, "classification", 7, seed=4) + ["not a request", {"tenant_id": str(a), "agent_type": "classification"}]
    answers = predict_batch(batch)
    singles = [app.send_task(PREDICT, kwargs=signed_prediction(PREDICT, **item)) for item in a_requests[40:]]
    answers += [result.get(timeout=60) for result in singles]
    requests = batch + a_requests[40:]
    predicted = [(request, answer) for request, answer in zip(requests, answers) if answer["status"] == "predicted"]
    statuses = Counter(answer["status"] for answer in answers)
    assert statuses == {"predicted": 130, "unavailable": 7, "rejected": 2}
    by_version = defaultdict(list)
    for request, answer in predicted:
        by_version[answer["model_version"]["id"]].append((request, answer))
    a_class, b_class, a_chat = (by_version[str(versions[name])] for name in ("a_classification", "b_classification", "a_chat"))
    assert (len(a_class), len(b_class), len(a_chat)) == (60, 40, 30)
    log = logged(owner, [answer["prediction_id"] for _, answer in predicted])
    prediction_days = {row["prediction_timestamp"].date() for row in log.values()}

    # -- feedback, a simulated day or more later
    wait_until(lambda: clock.today() > max(prediction_days), timeout=60, what="the next simulated day")
    first = ([event(a, "suggestion_approved", answer, request, actual_output=answer["output"]) for request, answer in a_class[:30]]
             + [event(a, "user_correction", answer, request, actual_output=answer["output"],
                      expected_output={"category": "Corrected"}) for request, answer in a_class[30:40]]
             + [event(a, "accuracy_feedback", answer, request, is_accurate=False) for request, answer in a_class[40:45]]
             + [event(a, "satisfaction_rating", answer, request, rating=1 + i % 5) for i, (request, answer) in enumerate(a_class[50:60])]
             + [event(a, "manual_match", answer, request, actual_output=answer["output"], expected_output=answer["output"])
                for request, answer in a_chat[:10]]
             # a tenant naming another tenant's prediction: stored as its own feedback, answers nothing
             + [event(a, "suggestion_approved", answer, request, actual_output=answer["output"]) for request, answer in b_class[30:32]])
    send_feedback(first, stored=len(first))
    send_feedback(first[:20], stored=0)  # delivered again: duplicates change nothing
    send_feedback([event(b, "suggestion_approved", answer, request, actual_output=answer["output"]) for request, answer in b_class[:10]],
                  stored=10)
    # the user changes their mind: five approvals become corrections; later, three of them are rated
    # (a rating carries no verdict, and leaves the correction as it was)
    send_feedback([event(a, "classification_correction", answer, request, actual_output=answer["output"],
                         expected_output={"category": "Rent"}) for request, answer in a_class[:5]], stored=5)
    send_feedback([event(a, "satisfaction_rating", answer, request, rating=5) for request, answer in a_class[:3]], stored=3)

    # -- what must be counted, from what was sent (and the log, for each prediction's day)
    expected: dict[tuple[str, dt.date], dict] = {}

    def row_of(answer) -> dict:
        key = (answer["model_version"]["id"], log[answer["prediction_id"]]["prediction_timestamp"].date())
        return expected.setdefault(key, {name: 0 for name in COUNTS} | {"class_counts": {}})

    def count_class(row, measure, label):
        row["class_counts"].setdefault(label, {"tp": 0, "fp": 0, "fn": 0})[measure] += 1

    for _, answer in predicted:
        row_of(answer)["total_predictions"] += 1
    batch_day = log[answers[0]["prediction_id"]]["prediction_timestamp"].date()  # the batch's failures are counted on its day
    expected[(str(versions["c_broken"]), batch_day)] = {name: 0 for name in COUNTS} | {"class_counts": {}, "failed_predictions": 7}
    verdicts = {}  # prediction -> (correct, overridden, actual class or None): the last verdict stands
    for _, answer in a_class[:30] + b_class[:10] + a_chat[:10]:
        verdicts[answer["prediction_id"]] = (answer, True, False, None)
    for _, answer in a_class[30:40]:
        verdicts[answer["prediction_id"]] = (answer, False, True, "Corrected")
    for _, answer in a_class[40:45]:
        verdicts[answer["prediction_id"]] = (answer, False, False, None)
    for _, answer in a_class[:5]:
        verdicts[answer["prediction_id"]] = (answer, False, True, "Rent")
    for answer, correct, overridden, actual in verdicts.values():
        row = row_of(answer)
        row["labelled_predictions"] += 1
        row["correct_predictions"] += correct
        row["user_overrides"] += overridden
        count_class(row, "tp" if correct else "fp", class_of(answer))
        if actual:
            count_class(row, "fn", actual)
    for i, (_, answer) in enumerate(a_class[50:60]):
        row_of(answer)["rating_count"] += 1
        row_of(answer)["rating_sum"] += 1 + i % 5
    for _, answer in a_class[:3]:
        row_of(answer)["rating_count"] += 1
        row_of(answer)["rating_sum"] += 5

    wait_until(lambda: counts_only(metrics(owner, versions.values())) == expected, timeout=60,
               what="ai.model_metrics to hold exactly the predictions and feedback sent")
    wait_until(lambda: nothing_left_in_redis(versions.values()), timeout=30, what="every counter folded")
    table = metrics(owner, versions.values())
    assert counts_only(table) == expected  # and nothing more arrived since
    assert not any(day > max(prediction_days) and row["labelled_predictions"] for (_, day), row in table.items())

    # the averages are the quotients of the sums
    answered_confidence = defaultdict(float)
    logged_duration = defaultdict(float)
    for _, answer in predicted:
        key = (answer["model_version"]["id"], log[answer["prediction_id"]]["prediction_timestamp"].date())
        answered_confidence[key] += answer["confidence"]
        logged_duration[key] += float(log[answer["prediction_id"]]["prediction_duration_ms"])
    for key, row in table.items():
        if not row["total_predictions"]:
            assert row["avg_confidence"] is None and row["accuracy"] is None
            continue
        n = row["total_predictions"]
        assert row["confidence_sum"] == pytest.approx(answered_confidence[key], abs=1e-6 * n)
        assert row["response_time_sum_ms"] == pytest.approx(logged_duration[key], abs=0.01 * n)
        assert float(row["avg_confidence"]) == pytest.approx(row["confidence_sum"] / n, abs=0.005)
        assert float(row["avg_response_time_ms"]) == pytest.approx(row["response_time_sum_ms"] / n, abs=0.005)
        assert row["peak_memory_usage_mb"] > 50
        if row["labelled_predictions"]:
            assert float(row["accuracy"]) == pytest.approx(row["correct_predictions"] / row["labelled_predictions"], abs=5e-5)
            assert row["precision"] is not None and row["f1_score"] is not None

    # -- the daily rows, built on demand for the batch's day, twice (the same rows)
    day = batch_day
    built = app.send_task(BUILD_DAILY, kwargs={"date": day.isoformat()}).get(timeout=60)
    assert built["status"] == "built" and built["rows"][day.isoformat()] >= 4
    again = app.send_task(BUILD_DAILY, kwargs={"date": day.isoformat()}).get(timeout=60)
    assert again == built
    with owner.connect() as connection:
        daily = {str(row["model_version_id"]): dict(row) for row in connection.execute(text(
            "SELECT * FROM ai.daily_performance WHERE date = :day AND model_version_id = ANY(CAST(:ids AS uuid[]))"),
            {"day": day, "ids": [str(v) for v in versions.values()]}).mappings()}
    assert set(daily) == {str(v) for v in versions.values()}
    for name, version in versions.items():
        row, metric = daily[str(version)], table.get((str(version), day))
        assert row["prediction_volume"] == metric["total_predictions"] and row["date"] == day
        assert row["model_version"] == "v1.0" and row["agent_type"] == ("chat" if name == "a_chat" else "classification")
    assert float(daily[str(versions["c_broken"])]["error_rate"]) == 1.0
    assert float(daily[str(versions["b_classification"])]["error_rate"]) == 0.0
    a_metric = table[(str(versions["a_classification"]), day)]
    if a_metric["rating_count"]:
        assert float(daily[str(versions["a_classification"])]["user_satisfaction_score"]) == pytest.approx(
            a_metric["rating_sum"] / a_metric["rating_count"], abs=0.005)
    refused = app.send_task(BUILD_DAILY, kwargs={"date": "30/06/2031"}).get(timeout=30)
    assert refused == {"status": "refused", "reason": "date must be an ISO date (YYYY-MM-DD), got '30/06/2031'"}


# -- faults ----------------------------------------------------------------------------------------

def fold_now() -> dict:
    return app.send_task(FOLD).get(timeout=60)


def counted_in_redis(version_id, live_only: bool = False) -> dict[str, int]:
    """The version's counts waiting in Redis, live or (unless ``live_only``) pending, by measure."""
    client = counters.client()
    hashes = [counters.LIVE] + ([] if live_only else [fold.fold_key(f.decode()) for f in client.smembers(counters.PENDING)])
    waiting: Counter = Counter()
    for key in hashes:
        for name, value in client.hgetall(key).items():
            version, _, measure = counters.parse_field(name.decode())
            if version == version_id and measure in ("predictions", "labelled"):
                waiting[measure] += int(value)
    return dict(waiting)


def predict_for(tenant, n, seed) -> int:
    answers = predict_batch(requests_for(tenant, "classification", n, seed))
    assert all(answer["status"] == "predicted" for answer in answers)
    return n


@contextmanager
def metrics_consumers_paused():
    """The shared worker leaves the metrics queue to the test's own monitoring worker."""
    names = [f"{pools.ALL}@{socket.gethostname()}"]
    app.control.cancel_consumer("metrics", destination=names, reply=True)
    try:
        yield
    finally:
        app.control.add_consumer("metrics", destination=names, reply=True)


def start_monitoring_worker(stack, tmp_path, name, **env):
    """A monitoring-pool worker of one process with extra environment, once it consumes the metrics queue."""
    group = worker_group(tmp_path / name, MODELOPS_CLOCK=clock.current().spec(), **env)
    argv = pools.worker_command("monitoring", concurrency=1, loglevel="WARNING")
    argv[argv.index("--hostname") + 1] = f"{name}@%h"
    process = group.start(name, argv)
    probe = app.send_task("modelops.maintenance.ping", kwargs={"queue": "metrics"}, queue="metrics")
    probe.get(timeout=90, propagate=False)  # answered (or failed, without a database): it consumes
    return group, process


def kill(process) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def pending_ids() -> set[str]:
    return {member.decode() for member in counters.client().smembers(counters.PENDING)}


def in_ledger(owner, fold_ids) -> set[str]:
    with owner.connect() as connection:
        return set(connection.execute(text("SELECT fold_id FROM ai.metric_folds WHERE fold_id = ANY(:ids)"),
                                      {"ids": list(fold_ids)}).scalars())


@pytest.mark.parametrize("stage", ["moved", "committed"])
def test_a_fold_killed_half_way_is_finished_by_the_next_without_losing_or_doubling(stack, owner, tmp_path, stage):
    tenant = new_tenant(f"metrics-kill-{stage}")
    version = record_model("classification", tenant, tenant_seed=21)["id"]
    predict_for(tenant, 50, seed=5)
    fold_now()  # folded by the shared worker: the table holds 50
    assert totals(owner, version)["total_predictions"] == 50
    predict_for(tenant, 30, seed=6)
    assert counted_in_redis(version) == {"predictions": 30}

    with metrics_consumers_paused():
        group, process = start_monitoring_worker(stack, tmp_path, f"stalled-{stage}", MODELOPS_TEST_FOLD_STALL=f"{stage}:120")
        try:
            app.send_task(FOLD)
            if stage == "moved":  # moved aside, not yet in the ledger
                wait_until(lambda: pending_ids() and not in_ledger(owner, pending_ids()), timeout=60, what="the fold moved aside")
            else:  # committed, not yet deleted from Redis
                wait_until(lambda: pending_ids() and in_ledger(owner, pending_ids()), timeout=60, what="the fold committed")
            stranded = pending_ids()
            kill(process)
        finally:
            group.stop()
    assert counted_in_redis(version) == {"predictions": 30}  # still there, in the stranded fold
    assert totals(owner, version)["total_predictions"] == (50 if stage == "moved" else 80)

    report = fold_now()
    assert set(report["folds" if stage == "moved" else "already_folded"]) >= stranded
    assert str(version) in report["model_version_ids"]  # the versions whose rollback check the fold sends
    assert totals(owner, version)["total_predictions"] == 80
    assert counted_in_redis(version) == {} and not (pending_ids() & stranded)
    fold_now()  # and again: nothing changes
    assert totals(owner, version)["total_predictions"] == 80


def test_postgres_unreachable_during_a_fold_leaves_the_counters_to_be_folded_later(stack, owner, tmp_path):
    tenant = new_tenant("metrics-no-postgres")
    version = record_model("classification", tenant, tenant_seed=31)["id"]
    predict_for(tenant, 20, seed=7)
    fold_now()
    predict_for(tenant, 25, seed=8)

    unreachable = "postgresql+psycopg://{}@127.0.0.1:1/modelops"  # nothing listens on port 1
    with metrics_consumers_paused():
        group, _ = start_monitoring_worker(stack, tmp_path, "no-postgres", APP_DATABASE_URL=unreachable.format("modelops_app"),
                                           SYSTEM_DATABASE_URL=unreachable.format("modelops_system"))
        try:
            failed = app.send_task(FOLD)
            failed.get(timeout=60, propagate=False)
            assert failed.state == "FAILURE" and "OperationalError" in failed.traceback
            assert counted_in_redis(version) == {"predictions": 25}  # moved aside, intact
            stranded = pending_ids()
            predict_for(tenant, 15, seed=9)
            again = app.send_task(FOLD)
            again.get(timeout=60, propagate=False)
            assert again.state == "FAILURE"
            # the stranded fold stays as it was; the new counts stay live (not moved aside behind a failure)
            assert pending_ids() == stranded
            assert counted_in_redis(version, live_only=True) == {"predictions": 15}
        finally:
            group.stop()
    assert totals(owner, version)["total_predictions"] == 20
    assert counted_in_redis(version) == {"predictions": 40}

    fold_now()
    assert totals(owner, version)["total_predictions"] == 60
    assert counted_in_redis(version) == {}


def test_counts_postgres_refuses_are_set_aside_and_later_folds_go_on(stack, owner):
    tenant = new_tenant("metrics-unfoldable")
    version = record_model("classification", tenant, tenant_seed=41)["id"]
    bad_fold = f"test-{uuid.uuid4().hex}"
    client = counters.client()
    client.hset(fold.fold_key(bad_fold), counters.field(version, clock.today(), "predictions"), 2**40)  # beyond INTEGER
    client.sadd(counters.PENDING, bad_fold)
    predict_for(tenant, 10, seed=10)

    report = fold_now()
    assert report["unfoldable"] == [bad_fold]
    assert bad_fold not in pending_ids() and client.exists(fold.UNFOLDABLE_PREFIX + bad_fold)
    assert totals(owner, version)["total_predictions"] == 10
    assert not in_ledger(owner, [bad_fold])
    client.delete(fold.UNFOLDABLE_PREFIX + bad_fold)


def test_the_ledger_keeps_a_fold_id_while_its_fold_is_pending_and_prunes_it_after(stack, owner):
    old, still_pending = f"test-old-{uuid.uuid4().hex}", f"test-pending-{uuid.uuid4().hex}"
    with owner.begin() as connection:
        for fold_id in (old, still_pending):
            connection.execute(text("""INSERT INTO ai.metric_folds (fold_id, folded_at, version_days, predictions, labelled)
                                       VALUES (:id, :at, 0, 0, 0)"""), {"id": fold_id, "at": clock.now() - dt.timedelta(days=3)})
    client = counters.client()
    client.sadd(counters.PENDING, still_pending)  # a committed fold whose worker died before finishing it
    try:
        assert fold.prune_ledger(client, clock.now() - fold.LEDGER_KEPT) >= 1
        assert in_ledger(owner, [old, still_pending]) == {still_pending}
    finally:
        client.srem(counters.PENDING, still_pending)
    fold.prune_ledger(client, clock.now() - fold.LEDGER_KEPT)
    assert in_ledger(owner, [still_pending]) == set()


def test_one_call_adds_a_batch_and_keeps_the_larger_peak(broker):
    """The counting script on the real Redis: sums add, peaks keep the larger value."""
    version, day = uuid.uuid4(), dt.date(2031, 1, 1)
    recorder = counters.Recorder(counters.client())
    readings = iter([(300, None), (200, 4200)])
    recorder.load = SimpleNamespace(sample=lambda: next(readings))
    at = dt.datetime.combine(day, dt.time(12))
    for confidence in (0.25, 0.5):
        rows = [SimpleNamespace(model_version_id=version, prediction_timestamp=at, confidence=confidence, duration_ms=2.0)] * 2
        recorder.predictions(rows, {}, day)
    fields = {measure: counters.field(version, day, measure)
              for measure in ("predictions", "confidence_micros", "response_us", "peak_memory_mb", "peak_cpu_centipercent")}
    stored = dict(zip(fields, counters.client().hmget(counters.LIVE, list(fields.values()))))
    counters.client().hdel(counters.LIVE, *fields.values())
    assert stored == {"predictions": b"4", "confidence_micros": b"1500000", "response_us": b"8000",
                      "peak_memory_mb": b"300", "peak_cpu_centipercent": b"4200"}
