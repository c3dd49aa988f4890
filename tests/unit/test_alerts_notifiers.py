"""Alert notifiers: the log always, a webhook when configured (a real HTTP server on loopback); a
channel that fails is logged and reported, never raised."""
from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from modelops.alerting import alerts, notifiers

ALERT = {"id": "8a4f0a57-8d7f-4a59-9a2b-9a1a3f0c1d2e", "alert_type": "rollback_triggered", "severity": "critical",
         "audience": "ml", "message": "Rollback triggered for model classification v1.2", "details": {"triggers": {}}}


@contextmanager
def webhook(status: int = 200, delay: float = 0.0):
    """A local HTTP server; yields (url, the JSON bodies it received)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"body": json.loads(body), "content_type": self.headers["Content-Type"], "path": self.path})
            time.sleep(delay)
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts", received
    finally:
        server.shutdown()
        server.server_close()


def test_by_default_alerts_go_to_the_log_only_naming_the_team(caplog):
    channels = notifiers.configured({})
    assert [type(c) for c in channels] == [notifiers.LogNotifier]
    with caplog.at_level(logging.WARNING, logger=notifiers.__name__):
        assert notifiers.deliver(ALERT, channels)
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and "ML team" in record.getMessage() and ALERT["message"] in record.getMessage()


def test_an_operations_warning_is_a_warning_line_for_the_operations_team(caplog):
    with caplog.at_level(logging.WARNING, logger=notifiers.__name__):
        notifiers.LogNotifier().notify({**ALERT, "severity": "warning", "audience": "operations"})
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and "operations team" in record.getMessage()


def test_a_configured_webhook_receives_the_alert_as_json():
    with webhook() as (url, received):
        channels = notifiers.configured({notifiers.WEBHOOK_URL: url})
        assert notifiers.deliver(ALERT, channels)
    (request,) = received
    assert request["body"] == {"team": "ml", "alert": ALERT}
    assert request["content_type"] == "application/json" and request["path"] == "/hooks/alerts"


@pytest.mark.parametrize("status", [404, 500])
def test_a_webhook_that_answers_with_an_error_is_logged_and_reported_not_raised(status, caplog):
    with webhook(status=status) as (url, received), caplog.at_level(logging.WARNING, logger=notifiers.__name__):
        assert notifiers.deliver(ALERT, [notifiers.WebhookNotifier(url)]) is False
    assert len(received) == 1
    assert any(str(status) in record.getMessage() and ALERT["id"] in record.getMessage() for record in caplog.records)


def test_an_unreachable_webhook_is_logged_and_reported_not_raised(caplog):
    with webhook() as (url, _):
        pass  # closed: nothing listens on its port any more
    with caplog.at_level(logging.WARNING, logger=notifiers.__name__):
        assert notifiers.deliver(ALERT, [notifiers.LogNotifier(), notifiers.WebhookNotifier(url)]) is False
    assert any("could not be notified" in record.getMessage() for record in caplog.records)


def test_a_slow_webhook_is_given_up_after_its_timeout():
    with webhook(delay=2.0) as (url, received):
        channels = notifiers.configured({notifiers.WEBHOOK_URL: url, notifiers.WEBHOOK_TIMEOUT: "0.2"})
        assert channels[-1].timeout == 0.2
        assert notifiers.deliver(ALERT, channels) is False
    assert len(received) == 1


def test_a_token_in_the_webhook_path_stays_out_of_the_failure_message():
    with webhook() as (url, _):
        pass
    with pytest.raises(notifiers.NotificationFailed) as failure:
        notifiers.WebhookNotifier(url.replace("/hooks/alerts", "/T0KEN/secret")).notify(ALERT)
    assert "secret" not in str(failure.value) and "127.0.0.1" in str(failure.value)


@pytest.mark.parametrize("env, problem", [
    ({notifiers.WEBHOOK_URL: "ftp://example.org/x"}, "http(s) URL"),
    ({notifiers.WEBHOOK_URL: "http://127.0.0.1:9/x", notifiers.WEBHOOK_TIMEOUT: "soon"}, "number of seconds"),
])
def test_a_bad_notifier_setting_is_refused_with_what_is_wrong(env, problem):
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        notifiers.configured(env)


def test_alert_kinds_are_keyed_by_type_tenant_agent_and_version():
    assert alerts.dedup_key("drift", "t1", "chat", "v9") == "drift:t1:chat:v9"
    assert alerts.dedup_key("drift") == "drift:-:-:-"
    assert alerts.dedup_key("drift", "t1") != alerts.dedup_key("drift", "t2")
