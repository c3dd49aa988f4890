"""Watching the system: `modelops dashboard`, `modelops token create | revoke`, `modelops flower`."""
from __future__ import annotations

import json
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import click
from sqlalchemy import text

from modelops import db, devstack
from cli.base import CommandError, check_messaging, checked, existing_tenant, main
from cli.flower_auth import FlowerAuth, flower_auth
from modelops.config import APP_ROLE, DASHBOARD_ROLE, runtime_environment, settings
from modelops.dashboard import sign_in

DASHBOARD_PORT = 8050
FLOWER_PORT = 5555
DASHBOARD_URL = f"http://127.0.0.1:{DASHBOARD_PORT}"
SIGN_IN_LINK_LIFETIME = f"{sign_in.CODE_TTL // 60} minutes"
# Who a token is for when the command line names no one.
OPERATOR_HOLDER = "operator"
TENANT_HOLDER = "dashboard-viewer"


def dashboard_command(host: str, port: int) -> list[str]:
    """The command line that serves the dashboard, for a supervisor to start."""
    return [_modelops(), "dashboard", "--host", host, "--port", str(port)]


def dashboard_environment(env) -> dict[str, str]:
    """The dashboard's environment: the front-facing role (its tenant users' scopes) and its own
    read-only role (its operators' panels), no owner URL. Its panels compare tenants, so its
    operators read across them; a role of its own, rather than definer functions per panel, keeps
    every panel's query as it is while the role can write nothing but an alert's resolution and
    reaches tokens and sessions only through definer functions (modelops.dashboard.access)."""
    return runtime_environment(env, (APP_ROLE, DASHBOARD_ROLE))


def flower_command(address: str, port: int) -> list[str]:
    """The command line that starts Flower (`modelops flower`, which sets up its basic auth)."""
    return [_modelops(), "flower", "--address", address, "--port", str(port)]


def _modelops() -> str:
    """This installation's own `modelops` script, beside its interpreter."""
    return str(Path(sys.executable).parent / "modelops")


def flower_environment(env: dict[str, str], auth: FlowerAuth) -> dict[str, str]:
    """Flower's environment: its basic auth is passed there rather than on a command line that
    every user of the host can read."""
    return {**env, "FLOWER_BASIC_AUTH": auth.basic_auth}


def sign_in_link(dashboard_url: str, token: str) -> str:
    """A one-time link to the dashboard at ``dashboard_url`` that signs a browser in with ``token``
    once its user presses the button there (modelops.dashboard.sign_in)."""
    from modelops.dashboard import access

    code = sign_in.issue(access.digest(token), time.time())
    return f"{dashboard_url.rstrip('/')}/sign-in?{urlencode({'code': code})}"


def free_port(host: str, preferred: int) -> int:
    """``preferred`` when nothing listens there, else a port the system picks."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise CommandError(f"no free port on {host}")


def create_token(role: str, tenant: str | None, holder: str | None, ttl: str, created_by: str = "modelops token create") -> dict:
    """A token for the role (and tenant), its holder made a viewer of the tenant when not a member yet."""
    from modelops import tenants
    from modelops.dashboard import access

    try:
        lifetime = access.parse_ttl(ttl)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if role == "operator" and tenant:
        raise CommandError("an operator's token sees every tenant: drop --tenant, or use --role tenant")
    if role == "tenant" and not tenant:
        raise CommandError("a tenant's token needs --tenant ID")
    tenant_id = existing_tenant(tenant) if tenant else None
    holder = holder or (TENANT_HOLDER if tenant_id else OPERATOR_HOLDER)
    added = False
    if tenant_id and not _is_member(tenant_id, holder):
        tenants.add_member(tenant_id, holder, "viewer")
        added = True
    with db.operator_scope() as connection:
        created = access.create_token(connection, role=role, tenant_id=tenant_id, principal=holder,
                                      created_by=created_by, ttl=lifetime, now=access.wall_now())
    return {**created, "member_added": added}


def _is_member(tenant_id: uuid.UUID, principal: str) -> bool:
    with db.operator_scope() as connection:
        return connection.execute(text("SELECT 1 FROM ai.tenant_members WHERE tenant_id = :t AND principal = :p"),
                                  {"t": tenant_id, "p": principal}).first() is not None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="the address to listen on (0.0.0.0: every interface)")
@click.option("--port", default=DASHBOARD_PORT, show_default=True, help="the port to listen on")
def dashboard(host: str, port: int) -> None:
    """Serve the monitoring dashboard (sign in with a token or a one-time link from `modelops token create`)."""
    import celeryconfig
    from modelops.dashboard import logs
    from modelops.dashboard.server import serve, trusted_proxies

    checked(devstack.check_postgres, db.role_url(DASHBOARD_ROLE))  # the dashboard never logs in as the owner
    try:
        proxies = trusted_proxies(os.environ)
    except ValueError as error:
        raise CommandError(str(error)) from None
    logs.configure()
    try:
        serve(host, port, tuple(celeryconfig.QUEUES), proxies,
              ready=lambda: click.echo(f"dashboard on http://{host}:{port}/ (Ctrl-C stops it)"))
    except OSError as error:
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


@main.group()
def token() -> None:
    """Dashboard access tokens."""


@token.command("create")
@click.option("--role", type=click.Choice(["operator", "tenant"]), required=True,
              help="operator: every tenant; tenant: one tenant's figures only")
@click.option("--tenant", default=None, help="the tenant's id (with --role tenant)")
@click.option("--holder", default=None, help="who the token is for (a tenant's token: a member of the tenant, "
                                             f"added as a viewer if not one yet); default {TENANT_HOLDER} or {OPERATOR_HOLDER}")
@click.option("--ttl", default="12h", show_default=True, help="how long it works: 90m, 12h, 30d")
@click.option("--link", is_flag=False, flag_value=DASHBOARD_URL, default=None, metavar="[URL]",
              help=f"also print a one-time sign-in link to the dashboard at URL (default {DASHBOARD_URL})")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def token_create(role: str, tenant: str | None, holder: str | None, ttl: str, link: str | None, as_json: bool) -> None:
    """Print a new dashboard token (shown this once; only its hash is kept)."""
    checked(devstack.check_postgres, settings().database_url)
    created = create_token(role, tenant, holder, ttl)
    if link:
        created["sign_in_link"] = sign_in_link(link, created["token"])
    if as_json:
        click.echo(json.dumps(created))
        return
    if created["member_added"]:
        click.echo(f"# {created['principal']} added to tenant {created['tenant_id']} as a viewer", err=True)
    scope = f"tenant {created['tenant_id']}" if created["tenant_id"] else "every tenant"
    click.echo(f"# token {created['id']} for {created['principal']} ({scope}), expires {created['expires_at']} UTC", err=True)
    if link:
        click.echo(f"# sign-in link, for one browser, within {SIGN_IN_LINK_LIFETIME}: {created['sign_in_link']}", err=True)
    click.echo(created["token"])


@token.command("revoke")
@click.argument("token_id", type=click.UUID)
def token_revoke(token_id: uuid.UUID) -> None:
    """End a token and the sessions it started."""
    from modelops.dashboard import access

    checked(devstack.check_postgres, settings().database_url)
    with db.operator_scope() as connection:
        revoked = access.revoke_token(connection, token_id, access.wall_now())
    if not revoked:
        raise CommandError(f"no live token {token_id}")
    click.echo(f"revoked {token_id}")


@main.command()
@click.option("--address", default="127.0.0.1", show_default=True, help="the address to listen on")
@click.option("--port", default=FLOWER_PORT, show_default=True, help="the port to listen on")
def flower(address: str, port: int) -> None:
    """Start Flower, Celery's monitor, on this deployment's broker, behind basic auth
    (MODELOPS_FLOWER_AUTH=user:password, else a generated password kept in <home>/flower-auth)."""
    check_messaging()
    auth = flower_auth(os.environ, settings().home)
    if auth.generated:
        click.echo(f"flower: basic auth user {auth.user}, password {auth.password} "
                   f"(shown this once; kept in {auth.kept_in}, readable by you only)", err=True)
    elif auth.kept_in:
        click.echo(f"flower: basic auth as kept in {auth.kept_in}", err=True)
    env = runtime_environment(flower_environment(dict(os.environ), auth), ())  # Flower never reads the database
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", "flower", f"--address={address}", f"--port={port}"]
    os.execve(argv[0], argv, env)
