"""The README's main command starts the dashboard and Flower beside every pool and prints where they
are: the dashboard's one-time sign-in link works (on the wall clock, whatever the demo's simulated
clock does) and its resources panel finds every pool on this host, Flower answers the user and
password the demo printed, and Ctrl-C stops them with the rest."""
from __future__ import annotations

import re
import signal
import subprocess

import pytest
import requests

from tests.integration.dashboard_support import MODELOPS, free_port, wait_for
from tests.integration.demo_support import COMMAND_WAIT, PROJECT, embedded_only_env, read_until, scratch_home
from workers import pools

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def status_of(client, url: str) -> int | None:
    """The status of a GET, or None while nothing listens there yet (the URLs are printed as the processes start)."""
    try:
        return client.get(url, timeout=10).status_code
    except requests.ConnectionError:
        return None


@pytest.fixture
def home():
    # Servers of its own (embedded, as a new user's): the scenario the demo starts trains global
    # models, which must not land in the database the rest of the run shares.
    with scratch_home() as folder:
        yield folder


def test_the_demo_serves_the_dashboard_and_flower_and_stops_them(home):
    dashboard_port, flower_port = free_port(), free_port()
    demo = subprocess.Popen([MODELOPS, "demo", "--dashboard-port", str(dashboard_port), "--flower-port", str(flower_port)],
                            env=embedded_only_env(home), cwd=PROJECT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        output = "".join(read_until(demo, "flower "))
        link = re.search(rf"^dashboard (http://127\.0\.0\.1:{dashboard_port}/sign-in\?code=mdo_signin_\S+) ", output, re.M)
        assert link, output
        flower = re.search(rf"^flower    http://127\.0\.0\.1:{flower_port}/ \(user (\S+), password (\S+)\)$", output, re.M)
        assert flower, output

        session = requests.Session()
        answers = []
        try:
            wait_for(lambda: answers.append(status_of(session, link.group(1))) or answers[-1] == 200,
                     "the dashboard's sign-in link")
        except AssertionError:
            raise AssertionError(f"answers {answers[-3:]}; {(home / 'logs' / 'dashboard.log').read_text()}") from None
        code = re.search(r'name="code" value="([^"]+)"', session.get(link.group(1), timeout=30).text).group(1)
        pressed = session.post(f"http://127.0.0.1:{dashboard_port}/sign-in",
                               data={"code": code, "_xsrf": session.cookies["_xsrf"]}, timeout=30)
        assert pressed.status_code == 200, pressed.text

        def pools_seen() -> set:
            answer = session.get(f"http://127.0.0.1:{dashboard_port}/api/panels/resources", timeout=30).json()
            return {pool["pool"] for pool in answer["data"]["pools"]}

        wait_for(lambda: pools_seen() >= set(pools.POOLS), "every pool in the resources panel")
        assert status_of(requests, f"http://127.0.0.1:{flower_port}/") in (None, 401)
        flower_auth = requests.Session()
        flower_auth.auth = flower.groups()
        wait_for(lambda: status_of(flower_auth, f"http://127.0.0.1:{flower_port}/") == 200, "Flower to answer its user")

        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=COMMAND_WAIT)
        assert demo.returncode == 0, demo.stderr.read()
    finally:
        demo.kill()
        demo.stdout.close()
        demo.stderr.close()
    for port in (dashboard_port, flower_port):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/", timeout=5)
