"""Alerts, rollbacks and drift: training profiles, drift checks and the latest rollback check.

``ai.alerts``, ``ai.rollback_events`` and ``ai.investigation_tickets`` came with 0001; this adds
what deciding about them needs:

- ``training_profiles``: what a version's inputs and confidences looked like when it was trained
  (bins and shares per feature), the reference its live inputs are compared with for drift;
- ``drift_checks``: each drift check, with the population stability index of every feature;
- ``rollback_checks``: the latest rollback check of each version (figures, baseline, conditions),
  one row per version overwritten at every check, so an operator sees why a model was or was not
  rolled back without the checks (one a second) filling a table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEW_TABLES = ("training_profiles", "drift_checks", "rollback_checks")

UPGRADE = """
CREATE TABLE ai.training_profiles (
    model_version_id UUID PRIMARY KEY REFERENCES ai.model_versions(id) ON DELETE CASCADE,
    tenant_id UUID REFERENCES ai.tenants(id),
    agent_type VARCHAR(50) NOT NULL,
    rows_profiled INTEGER NOT NULL,
    profile JSONB NOT NULL,                  -- {"features": {name: bins}, "confidence": bins}
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX idx_training_profiles_tenant ON ai.training_profiles(tenant_id);

CREATE TABLE ai.drift_checks (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    model_version_id UUID NOT NULL REFERENCES ai.model_versions(id),
    tenant_id UUID REFERENCES ai.tenants(id),
    agent_type VARCHAR(50) NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    window_start TIMESTAMP NOT NULL,
    sample_size INTEGER NOT NULL,
    max_psi DOUBLE PRECISION,
    confidence_psi DOUBLE PRECISION,
    drifted BOOLEAN NOT NULL,
    features JSONB NOT NULL,                 -- {name: psi}
    reason TEXT NOT NULL,
    alert_id UUID REFERENCES ai.alerts(id),
    training_run_id UUID REFERENCES ai.training_runs(id)
);
CREATE INDEX idx_drift_checks_version ON ai.drift_checks(model_version_id, checked_at);
CREATE INDEX idx_drift_checks_tenant ON ai.drift_checks(tenant_id, checked_at);

CREATE TABLE ai.rollback_checks (
    model_version_id UUID PRIMARY KEY REFERENCES ai.model_versions(id),
    tenant_id UUID REFERENCES ai.tenants(id),
    agent_type VARCHAR(50) NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('healthy', 'rolled_back', 'no_previous_version', 'no_op')),
    figures JSONB NOT NULL,                  -- the window's sums and the baseline
    conditions JSONB NOT NULL                -- each condition: observed, threshold, p-value, breached, why
);
CREATE INDEX idx_rollback_checks_tenant ON ai.rollback_checks(tenant_id);

-- "was this version ever rolled back?": asked of every candidate for the previous stable version
CREATE INDEX idx_rollback_events_from_version ON ai.rollback_events(from_version_id);
-- the notification outbox: open alerts no notifier has taken yet
CREATE INDEX idx_alerts_unnotified ON ai.alerts(created_at) WHERE notified_at IS NULL AND status <> 'resolved';
"""


def _policies() -> str:
    statements = []
    for table in NEW_TABLES:
        statements += [
            f"ALTER TABLE ai.{table} ENABLE ROW LEVEL SECURITY;",
            f"CREATE POLICY tenant_rows ON ai.{table} TO modelops_app"
            f" USING (tenant_id = ai.current_tenant()) WITH CHECK (tenant_id = ai.current_tenant());",
            f"CREATE POLICY operator_rows ON ai.{table} TO modelops_operator USING (true) WITH CHECK (true);",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ai.{table} TO modelops_app, modelops_operator;",
        ]
    return "\n".join(statements)


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(_policies())


def downgrade() -> None:
    op.execute("DROP INDEX ai.idx_alerts_unnotified")
    op.execute("DROP INDEX ai.idx_rollback_events_from_version")
    op.execute("DROP TABLE ai.rollback_checks, ai.drift_checks, ai.training_profiles")
