"""Alembic environment: runs every migration as the database owner, in one transaction."""
from alembic import context
from sqlalchemy import create_engine, pool

from modelops.config import settings

config = context.config
url = config.attributes.get("database_url") or settings().database_url
engine = create_engine(url, poolclass=pool.NullPool)

with engine.connect() as connection:
    # The version table stays outside the `ai` schema so that downgrading to empty (which drops
    # the schema) leaves Alembic able to record where it stands.
    context.configure(connection=connection, version_table_schema="public", transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
