"""Every use of a private part of Celery, kombu, billiard or celery-batches, in one module, with the
list of those parts and the check that each is still there when a worker starts.

The serving path reaches past the libraries' public APIs for three reasons, each explained where
it is used: the Redis transport reads many messages per round trip (workers/broker.py), a stopping
worker gives back the work it holds (workers/shutdown.py), and a batch of predictions waits for a
free pool process and stores its answers in one round trip (tasks/serving.py). Those modules call
the functions and base classes here and name no private part themselves; and the redaction of task
arguments (workers/redaction.py) sets the summaries Celery's request has no setter for.
tests/unit/test_internals.py checks that no other module of the project names a private part.

A release that renamed one of these parts would not fail loudly: the give-back at a stop, for one,
would just stop happening. So the versions are pinned exactly (pyproject.toml), and every worker
checks at start-up that each part is still there, refusing to start with an error that names the
missing one (``self_check``); the unit tests run the check against the installed libraries, one
test per part.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from queue import Empty

from celery import states
from celery.concurrency.asynpool import _get_job_writer
from celery.worker import state as worker_state
from celery_batches import Batches
from kombu.transport import redis


@dataclass(frozen=True)
class Internal:
    module: str
    owner: str | None  # a class in the module, or None for the module itself
    name: str
    needed_for: str
    kind: str = "attribute"  # attribute: found on the class or module; assigned: set on self in __init__

    def __str__(self) -> str:
        where = f"{self.module}.{self.owner}" if self.owner else self.module
        return f"{where}.{self.name} (needed for {self.needed_for})"

    def present(self) -> bool:
        target = importlib.import_module(self.module)
        if self.owner:
            target = getattr(target, self.owner, None)
            if target is None:
                return False
        if self.kind == "assigned":
            # set by the constructor (or a method named in ``owner``'s source): no instance is made here
            source = inspect.getsource(target)
            return f"self.{self.name} " in source or f"self.{self.name}:" in source
        return hasattr(target, self.name)


READ_AHEAD = "reading many messages per Redis round trip"
GIVE_BACK = "the give-back at a stop"
GATHERING = "gathering predictions for a free pool process"
ANSWERS = "storing a batch's answers in one round trip"
SUMMARIES = "redacted task summaries"

INTERNALS = (
    # kombu's Redis channel: the read in flight, and the reply it delivers
    Internal("kombu.transport.redis", "Channel", "_brpop_read", f"{READ_AHEAD}, {GIVE_BACK}"),
    Internal("kombu.transport.redis", "Channel", "_q_for_pri", READ_AHEAD),
    Internal("kombu.transport.redis", "Channel", "_in_poll", GIVE_BACK),
    Internal("kombu.transport.redis", "Channel", "brpop_timeout", GIVE_BACK, kind="assigned"),
    Internal("kombu.transport.virtual.base", "Transport", "_deliver", READ_AHEAD),
    # what a stopping worker holds: reserved requests and their pool jobs
    Internal("celery.worker.state", None, "reserved_requests", GIVE_BACK),
    Internal("celery.worker.state", None, "should_stop", GIVE_BACK),
    Internal("celery.worker.state", None, "should_terminate", GIVE_BACK),
    Internal("celery.worker.request", "Request", "_apply_result", GIVE_BACK),
    Internal("celery.concurrency.prefork", "TaskPool", "_pool", f"{GIVE_BACK}, {GATHERING}", kind="assigned"),
    Internal("celery.concurrency.asynpool", "AsynPool", "_flush_writer", GIVE_BACK),
    Internal("celery.concurrency.asynpool", "AsynPool", "flush", GIVE_BACK),
    Internal("celery.concurrency.asynpool", None, "_get_job_writer", GIVE_BACK),
    Internal("billiard.pool", "Pool", "_cache", f"{GIVE_BACK}, {GATHERING}", kind="assigned"),
    Internal("billiard.pool", "ApplyResult", "_accepted", GIVE_BACK, kind="assigned"),
    Internal("billiard.pool", "ApplyResult", "_write_to", GIVE_BACK),
    # celery-batches: the buffers a batch is gathered in, and the pool it is handed to
    Internal("celery_batches", "Batches", "_buffer", f"{GIVE_BACK}, {GATHERING}", kind="assigned"),
    Internal("celery_batches", "Batches", "_pending", GIVE_BACK, kind="assigned"),
    Internal("celery_batches", "Batches", "_pool", GATHERING, kind="assigned"),
    Internal("celery_batches", "Batches", "_do_flush", GATHERING),
    # a result's stored form, and a request's argument summaries
    Internal("celery.backends.base", "Backend", "_get_result_meta", ANSWERS),
    Internal("celery.worker.request", "Request", "_argsrepr", SUMMARIES, kind="assigned"),
    Internal("celery.worker.request", "Request", "_kwargsrepr", SUMMARIES, kind="assigned"),
)


class MissingInternal(RuntimeError):
    """A library no longer has a part this project relies on."""


def missing(internals=INTERNALS) -> list[Internal]:
    absent = []
    for internal in internals:
        try:
            found = internal.present()
        except (ImportError, OSError, TypeError):
            found = False
        if not found:
            absent.append(internal)
    return absent


def self_check(internals=INTERNALS) -> None:
    """Refuse to run with a library that lacks a part we rely on, naming it."""
    absent = missing(internals)
    if absent:
        raise MissingInternal("this worker relies on library internals that the installed versions lack: "
                              + "; ".join(map(str, absent))
                              + ". Install the versions pinned in pyproject.toml, or adapt workers/internals.py.")


# --- kombu's Redis channel ------------------------------------------------------------------------

class RedisChannel(redis.Channel):
    """kombu's Redis channel, told after each BRPOP that delivered a message, with public names
    for the two private steps a subclass that delivers more needs."""

    def _brpop_read(self, **options):
        delivered = super()._brpop_read(**options)  # raises Empty when the BRPOP timed out
        self.after_delivery()
        return delivered

    def after_delivery(self) -> None:
        """Called after each BRPOP that delivered a message."""

    def queue_key(self, queue: str, priority: int) -> str:
        return self._q_for_pri(queue, priority)

    def deliver(self, payload: dict, queue: str) -> None:
        self.connection._deliver(payload, queue)


def take_reply_in_flight(channel) -> None:
    """Take in the messages of a read the broker may be answering at this moment.

    A BRPOP sent before the stop is still waiting on the queues: it would take a message we put
    back and leave it unread in the closing connection. Its reply (a message, or nothing after the
    poll timeout) is delivered as any other, so what it brings is given back with the rest."""
    connection = getattr(channel, "_in_poll", None)
    if not connection:  # no read in flight (or not Redis)
        return
    try:
        # A reply later than the poll timeout means a broker out of reach: do not wait on it.
        if connection.can_read(timeout=channel.brpop_timeout + 1):
            channel._brpop_read()
    except (Empty, *channel.connection_errors):  # nothing came; or the broker is gone, and with it the reply
        pass


# --- what a worker holds: its state, its requests and the prefork pool's jobs ---------------------

def stopping() -> bool:
    # a warm stop sets should_stop to the exit code, 0 included
    return any(flag is not None and flag is not False for flag in (worker_state.should_stop, worker_state.should_terminate))


def reserved_requests() -> list:
    return list(worker_state.reserved_requests)


def pool_job(request):
    """The pool's job for a request (billiard's ApplyResult), or None before it is handed to the pool."""
    return request._apply_result and request._apply_result()  # a weak reference, once handed to the pool


def _processes(pool):
    return getattr(pool, "_pool", None)  # billiard's pool, under the prefork TaskPool; None for the others


def pool_jobs(pool) -> list:
    processes = _processes(pool)
    return list(processes._cache.values()) if processes is not None else []


def pool_is_full(pool) -> bool:
    """Whether every process of a prefork pool has a job."""
    processes = _processes(pool)
    return processes is not None and len(processes._cache) >= pool.num_processes


def unwritten(job) -> bool:
    """Whether no pool process has begun to read this job."""
    return not job._accepted and job._write_to is None


def finish_begun_writes(pool) -> None:
    """Write to its process the rest of each job whose writing has begun.

    A job larger than a pipe's buffer is written in pieces, as its process reads; the event loop
    that drives the writing has stopped, and Celery's flush finishes only the writes it still
    counts as active, so a job can be left half written: its process never runs it and the pool
    waits for its answer forever. Begun, it cannot be given back, so it is finished."""
    processes = _processes(pool)
    for job in pool_jobs(pool):
        writer = _get_job_writer(job)
        if writer is not None and job._write_to is not None and inspect.getgeneratorstate(writer) == inspect.GEN_SUSPENDED:
            processes._flush_writer(job._write_to, writer)


def hold_written(pool) -> None:
    """Count the jobs being written to a process, or written whole, as taken by it.

    Celery's flush drops from the pool's cache every job no process has acknowledged yet, these
    included, though the process will run them. With its cache empty the stopping pool no longer
    reads the processes' replies, and a process that finishes such a job waits 30 s for its reply
    to be read before it exits. Kept in the cache, they are waited for as any begun job is."""
    for job in pool_jobs(pool):
        if not job._accepted and job._write_to is not None:
            job._accepted = True


# --- celery-batches ---------------------------------------------------------------------------------

class GatedBatches(Batches):
    """celery-batches, which asks ``ready_to_flush`` before each flush of its buffer."""

    def _do_flush(self) -> None:
        if self.ready_to_flush():
            super()._do_flush()

    def ready_to_flush(self) -> bool:
        return True

    def flush_buffer(self) -> None:
        """Hand the buffered requests to the pool, if ``ready_to_flush`` says so."""
        self._do_flush()

    def buffered(self) -> int:
        return self._buffer.qsize()

    def pool_is_full(self) -> bool:
        return pool_is_full(self._pool)


def take_gathered(task: Batches) -> list:
    """The requests a batches task holds and has not handed to the pool, taken out of its buffers."""
    taken = []
    for waiting in (task._buffer, task._pending):
        while True:
            try:
                taken.append(waiting.get_nowait())
            except Empty:
                break
    return taken


# --- results and requests ---------------------------------------------------------------------------

def success_metas(backend, answers: list, requests: list) -> list[dict]:
    """What the backend stores for each request that returned its answer, as its own ``mark_as_done``
    would. The meta of a request outside any workflow (no group, parent, children or stamps) is the
    same but for its result, when results are not extended: it is made once for the batch and
    copied, since making it reads the clock and the settings each time (a tenth of a pool process's
    time in single requests)."""
    def alone(request) -> bool:
        return not any(getattr(request, name, None) for name in ("group", "parent_id", "children", "stamps"))

    shared = None
    if not backend.app.conf.find_value_for_key("extended", "result"):
        first_alone = next((request for request in requests if alone(request)), None)
        if first_alone is not None:
            shared = backend._get_result_meta(None, states.SUCCESS, None, first_alone)
    return [{**shared, "result": answer} if shared is not None and alone(request)
            else backend._get_result_meta(answer, states.SUCCESS, None, request)
            for request, answer in zip(requests, answers)]


def set_summaries(request, argsrepr: str, kwargsrepr: str) -> None:
    request._argsrepr, request._kwargsrepr = argsrepr, kwargsrepr
