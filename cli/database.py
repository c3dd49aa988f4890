"""Schema migrations: `modelops db upgrade | downgrade | current`."""
from __future__ import annotations

import click

from modelops import devstack, migrations
from cli.base import checked, main
from modelops.config import redact, settings


@main.group()
def db() -> None:
    """Schema migrations."""


def _migrate(move, revision: str) -> None:
    url = settings().database_url
    checked(devstack.check_postgres, url)
    move(revision)
    click.echo(f"{redact(url)} at revision {migrations.current_revision()}")


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    _migrate(migrations.upgrade, revision)


@db.command("downgrade")
@click.argument("revision", default="base")
def db_downgrade(revision: str) -> None:
    _migrate(migrations.downgrade, revision)


@db.command("current")
def db_current() -> None:
    checked(devstack.check_postgres, settings().database_url)
    click.echo(migrations.current_revision() or "empty")
