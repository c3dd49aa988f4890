"""Watching the system: `modelops dashboard`, `modelops token create | revoke`, `modelops flower`."""
from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import sys
import uuid
from pathlib import Path

import click
from sqlalchemy import text

from modelops import db, services
from modelops.cli.base import CommandError, checked, existing_tenant, main
from modelops.config import APP_ROLE, DASHBOARD_ROLE, runtime_environment, settings

DASHBOARD_PORT = 8050
FLOWER_PORT = 5555
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


def flower_environment(env: dict[str, str], address: str) -> dict[str, str]:
    """Flower's environment: MODELOPS_FLOWER_AUTH (user:password) becomes its basic auth, passed in
    the environment rather than on a command line that every user of the host can read. Flower on
    an address other hosts reach must have it."""
    auth = env.get("MODELOPS_FLOWER_AUTH", "")
    if auth and (":" not in auth or auth.startswith(":") or auth.endswith(":")):
        raise CommandError("MODELOPS_FLOWER_AUTH must be user:password")
    if not auth and not _loopback(address):
        raise CommandError(f"Flower on {address} is reachable from other hosts: set MODELOPS_FLOWER_AUTH=user:password first")
    flower_env = {key: value for key, value in env.items() if key != "FLOWER_BASIC_AUTH"}
    if auth:
        flower_env["FLOWER_BASIC_AUTH"] = auth
    return flower_env


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


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="the address to listen on (0.0.0.0: every interface)")
@click.option("--port", default=DASHBOARD_PORT, show_default=True, help="the port to listen on")
def dashboard(host: str, port: int) -> None:
    """Serve the monitoring dashboard (sign in with a token from `modelops token create`)."""
    import celeryconfig
    from modelops.dashboard.server import serve

    checked(services.check_postgres, db.role_url(DASHBOARD_ROLE))  # the dashboard never logs in as the owner
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        serve(host, port, tuple(celeryconfig.QUEUES),
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
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def token_create(role: str, tenant: str | None, holder: str | None, ttl: str, as_json: bool) -> None:
    """Print a new dashboard token (shown this once; only its hash is kept)."""
    checked(services.check_postgres, settings().database_url)
    created = create_token(role, tenant, holder, ttl)
    if as_json:
        click.echo(json.dumps(created))
        return
    if created["member_added"]:
        click.echo(f"# {created['principal']} added to tenant {created['tenant_id']} as a viewer", err=True)
    scope = f"tenant {created['tenant_id']}" if created["tenant_id"] else "every tenant"
    click.echo(f"# token {created['id']} for {created['principal']} ({scope}), expires {created['expires_at']} UTC", err=True)
    click.echo(created["token"])


@token.command("revoke")
@click.argument("token_id", type=click.UUID)
def token_revoke(token_id: uuid.UUID) -> None:
    """End a token and the sessions it started."""
    from modelops.dashboard import access

    checked(services.check_postgres, settings().database_url)
    with db.operator_scope() as connection:
        revoked = access.revoke_token(connection, token_id, access.wall_now())
    if not revoked:
        raise CommandError(f"no live token {token_id}")
    click.echo(f"revoked {token_id}")


@main.command()
@click.option("--address", default="127.0.0.1", show_default=True, help="the address to listen on")
@click.option("--port", default=FLOWER_PORT, show_default=True, help="the port to listen on")
def flower(address: str, port: int) -> None:
    """Start Flower, Celery's monitor, on this deployment's broker (basic auth from MODELOPS_FLOWER_AUTH)."""
    checked(services.check_redis, settings().redis_url)
    env = runtime_environment(flower_environment(dict(os.environ), address), ())  # Flower never reads the database
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", "flower", f"--address={address}", f"--port={port}"]
    os.execve(argv[0], argv, env)
