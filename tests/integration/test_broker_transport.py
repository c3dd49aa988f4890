"""The workers' Redis transport (workers/broker.py) against the real Redis: a queue consumed without
acknowledgement is read many messages per round trip, in order; an acknowledged queue is not."""
from __future__ import annotations

import json
import socket
import uuid

import pytest
from kombu import Connection, Consumer, Producer, Queue

from modelops.config import settings
from workers.broker import Channel

pytestmark = pytest.mark.integration


@pytest.fixture
def connection(broker):
    with Connection(settings().redis_url, transport="workers.broker:Transport",
                    transport_options={"fetch_at_once": 50}) as connection:
        yield connection


def fill(connection, queue: Queue, bodies: list) -> None:
    with connection.channel() as channel:
        producer = Producer(channel, routing_key=queue.name)
        for body in bodies:
            producer.publish(body, declare=[queue], serializer="json", priority=body.get("priority", 0))


def taken_by_one_read(connection, queue: Queue, no_ack: bool) -> list:
    """What one wake-up of the consumer delivers: a single drain_events."""
    received = []
    with Consumer(connection, queues=[queue], no_ack=no_ack, callbacks=[lambda body, _: received.append(body)]):
        connection.drain_events(timeout=5)
    return received


def test_the_workers_use_this_transport():
    from workers.app import app
    with app.connection_for_read() as connection:
        assert isinstance(connection.default_channel, Channel)


def test_an_unacknowledged_queue_is_read_many_messages_per_round_trip_in_order(connection, broker):
    queue = Queue(f"bulk-{uuid.uuid4().hex}", routing_key="bulk", no_ack=True)
    fill(connection, queue, [{"n": n} for n in range(120)])

    first = taken_by_one_read(connection, queue, no_ack=True)
    # the BRPOP's message, then 50 more from the same round trip
    assert first == [{"n": n} for n in range(51)]
    rest = []
    while len(first) + len(rest) < 120:
        rest += taken_by_one_read(connection, queue, no_ack=True)
    assert first + rest == [{"n": n} for n in range(120)]
    assert broker.llen(queue.name) == 0
    # nothing was recorded to be redelivered (other tests' tasks may be, under their own routing keys)
    assert not [raw for raw in broker.hvals("unacked") if json.loads(raw)[2] == "bulk"]


@pytest.mark.parametrize("behind", [0, 1], ids=["nothing", "one message"])
def test_after_a_look_that_found_no_backlog_the_next_reads_take_one_message_each(connection, behind):
    queue = Queue(f"bulk-{uuid.uuid4().hex}", routing_key="bulk", no_ack=True)
    received = []
    with Consumer(connection, queues=[queue], no_ack=True, callbacks=[lambda body, _: received.append(body)]):
        fill(connection, queue, [{"n": n} for n in range(1 + behind)])
        connection.drain_events(timeout=5)  # one message, and a look that finds fewer than a backlog behind it
        assert received == [{"n": n} for n in range(1 + behind)]
        fill(connection, queue, [{"n": n} for n in range(1 + behind, 41)])
        for read in range(Channel.reads_between_looks):
            connection.drain_events(timeout=5)
            assert len(received) == read + 2 + behind  # no look: one message per read
        connection.drain_events(timeout=5)  # looks again, and takes the rest
    assert received == [{"n": n} for n in range(41)]


def test_higher_priorities_of_an_unacknowledged_queue_are_delivered_first(connection):
    queue = Queue(f"bulk-{uuid.uuid4().hex}", routing_key="bulk", no_ack=True, max_priority=9)
    fill(connection, queue, [{"n": n, "priority": 9 if n % 2 else 0} for n in range(20)])
    received = taken_by_one_read(connection, queue, no_ack=True)
    assert [body["n"] for body in received] == list(range(0, 20, 2)) + list(range(1, 20, 2))


def test_an_acknowledged_queue_is_still_read_one_message_at_a_time(connection, broker):
    queue = Queue(f"acked-{uuid.uuid4().hex}", routing_key="acked")
    fill(connection, queue, [{"n": n} for n in range(10)])
    received = []
    with Consumer(connection, queues=[queue], no_ack=False, callbacks=[lambda *delivery: received.append(delivery)]):
        connection.drain_events(timeout=5)
        # the one message taken is recorded as unacknowledged until acknowledged; the rest wait in Redis
        assert [body for body, _ in received] == [{"n": 0}]
        assert broker.llen(queue.name) == 9
        message = received[0][1]
        assert broker.hexists("unacked", message.delivery_tag)
        message.ack()
        assert not broker.hexists("unacked", message.delivery_tag)


def test_an_empty_queue_times_out_as_before(connection):
    queue = Queue(f"bulk-{uuid.uuid4().hex}", routing_key="bulk", no_ack=True)
    with Consumer(connection, queues=[queue], no_ack=True, callbacks=[lambda *_: None]):
        with pytest.raises(socket.timeout):
            connection.drain_events(timeout=0.5)
