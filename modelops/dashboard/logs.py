"""What the dashboard process logs, with every secret replaced by ***.

Tornado writes a request's address into its own warning and error lines (a 404, a refused XSRF
check, an uncaught exception with the request's repr), so a token or sign-in code in a query string
would land in the log whatever the access line does. The filter here sits on the handler that
writes every line of the process, Tornado's included, and rewrites each line before it is written:
a dashboard secret (``mdo_…``, tokens and sign-in codes alike) anywhere in it, and the value of any
query parameter whose name says it is a credential.
"""
from __future__ import annotations

import logging
import re

import tornado.web

DASHBOARD_SECRET = re.compile(r"mdo_[A-Za-z0-9_\-]+")
CREDENTIAL_PARAMETER = re.compile(r"(?i)([?&;][^=&\s'\"]*(?:token|code|secret|password|key)[^=&\s'\"]*=)[^&\s'\"]*")
FORMAT = "%(asctime)s %(name)s %(message)s"
access_log = logging.getLogger("modelops.dashboard")


def redacted(line: str) -> str:
    return DASHBOARD_SECRET.sub("mdo_***", CREDENTIAL_PARAMETER.sub(r"\1***", line))


class RedactSecrets(logging.Filter):
    """Rewrites a record's message, and its traceback, with the secrets in them replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redacted(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redacted(record.exc_text)
        return True


def configure(level: int = logging.INFO) -> None:
    """The process's logging: one line per record on stderr, every one of them redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactSecrets())
    logging.basicConfig(level=level, handlers=[handler], force=True)


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access line, as the application's ``log_function``, redacted whatever the logging set-up."""
    request = handler.request
    access_log.info("%d %s %s (%s) %.1fms", handler.get_status(), request.method, redacted(request.uri or ""), request.remote_ip,
                    1000.0 * request.request_time())
