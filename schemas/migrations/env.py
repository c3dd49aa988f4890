"""Alembic environment: runs every migration as the database owner, in one transaction. The owner's
URL is given by whoever runs the migrations (modelops.migrations), so the schema depends on nothing."""
from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("no database URL: run the migrations through modelops.migrations (modelops db upgrade)")
engine = create_engine(url, poolclass=pool.NullPool)

with engine.connect() as connection:
    # The version table stays outside the `ai` schema so that downgrading to empty (which drops
    # the schema) leaves Alembic able to record where it stands.
    context.configure(connection=connection, version_table_schema="public", transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
