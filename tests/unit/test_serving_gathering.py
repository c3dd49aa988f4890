"""Single prediction requests keep gathering while every pool process is busy."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from tasks.serving import FLUSH_EVERY, predict


class FakePool:
    """What the gathering reads of Celery's prefork TaskPool: its processes and their pending jobs."""

    def __init__(self, processes: int, pending_jobs: int):
        self.num_processes = processes
        self._pool = SimpleNamespace(_cache={job: object() for job in range(pending_jobs)})


@pytest.fixture
def gathering(monkeypatch):
    task = predict  # the registered instance: its buffer and flush are what the worker uses
    flushed: list[list] = []
    monkeypatch.setattr(task, "flush", lambda requests: flushed.append(list(requests)))
    monkeypatch.setattr(task, "_tref", None)
    while not task._buffer.empty():
        task._buffer.get_nowait()
    return task, flushed


def buffer(task, count: int) -> None:
    for number in range(count):
        task._buffer.put(SimpleNamespace(eta=None, id=str(number)))


def test_a_free_pool_process_takes_whatever_has_gathered(gathering):
    task, flushed = gathering
    task._pool = FakePool(processes=2, pending_jobs=1)
    buffer(task, 3)
    task._do_flush()
    assert [len(batch) for batch in flushed] == [3]


def test_while_every_process_is_busy_requests_keep_gathering_into_one_batch(gathering):
    task, flushed = gathering
    task._pool = FakePool(processes=2, pending_jobs=2)
    buffer(task, 3)
    task._do_flush()
    buffer(task, 4)
    task._do_flush()
    assert flushed == []
    task._pool = FakePool(processes=2, pending_jobs=1)  # one process has finished its batch
    task._do_flush()
    assert [len(batch) for batch in flushed] == [7]


def test_a_full_buffer_leaves_even_when_every_process_is_busy(gathering):
    task, flushed = gathering
    task._pool = FakePool(processes=2, pending_jobs=5)
    buffer(task, FLUSH_EVERY)
    task._do_flush()
    assert [len(batch) for batch in flushed] == [FLUSH_EVERY]


class EventLoop:
    """What the gathering asks of the worker's event loop: a callback at its next turn."""

    def __init__(self):
        self.ready: list = []

    def call_soon(self, callback, *args):
        self.ready.append((callback, args))

    def turn(self) -> None:
        ready, self.ready = self.ready, []
        for callback, args in ready:
            callback(*args)


@pytest.fixture
def event_loop(monkeypatch):
    loop = EventLoop()
    monkeypatch.setattr("tasks.serving.get_event_loop", lambda: loop)
    monkeypatch.setattr(predict, "_flush_queued", False)
    return loop


def test_requests_reaching_a_free_pool_leave_at_the_next_turn_of_the_event_loop_together(gathering, event_loop):
    task, flushed = gathering
    task._pool = FakePool(processes=2, pending_jobs=1)
    for number in range(3):  # three messages delivered by one read from the broker
        buffer(task, 1)
        task._flush_at_next_turn()
    assert flushed == [] and len(event_loop.ready) == 1  # one flush for the three, not before the turn
    event_loop.turn()
    assert [len(batch) for batch in flushed] == [3]
    buffer(task, 1)  # the next arrival queues a flush of its own
    task._flush_at_next_turn()
    event_loop.turn()
    assert [len(batch) for batch in flushed] == [3, 1]


def test_requests_reaching_a_busy_pool_keep_gathering_past_the_turn(gathering, event_loop):
    task, flushed = gathering
    task._pool = FakePool(processes=2, pending_jobs=2)
    buffer(task, 2)
    task._flush_at_next_turn()
    event_loop.turn()
    assert flushed == [] and task._buffer.qsize() == 2
