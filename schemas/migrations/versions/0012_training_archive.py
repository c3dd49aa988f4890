"""The archive of training data: which months of a tenant's rows live in Parquet files, and where.

Rows of ``ai.training_data`` older than ``MODELOPS_ARCHIVE_AFTER_MONTHS`` move to one Parquet file
per tenant, agent and month (modelops/archive/; a later part for rows of a month that arrive after it
was archived). A row here is the claim of one such file while it
is written (``writing``) and its record once its rows are deleted from Postgres (``archived``), in
the transaction that deletes them: a reader's snapshot sees a month either in Postgres or in the
archive, never both and never neither. ``expired`` files are past retention, their rows kept until
the file is gone. The sha256 and the signature (HMAC with a key derived from the deployment's
secret) let a reader refuse a file that is not the one written.

A tenant's training job reads its rows as the tenant: row-level security shows it only its own
months, and the application role may only read them. The maintenance pool (the operator) writes them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE ai.training_archive (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            tenant_id UUID NOT NULL REFERENCES ai.tenants(id),
            agent_type ai.agent_type NOT NULL,
            month DATE NOT NULL CHECK (extract(day FROM month) = 1),
            part INTEGER NOT NULL CHECK (part >= 0),  -- rows of a month that arrive after it was archived
            status TEXT NOT NULL CHECK (status IN ('writing', 'archived', 'expired')),
            path TEXT NOT NULL UNIQUE,
            row_count BIGINT,
            rows_digest TEXT,                -- of the rows' ids, in any order (modelops/archive/files.py)
            sha256 TEXT,
            signature TEXT,
            first_created_at TIMESTAMP,
            last_created_at TIMESTAMP,
            claimed_by TEXT NOT NULL,
            claimed_at TIMESTAMP NOT NULL,
            archived_at TIMESTAMP,
            CONSTRAINT uq_training_archive_part UNIQUE (tenant_id, agent_type, month, part)
        );
        ALTER TABLE ai.training_archive ENABLE ROW LEVEL SECURITY;
        CREATE POLICY tenant_rows ON ai.training_archive FOR SELECT TO modelops_app
            USING (tenant_id = ai.current_tenant());
        CREATE POLICY operator_rows ON ai.training_archive TO modelops_operator USING (true) WITH CHECK (true);
        CREATE POLICY dashboard_reads ON ai.training_archive FOR SELECT TO modelops_dashboard USING (true);
        REVOKE ALL ON ai.training_archive FROM modelops_app;
        GRANT SELECT ON ai.training_archive TO modelops_app, modelops_dashboard;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ai.training_archive TO modelops_operator;
    """)


def downgrade() -> None:
    op.execute("DROP TABLE ai.training_archive;")
