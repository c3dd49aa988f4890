"""What the dashboard tests share: the dashboard served by `modelops dashboard` in a process of its
own, tokens, a TCP relay a test can cut (a database or broker that is briefly down), and tenants
seeded by the real pipeline (feedback through the intake, a model trained by a worker, predictions
served by a worker, feedback on them, the metric counters folded)."""
from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests
from sqlalchemy import text
from sqlalchemy.engine import make_url

from modelops import db, tenants
from modelops.dashboard import access
from modelops.supervisor import ProcessGroup
from tests.integration.training_support import seed, synthetic_rows, train, wait_until
from tests.callers import signed
from workers.app import app

MODELOPS = str(Path(sys.executable).parent / "modelops")
PREDICT_BATCH = "modelops.serving.predict_batch"
RECORD_BATCH = "modelops.feedback.record_batch"
FOLD = "modelops.metrics.fold_counters"
# a bound for a server to start or a task to finish on a busy machine; it measures nothing
STARTUP_WAIT = 60
AGENT = "classification"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_dashboard(log_dir: Path, **env: str) -> Iterator[str]:
    """`modelops dashboard` on a free port, with ``env`` over this process's environment; its base URL."""
    port = free_port()
    group = ProcessGroup(log_dir, {**os.environ, **env})
    group.start("dashboard", [MODELOPS, "dashboard", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{url}/healthz") or group.exited(), STARTUP_WAIT, interval=0.2, what="the dashboard to listen")
        assert not group.exited(), (log_dir / "dashboard.log").read_text()
        yield url
    finally:
        group.stop()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def make_token(role: str, tenant_id: uuid.UUID | None = None, holder: str = "tests", ttl: dt.timedelta = dt.timedelta(hours=1),
               now: dt.datetime | None = None) -> dict:
    """A token made as `modelops token create` makes it; ``now`` in the past makes one that has expired."""
    if tenant_id is not None:
        tenants.add_member(tenant_id, holder, "viewer")
    with db.operator_scope() as connection:
        return access.create_token(connection, role=role, tenant_id=tenant_id, principal=holder, created_by="tests",
                                   ttl=ttl, now=now or access.wall_now())


def bearer(token: dict) -> dict:
    return {"Authorization": f"Bearer {token['token']}"}


def panel(url: str, name: str, token: dict, **filters) -> requests.Response:
    return requests.get(f"{url}/api/panels/{name}", params=filters, headers=bearer(token), timeout=30)


class Relay:
    """A TCP relay from a local port to ``target`` (host and port, or a unix socket's path):
    ``cut()`` closes it and every connection through it (the server behind looks down), ``mend()``
    listens again on the same port."""

    def __init__(self, target: tuple[str, int] | str):
        self.target = target
        self.url: str | None = None  # for a Postgres relay, the database URL through it
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def mend(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, []
        if listener is not None:
            _close(listener)  # shutdown first: a bare close would leave the accepting thread listening
        for connection in connections:
            _close(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = self._connect()
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._connections += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()

    def _connect(self) -> socket.socket:
        if isinstance(self.target, str):
            server = socket.socket(socket.AF_UNIX)
            server.settimeout(5)
            server.connect(self.target)
            return server
        return socket.create_connection(self.target, timeout=5)


def postgres_relay(database_url: str) -> Relay:
    """A listening relay to the Postgres of ``database_url`` (on a TCP port, or on a unix socket
    as the embedded server listens); its ``url`` is ``database_url`` through the relay."""
    url = make_url(database_url)
    socket_folder = url.query.get("host")
    port = url.port or 5432
    relay = Relay(f"{socket_folder}/.s.PGSQL.{port}" if socket_folder else (url.host, port))
    relay.mend()
    through = url.difference_update_query(["host"]).set(host="127.0.0.1", port=relay.port)
    relay.url = through.render_as_string(hide_password=False)
    return relay


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    connection.close()


def run_pipeline(tenant: uuid.UUID, member: str, tenant_seed: int, predictions: int = 30,
                 marker: str | None = None) -> dict:
    """One tenant's classification model through the real pipeline: 300 labelled rows through the
    intake, a model trained by a worker (its first model goes to production), ``predictions``
    served by a worker (the first one's description is ``marker`` when given), feedback on every
    one of them through the intake task (a third corrected, the rest approved), and the counters
    folded into ai.model_metrics. Returns {version, prediction_ids}."""
    seed(tenant, AGENT, synthetic_rows(AGENT, 300, tenant_seed))
    trained = train(AGENT, tenant)
    assert trained["status"] == "succeeded", trained
    truth = synthetic_rows(AGENT, predictions, tenant_seed, seed=99)
    items = [{"tenant_id": str(tenant), "agent_type": AGENT, "input_data": input_data} for input_data, _ in truth]
    if marker:
        items[0]["input_data"]["description"] = marker
    answers = app.send_task(PREDICT_BATCH, kwargs=signed(PREDICT_BATCH, member, items=items)).get(timeout=STARTUP_WAIT)
    assert [answer["status"] for answer in answers] == ["predicted"] * predictions, answers
    events = []
    for number, (answer, (input_data, expected)) in enumerate(zip(answers, truth)):
        event = {"tenant_id": str(tenant), "agent_type": AGENT, "prediction_id": answer["prediction_id"],
                 "input_data": input_data, "actual_output": answer["output"], "idempotency_key": f"dash-{answer['prediction_id']}"}
        if number % 3 == 0:
            event |= {"source": "user_correction", "expected_output": expected}
        else:
            event |= {"source": "suggestion_approved"}
        events.append(event)
    recorded = app.send_task(RECORD_BATCH, kwargs=signed(RECORD_BATCH, member, events=events)).get(timeout=STARTUP_WAIT)
    assert recorded["counts"] == {"accepted": predictions}, recorded
    ids = [answer["prediction_id"] for answer in answers]
    wait_until(lambda: _with_feedback(ids) == predictions, STARTUP_WAIT, interval=0.2, what="feedback on every prediction")
    fold()
    return {"version_id": trained["model_version_id"], "version": trained["version"], "prediction_ids": ids}


def _with_feedback(prediction_ids: list[str]) -> int:
    with db.operator_scope() as connection:
        return connection.execute(
            text("SELECT count(*) FROM ai.prediction_log WHERE id = ANY(CAST(:ids AS uuid[])) AND feedback_at IS NOT NULL"),
            {"ids": prediction_ids}).scalar_one()


def fold() -> dict:
    """The counters folded into ai.model_metrics now, as beat's every-second task folds them."""
    return app.send_task(FOLD).get(timeout=STARTUP_WAIT)


def new_tenant(name: str, member: str) -> uuid.UUID:
    tenant = tenants.create_tenant(f"{name}-{uuid.uuid4().hex[:6]}")
    tenants.add_member(tenant, member, "service")
    return tenant


def wait_for(condition, what: str, timeout: float = STARTUP_WAIT):
    return wait_until(condition, timeout, interval=0.25, what=what)

