"""Least-privilege roles: the front-facing role can no longer become the operator.

Until now ``modelops_app`` was a member of ``modelops_operator``, so any session of a serving,
intake or dashboard process could ``SET ROLE modelops_operator`` and read every tenant's rows and
the dashboard's token hashes. Now:

- ``modelops_app`` (serving, ingest, scrubbing, the dashboard's tenant users) is no member of the
  operator role. What it needs across tenants goes through the definer functions below, each
  owned by the schema's owner, with its search_path pinned and EXECUTE granted to it alone.
- ``modelops_system`` logs in for the pools that work across tenants by design (training,
  experiments, monitoring, maintenance, beat) and the command line: it is the operator role's
  member, switching to it per transaction as before.
- ``modelops_dashboard`` serves the dashboard's operators: it reads every tenant's rows (its panels
  compare tenants), may record an alert's resolution and nothing else, and reaches tokens and
  sessions only through definer functions, so it never reads a token hash.

Passwords come from MODELOPS_SYSTEM_DB_PASSWORD and MODELOPS_DASHBOARD_DB_PASSWORD when set, as
0001 does for the application role. Roles are shared by every database of the cluster, so they are
made only when missing and kept on downgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""
import os

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ROLES = """
DO $$
BEGIN
    -- NOINHERIT: the operator's cross-tenant policies apply only after an explicit SET ROLE.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'modelops_system') THEN
        CREATE ROLE modelops_system LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'modelops_dashboard') THEN
        CREATE ROLE modelops_dashboard LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;
GRANT modelops_operator TO modelops_system;
REVOKE modelops_operator FROM modelops_app;
"""

PASSWORDS = {"modelops_system": "MODELOPS_SYSTEM_DB_PASSWORD", "modelops_dashboard": "MODELOPS_DASHBOARD_DB_PASSWORD"}

# Every definer function names its tables with their schema and runs with pg_catalog (then pg_temp)
# as its search path, so a caller's objects can never stand in for ours.
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, pg_temp"

FRONT_FUNCTIONS = f"""
-- Serving: one signature per (agent, tenant) of the rows the isolation policy reads (the tenant's
-- own production pointer, its region and opt-in, the shared pointers, the running tests), so that
-- only the keys whose signature changed are resolved again (modelops/serving/route_refresh.py).
CREATE FUNCTION ai.route_signatures(agents text[], tenants uuid[])
    RETURNS TABLE (agent_type text, tenant_id uuid, signature text)
    LANGUAGE sql STABLE {DEFINER}
    AS $$
    WITH keys AS (
        SELECT k.agent_type, k.tenant_id, 'tenant:' || k.tenant_id AS scope_key
        FROM unnest(agents, tenants) AS k(agent_type, tenant_id)
    )
    SELECT keys.agent_type, keys.tenant_id, concat_ws('|',
        coalesce((SELECT v.id::text FROM ai.model_versions v
                  WHERE v.is_production AND v.agent_type = keys.agent_type AND v.scope_key = keys.scope_key), '-'),
        coalesce((SELECT coalesce(t.region, '') || ':' || t.aggregate_opt_in FROM ai.tenants t WHERE t.id = keys.tenant_id), '-'),
        coalesce((SELECT string_agg(v.id::text, ',' ORDER BY v.id) FROM ai.model_versions v
                  WHERE v.is_production AND v.agent_type = keys.agent_type AND v.tenant_id IS NULL), '-'),
        coalesce((SELECT string_agg(concat_ws(':', a.id, a.control_version_id, a.treatment_version_id, a.allocation), ',' ORDER BY a.id)
                  FROM ai.ab_tests a
                  WHERE a.status = 'running' AND a.agent_type = keys.agent_type
                    AND (a.scope_key = keys.scope_key OR a.tenant_id IS NULL)), '-'))
    FROM keys
    $$;

-- Serving: the running tests whose control is one of these versions (a shared model's test has no
-- tenant, so a tenant's scope does not show it); the treatment's row is read in the tenant's scope.
CREATE FUNCTION ai.running_tests(controls uuid[])
    RETURNS TABLE (test_id uuid, control_version_id uuid, allocation numeric, treatment_version_id uuid)
    LANGUAGE sql STABLE {DEFINER}
    AS $$
    SELECT a.id, a.control_version_id, a.allocation, a.treatment_version_id
    FROM ai.ab_tests a
    WHERE a.status = 'running' AND a.control_version_id = ANY(controls)
    $$;

-- Scrubbing: each named tenant's country (national formats differ); a tenant not returned does not exist.
CREATE FUNCTION ai.tenant_countries(ids uuid[])
    RETURNS TABLE (tenant_id uuid, country text)
    LANGUAGE sql STABLE {DEFINER}
    AS $$
    SELECT t.id, t.country::text FROM ai.tenants t WHERE t.id = ANY(ids)
    $$;

-- Intake: refused events, kept for operators. An event may name no tenant or one that does not
-- exist: it is then kept without one. Returns how many were kept.
CREATE FUNCTION ai.record_rejected_events(events jsonb)
    RETURNS integer
    LANGUAGE sql {DEFINER}
    AS $$
    WITH kept AS (
        INSERT INTO ai.rejected_events (tenant_id, task_name, reason, payload, idempotency_key)
        SELECT t.id, e.task, e.reason, e.payload, e.key
        FROM jsonb_to_recordset(events) AS e(tenant uuid, task text, reason text, payload jsonb, key text)
        LEFT JOIN ai.tenants t ON t.id = e.tenant
        RETURNING 1
    )
    SELECT count(*)::integer FROM kept
    $$;
"""

DASHBOARD_FUNCTIONS = f"""
-- The principal of a live token (not revoked, not expired, and for a tenant's token held by a
-- member of its tenant); nothing for any other digest. The hash itself never leaves.
CREATE FUNCTION ai.dashboard_token_principal(token_digest text, as_of timestamp)
    RETURNS TABLE (id uuid, role text, principal text, tenant_id uuid)
    LANGUAGE sql STABLE {DEFINER}
    AS $$
    SELECT t.id, t.role, t.principal, t.tenant_id FROM ai.dashboard_tokens t
    WHERE t.token_sha256 = token_digest AND t.revoked_at IS NULL AND t.expires_at > as_of
      AND (t.role = 'operator' OR EXISTS (SELECT 1 FROM ai.tenant_members m
                                          WHERE m.tenant_id = t.tenant_id AND m.principal = t.principal))
    $$;

CREATE FUNCTION ai.dashboard_session_principal(session_digest text, as_of timestamp)
    RETURNS TABLE (id uuid, role text, principal text, tenant_id uuid)
    LANGUAGE sql STABLE {DEFINER}
    AS $$
    SELECT p.id, p.role, p.principal, p.tenant_id
    FROM ai.dashboard_sessions s JOIN ai.dashboard_tokens t ON t.id = s.token_id
    CROSS JOIN LATERAL ai.dashboard_token_principal(t.token_sha256, as_of) AS p
    WHERE s.session_sha256 = session_digest AND s.expires_at > as_of
    $$;

-- A session for a token that was just shown, ending no later than the token; ended sessions go.
CREATE FUNCTION ai.open_dashboard_session(session_digest text, token uuid, as_of timestamp, session_end timestamp)
    RETURNS void
    LANGUAGE sql {DEFINER}
    AS $$
    INSERT INTO ai.dashboard_sessions (session_sha256, token_id, created_at, expires_at)
    SELECT session_digest, t.id, as_of, least(t.expires_at, session_end) FROM ai.dashboard_tokens t WHERE t.id = token;
    DELETE FROM ai.dashboard_sessions WHERE expires_at <= as_of;
    $$;

CREATE FUNCTION ai.close_dashboard_session(session_digest text)
    RETURNS void
    LANGUAGE sql {DEFINER}
    AS $$
    DELETE FROM ai.dashboard_sessions WHERE session_sha256 = session_digest;
    $$;
"""

FUNCTION_GRANTS = {
    "modelops_app": ("ai.route_signatures(text[], uuid[])", "ai.running_tests(uuid[])", "ai.tenant_countries(uuid[])",
                     "ai.record_rejected_events(jsonb)"),
    "modelops_dashboard": ("ai.dashboard_token_principal(text, timestamp)", "ai.dashboard_session_principal(text, timestamp)",
                           "ai.open_dashboard_session(text, uuid, timestamp, timestamp)", "ai.close_dashboard_session(text)"),
}

# The dashboard's role reads every table but the credentials, across tenants; of the partitions of
# the audit log it reads only through their parent, where row-level security applies.
DASHBOARD_READS = """
GRANT USAGE ON SCHEMA ai TO modelops_dashboard;
GRANT USAGE ON TYPE ai.agent_type TO modelops_dashboard;
GRANT EXECUTE ON FUNCTION ai.current_tenant() TO modelops_dashboard;
DO $$
DECLARE
    tab record;
BEGIN
    FOR tab IN
        SELECT c.relname, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'ai' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND c.relname NOT IN ('dashboard_tokens', 'dashboard_sessions')
    LOOP
        EXECUTE format('GRANT SELECT ON ai.%I TO modelops_dashboard', tab.relname);
        IF tab.relrowsecurity THEN
            EXECUTE format('CREATE POLICY dashboard_reads ON ai.%I FOR SELECT TO modelops_dashboard USING (true)', tab.relname);
        END IF;
    END LOOP;
END
$$;
-- an operator resolves an alert from the dashboard: those columns only
GRANT UPDATE (status, resolved_at, resolved_by, resolution_note) ON ai.alerts TO modelops_dashboard;
CREATE POLICY dashboard_resolves ON ai.alerts FOR UPDATE TO modelops_dashboard USING (true) WITH CHECK (true);
"""


def upgrade() -> None:
    op.execute(ROLES)
    for role, variable in PASSWORDS.items():
        if password := os.environ.get(variable):
            escaped = password.replace("'", "''")
            op.execute(f"ALTER ROLE {role} PASSWORD '{escaped}'")
    op.execute(FRONT_FUNCTIONS)
    op.execute(DASHBOARD_FUNCTIONS)
    for role, functions in FUNCTION_GRANTS.items():
        for function in functions:
            op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC; GRANT EXECUTE ON FUNCTION {function} TO {role};")
    op.execute(DASHBOARD_READS)


def downgrade() -> None:
    op.execute("""
        DROP POLICY dashboard_resolves ON ai.alerts;
        DO $$
        DECLARE
            pol record;
        BEGIN
            FOR pol IN SELECT tablename FROM pg_policies WHERE schemaname = 'ai' AND policyname = 'dashboard_reads' LOOP
                EXECUTE format('DROP POLICY dashboard_reads ON ai.%I', pol.tablename);
            END LOOP;
        END
        $$;
        REVOKE ALL ON ALL TABLES IN SCHEMA ai FROM modelops_dashboard;
        REVOKE ALL ON SCHEMA ai FROM modelops_dashboard;
        REVOKE ALL ON TYPE ai.agent_type FROM modelops_dashboard;
        REVOKE ALL ON FUNCTION ai.current_tenant() FROM modelops_dashboard;
    """)
    for functions in FUNCTION_GRANTS.values():
        for function in functions:
            op.execute(f"DROP FUNCTION {function}")
    # Role memberships are left as they are: roles belong to the whole cluster, and a downgrade of
    # one database must not change what the roles may do in the others (a test database, staging).
    # Code older than this revision expects modelops_app to be a member of modelops_operator: an
    # operator who runs it grants that by hand, knowing it holds for every database of the cluster.
