"""Calling services, whose credentials the workers check on every message.

A service's credential is a key derived from the deployment's secret key (never stored here), its
name and its generation: rotating a credential bumps the generation, revoking it sets
``revoked_at``. The table holds nothing secret, so the runtime roles may read it; only the
operator writes it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE ai.services (
    name TEXT PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    generation INTEGER NOT NULL DEFAULT 1 CHECK (generation > 0),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    rotated_at TIMESTAMP,
    revoked_at TIMESTAMP
);
GRANT SELECT ON ai.services TO modelops_app;
GRANT SELECT, INSERT, UPDATE ON ai.services TO modelops_operator;
"""

DOWNGRADE = """
DROP TABLE ai.services;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
