"""The dashboard, served by `modelops dashboard`, attacked over HTTP: a link with a token signs no
one in, a one-time sign-in link signs in once and only through its button, no token or code reaches
any line the process logs however its requests fail, and a forged X-Forwarded-For or
X-Forwarded-Proto is ignored unless a trusted proxy is configured."""
from __future__ import annotations

import re
import time
import uuid

import pytest
import requests

from cli.dashboard import sign_in_link
from modelops.dashboard import access, sign_in
from tests.integration.dashboard_support import make_token, running_dashboard

pytestmark = pytest.mark.integration
FORGED_ADDRESS = "203.0.113.9"
FORGED = {"X-Forwarded-For": FORGED_ADDRESS, "X-Real-Ip": FORGED_ADDRESS, "X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def dashboard(database, tmp_path_factory):
    """The dashboard's URL and the folder of every log its process writes."""
    logs = tmp_path_factory.mktemp("dashboard-logs")
    with running_dashboard(logs) as url:
        yield url, logs


@pytest.fixture
def operator():
    return make_token("operator", holder=f"ops-{uuid.uuid4().hex[:6]}")


def xsrf_field(session: requests.Session, page: requests.Response) -> str:
    return re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)


def signed_in(session: requests.Session, url: str) -> bool:
    return session.get(f"{url}/api/filters", timeout=30).status_code == 200


def test_a_link_with_a_token_signs_no_one_in(dashboard, operator):
    url, _ = dashboard
    session = requests.Session()
    page = session.get(url, params={"token": operator["token"]}, allow_redirects=False, timeout=30)
    assert page.status_code == 401 and "does not sign in" in page.text and 'name="token"' in page.text
    assert operator["token"] not in page.text
    assert "modelops_session" not in session.cookies and not signed_in(session, url)


def test_a_sign_in_link_shows_a_button_and_signs_in_once_through_it(dashboard, operator):
    url, _ = dashboard
    link = sign_in_link(url, operator["token"])
    assert operator["token"] not in link and access.digest(operator["token"]) not in link

    browser = requests.Session()
    page = browser.get(link, timeout=30)
    assert page.status_code == 200 and operator["principal"] in page.text and "Sign in as" in page.text
    assert "modelops_session" not in browser.cookies and not signed_in(browser, url)  # following the link did nothing
    code = re.search(r'name="code" value="([^"]+)"', page.text).group(1)

    forged = requests.post(f"{url}/sign-in", data={"code": code}, allow_redirects=False, timeout=30)  # another site's form
    assert forged.status_code == 403
    pressed = browser.post(f"{url}/sign-in", data={"code": code, "_xsrf": xsrf_field(browser, page)},
                           allow_redirects=False, timeout=30)
    assert pressed.status_code == 302 and pressed.headers["Location"] == "/" and signed_in(browser, url)

    other = requests.Session()
    again = other.get(link, timeout=30)
    assert again.status_code == 401 and "used already" in again.text
    replayed = other.post(f"{url}/sign-in", data={"code": code, "_xsrf": xsrf_field(other, again)}, timeout=30)
    assert replayed.status_code == 401 and not signed_in(other, url)


@pytest.mark.parametrize("make_code", [
    lambda token: sign_in.issue(access.digest(token), time.time() - sign_in.CODE_TTL - 1),
    lambda token: sign_in.issue(access.digest(token), time.time())[:-4] + "AAAA",
    lambda token: sign_in.issue(access.digest("mdo_" + uuid.uuid4().hex), time.time()),
], ids=["expired", "forged", "unknown token"])
def test_an_expired_forged_or_dangling_sign_in_code_is_refused(dashboard, operator, make_code):
    url, _ = dashboard
    session = requests.Session()
    page = session.get(f"{url}/sign-in", params={"code": make_code(operator["token"])}, timeout=30)
    assert page.status_code == 401 and "wrong, expired or used already" in page.text


def provoke_errors(url: str, token: str, code: str) -> list[int]:
    """Requests that fail in each way Tornado logs, with a token or a code in the address."""
    session = requests.Session()
    form = session.get(f"{url}/login", timeout=30)
    statuses = [
        requests.get(f"{url}/no-such-page", params={"token": token}, timeout=30).status_code,
        requests.get(f"{url}/static/no-such-file.js", params={"token": token}, timeout=30).status_code,
        requests.options(url, params={"token": token}, timeout=30).status_code,
        requests.request("PROPFIND", f"{url}/sign-in", params={"code": code}, timeout=30).status_code,
        requests.post(f"{url}/logout", params={"token": token}, timeout=30).status_code,
        session.post(f"{url}/login", params={"token": token}, data={"token": token, "_xsrf": "forged"}, timeout=30).status_code,
        requests.get(f"{url}/?token=%FF{token}", timeout=30).status_code,
        requests.get(f"{url}/api/panels/models", params={"token": token, "agent": "%FF"}, timeout=30).status_code,
        requests.get(f"{url}/sign-in?code=%FF{code}", timeout=30).status_code,
        requests.get(f"{url}/no-such-api", headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code,
    ]
    assert xsrf_field(session, form)
    return statuses


def test_no_token_or_code_reaches_any_log_line_however_requests_fail(dashboard, operator):
    url, logs = dashboard
    code = sign_in.issue(access.digest(operator["token"]), time.time())
    statuses = provoke_errors(url, operator["token"], code)
    assert statuses == [404, 404, 405, 405, 403, 403, 400, 401, 400, 404], statuses
    time.sleep(1)  # the process writes its last lines

    written = "".join(path.read_text(errors="replace") for path in logs.rglob("*") if path.is_file())
    assert "tornado.general" in written and "405" in written and "XSRF" in written  # Tornado's own warnings were written
    assert "token=***" in written
    for secret in (operator["token"], code, operator["token"][len(access.TOKEN_PREFIX):][:16], code[len(sign_in.PREFIX):][:16]):
        assert secret not in written


def client_address_logged(url: str, logs, marker: str) -> str:
    requests.get(f"{url}/healthz", params={"probe": marker}, headers=FORGED, timeout=30)
    time.sleep(0.5)
    line = next(line for line in (logs / "dashboard.log").read_text().splitlines() if marker in line)
    return re.search(r"\((\S+)\) [\d.]+ms$", line).group(1)


def secure_cookie_after_login(url: str, token: dict) -> bool:
    session = requests.Session()
    form = session.get(f"{url}/login", headers=FORGED, timeout=30)
    signed = session.post(f"{url}/login", data={"token": token["token"], "_xsrf": xsrf_field(session, form)},
                          headers=FORGED, allow_redirects=False, timeout=30)
    assert signed.status_code == 302
    return "secure" in signed.headers["Set-Cookie"].lower()


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(dashboard, operator, tmp_path):
    url, logs = dashboard
    assert client_address_logged(url, logs, uuid.uuid4().hex) == "127.0.0.1"
    assert not secure_cookie_after_login(url, operator)

    # behind a trusted proxy (here: this host), the same headers name the client and its scheme
    with running_dashboard(tmp_path, MODELOPS_TRUSTED_PROXY="127.0.0.1") as proxied:
        assert client_address_logged(proxied, tmp_path, uuid.uuid4().hex) == FORGED_ADDRESS
        assert secure_cookie_after_login(proxied, operator)
