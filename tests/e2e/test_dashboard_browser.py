"""The dashboard in a real headless Chromium (Debian's chromium and chromedriver, driven by Selenium
with an explicit driver path, so nothing is downloaded), over a database seeded by the real
pipeline: models trained by a worker, predictions served by it, feedback through the intake task,
the counters folded, an A/B test looked at, a candidate promoted by hand with `modelops promote`
and rolled back. The page is signed in to through its login form (an operator) and through a
one-time sign-in link and its button (a tenant's user); every panel fills; an alert
raised while it is open appears within the alerts panel's refresh interval; the rollback is in the
versions panel; the database going away shows a notice, and coming back clears it; a tenant's
user sees its own tenant only. Screenshots are kept in test-artifacts/."""
from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from modelops import clock, db
from cli.dashboard import sign_in_link
from modelops.dashboard.widgets import DASHBOARD_WIDGETS, PANELS
from modelops.alerting.alerts import raise_alert
from modelops.monitoring.rollback import trigger_rollback
from tests.integration.dashboard_support import (AGENT, MODELOPS, make_token, new_tenant, postgres_relay, run_pipeline,
                                                 running_dashboard)
from tests.integration.training_support import seed, synthetic_rows, train
from workers.app import app

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# How long a page may take to show what it fetched: its panel's interval, plus time to fetch and draw.
DRAWING = 10


def retrain(tenant, tenant_seed: int, more_seed: int) -> dict:
    """A second version from more of the tenant's feedback; one that passes the gate starts an A/B test."""
    seed(tenant, AGENT, synthetic_rows(AGENT, 150, tenant_seed, seed=more_seed))
    trained = train(AGENT, tenant)
    assert trained["status"] == "succeeded", trained
    return trained


@pytest.fixture(scope="module")
def world(worker):
    """Tenant a: v1.0 in production and v1.1 in an A/B test with a first look. Tenant b: v1.1
    promoted by hand, then rolled back to v1.0."""
    a, b = new_tenant("e2e-a", "svc-a"), new_tenant("e2e-b", "svc-b")
    run_pipeline(a, "svc-a", tenant_seed=21)
    run_pipeline(b, "svc-b", tenant_seed=22)
    candidate_a = retrain(a, 21, more_seed=5)
    assert candidate_a["decision"]["ab_test"]["status"] == "started", candidate_a["decision"]
    test_id = candidate_a["decision"]["ab_test"]["test_id"]
    look = app.send_task("modelops.experiments.evaluate_test", args=[test_id]).get(timeout=60)
    assert look["written"], look
    candidate_b = retrain(b, 22, more_seed=7)
    assert candidate_b["decision"]["outcome"] == "candidate", candidate_b["decision"]
    promoted = subprocess.run([MODELOPS, "promote", candidate_b["model_version_id"], "--reason", "e2e: by hand"],
                              capture_output=True, text=True, timeout=120)
    assert promoted.returncode == 0, promoted.stderr
    with db.operator_scope() as connection:
        rolled = trigger_rollback(connection, AGENT, b, triggers={"accuracy_drop": {"accuracy": 0.5}}, actor="e2e",
                                  reason="accuracy fell in the e2e test", now=clock.now())
    assert rolled["outcome"] == "rolled_back" and (rolled["from_version"], rolled["to_version"]) == ("v1.1", "v1.0"), rolled
    return {"a": a, "b": b, "a_name": _name(a), "b_name": _name(b)}


def _name(tenant) -> str:
    from sqlalchemy import text

    with db.operator_scope() as connection:
        return connection.execute(text("SELECT name FROM ai.tenants WHERE id = :id"), {"id": tenant}).scalar_one()


@pytest.fixture(scope="module")
def postgres(database):
    """Postgres reached through a relay, so that the test can take the database away."""
    relay = postgres_relay(database)
    yield relay
    relay.cut()


@pytest.fixture(scope="module")
def url(postgres, tmp_path_factory):
    env = {"DATABASE_URL": postgres.url}
    with running_dashboard(tmp_path_factory.mktemp("e2e-dashboard"), **env) as base:
        yield base


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1680,1400"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def panel(browser, name: str):
    return browser.find_element(By.ID, f"panel-{name}")


def wait(browser, timeout: float, condition, what: str):
    try:
        return WebDriverWait(browser, timeout, poll_frequency=0.25).until(lambda _: condition())
    except WebDriverException:
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / f"dashboard-failed-{uuid.uuid4().hex[:6]}.png"))
        raise AssertionError(f"{what} did not happen within {timeout}s") from None


def all_ready(browser) -> bool:
    return all(panel(browser, p.name).get_attribute("data-state") == "ready" for p in PANELS)


def test_an_operator_signs_in_and_watches_the_system(browser, url, world, postgres):
    operator = make_token("operator", holder="ops@e2e")
    browser.get(url)
    assert "Access token" in browser.page_source  # the login page, not the dashboard
    browser.find_element(By.ID, "token").send_keys(operator["token"])
    browser.find_element(By.CSS_SELECTOR, "form.login-form button[type=submit]").click()
    wait(browser, 60, lambda: all_ready(browser), "every panel filled")

    models = panel(browser, "models").text
    assert world["a_name"] in models and world["b_name"] in models and "production" in models
    assert panel(browser, "trends").find_elements(By.CSS_SELECTOR, "svg.chart circle.dot"), "no point on the trend charts"
    training = panel(browser, "training")
    assert training.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar") and "isolated" in training.text
    versions = panel(browser, "versions")
    rollbacks = [item.text for item in versions.find_elements(By.CSS_SELECTOR, "li.rollback")]
    assert any("rolled back" in item and "v1.1 → v1.0" in item and world["b_name"] in item for item in rollbacks), rollbacks
    tests = [item.text for item in versions.find_elements(By.CSS_SELECTOR, "li.test")]
    assert any(item.startswith("running") and "v1.0 vs v1.1" in item and "look 1" in item for item in tests), tests
    assert versions.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar"), "no version comparison chart"
    assert "rollback_triggered" in panel(browser, "alerts").text
    resources = panel(browser, "resources").text
    assert "all" in resources and "database" in resources and "predict" in resources
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))

    message = f"e2e alert {uuid.uuid4().hex[:8]}"
    with db.operator_scope() as connection:
        raise_alert(connection, alert_type="high_override_rate", severity="critical", tenant_id=world["a"],
                    agent_type=AGENT, message=message, now=clock.now())
    interval = DASHBOARD_WIDGETS["alerts"]["refresh_interval"]
    wait(browser, interval + DRAWING, lambda: message in panel(browser, "alerts").text, "the raised alert on the page")

    Select(browser.find_element(By.ID, "filter-tenant")).select_by_visible_text(world["b_name"])
    wait(browser, DRAWING, lambda: world["a_name"] not in panel(browser, "models").text, "the tenant filter")
    assert world["b_name"] in panel(browser, "models").text and "tenant=" in browser.current_url

    postgres.cut()
    try:
        notice = browser.find_element(By.ID, "notice")
        wait(browser, interval + DRAWING, lambda: notice.is_displayed() and "database unreachable" in notice.text,
             "the notice that the database is down")
        assert world["b_name"] in panel(browser, "models").text  # the last figures stay
        browser.save_screenshot(str(ARTIFACTS / "dashboard-database-down.png"))
    finally:
        postgres.mend()
    slowest = max(p.refresh_interval for p in PANELS)
    wait(browser, slowest + DRAWING, lambda: not notice.is_displayed(), "the notice to clear once the database is back")


def test_a_tenants_user_sees_its_tenant_only(browser, url, world):
    token = make_token("tenant", world["a"], holder="alice@e2e")
    browser.get(sign_in_link(url, token["token"]))
    assert "alice@e2e" in browser.page_source and not browser.find_elements(By.ID, "panel-models")  # not signed in yet
    browser.find_element(By.CSS_SELECTOR, "form.sign-in-form button[type=submit]").click()
    wait(browser, 60, lambda: all(panel(browser, p.name).get_attribute("data-state") in ("ready", "empty") for p in PANELS),
         "every panel answered")
    assert "code=" not in browser.current_url
    page = browser.find_element(By.TAG_NAME, "body").text
    assert world["a_name"] in page and world["b_name"] not in page and str(world["b"]) not in page
    assert "shown to operators" in panel(browser, "resources").text
    assert not panel(browser, "alerts").find_elements(By.CSS_SELECTOR, "button.resolve")
    browser.save_screenshot(str(ARTIFACTS / "dashboard-tenant.png"))
