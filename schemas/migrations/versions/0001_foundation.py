"""Foundation: the spec's five tables, the tables they rely on, roles and row-level security.

The spec's tables keep every column, type and default it writes (columns beyond the spec are
added after them and say why). Row-level security is keyed on the per-transaction setting
``app.tenant_id``; the application logs in as ``modelops_app`` (no superuser, no BYPASSRLS) and
switches to ``modelops_operator`` (SET LOCAL ROLE) only for work that spans tenants.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
import os

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROLES = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'modelops_operator') THEN
        CREATE ROLE modelops_operator NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
    -- NOINHERIT: the operator's cross-tenant policies apply only after an explicit SET ROLE.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'modelops_app') THEN
        CREATE ROLE modelops_app LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;
"""
# modelops_app is not made a member of modelops_operator (it once was; 0010 revokes it where it is):
# roles are shared by every database of a cluster, so a membership granted here, while another
# database of the cluster is being migrated or served, would hand the front-facing role the
# operator's powers there.

SCHEMA = """
CREATE SCHEMA ai;
CREATE TYPE ai.agent_type AS ENUM ('classification', 'reconciliation', 'journal', 'compliance', 'insight', 'chat');

-- The tenant whose data this transaction may touch; NULL (no rows) when the session set none.
CREATE FUNCTION ai.current_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE TABLE ai.tenants (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name TEXT NOT NULL,
    country CHAR(2),                         -- ISO 3166-1 alpha-2, for data residency and aggregates
    region TEXT,                             -- e.g. EU, NA, APAC
    aggregate_opt_in BOOLEAN NOT NULL DEFAULT FALSE,
    opt_in_changed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Opt-in history, so an auditor can see who consented when.
CREATE TABLE ai.consent_events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES ai.tenants(id) ON DELETE CASCADE,
    aggregate_opt_in BOOLEAN NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_consent_events_tenant ON ai.consent_events(tenant_id, created_at);

-- Which user or service may act for which tenant, and as what.
CREATE TABLE ai.tenant_members (
    tenant_id UUID NOT NULL REFERENCES ai.tenants(id) ON DELETE CASCADE,
    principal TEXT NOT NULL,
    principal_kind TEXT NOT NULL CHECK (principal_kind IN ('user', 'service')),
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer', 'service')),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (tenant_id, principal)
);
CREATE INDEX idx_tenant_members_principal ON ai.tenant_members(principal);

CREATE TABLE ai.training_data (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES ai.tenants(id),
    agent_type ai.agent_type NOT NULL,
    input_data JSONB NOT NULL,
    expected_output JSONB,
    actual_output JSONB,
    was_correct BOOLEAN,
    user_feedback TEXT,
    confidence_score DECIMAL(3,2),
    feedback_timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    -- beyond the spec: the kind of feedback, the prediction it answers, exactly-once intake,
    -- and what the scrubber replaced (data-quality figures)
    source TEXT NOT NULL,
    prediction_id UUID,
    idempotency_key TEXT NOT NULL,
    scrub_hits JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT uq_training_data_idempotency UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX idx_training_data_tenant ON ai.training_data(tenant_id);
CREATE INDEX idx_training_data_agent_type ON ai.training_data(agent_type);
CREATE INDEX idx_training_data_created_at ON ai.training_data(created_at);
CREATE INDEX idx_training_data_was_correct ON ai.training_data(was_correct);
-- the training pipeline's "new rows of this tenant and agent since the last training"
CREATE INDEX idx_training_data_collect ON ai.training_data(tenant_id, agent_type, created_at);

CREATE TABLE ai.training_runs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_type VARCHAR(50) NOT NULL,
    tenant_id UUID REFERENCES ai.tenants(id),
    scope_key TEXT NOT NULL,
    run_key TEXT NOT NULL UNIQUE,            -- idempotency of the enqueue
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'skipped')),
    trigger TEXT NOT NULL,                   -- min_samples, max_age, manual, cold_start
    trigger_reason TEXT,
    requested_by TEXT NOT NULL,
    claimed_by TEXT,
    claimed_at TIMESTAMP,
    heartbeat_at TIMESTAMP,
    finished_at TIMESTAMP,
    model_version_id UUID,
    details JSONB NOT NULL DEFAULT '{}',
    error TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- at most one training job in flight per agent and scope
CREATE UNIQUE INDEX uq_training_runs_in_flight ON ai.training_runs(agent_type, scope_key)
    WHERE status IN ('queued', 'running');
CREATE INDEX idx_training_runs_tenant ON ai.training_runs(tenant_id, created_at);

-- Each scheduled trigger check and its reason, so an operator sees why training did (not) run.
CREATE TABLE ai.retrain_checks (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_type VARCHAR(50) NOT NULL,
    tenant_id UUID REFERENCES ai.tenants(id),
    scope_key TEXT NOT NULL,
    checked_at TIMESTAMP NOT NULL,
    new_samples INTEGER NOT NULL,
    last_trained_at TIMESTAMP,
    decision TEXT NOT NULL CHECK (decision IN ('train', 'wait', 'in_flight')),
    reason TEXT NOT NULL,
    training_run_id UUID REFERENCES ai.training_runs(id)
);
CREATE INDEX idx_retrain_checks_scope ON ai.retrain_checks(agent_type, scope_key, checked_at);

CREATE TABLE ai.model_versions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_type VARCHAR(50) NOT NULL,
    version VARCHAR(20) NOT NULL, -- v1.0, v1.1
    trained_on TIMESTAMP NOT NULL,
    training_samples INTEGER,
    validation_samples INTEGER,
    accuracy_score DECIMAL(5,4),
    precision_score DECIMAL(5,4),
    recall_score DECIMAL(5,4),
    f1_score DECIMAL(5,4),
    training_duration INTERVAL,
    is_active BOOLEAN DEFAULT FALSE,
    is_production BOOLEAN DEFAULT FALSE,
    rollback_version UUID REFERENCES ai.model_versions(id),
    model_artifact_path TEXT, -- Path to stored model file
    training_config JSONB, -- Training parameters used
    created_by UUID,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    -- beyond the spec: models are per tenant by default; global (synthetic) and regional
    -- (opted-in aggregate) models serve tenants without one of their own
    tenant_id UUID REFERENCES ai.tenants(id),
    scope TEXT NOT NULL DEFAULT 'tenant' CHECK (scope IN ('tenant', 'global', 'regional')),
    region TEXT,
    scope_key TEXT GENERATED ALWAYS AS (
        CASE scope WHEN 'tenant' THEN 'tenant:' || tenant_id::text
                   WHEN 'regional' THEN 'region:' || region
                   ELSE 'global' END) STORED,
    status TEXT NOT NULL DEFAULT 'candidate'
        CHECK (status IN ('candidate', 'testing', 'production', 'retired', 'rejected')),
    status_reason TEXT,
    artifact_sha256 CHAR(64),                -- checked before the artifact is unpickled
    artifact_size_bytes BIGINT,
    metrics_detail JSONB,                    -- averaging used, per-class figures, baseline
    training_run_id UUID REFERENCES ai.training_runs(id),
    CONSTRAINT ck_model_versions_tenant_scope CHECK ((scope = 'tenant') = (tenant_id IS NOT NULL)),
    CONSTRAINT ck_model_versions_region_scope CHECK ((scope = 'regional') = (region IS NOT NULL)),
    CONSTRAINT uq_model_versions_version UNIQUE (agent_type, scope_key, version),
    -- a redelivered training job records its version once
    CONSTRAINT uq_model_versions_training_run UNIQUE (training_run_id)
);
CREATE INDEX idx_model_versions_agent_type ON ai.model_versions(agent_type);
CREATE INDEX idx_model_versions_active ON ai.model_versions(is_active);
CREATE INDEX idx_model_versions_production ON ai.model_versions(is_production);
CREATE INDEX idx_model_versions_version ON ai.model_versions(version);
CREATE INDEX idx_model_versions_tenant ON ai.model_versions(tenant_id);
-- at most one production model per agent and tenant (or global / regional scope)
CREATE UNIQUE INDEX uq_model_versions_one_production ON ai.model_versions(agent_type, scope_key)
    WHERE is_production;
ALTER TABLE ai.training_runs ADD CONSTRAINT fk_training_runs_model_version
    FOREIGN KEY (model_version_id) REFERENCES ai.model_versions(id);

-- Which version served which agent and scope, from when to when, and why.
CREATE TABLE ai.production_history (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_type VARCHAR(50) NOT NULL,
    tenant_id UUID REFERENCES ai.tenants(id),
    scope_key TEXT NOT NULL,
    model_version_id UUID NOT NULL REFERENCES ai.model_versions(id),
    event TEXT NOT NULL CHECK (event IN ('first_model', 'promotion', 'rollback', 'manual')),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    ended_reason TEXT
);
CREATE UNIQUE INDEX uq_production_history_open ON ai.production_history(agent_type, scope_key)
    WHERE ended_at IS NULL;
CREATE INDEX idx_production_history_version ON ai.production_history(model_version_id);

CREATE TABLE ai.model_metrics (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    model_version_id UUID NOT NULL REFERENCES ai.model_versions(id),
    metric_date DATE NOT NULL,
    total_predictions INTEGER DEFAULT 0,
    correct_predictions INTEGER DEFAULT 0,
    accuracy DECIMAL(5,4),
    precision DECIMAL(5,4),
    recall DECIMAL(5,4),
    f1_score DECIMAL(5,4),
    avg_confidence DECIMAL(3,2),
    user_overrides INTEGER DEFAULT 0,
    avg_response_time_ms DECIMAL(8,2),
    peak_memory_usage_mb INTEGER,
    cpu_utilization_percent DECIMAL(5,2),
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    -- beyond the spec: the version's tenant (row-level security; NULL for global models, which
    -- only operators see) and the additive sums the averages are derived from, so that folding
    -- counters is a plain addition
    tenant_id UUID REFERENCES ai.tenants(id),
    labelled_predictions INTEGER NOT NULL DEFAULT 0,
    confidence_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    response_time_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_model_metrics_version_date UNIQUE (model_version_id, metric_date)
);
CREATE INDEX idx_model_metrics_version_date ON ai.model_metrics(model_version_id, metric_date);
CREATE INDEX idx_model_metrics_tenant ON ai.model_metrics(tenant_id);

CREATE TABLE ai.daily_performance (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_type VARCHAR(50) NOT NULL,
    model_version VARCHAR(20) NOT NULL,
    date DATE NOT NULL,
    accuracy_trend DECIMAL(5,4),
    confidence_stability DECIMAL(5,4),
    user_satisfaction_score DECIMAL(3,2),
    prediction_volume INTEGER,
    error_rate DECIMAL(5,4),
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    -- beyond the spec: which version exactly (version strings repeat across tenants) and whose
    model_version_id UUID NOT NULL REFERENCES ai.model_versions(id),
    tenant_id UUID REFERENCES ai.tenants(id),
    CONSTRAINT uq_daily_performance_version_date UNIQUE (model_version_id, date)
);
CREATE INDEX idx_daily_performance_date ON ai.daily_performance(date);
CREATE INDEX idx_daily_performance_agent ON ai.daily_performance(agent_type);

-- The audit log: partitioned by month so that five years stay fast and retention drops whole
-- partitions. The primary key must hold the partition key, hence (id, prediction_timestamp).
CREATE TABLE ai.prediction_log (
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    model_version_id UUID NOT NULL REFERENCES ai.model_versions(id),
    agent_type VARCHAR(50) NOT NULL,
    tenant_id UUID NOT NULL,
    input_data JSONB NOT NULL,
    predicted_output JSONB,
    actual_output JSONB,
    confidence_score DECIMAL(3,2),
    was_correct BOOLEAN,
    user_feedback TEXT,
    user_override BOOLEAN DEFAULT FALSE,
    override_reason TEXT,
    prediction_timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    prediction_duration_ms DECIMAL(8,2),
    is_reproducible BOOLEAN DEFAULT TRUE,
    -- beyond the spec: the experiment arm that served it, the sticky key, why it might not be
    -- reproducible, and when its feedback arrived
    ab_test_id UUID,
    ab_group TEXT CHECK (ab_group IN ('control', 'treatment')),
    request_key TEXT,
    reproducibility_note TEXT,
    feedback_at TIMESTAMP,
    PRIMARY KEY (id, prediction_timestamp)
) PARTITION BY RANGE (prediction_timestamp);
CREATE INDEX idx_prediction_log_tenant ON ai.prediction_log(tenant_id);
CREATE INDEX idx_prediction_log_model ON ai.prediction_log(model_version_id);
CREATE INDEX idx_prediction_log_timestamp ON ai.prediction_log(prediction_timestamp);
CREATE INDEX idx_prediction_log_agent ON ai.prediction_log(agent_type);
CREATE INDEX idx_prediction_log_ab_test ON ai.prediction_log(ab_test_id) WHERE ab_test_id IS NOT NULL;

CREATE TABLE ai.ab_tests (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_type VARCHAR(50) NOT NULL,
    tenant_id UUID REFERENCES ai.tenants(id),
    scope_key TEXT NOT NULL,
    control_version_id UUID NOT NULL REFERENCES ai.model_versions(id),
    treatment_version_id UUID NOT NULL REFERENCES ai.model_versions(id),
    allocation DECIMAL(4,3) NOT NULL DEFAULT 0.1 CHECK (allocation > 0 AND allocation < 1),
    status TEXT NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'promoted', 'rejected', 'stopped', 'cancelled')),
    config JSONB NOT NULL,                   -- the AB_TEST_CONFIG in force, with the planned sample size
    started_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ended_at TIMESTAMP,
    end_reason TEXT,
    created_by TEXT NOT NULL
);
-- one running test per agent and scope
CREATE UNIQUE INDEX uq_ab_tests_one_running ON ai.ab_tests(agent_type, scope_key) WHERE status = 'running';
CREATE INDEX idx_ab_tests_tenant ON ai.ab_tests(tenant_id);

CREATE TABLE ai.ab_test_decisions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    ab_test_id UUID NOT NULL REFERENCES ai.ab_tests(id),
    tenant_id UUID REFERENCES ai.tenants(id),
    evaluated_at TIMESTAMP NOT NULL,
    look_number INTEGER NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('promote', 'reject', 'continue_testing', 'stop_srm')),
    reason TEXT NOT NULL,
    control_samples INTEGER NOT NULL,
    control_correct INTEGER NOT NULL,
    treatment_samples INTEGER NOT NULL,
    treatment_correct INTEGER NOT NULL,
    control_accuracy DECIMAL(5,4),
    treatment_accuracy DECIMAL(5,4),
    p_value DOUBLE PRECISION,
    z_statistic DOUBLE PRECISION,
    alpha_spent DOUBLE PRECISION,
    required_sample_size INTEGER,
    srm_p_value DOUBLE PRECISION,
    details JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT uq_ab_test_decisions_look UNIQUE (ab_test_id, look_number)
);

CREATE TABLE ai.alerts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    alert_type TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'acknowledged', 'resolved')),
    audience TEXT NOT NULL DEFAULT 'ml' CHECK (audience IN ('ml', 'operations')),
    tenant_id UUID REFERENCES ai.tenants(id),
    agent_type VARCHAR(50),
    model_version_id UUID REFERENCES ai.model_versions(id),
    message TEXT NOT NULL,
    details JSONB NOT NULL DEFAULT '{}',
    dedup_key TEXT NOT NULL,
    occurrences INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_seen_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    notified_at TIMESTAMP,
    resolved_at TIMESTAMP,
    resolved_by TEXT,
    resolution_note TEXT
);
-- deduplicated while one of the same kind is open
CREATE UNIQUE INDEX uq_alerts_open_dedup ON ai.alerts(dedup_key) WHERE status <> 'resolved';
CREATE INDEX idx_alerts_status ON ai.alerts(status, created_at);
CREATE INDEX idx_alerts_tenant ON ai.alerts(tenant_id);

CREATE TABLE ai.rollback_events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_type VARCHAR(50) NOT NULL,
    tenant_id UUID REFERENCES ai.tenants(id),
    scope_key TEXT NOT NULL,
    from_version_id UUID NOT NULL REFERENCES ai.model_versions(id),
    to_version_id UUID REFERENCES ai.model_versions(id),
    outcome TEXT NOT NULL CHECK (outcome IN ('rolled_back', 'no_previous_version')),
    triggers JSONB NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_rollback_events_tenant ON ai.rollback_events(tenant_id, created_at);

CREATE TABLE ai.investigation_tickets (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID REFERENCES ai.tenants(id),
    model_version_id UUID NOT NULL REFERENCES ai.model_versions(id),
    rollback_event_id UUID REFERENCES ai.rollback_events(id),
    title TEXT NOT NULL,
    details JSONB NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'investigating', 'closed')),
    assignee TEXT,
    resolution TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    closed_at TIMESTAMP
);
CREATE INDEX idx_investigation_tickets_tenant ON ai.investigation_tickets(tenant_id, status);

-- Events refused at intake, scrubbed, for operators; never retried.
CREATE TABLE ai.rejected_events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID REFERENCES ai.tenants(id),
    task_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload JSONB,
    idempotency_key TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_rejected_events_tenant ON ai.rejected_events(tenant_id, created_at);

-- Every refused attempt to act for a tenant (and who tried).
CREATE TABLE ai.access_audit (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    principal TEXT NOT NULL,
    tenant_id UUID,
    action TEXT NOT NULL,
    allowed BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_access_audit_created ON ai.access_audit(created_at);
"""

# Month partitions are made by these owner-run functions (search_path is pg_catalog alone so that
# every name they print is schema-qualified), so that the application role needs no
# CREATE privilege; each new partition is closed to the application roles, who read and write it
# only through the parent, where row-level security applies.
PARTITION_FUNCTIONS = """
CREATE FUNCTION ai.ensure_month_partition(parent regclass, month date) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
    AS $$
DECLARE
    first_day date := date_trunc('month', month)::date;
    child text := format('%s_y%sm%s', parent::text, to_char(first_day, 'YYYY'), to_char(first_day, 'MM'));
BEGIN
    IF to_regclass(child) IS NULL THEN
        EXECUTE format('CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                       child, parent, first_day, (first_day + interval '1 month')::date);
        EXECUTE format('REVOKE ALL ON %s FROM modelops_app, modelops_operator', child);
    END IF;
    RETURN child;
END
$$;

CREATE FUNCTION ai.drop_month_partitions_before(parent regclass, cutoff date) RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
    AS $$
DECLARE
    part record;
BEGIN
    FOR part IN
        SELECT c.oid::regclass::text AS name,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamp AS upper_bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent
    LOOP
        IF part.upper_bound <= cutoff THEN
            EXECUTE format('DROP TABLE %s', part.name);
            RETURN NEXT part.name;
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION ai.ensure_month_partition(regclass, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION ai.drop_month_partitions_before(regclass, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ai.ensure_month_partition(regclass, date) TO modelops_app, modelops_operator;
GRANT EXECUTE ON FUNCTION ai.drop_month_partitions_before(regclass, date) TO modelops_operator;
"""

# Tables whose rows belong to one tenant: the tenant sees and writes its own rows, the operator all.
TENANT_TABLES = (
    "consent_events", "tenant_members", "training_data", "training_runs", "retrain_checks",
    "production_history", "model_metrics", "daily_performance", "prediction_log", "ab_tests",
    "ab_test_decisions", "alerts", "rollback_events", "investigation_tickets", "rejected_events",
)

# Append-only for the application: audit records are never deleted by it (retention drops partitions).
NO_DELETE_TABLES = ("prediction_log", "access_audit", "consent_events", "rejected_events", "production_history")


def _policies() -> str:
    statements = []
    for table in TENANT_TABLES:
        statements += [
            f"ALTER TABLE ai.{table} ENABLE ROW LEVEL SECURITY;",
            f"CREATE POLICY tenant_rows ON ai.{table} TO modelops_app"
            f" USING (tenant_id = ai.current_tenant()) WITH CHECK (tenant_id = ai.current_tenant());",
        ]
    statements += [
        # a tenant sees its own row of the tenants table only
        "ALTER TABLE ai.tenants ENABLE ROW LEVEL SECURITY;",
        "CREATE POLICY tenant_rows ON ai.tenants TO modelops_app"
        " USING (id = ai.current_tenant()) WITH CHECK (id = ai.current_tenant());",
        # a tenant reads the global and regional models that serve it, writes only its own
        "ALTER TABLE ai.model_versions ENABLE ROW LEVEL SECURITY;",
        "CREATE POLICY tenant_reads ON ai.model_versions FOR SELECT TO modelops_app"
        " USING (tenant_id = ai.current_tenant() OR tenant_id IS NULL);",
        "CREATE POLICY tenant_inserts ON ai.model_versions FOR INSERT TO modelops_app"
        " WITH CHECK (tenant_id = ai.current_tenant());",
        "CREATE POLICY tenant_updates ON ai.model_versions FOR UPDATE TO modelops_app"
        " USING (tenant_id = ai.current_tenant()) WITH CHECK (tenant_id = ai.current_tenant());",
        "CREATE POLICY tenant_deletes ON ai.model_versions FOR DELETE TO modelops_app"
        " USING (tenant_id = ai.current_tenant());",
        # refusals are recorded from any scope but read by operators only
        "ALTER TABLE ai.access_audit ENABLE ROW LEVEL SECURITY;",
        "CREATE POLICY record_refusals ON ai.access_audit FOR INSERT TO modelops_app WITH CHECK (true);",
    ]
    for table in TENANT_TABLES + ("tenants", "model_versions", "access_audit"):
        statements.append(f"CREATE POLICY operator_rows ON ai.{table} TO modelops_operator USING (true) WITH CHECK (true);")
    return "\n".join(statements)


def _grants() -> str:
    statements = [
        "GRANT USAGE ON SCHEMA ai TO modelops_app, modelops_operator;",
        "GRANT USAGE ON TYPE ai.agent_type TO modelops_app, modelops_operator;",
        "GRANT EXECUTE ON FUNCTION ai.current_tenant() TO modelops_app, modelops_operator;",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ai TO modelops_app, modelops_operator;",
    ]
    statements += [f"REVOKE DELETE ON ai.{table} FROM modelops_app, modelops_operator;" for table in NO_DELETE_TABLES]
    return "\n".join(statements)


def upgrade() -> None:
    op.execute(ROLES)
    password = os.environ.get("MODELOPS_APP_DB_PASSWORD")
    if password:
        escaped = password.replace("'", "''")
        op.execute(f"ALTER ROLE modelops_app PASSWORD '{escaped}'")
    op.execute(SCHEMA)
    op.execute(PARTITION_FUNCTIONS)
    op.execute(_policies())
    op.execute(_grants())
    # the months around today; the maintenance task keeps creating them ahead by the clock
    op.execute(
        "SELECT ai.ensure_month_partition('ai.prediction_log', (date_trunc('month', now()) + n * interval '1 month')::date)"
        " FROM generate_series(-1, 3) AS n"
    )


def downgrade() -> None:
    # The roles are shared by every database of the cluster (a test database, say), so they stay.
    op.execute("DROP SCHEMA ai CASCADE")
