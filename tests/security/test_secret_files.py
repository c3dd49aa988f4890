"""Files that hold secrets are readable by their owner only (mode 0600), whatever the umask and
whatever mode an earlier version left: the servers' record (its database URL holds the owner's
password), Flower's generated password, and the deployment's secret key."""
from __future__ import annotations

import os
import stat
import subprocess

import pytest

from cli.flower_auth import flower_auth
from modelops.config import settings
from tests.security.support import MODELOPS

pytestmark = pytest.mark.integration


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modelops_with_open_umask(home, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "MODELOPS_SECRET_KEY"}
    return subprocess.run([MODELOPS, *args], env={**env, "MODELOPS_HOME": str(home)}, capture_output=True, text=True,
                          timeout=120, preexec_fn=lambda: os.umask(0))


def test_modelops_up_keeps_the_owners_url_in_a_file_only_its_owner_reads(database, tmp_path):
    record = tmp_path / "services.json"
    record.write_text("{}")
    record.chmod(0o644)  # as earlier versions wrote it
    result = modelops_with_open_umask(tmp_path, "up")
    assert result.returncode == 0, result.stderr
    assert settings().database_url.split("@")[-1] in record.read_text() and mode(record) == 0o600


def test_flowers_generated_password_is_kept_in_a_file_only_its_owner_reads(tmp_path):
    previous = os.umask(0)
    try:
        made = flower_auth({}, tmp_path)
    finally:
        os.umask(previous)
    assert made.generated and mode(made.kept_in) == 0o600
    assert flower_auth({}, tmp_path) == made.__class__(made.user, made.password, made.kept_in, generated=False)


def test_the_secret_key_made_for_a_sign_in_link_is_readable_by_its_owner_only(database, tmp_path):
    result = modelops_with_open_umask(tmp_path, "token", "create", "--role", "operator", "--link")
    assert result.returncode == 0, result.stderr
    assert "/sign-in?code=mdo_signin_" in result.stderr
    assert mode(tmp_path / "secret.key") == 0o600
