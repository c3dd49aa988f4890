"""The command group every command hangs on, and the one way a command fails."""
from __future__ import annotations

import os
import uuid

import click
from sqlalchemy import text

from modelops import db, devstack
from modelops.config import ROLE_URL_VARIABLES, settings


class CommandError(click.ClickException):
    """A failure the user can act on: one line on stderr, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


def adopt_running_services() -> None:
    """Let every command find the servers `modelops up` started, when the environment names none."""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    running = devstack.running(settings().home)
    if running:
        # a process started with its roles' URLs (the demo's dashboard) keeps to them: no owner URL
        if not any(os.environ.get(variable) for variable in ROLE_URL_VARIABLES.values()):
            os.environ.setdefault("DATABASE_URL", running.database_url)
        os.environ.setdefault("REDIS_URL", running.redis_url)


def check_messaging() -> None:
    """Redis (results, counters) and the broker, when another, both answer; or one clear line."""
    found = settings()
    checked(devstack.check_redis, found.redis_url)
    if found.broker_url != found.redis_url:
        checked(devstack.check_broker, found.broker_url)


def checked(action, *args, **kwargs):
    """Run ``action``, turning an unreachable or misconfigured service into one clear line."""
    try:
        return action(*args, **kwargs)
    except devstack.ServiceError as error:
        raise CommandError(str(error)) from None


@click.group()
def main() -> None:
    """Train, version, A/B-test, monitor and roll back the models of six AI agents."""
    adopt_running_services()


def existing_tenant(tenant: str) -> uuid.UUID:
    """The tenant's id, once it is known to exist; CommandError otherwise."""
    try:
        tenant_id = uuid.UUID(tenant)
    except ValueError:
        raise CommandError(f"tenant {tenant!r} is not a tenant id (a UUID)") from None
    with db.operator_scope() as connection:
        if connection.execute(text("SELECT 1 FROM ai.tenants WHERE id = :id"), {"id": tenant_id}).first() is None:
            raise CommandError(f"unknown tenant {tenant_id}")
    return tenant_id
