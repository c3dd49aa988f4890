"""What authenticating a call costs a worker, beside the work the call asks for, in the same run.

A worker now opens each public call's envelope (parse, HMAC over the body as sent, freshness,
the nonce remembered in Redis, the body's JSON) and checks each internal message's signature
(the arguments serialised again and HMAC'd). This prints, per 1,000 predictions and per 1,000
feedback events, the median CPU time of that checking beside the median CPU time of the work it
guards, measured here on the same rows:

- predictions: the classification model's predict for 1,000 requests (features and
  predict_proba; the worker also validates, routes and logs, so the real share is smaller);
- feedback: the scrubber over 1,000 events (the intake also validates, deduplicates and stores).

The credential lookup is a per-process cache hit here (one database read per service every ten
seconds in a worker), as it is for a steady caller. Needs Redis (the nonces): --redis-url.

    .venv/bin/python bench/bench_auth.py [--rounds 15] [--redis-url redis://127.0.0.1:6379/12]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import redis

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from modelops.agents import get_agent  # noqa: E402
from modelops.agents.synthetic import generate  # noqa: E402
from modelops.auth import internal, replay  # noqa: E402
from modelops.auth.envelope import open_envelope, seal  # noqa: E402
from modelops.privacy.pii import scrub_many  # noqa: E402

SERVICE, KEY = "bench-service", bytes(range(32))
PREDICT, PREDICT_BATCH = "modelops.serving.predict", "modelops.serving.predict_batch"
RECORD_BATCH, SCRUB = "modelops.feedback.record_batch", "modelops.privacy.scrub_and_store"
N = 1000


def cpu_median(work, rounds: int, prepare=lambda: None) -> float:
    """Median CPU seconds of ``work(prepare())``, ``prepare`` (fresh inputs each round) untimed."""
    spent = []
    for _ in range(rounds):
        inputs = prepare()
        started = time.process_time()
        work(inputs)
        spent.append(time.process_time() - started)
    return statistics.median(spent)


def opened(client, task: str, envelopes: list[dict]) -> None:
    """As workers.authentication.open_calls does, without the refusals' database writes."""
    now = time.time()
    calls = [open_envelope(envelope, task, lambda _: KEY, now) for envelope in envelopes]
    assert all(replay.first_uses(client, [(call.service, call.nonce, str(uuid.uuid4())) for call in calls]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12"))
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis_url)

    agent = get_agent("classification")
    training = generate("classification", 3000, seed=1, tenant_seed=3)
    estimator = agent.build_estimator()
    estimator.fit([x for x, _ in training], [agent.label(y) for _, y in training])
    tenant = str(uuid.uuid4())
    requests = [{"tenant_id": tenant, "agent_type": "classification", "input_data": x}
                for x, _ in generate("classification", N, seed=2, tenant_seed=3)]
    events = [{"tenant_id": tenant, "agent_type": "classification", "source": "user_correction", "input_data": x,
               "expected_output": y, "actual_output": y, "user_feedback": f"moved it, call Jane Doe at 555-0100 #{i}",
               "idempotency_key": f"bench-{i}"} for i, (x, y) in enumerate(generate("classification", N, seed=4, tenant_seed=3))]

    # the work guarded
    predict_cpu = cpu_median(lambda _: agent.predict(estimator, [r["input_data"] for r in requests]), args.rounds)
    scrub_cpu = cpu_median(lambda _: scrub_many(events), args.rounds)
    # the checking: each round opens envelopes never seen (sealed untimed, as the caller does)
    singles = cpu_median(lambda envelopes: opened(client, PREDICT, envelopes), args.rounds,
                         lambda: [seal(KEY, SERVICE, PREDICT, r) for r in requests])
    batch = cpu_median(lambda envelopes: opened(client, PREDICT_BATCH, envelopes), args.rounds,
                       lambda: [seal(KEY, SERVICE, PREDICT_BATCH, {"items": requests})])
    feedback = cpu_median(lambda envelopes: opened(client, RECORD_BATCH, envelopes), args.rounds,
                          lambda: [seal(KEY, SERVICE, RECORD_BATCH, {"events": events})])
    task_id = str(uuid.uuid4())
    internal_check = cpu_median(lambda signature: internal.problem(signature, SCRUB, task_id, [events], {}), args.rounds,
                                lambda: internal.sign(SCRUB, task_id, [events], {}))
    internal_sign = cpu_median(lambda _: internal.sign(SCRUB, task_id, [events], {}), args.rounds)

    rows = [
        ("1,000 single predictions: envelopes opened", singles, predict_cpu, "model predict, 1,000"),
        ("one predict_batch of 1,000: envelope opened", batch, predict_cpu, "model predict, 1,000"),
        ("one record_batch of 1,000: envelope opened", feedback, scrub_cpu, "scrubbing, 1,000 events"),
        ("its scrub_and_store: signature checked", internal_check, scrub_cpu, "scrubbing, 1,000 events"),
        ("its scrub_and_store: signed by the ingest task", internal_sign, scrub_cpu, "scrubbing, 1,000 events"),
    ]
    print(f"median CPU of {args.rounds} rounds, in this process")
    print(f"{'checking':48} {'ms':>7}   {'beside':28} {'ms':>7}   share")
    for what, cost, baseline, named in rows:
        print(f"{what:48} {cost * 1e3:7.1f}   {named:28} {baseline * 1e3:7.1f}   {cost / baseline:6.1%}")
    client.close()


if __name__ == "__main__":
    main()
