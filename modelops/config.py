"""Settings read from the environment, in one place.

Every process (CLI, worker pools, beat, dashboard) reads the same variables, so a deployment
configures a host by exporting them; ``modelops up`` exports them for the processes it starts.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The role the application runs as: no superuser, no BYPASSRLS, so row-level security applies.
APP_ROLE = "modelops_app"
# The role system tasks and operators switch to (SET LOCAL ROLE) to act across tenants.
OPERATOR_ROLE = "modelops_operator"

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/modelops"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    redis_url: str
    result_backend_url: str
    artifact_dir: Path
    app_database_url: str

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        home = Path(env.get("MODELOPS_HOME") or PROJECT_ROOT / ".modelops").resolve()
        database_url = normalise_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        redis_url = env.get("REDIS_URL") or DEFAULT_REDIS_URL
        return cls(
            home=home,
            database_url=database_url,
            redis_url=redis_url,
            result_backend_url=env.get("RESULT_BACKEND_URL") or redis_url,
            artifact_dir=Path(env.get("MODELOPS_ARTIFACT_DIR") or home / "artifacts").resolve(),
            app_database_url=normalise_database_url(env["APP_DATABASE_URL"])
            if env.get("APP_DATABASE_URL")
            else app_url_from_owner_url(database_url, env.get("MODELOPS_APP_DB_PASSWORD")),
        )


def normalise_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and pin the psycopg 3 driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got {redact(url)}")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def app_url_from_owner_url(owner_url: str, password: str | None) -> str:
    """The application's URL: the owner's host and database, the application role's name."""
    parsed: URL = make_url(owner_url).set(username=APP_ROLE, password=password)
    return parsed.render_as_string(hide_password=False)


def redact(url: str) -> str:
    """A URL fit for a log line or an error: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparseable: show the scheme only, since we cannot tell where a password sits
        return url.partition("://")[0] + "://***"


def settings() -> Settings:
    return Settings.from_env()
