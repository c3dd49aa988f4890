"""Who a message comes from, decided by the worker (modelops.auth says how).

Both task classes check a delivered message in ``__call__``, before the task runs, and then call
``run`` in the request the worker made for the message.

- Every message a process of the system publishes (workers, beat, the operator's command line)
  carries the system's signature in a header, added by the app as it publishes.
- ``InternalTask``, the app's task class, runs a message delivered by the broker only when that
  signature holds. Code of this process calling a task directly is trusted as itself.
- ``PublicTask``, the class of the tasks other services call, takes a signed envelope instead:
  ``kwargs={"envelope": {...}}``. The task runs with the arguments inside it, and with the signing
  service as its ``caller``; the domain then checks that the caller is a member of the tenant.

A refused message is answered with the reason, recorded in ``ai.access_audit``, and nothing else
is done; the worker goes on.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from celery import Celery, Task
from celery.utils.time import get_exponential_backoff_interval
from kombu.utils.uuid import uuid

from modelops.auth import internal, replay
from modelops.auth.envelope import AuthenticatedCall, Unauthenticated, open_envelope
from modelops.auth.services import CredentialLookup
from modelops.monitoring import counters
from modelops.privacy.tenancy import record_refusal

log = logging.getLogger(__name__)

ENVELOPE = "envelope"
credentials = CredentialLookup()


class SigningCelery(Celery):
    """The system's Celery app: every message it publishes carries the system's signature.

    Task calls, retries, beat's entries and the command line's sends all publish through
    ``send_task``, so signing there covers them; a plain Celery client in the same process (an
    attacker's, in the security tests) signs nothing."""

    def send_task(self, name, args=None, kwargs=None, task_id=None, headers=None, **options):
        task_id = task_id or uuid()
        headers = {**(headers or {}), internal.HEADER: internal.sign(name, task_id, args, kwargs)}
        return super().send_task(name, args, kwargs, task_id=task_id, headers=headers, **options)


def _delivered(request) -> bool:
    """Whether the task runs a message from the broker (not a call of this process's own code)."""
    return not (request.called_directly or request.is_eager)


def refuse(principal: str | None, task_name: str, reason: str) -> None:
    log.warning("refused %s from %s: %s", task_name, principal or "an unknown sender", reason)
    record_refusal(principal or "unauthenticated", None, task_name, reason)


class InternalTask(Task):
    """A task only the system itself may send."""

    def __call__(self, *args, **kwargs):
        if _delivered(self.request):
            problem = internal.problem(getattr(self.request, internal.HEADER, None), self.name, self.request.id,
                                       self.request.args, self.request.kwargs)
            if problem:
                refuse(None, self.name, problem)
                return {"status": "refused", "reason": problem}
            # the worker has set up the message's request (its id, retries): Task.__call__ would
            # push a bare one over it, and a retry would then raise instead of being sent again
            return self.run(*args, **kwargs)
        return super().__call__(*args, **kwargs)


SHAPE = "a call must be sent as kwargs={\"envelope\": {...}}, with no positional arguments: see the message contracts"


def open_calls(task_name: str, messages: list[tuple[str, Any, Any]]) -> list[AuthenticatedCall | Unauthenticated]:
    """Each (task id, args, kwargs) of a public task opened: the signed call, or why it is refused
    (recorded). Each envelope's nonce is used once."""
    now = time.time()
    opened: list[AuthenticatedCall | Unauthenticated] = []
    for _, args, kwargs in messages:
        try:
            if args or not isinstance(kwargs, dict) or set(kwargs) != {ENVELOPE}:
                raise Unauthenticated(SHAPE)
            opened.append(open_envelope(kwargs[ENVELOPE], task_name, credentials, now))
        except Unauthenticated as error:
            opened.append(error)
    fresh = [(index, call) for index, call in enumerate(opened) if isinstance(call, AuthenticatedCall)]
    first = replay.first_uses(counters.client(), [(call.service, call.nonce, messages[index][0]) for index, call in fresh])
    for (index, call), unused in zip(fresh, first):
        if not unused:
            opened[index] = Unauthenticated(f"this envelope of {call.service!r} was used already (a replay)", call.service)
    for outcome in opened:
        if isinstance(outcome, Unauthenticated):
            refuse(outcome.service, task_name, str(outcome))
    return opened


def arguments_problem(arguments: dict, expected: tuple[str, ...]) -> str | None:
    missing = [name for name in expected if name not in arguments]
    unknown = sorted(ascii(name)[:40] for name in arguments if name not in expected)  # as sent, escaped
    if missing or unknown:
        return "the envelope's body " + "; ".join(part for part in (
            missing and f"lacks {', '.join(missing)}",
            unknown and f"has unknown arguments {', '.join(unknown)} (the caller is the signing service)") if part)
    return None


class PublicTask(Task):
    """A task other services call with a signed envelope.

    ``arguments`` names the arguments the envelope's body must hold; ``answer_refusal(status,
    reason)`` shapes the task's answer when it cannot run (refused: not authenticated; rejected:
    authenticated, but its body does not fit the task); ``record_rejection(body, reason,
    task_name)``, when set, keeps such a body as the task keeps its other rejected input."""

    arguments: tuple[str, ...] = ()
    answer_refusal: Callable[[str, str], Any]
    # its messages carry an envelope, not the function's arguments: a retry re-sends the envelope,
    # which Celery's check of the arguments against the signature would refuse
    typing = False
    record_rejection: Callable[[Any, str, str], None] | None = None

    def backoff(self) -> float | None:
        """The next retry's delay, as Celery's autoretry computes it (exponential, with jitter)."""
        factor = getattr(self, "retry_backoff", False)
        if not factor:
            return None
        return get_exponential_backoff_interval(factor=int(max(1.0, factor)), retries=self.request.retries,
                                                maximum=getattr(self, "retry_backoff_max", 600),
                                                full_jitter=getattr(self, "retry_jitter", True))

    def __call__(self, *args, **kwargs):
        if not _delivered(self.request):
            return super().__call__(*args, **kwargs)
        try:
            outcome = open_calls(self.name, [(self.request.id, args, kwargs)])[0]
        except tuple(self.autoretry_for or ()) as error:
            # the credential is looked up in the database: an outage is retried as the task's own would be
            raise self.retry(exc=error, countdown=self.backoff())
        if isinstance(outcome, Unauthenticated):
            return self.answer_refusal("refused", str(outcome))
        problem = arguments_problem(outcome.arguments, self.arguments)
        if problem:
            if self.record_rejection is not None:
                self.record_rejection(outcome.arguments, problem, self.name)
            return self.answer_refusal("rejected", problem)
        # run in the message's own request: a retry sends the same envelope again, under the same id
        return self.run(**outcome.arguments, caller=outcome.service)
