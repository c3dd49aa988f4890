"""Schema migrations (Alembic), run as the database owner."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

import schemas

from modelops.config import settings

SCRIPT_LOCATION = Path(schemas.__file__).resolve().parent / "migrations"


def _config(database_url: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["database_url"] = database_url or settings().database_url
    return config


def ensure_database(database_url: str | None = None) -> None:
    """Create the database named in the URL when it does not exist yet."""
    url = make_url(database_url or settings().database_url)
    maintenance = create_engine(url.set(database="postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with maintenance.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    maintenance.dispose()


def upgrade(revision: str = "head", database_url: str | None = None) -> None:
    command.upgrade(_config(database_url), revision)


def downgrade(revision: str = "base", database_url: str | None = None) -> None:
    command.downgrade(_config(database_url), revision)


def current_revision(database_url: str | None = None) -> str | None:
    engine = create_engine(database_url or settings().database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection, opts={"version_table_schema": "public"}).get_current_revision()
    engine.dispose()
    return revision


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(None)).get_current_head()
