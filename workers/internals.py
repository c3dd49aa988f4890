"""The private parts of Celery, kombu, billiard and celery-batches this project relies on, listed
in one place and checked when a worker starts.

Three modules reach past the libraries' public APIs, each for a reason given there:
``workers/broker.py`` (many messages per Redis round trip), ``workers/shutdown.py`` (a stopping
worker gives back what it holds) and ``tasks/serving.py`` (a batch waits for a free pool
process). A release that renamed one of these parts would not fail loudly: the give-back at a
stop, for one, would just stop happening. So the versions are pinned exactly (pyproject.toml),
and every worker checks at start-up that each part is still there, refusing to start with an
error that names the missing one (``self_check``); tests/unit/test_internals.py runs the check
against the installed libraries, one test per part.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass


@dataclass(frozen=True)
class Internal:
    module: str
    owner: str | None  # a class in the module, or None for the module itself
    name: str
    used_by: str
    kind: str = "attribute"  # attribute: found on the class or module; assigned: set on self in __init__

    def __str__(self) -> str:
        where = f"{self.module}.{self.owner}" if self.owner else self.module
        return f"{where}.{self.name} (used by {self.used_by})"

    def present(self) -> bool:
        target = importlib.import_module(self.module)
        if self.owner:
            target = getattr(target, self.owner, None)
            if target is None:
                return False
        if self.kind == "assigned":
            # set by the constructor (or a method named in ``owner``'s source): no instance is made here
            return f"self.{self.name} " in inspect.getsource(target) or f"self.{self.name}:" in inspect.getsource(target)
        return hasattr(target, self.name)


BROKER, SHUTDOWN, SERVING = "workers/broker.py", "workers/shutdown.py", "tasks/serving.py"

INTERNALS = (
    # kombu's Redis channel: the read in flight, and the reply it delivers
    Internal("kombu.transport.redis", "Channel", "_brpop_read", BROKER),
    Internal("kombu.transport.redis", "Channel", "_q_for_pri", BROKER),
    Internal("kombu.transport.redis", "Channel", "_in_poll", SHUTDOWN),
    Internal("kombu.transport.redis", "Channel", "brpop_timeout", SHUTDOWN, kind="assigned"),
    Internal("kombu.transport.virtual.base", "Transport", "_deliver", BROKER),
    # what a stopping worker holds: reserved requests and their pool jobs
    Internal("celery.worker.state", None, "reserved_requests", SHUTDOWN),
    Internal("celery.worker.state", None, "should_stop", SHUTDOWN),
    Internal("celery.worker.state", None, "should_terminate", SHUTDOWN),
    Internal("celery.worker.request", "Request", "_apply_result", SHUTDOWN),
    Internal("celery.concurrency.asynpool", "AsynPool", "_flush_writer", SHUTDOWN),
    Internal("celery.concurrency.asynpool", "AsynPool", "flush", SHUTDOWN),
    Internal("celery.concurrency.asynpool", None, "_get_job_writer", SHUTDOWN),
    Internal("billiard.pool", "Pool", "_cache", SHUTDOWN, kind="assigned"),
    Internal("billiard.pool", "ApplyResult", "_accepted", SHUTDOWN, kind="assigned"),
    Internal("billiard.pool", "ApplyResult", "_job", SHUTDOWN, kind="assigned"),
    Internal("billiard.pool", "ApplyResult", "_write_to", SHUTDOWN),
    # celery-batches: the buffers a batch is gathered in, and the pool it is handed to
    Internal("celery_batches", "Batches", "_buffer", f"{SHUTDOWN}, {SERVING}", kind="assigned"),
    Internal("celery_batches", "Batches", "_pending", SHUTDOWN, kind="assigned"),
    Internal("celery_batches", "Batches", "_pool", SERVING, kind="assigned"),
    Internal("celery_batches", "Batches", "_do_flush", SERVING),
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
                              + ". Install the versions pinned in pyproject.toml, or adapt the modules named.")
