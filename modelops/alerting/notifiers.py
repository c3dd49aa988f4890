"""Where alerts go: the spec's ``alert_ml_team`` and ``alert_operations_team``.

A notifier is anything with ``notify(alert)`` that raises when the alert did not get through. The
log is always one (an alert is a WARNING line, a critical one an ERROR line, naming its team);
when ``MODELOPS_ALERT_WEBHOOK_URL`` is set, each alert is also POSTed there as JSON
(``{"team": "ml" | "operations", "alert": {...}}``), waiting at most
``MODELOPS_ALERT_WEBHOOK_TIMEOUT`` seconds (default 5). A chat or paging service that takes an
incoming webhook needs nothing more; another channel is one more class with a ``notify`` method.
"""
from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from typing import Mapping, Protocol

log = logging.getLogger(__name__)

WEBHOOK_URL = "MODELOPS_ALERT_WEBHOOK_URL"
WEBHOOK_TIMEOUT = "MODELOPS_ALERT_WEBHOOK_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 5.0
TEAMS = {"ml": "ML team", "operations": "operations team"}


class NotificationFailed(RuntimeError):
    """The channel did not take the alert (unreachable, refused, timed out)."""


class Notifier(Protocol):
    def notify(self, alert: dict) -> None: ...


class LogNotifier:
    def notify(self, alert: dict) -> None:
        level = logging.ERROR if alert["severity"] == "critical" else logging.WARNING
        log.log(level, "alert for the %s [%s] %s: %s (alert %s)", TEAMS[alert["audience"]], alert["severity"],
                alert["alert_type"], alert["message"], alert["id"])


class WebhookNotifier:
    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{WEBHOOK_URL} must be an http(s) URL, got {url!r}")
        self.url = url
        self.timeout = timeout

    def notify(self, alert: dict) -> None:
        body = json.dumps({"team": alert["audience"], "alert": alert}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json", "User-Agent": "modelops-alerts"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError) as error:  # HTTPError (a 4xx or 5xx answer) is a URLError
            raise NotificationFailed(f"webhook {_where(self.url)} did not take alert {alert['id']}: {error}") from None


def configured(env: Mapping[str, str] = os.environ) -> list[Notifier]:
    """The log, and the webhook when its URL is set."""
    notifiers: list[Notifier] = [LogNotifier()]
    url = env.get(WEBHOOK_URL, "").strip()
    if url:
        timeout = env.get(WEBHOOK_TIMEOUT, "").strip()
        try:
            seconds = float(timeout) if timeout else DEFAULT_TIMEOUT_SECONDS
        except ValueError:
            raise ValueError(f"{WEBHOOK_TIMEOUT} must be a number of seconds, got {timeout!r}") from None
        notifiers.append(WebhookNotifier(url, seconds))
    return notifiers


def deliver(alert: dict, notifiers: list[Notifier]) -> bool:
    """Hand ``alert`` to every notifier; False (and a log line saying why) when one failed.

    A failed channel is never raised to the caller: an alert that could not be sent must not undo
    the rollback or check that raised it."""
    delivered = True
    for notifier in notifiers:
        try:
            notifier.notify(alert)
        except Exception as error:
            log.warning("alert %s could not be notified through %s: %s", alert["id"], type(notifier).__name__, error)
            delivered = False
    return delivered


def _where(url: str) -> str:
    """The URL without its path and query, which may hold a token."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].rpartition('@')[2]}"
