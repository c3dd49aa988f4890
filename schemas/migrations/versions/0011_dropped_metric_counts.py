"""Counts of unknown model versions, dropped by the metric fold, are recorded.

The live counters in Redis can name a version the registry does not hold: a version deleted, a
database restored from an older backup, a Redis shared with another deployment. The fold drops
such counts and goes on (modelops/monitoring/fold.py); the ledger row of the fold says how many
version-days it dropped, and ``ai.dropped_metric_counts`` adds up what each such version lost per
day, so that an operator can tell a stray counter from a lost model. Rows carry no tenant (the
version is unknown), so only the operator role sees them; it may add to them, never delete.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE ai.dropped_metric_counts (
            model_version_id UUID NOT NULL,  -- no reference: the registry does not hold it
            metric_date DATE NOT NULL,
            predictions BIGINT NOT NULL,
            labelled BIGINT NOT NULL,        -- net change of labelled predictions, as in ai.metric_folds
            folds INTEGER NOT NULL,          -- how many folds dropped counts of this version and day
            first_dropped_at TIMESTAMP NOT NULL,
            last_dropped_at TIMESTAMP NOT NULL,
            PRIMARY KEY (model_version_id, metric_date)
        );
        ALTER TABLE ai.dropped_metric_counts ENABLE ROW LEVEL SECURITY;
        CREATE POLICY operator_rows ON ai.dropped_metric_counts TO modelops_operator USING (true) WITH CHECK (true);
        GRANT SELECT, INSERT, UPDATE ON ai.dropped_metric_counts TO modelops_operator;
    """)


def downgrade() -> None:
    op.execute("DROP TABLE ai.dropped_metric_counts;")
