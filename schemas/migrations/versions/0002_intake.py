"""Feedback intake: signals beside the label, and the opt-in aggregate datasets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
-- {"rating": 1-5, "engagement": accepted|edited|ignored|dismissed, "seconds_to_resolution": n}
ALTER TABLE ai.training_data ADD COLUMN signal JSONB;

-- A country's or region's pooled training rows, built only from tenants that opted in. The rows
-- carry no tenant: they cannot be traced back, and only operators (and the regional training
-- they run) can read them.
CREATE TABLE ai.aggregate_snapshots (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    level TEXT NOT NULL CHECK (level IN ('country', 'region')),
    area TEXT NOT NULL,
    agent_type ai.agent_type NOT NULL,
    built_at TIMESTAMP NOT NULL,
    tenant_count INTEGER NOT NULL,
    row_count INTEGER NOT NULL,
    CONSTRAINT uq_aggregate_snapshots_area UNIQUE (level, area, agent_type)
);
CREATE TABLE ai.aggregate_training_data (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    snapshot_id UUID NOT NULL REFERENCES ai.aggregate_snapshots(id) ON DELETE CASCADE,
    agent_type ai.agent_type NOT NULL,
    source TEXT NOT NULL,
    input_data JSONB NOT NULL,
    expected_output JSONB,
    was_correct BOOLEAN
);
CREATE INDEX idx_aggregate_training_data_snapshot ON ai.aggregate_training_data(snapshot_id);

ALTER TABLE ai.aggregate_snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai.aggregate_training_data ENABLE ROW LEVEL SECURITY;
CREATE POLICY operator_rows ON ai.aggregate_snapshots TO modelops_operator USING (true) WITH CHECK (true);
CREATE POLICY operator_rows ON ai.aggregate_training_data TO modelops_operator USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON ai.aggregate_snapshots, ai.aggregate_training_data TO modelops_operator;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE ai.aggregate_training_data, ai.aggregate_snapshots")
    op.execute("ALTER TABLE ai.training_data DROP COLUMN signal")
