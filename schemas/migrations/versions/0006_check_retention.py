"""Check histories are deleted by age: an index on when each check was made.

``ai.retrain_checks`` gains a row per tenant and agent each day, ``ai.drift_checks`` one per
production version each hour; the daily maintenance task deletes those older than
``MODELOPS_CHECK_RETENTION_DAYS``. Their other indexes lead with the scope or the version, so
without these the deletion would read the whole table every day.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX idx_retrain_checks_checked_at ON ai.retrain_checks(checked_at)")
    op.execute("CREATE INDEX idx_drift_checks_checked_at ON ai.drift_checks(checked_at)")


def downgrade() -> None:
    op.execute("DROP INDEX ai.idx_drift_checks_checked_at, ai.idx_retrain_checks_checked_at")
