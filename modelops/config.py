"""Settings read from the environment, in one place.

Every process (CLI, worker pools, beat, dashboard) reads the same variables, so a deployment
configures a host by exporting them; ``modelops up`` exports them for the processes it starts.

Database URLs: ``DATABASE_URL`` is the owner's, for migrations and the command line. A process
that names no role URL (the command line, a laptop's ``--pool all``) derives each role's URL from
the owner's, with that role's name and password. A process that names any role URL
(``APP_DATABASE_URL``, ``SYSTEM_DATABASE_URL``, ``DASHBOARD_DATABASE_URL``) has exactly those
roles and no other: that is how a pool started by ``modelops demo`` or ``modelops worker`` runs,
with the URLs of its own roles and no owner URL (``runtime_environment``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from sqlalchemy.engine import URL, make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The role every process facing other services logs in as (serving, ingest, scrubbing, and the
# dashboard's tenant users): no superuser, no BYPASSRLS, not a member of the operator role, so
# row-level security applies and what it needs across tenants goes through definer functions.
APP_ROLE = "modelops_app"
# The login role of the pools that work across tenants by design (training, experiments,
# monitoring, maintenance, beat): a member of the operator role, which it switches to (SET LOCAL ROLE).
SYSTEM_ROLE = "modelops_system"
# The role whose row-level security policies span tenants; no one logs in as it.
OPERATOR_ROLE = "modelops_operator"
# The dashboard's own login role for its operators' panels: reads every tenant's rows, writes
# only an alert's resolution, and reaches tokens and sessions only through definer functions.
DASHBOARD_ROLE = "modelops_dashboard"

RUNTIME_ROLES = (APP_ROLE, SYSTEM_ROLE, DASHBOARD_ROLE)
ROLE_URL_VARIABLES = {APP_ROLE: "APP_DATABASE_URL", SYSTEM_ROLE: "SYSTEM_DATABASE_URL",
                      DASHBOARD_ROLE: "DASHBOARD_DATABASE_URL"}
# Set when the schema is migrated (the roles' passwords) and where URLs are derived from the owner's.
ROLE_PASSWORD_VARIABLES = {APP_ROLE: "MODELOPS_APP_DB_PASSWORD", SYSTEM_ROLE: "MODELOPS_SYSTEM_DB_PASSWORD",
                           DASHBOARD_ROLE: "MODELOPS_DASHBOARD_DB_PASSWORD"}

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/modelops"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# The broker's URL schemes besides Redis's: RabbitMQ, through kombu's py-amqp transport.
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    redis_url: str  # results, counters, caches, nonces; and the broker unless BROKER_URL names another
    broker_url: str
    result_backend_url: str
    artifact_dir: Path
    role_urls: dict[str, str]  # the runtime roles this process may log in as, and their URLs

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        home = Path(env.get("MODELOPS_HOME") or PROJECT_ROOT / ".modelops").resolve()
        database_url = normalise_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
        redis_url = env.get("REDIS_URL") or DEFAULT_REDIS_URL
        return cls(
            home=home,
            database_url=database_url,
            redis_url=redis_url,
            broker_url=env.get("BROKER_URL") or redis_url,
            result_backend_url=env.get("RESULT_BACKEND_URL") or redis_url,
            artifact_dir=Path(env.get("MODELOPS_ARTIFACT_DIR") or home / "artifacts").resolve(),
            role_urls=_role_urls(env, database_url),
        )


def _role_urls(env: Mapping[str, str], owner_url: str) -> dict[str, str]:
    named = {role: normalise_database_url(env[variable]) for role, variable in ROLE_URL_VARIABLES.items() if env.get(variable)}
    if named:
        return named
    return {role: role_url_from_owner_url(owner_url, role, env.get(ROLE_PASSWORD_VARIABLES[role])) for role in RUNTIME_ROLES}


def runtime_environment(env: Mapping[str, str], roles: Iterable[str]) -> dict[str, str]:
    """``env`` for a process that logs in as ``roles`` only: their URLs, and neither the owner's URL
    nor any role's password (a process of a front-facing pool cannot reach the operator's powers
    through its environment)."""
    urls = Settings.from_env(env).role_urls
    withheld = {"DATABASE_URL", *ROLE_URL_VARIABLES.values(), *ROLE_PASSWORD_VARIABLES.values()}
    runtime = {name: value for name, value in env.items() if name not in withheld}
    for role in roles:
        if role not in urls:
            raise ValueError(f"this environment gives no URL for the database role {role}")
        runtime[ROLE_URL_VARIABLES[role]] = urls[role]
    return runtime


def normalise_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and pin the psycopg 3 driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got {redact(url)}")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def role_url_from_owner_url(owner_url: str, role: str, password: str | None) -> str:
    """A runtime role's URL: the owner's host and database, the role's name and password."""
    parsed: URL = make_url(owner_url).set(username=role, password=password)
    return parsed.render_as_string(hide_password=False)


def app_url_from_owner_url(owner_url: str, password: str | None) -> str:
    """The application role's URL: the owner's host and database, the application role's name."""
    return role_url_from_owner_url(owner_url, APP_ROLE, password)


def redact(url: str) -> str:
    """A URL fit for a log line or an error: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparseable: show the scheme only, since we cannot tell where a password sits
        return url.partition("://")[0] + "://***"


def whole_number(name: str, default: int, unit: str) -> int:
    """A count or a period from the environment, at least 1 (0 or less would mean "delete what is
    current" to a retention, "stream every tenant" to training): anything else is refused, named."""
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name} must be a whole number of {unit}, at least 1; got {raw!r}")
    return value


def is_amqp(url: str) -> bool:
    """Whether ``url`` names a RabbitMQ broker (else Redis, the default)."""
    return url.partition("://")[0] in AMQP_SCHEMES


def settings() -> Settings:
    return Settings.from_env()
