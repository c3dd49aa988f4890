"""Calling services' credentials on the command line: ``modelops service create|rotate|revoke``."""
from __future__ import annotations

import click

from cli.base import CommandError, main


@main.group()
def service() -> None:
    """Services that call modelops, and their credentials."""


def _print_issued(issued) -> None:
    click.echo(f"service:    {issued.name} (credential generation {issued.generation})")
    click.echo(f"credential: {issued.credential}")
    click.echo("Give the credential to the service's operators now: it is not stored and is not shown again "
               "(`modelops service rotate` issues a new one).", err=True)


@service.command("create")
@click.argument("name")
@click.option("--tenant", "tenant_ids", type=click.UUID, multiple=True, required=True,
              help="a tenant the service may act for (repeatable)")
def service_create(name: str, tenant_ids) -> None:
    """Register a service, make it a member of the tenants, and print its credential once."""
    from modelops.auth import services

    try:
        _print_issued(services.create(name, list(tenant_ids)))
    except services.ServiceError as error:
        raise CommandError(str(error)) from None


@service.command("rotate")
@click.argument("name")
def service_rotate(name: str) -> None:
    """Issue the service a new credential; the one it had stops working."""
    from modelops.auth import services

    try:
        _print_issued(services.rotate(name))
    except services.ServiceError as error:
        raise CommandError(str(error)) from None


@service.command("revoke")
@click.argument("name")
def service_revoke(name: str) -> None:
    """Refuse every call of the service from now on (workers notice within seconds)."""
    from modelops.auth import services

    try:
        services.revoke(name)
    except services.ServiceError as error:
        raise CommandError(str(error)) from None
    click.echo(f"revoked {name}")


@service.command("redis-acl")
@click.argument("name")
def service_redis_acl(name: str) -> None:
    """Print the Redis ACL command of a Redis user for the service, with a new password."""
    import secrets
    import shlex

    from modelops.auth.redis_acl import setuser_command

    click.echo(shlex.join(setuser_command(name, secrets.token_hex(24))))
    click.echo(f"Run it on the broker (redis-cli), then give the service redis://{name}:PASSWORD@HOST:PORT/DB; "
               f"its task ids must begin with '{name}-'.", err=True)
