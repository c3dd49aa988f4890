"""A batch's audit rows go from the staging table into the log by one call, tenant after tenant.

``auditlog.write`` copies a batch's rows into a temporary table of its connection, then inserts
each tenant's rows into ``ai.prediction_log`` after switching the transaction to that tenant, so
that row-level security checks every row against its own tenant. It sent those two statements per
tenant from the client: a batch of single requests from many tenants is many tenants, and the
client's share (about 100 µs of a pool process per tenant) was a fifth of its work per request
(bench/bench_serving.py, 800 single requests a second from 100 tenants).

``ai.log_staged_predictions()`` runs the same two statements per tenant inside Postgres, with plans
kept for the session. It runs as its caller (SECURITY INVOKER), so each INSERT is checked by the
caller's privileges and by the row-level security policy under each tenant, exactly as the
client's statements were.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WRITERS = "modelops_app, modelops_operator"


def upgrade() -> None:
    op.execute(f"""
        CREATE FUNCTION ai.log_staged_predictions() RETURNS bigint
            LANGUAGE plpgsql SECURITY INVOKER
            AS $$
            DECLARE
                tenant uuid;
                inserted bigint;
                written bigint := 0;
            BEGIN
                FOR tenant IN SELECT DISTINCT s.tenant_id FROM pg_temp.prediction_log_staging AS s ORDER BY 1 LOOP
                    PERFORM pg_catalog.set_config('app.tenant_id', tenant::text, true);
                    INSERT INTO ai.prediction_log (
                        id, model_version_id, agent_type, tenant_id, input_data, predicted_output, confidence_score,
                        prediction_timestamp, prediction_duration_ms, is_reproducible, reproducibility_note,
                        ab_test_id, ab_group, request_key)
                    SELECT s.id, s.model_version_id, s.agent_type, s.tenant_id, s.input_data, s.predicted_output,
                           s.confidence_score, s.prediction_timestamp, round(CAST(s.prediction_duration_ms AS numeric), 2),
                           s.reproducibility_note IS NULL, s.reproducibility_note, s.ab_test_id, s.ab_group, s.request_key
                    FROM pg_temp.prediction_log_staging AS s WHERE s.tenant_id = tenant;
                    GET DIAGNOSTICS inserted = ROW_COUNT;
                    written := written + inserted;
                END LOOP;
                RETURN written;
            END
            $$;
        REVOKE ALL ON FUNCTION ai.log_staged_predictions() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION ai.log_staged_predictions() TO {WRITERS};
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION ai.log_staged_predictions();")
