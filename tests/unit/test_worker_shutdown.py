"""What a stopping worker gives back: only requests of queues consumed without acknowledgement, a
batch whole or not at all, and only when the worker is stopping."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from celery.worker import state as worker_state

from workers import internals, shutdown
from workers.app import app


def request(queue: str) -> SimpleNamespace:
    return SimpleNamespace(delivery_info={"routing_key": queue})


def test_only_the_queues_consumed_without_acknowledgement_are_ours_to_give_back():
    assert shutdown.unacknowledged_queues(app) == {"predict"}


def test_a_request_of_an_unacknowledged_queue_is_given_back_and_one_of_an_acknowledged_queue_is_not():
    predicted, ingested = request("predict"), request("ingest")
    assert shutdown.ours_to_give_back([[predicted], [ingested]], {"predict"}) == [predicted]


def test_a_batch_is_given_back_whole_or_not_at_all():
    batch = [request("predict"), request("predict")]
    mixed = [request("predict"), request("ingest")]
    assert shutdown.ours_to_give_back([batch, mixed], {"predict"}) == batch


def test_a_request_whose_message_is_gone_keeps_its_group_from_being_given_back():
    assert shutdown.ours_to_give_back([[request("predict"), None]], {"predict"}) == []


@pytest.mark.parametrize(("should_stop", "should_terminate", "expected"), [
    (None, None, False),    # running; or the consumer closing to reconnect after a broker failure
    (False, False, False),
    (0, None, True),        # a warm stop with exit code 0: falsy, but a stop
    (1, None, True),
    (None, 0, True),        # a cold stop
])
def test_a_worker_is_stopping_once_either_flag_holds_an_exit_code(monkeypatch, should_stop, should_terminate, expected):
    monkeypatch.setattr(worker_state, "should_stop", should_stop)
    monkeypatch.setattr(worker_state, "should_terminate", should_terminate)
    assert internals.stopping() is expected
