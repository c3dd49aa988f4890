"""The dashboard over HTTP, served by `modelops dashboard` in its own process, over two tenants
seeded by the real pipeline: who gets in and how, every panel's JSON, filters that select nothing,
what a tenant's user sees, resolving an alert, and a database or broker that is briefly down."""
from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import make_url

from modelops import clock, db
from cli.dashboard import sign_in_link
from modelops.config import settings
from modelops.dashboard import access
from modelops.dashboard.widgets import PANELS
from modelops.alerting.alerts import raise_alert
from tests.integration.dashboard_support import (Relay, bearer, make_token, new_tenant, panel, postgres_relay, run_pipeline,
                                                 running_dashboard, wait_for)

pytestmark = pytest.mark.integration
MEMBER_A, MEMBER_B = "ledger-a", "ledger-b"
MARKER = f"SECRET-INPUT-{uuid.uuid4().hex}"
DATABASE_PANELS = [p.name for p in PANELS if p.name != "resources"]


@pytest.fixture(scope="module")
def shop(worker):
    """Two tenants, each with a classification model trained, serving and told about by feedback."""
    a, b = new_tenant("dash-a", MEMBER_A), new_tenant("dash-b", MEMBER_B)
    seeded = {"a": a, "b": b, "a_run": run_pipeline(a, MEMBER_A, tenant_seed=11, marker=MARKER),
              "b_run": run_pipeline(b, MEMBER_B, tenant_seed=12)}
    with db.operator_scope() as connection:
        names = dict(connection.execute(text("SELECT id, name FROM ai.tenants WHERE id IN (:a, :b)"), {"a": a, "b": b}).all())
    return {**seeded, "a_name": names[a], "b_name": names[b]}


@pytest.fixture(scope="module")
def url(database, tmp_path_factory):
    with running_dashboard(tmp_path_factory.mktemp("dashboard")) as base:
        yield base


@pytest.fixture(scope="module")
def operator():
    return make_token("operator", holder="ops-tests")


@pytest.fixture(scope="module")
def tenant_a(shop):
    return make_token("tenant", shop["a"], holder="alice@a")


def signed_in(url: str, token: dict) -> requests.Session:
    """A browser-like session that followed a one-time sign-in link and pressed its button."""
    session = requests.Session()
    page = session.get(sign_in_link(url, token["token"]), timeout=30)
    code = re.search(r'name="code" value="([^"]+)"', page.text).group(1)
    response = session.post(f"{url}/sign-in", data={"code": code, "_xsrf": session.cookies["_xsrf"]}, timeout=30)
    assert response.status_code == 200, response.text
    return session


def xsrf_headers(session: requests.Session) -> dict:
    return {"X-XSRFToken": session.cookies["_xsrf"]}


# -- getting in ------------------------------------------------------------------------------

def test_without_credentials_the_page_is_the_login_form_with_401(url):
    page = requests.get(url, timeout=30)
    assert page.status_code == 401
    assert 'name="token"' in page.text and 'name="_xsrf"' in page.text
    api = requests.get(f"{url}/api/panels/models", timeout=30)
    assert api.status_code == 401 and "sign in" in api.json()["error"]


def test_a_sign_in_link_starts_a_session_once_its_button_is_pressed(url, operator):
    session = requests.Session()
    page = session.get(sign_in_link(url, operator["token"]), timeout=30)
    code = re.search(r'name="code" value="([^"]+)"', page.text).group(1)
    pressed = session.post(f"{url}/sign-in", data={"code": code, "_xsrf": session.cookies["_xsrf"]},
                           allow_redirects=False, timeout=30)

    assert pressed.status_code == 302 and pressed.headers["Location"] == "/"
    cookie = pressed.headers["Set-Cookie"]
    assert "modelops_session=" in cookie and "HttpOnly" in cookie and operator["token"] not in cookie
    page = session.get(url, timeout=30)
    assert page.status_code == 200
    titles = re.findall(r"<h2>(.*?)</h2>", page.text)
    assert titles == ["Current Models", "Performance Trends", "Alerts &amp; Events", "Training Data", "Model Versions", "Resource Usage"]
    assert session.get(f"{url}/api/panels/models", timeout=30).status_code == 200
    with db.operator_scope() as connection:
        stored = connection.execute(text("SELECT token_sha256 FROM ai.dashboard_tokens WHERE id = :id"), {"id": operator["id"]}).scalar_one()
    assert stored == access.digest(operator["token"]) and operator["token"] not in stored


def expired_token() -> dict:
    return make_token("operator", ttl=dt.timedelta(hours=1), now=access.wall_now() - dt.timedelta(hours=2))


def revoked_token() -> dict:
    token = make_token("operator")
    with db.operator_scope() as connection:
        assert access.revoke_token(connection, uuid.UUID(token["id"]), access.wall_now())
    return token


@pytest.mark.parametrize("make", [lambda: {"token": "mdo_" + uuid.uuid4().hex}, expired_token, revoked_token],
                         ids=["wrong", "expired", "revoked"])
def test_a_wrong_expired_or_revoked_token_gets_401_and_the_login_page(url, make):
    token = make()
    session = requests.Session()
    form = session.get(f"{url}/login", timeout=30)
    field = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    login = session.post(f"{url}/login", data={"token": token["token"], "_xsrf": field}, allow_redirects=False, timeout=30)
    assert login.status_code == 401 and "wrong, expired or revoked" in login.text and 'name="token"' in login.text
    assert "Set-Cookie" not in login.headers or "modelops_session" not in login.headers["Set-Cookie"]
    link = session.get(sign_in_link(url, token["token"]), timeout=30)
    assert link.status_code == 401 and "wrong, expired or used already" in link.text
    api = requests.get(f"{url}/api/panels/alerts", headers=bearer(token), timeout=30)
    assert api.status_code == 401


def test_the_login_form_needs_its_xsrf_field_and_a_live_token(url, operator):
    session = requests.Session()
    assert session.post(f"{url}/login", data={"token": operator["token"]}, timeout=30).status_code == 403
    form = session.get(f"{url}/login", timeout=30)
    field = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)

    wrong = session.post(f"{url}/login", data={"token": "mdo_nope", "_xsrf": field}, allow_redirects=False, timeout=30)
    right = session.post(f"{url}/login", data={"token": operator["token"], "_xsrf": field}, allow_redirects=False, timeout=30)

    assert wrong.status_code == 401 and "wrong, expired or revoked" in wrong.text
    assert right.status_code == 302 and "modelops_session=" in right.headers["Set-Cookie"]
    assert session.get(f"{url}/api/panels/versions", timeout=30).status_code == 200


def test_signing_out_ends_the_session(url, operator):
    session = signed_in(url, operator)
    cookie = session.cookies["modelops_session"]
    assert session.post(f"{url}/logout", headers=xsrf_headers(session), data={"_xsrf": session.cookies["_xsrf"]},
                        allow_redirects=False, timeout=30).status_code == 302
    with db.operator_scope() as connection:
        assert connection.execute(text("SELECT count(*) FROM ai.dashboard_sessions WHERE session_sha256 = :d"),
                                  {"d": access.digest(cookie)}).scalar_one() == 0
    assert requests.get(f"{url}/api/panels/models", cookies={"modelops_session": cookie}, timeout=30).status_code == 401


# -- the panels -------------------------------------------------------------------------------

def test_every_panel_answers_an_operator_with_the_pipelines_figures(url, operator, shop):
    answers = {p.name: panel(url, p.name, operator) for p in PANELS}
    assert {name: r.status_code for name, r in answers.items()} == {p.name: 200 for p in PANELS}
    data = {name: r.json()["data"] for name, r in answers.items()}
    assert {name: r.json()["refresh_interval"] for name, r in answers.items()} == {
        "models": 30, "trends": 30, "alerts": 15, "training": 60, "versions": 120, "resources": 30}

    ours = {m["tenant_id"]: m for m in data["models"]["models"] if m["tenant_id"] in (str(shop["a"]), str(shop["b"]))}
    assert set(ours) == {str(shop["a"]), str(shop["b"])}
    a_model = ours[str(shop["a"])]
    assert a_model["version"] == "v1.0" and a_model["is_production"] and a_model["predictions_today"] == 30
    assert a_model["labelled_today"] == 30 and 0 <= a_model["accuracy"] <= 1

    accuracy = {s["name"]: s["points"] for s in data["trends"]["charts"]["accuracy"]}
    assert clock.today().isoformat() in [day for day, _ in accuracy["classification"]]
    assert data["trends"]["predictions"] >= 60
    assert data["training"]["today"]["by_source"]["user_correction"] >= 20
    # an operator's panels read as the dashboard's own role; no runtime role can become the operator but the system's
    assert data["training"]["isolation"]["ok"] is True and data["training"]["isolation"]["login_role"] == "modelops_dashboard"
    assert data["training"]["isolation"]["broken_roles"] == []
    assert {v["id"] for v in data["versions"]["versions"]} >= {shop["a_run"]["version_id"], shop["b_run"]["version_id"]}
    assert {e["event"] for e in data["alerts"]["events"]} >= {"first_model"}
    assert "all" in {p["pool"] for p in data["resources"]["pools"]}  # the session's worker (`--pool all`)
    assert data["resources"]["disk"]["database_bytes"] > 0 and set(data["resources"]["queues"]) >= {"predict", "train"}


@pytest.mark.parametrize("filters, message", [
    ({"agent": "forecasting"}, "no agent 'forecasting'"),
    ({"tenant": "acme"}, "'acme' is not a tenant id"),
    ({"tenant": "00000000-0000-4000-8000-000000000000"}, "no tenant 00000000-0000-4000-8000-000000000000"),
])
def test_a_filter_that_selects_nothing_is_an_empty_state_with_a_message(url, operator, filters, message):
    for name in DATABASE_PANELS:
        answer = panel(url, name, operator, **filters)
        assert answer.status_code == 200, answer.text
        assert message in answer.json()["empty"] and "data" not in answer.json()


def test_an_unknown_panel_is_404(url, operator):
    assert panel(url, "forecasts", operator).status_code == 404


def test_the_filters_narrow_every_panel_to_one_tenant(url, operator, shop):
    models = panel(url, "models", operator, tenant=str(shop["b"]), agent="classification").json()["data"]["models"]
    assert [(m["tenant_id"], m["version"]) for m in models] == [(str(shop["b"]), "v1.0")]
    versions = panel(url, "versions", operator, tenant=str(shop["b"])).json()["data"]["versions"]
    assert {v["tenant_id"] for v in versions} == {str(shop["b"])}


def test_a_tenants_user_sees_its_own_tenant_only_in_the_page_and_its_json(url, operator, tenant_a, shop):
    session = signed_in(url, tenant_a)
    page = session.get(url, timeout=30).text
    assert "alice@a" in page and shop["b_name"] not in page and str(shop["b"]) not in page
    assert [t["id"] for t in session.get(f"{url}/api/filters", timeout=30).json()["tenants"]] == [str(shop["a"])]

    foreign = (str(shop["b"]), shop["b_name"], shop["b_run"]["version_id"], *shop["b_run"]["prediction_ids"])
    for name in DATABASE_PANELS:
        body = session.get(f"{url}/api/panels/{name}", timeout=30).text
        assert not [value for value in foreign if value in body], f"{name} shows tenant b"
    models = session.get(f"{url}/api/panels/models", timeout=30).json()["data"]["models"]
    assert [(m["tenant_id"], m["version"]) for m in models] == [(str(shop["a"]), "v1.0")]
    # the tenant's trends are the operator's trends of that tenant, and not everyone's
    own = session.get(f"{url}/api/panels/trends", timeout=30).json()["data"]
    assert own == {**panel(url, "trends", operator, tenant=str(shop["a"])).json()["data"]}
    assert own["predictions"] < panel(url, "trends", operator).json()["data"]["predictions"]

    asked_for_b = session.get(f"{url}/api/panels/models", params={"tenant": str(shop["b"])}, timeout=30).json()
    assert "is not yours" in asked_for_b["empty"] and "data" not in asked_for_b
    assert "shown to operators" in session.get(f"{url}/api/panels/resources", timeout=30).json()["empty"]
    assert session.get(f"{url}/metrics", timeout=30).status_code == 403


def test_no_panel_shows_the_input_data_of_a_prediction(url, operator, shop):
    with db.operator_scope() as connection:
        logged = connection.execute(text("SELECT count(*) FROM ai.prediction_log WHERE input_data ->> 'description' = :m"),
                                    {"m": MARKER}).scalar_one()
    assert logged == 1  # the marker is there to be leaked
    for name in DATABASE_PANELS:
        for filters in ({}, {"tenant": str(shop["a"])}):
            assert MARKER not in panel(url, name, operator, **filters).text, name


# -- resolving an alert -----------------------------------------------------------------------

def new_alert(tenant) -> str:
    with db.operator_scope() as connection:
        return raise_alert(connection, alert_type="accuracy_drop", severity="warning", tenant_id=tenant,
                           agent_type="classification", message=f"test alert {uuid.uuid4().hex[:8]}", now=clock.now())["id"]


def alert_row(alert_id: str) -> dict:
    with db.operator_scope() as connection:
        return dict(connection.execute(text("SELECT status, resolved_by, resolution_note FROM ai.alerts WHERE id = :id"),
                                       {"id": alert_id}).mappings().one())


def test_an_operator_resolves_an_alert_with_the_xsrf_token_and_a_tenants_user_cannot(url, operator, tenant_a, shop):
    alert = new_alert(shop["a"])
    resolve = f"{url}/api/alerts/{alert}/resolve"
    ops, alice = signed_in(url, operator), signed_in(url, tenant_a)
    assert alert in alice.get(f"{url}/api/panels/alerts", timeout=30).text

    forged = ops.post(resolve, json={"note": "fixed"}, timeout=30)
    by_tenant = alice.post(resolve, json={"note": "fixed"}, headers=xsrf_headers(alice), timeout=30)
    without_note = ops.post(resolve, json={"note": " "}, headers=xsrf_headers(ops), timeout=30)

    assert forged.status_code == 403 and by_tenant.status_code == 403 and without_note.status_code == 400
    assert alert_row(alert)["status"] == "active"
    done = ops.post(resolve, json={"note": "retrained"}, headers=xsrf_headers(ops), timeout=30)
    assert done.status_code == 200, done.text
    assert alert_row(alert) == {"status": "resolved", "resolved_by": "dashboard:ops-tests", "resolution_note": "retrained"}
    shown = [a for a in panel(url, "alerts", operator).json()["data"]["alerts"] if a["id"] == alert]
    assert shown[0]["status"] == "resolved" and shown[0]["resolved_by"] == "dashboard:ops-tests"
    again = ops.post(resolve, json={"note": "twice"}, headers=xsrf_headers(ops), timeout=30)
    assert again.status_code == 400 and "already resolved" in again.json()["error"]


def test_a_script_with_a_bearer_token_resolves_without_the_xsrf_cookie(url, operator, shop):
    alert = new_alert(shop["b"])
    answer = requests.post(f"{url}/api/alerts/{alert}/resolve", json={"note": "by script"}, headers=bearer(operator), timeout=30)
    assert answer.status_code == 200, answer.text
    assert alert_row(alert)["status"] == "resolved"


# -- a database or broker briefly down --------------------------------------------------------

@pytest.fixture
def relayed(database, tmp_path_factory):
    """A dashboard reaching Postgres and Redis through relays the test can cut."""
    postgres = postgres_relay(settings().database_url)
    redis_url = make_url(settings().redis_url)
    broker = Relay((redis_url.host, redis_url.port or 6379))
    broker.mend()
    env = {"DATABASE_URL": postgres.url, "REDIS_URL": redis_url.set(port=broker.port).render_as_string(hide_password=False)}
    with running_dashboard(tmp_path_factory.mktemp("relayed-dashboard"), **env) as url:
        yield url, postgres, broker
    for relay in (postgres, broker):
        relay.cut()


def up(url: str, token: dict) -> dict:
    scraped = requests.get(f"{url}/metrics", headers=bearer(token), timeout=30)
    assert scraped.status_code == 200
    family = next(f for f in text_string_to_metric_families(scraped.text) if f.name == "modelops_up")
    return {sample.labels["source"]: sample.value for sample in family.samples}


def test_while_the_database_is_down_the_panels_say_so_and_recover(relayed, operator):
    url, postgres, _ = relayed
    assert panel(url, "models", operator).status_code == 200

    postgres.cut()
    down = panel(url, "models", operator)
    resources = panel(url, "resources", operator)
    scraped = up(url, operator)
    postgres.mend()

    assert down.status_code == 503 and "database unreachable" in down.json()["error"]
    assert resources.status_code == 200 and "database unreachable" in resources.json()["data"]["unavailable"]["database"]
    assert resources.json()["data"]["queues"] is not None  # the broker still answers
    assert scraped == {"database": 0.0, "broker": 1.0}
    wait_for(lambda: panel(url, "models", operator).status_code == 200, "the panels to answer again")
    assert up(url, operator) == {"database": 1.0, "broker": 1.0}


def test_while_the_broker_is_down_the_resources_panel_says_so_and_the_rest_answer(relayed, operator):
    url, _, broker = relayed
    broker.cut()
    resources = panel(url, "resources", operator)
    models = panel(url, "models", operator)
    scraped = up(url, operator)
    broker.mend()

    assert resources.status_code == 200
    assert resources.json()["data"]["queues"] is None and "broker unreachable" in resources.json()["data"]["unavailable"]["broker"]
    assert models.status_code == 200
    assert scraped == {"database": 1.0, "broker": 0.0}
    wait_for(lambda: panel(url, "resources", operator).json()["data"]["queues"] is not None, "the broker to answer again")

