"""The memberships of one caller in many tenants, read in one call, tenant after tenant.

Serving checks that the calling service is a member of each request's tenant, and remembers each
grant for a few seconds. A batch of single requests from many tenants read them one by one, each in
a transaction of its own: a hundred reads when a hundred grants ran out together (after a pause),
tens of milliseconds that the whole batch waited out (bench/bench_serving.py, single requests from
100 tenants at half of capacity).

``ai.member_roles(principal, tenants)`` reads them in one call. It runs as its caller (SECURITY
INVOKER) and switches the transaction to each tenant before reading that tenant's membership, so
each read is checked by the caller's privileges and by the row-level security policy under that
tenant, as a read in the tenant's own scope is; it also names the tenant in its condition.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION ai.member_roles(principal_name text, tenants uuid[])
            RETURNS TABLE (tenant uuid, member_role text)
            LANGUAGE plpgsql SECURITY INVOKER
            AS $$
            DECLARE
                asked uuid;
            BEGIN
                FOREACH asked IN ARRAY tenants LOOP
                    PERFORM pg_catalog.set_config('app.tenant_id', asked::text, true);
                    SELECT asked, m.role INTO tenant, member_role
                    FROM ai.tenant_members AS m WHERE m.tenant_id = asked AND m.principal = principal_name;
                    IF FOUND THEN
                        RETURN NEXT;
                    END IF;
                END LOOP;
            END
            $$;
        REVOKE ALL ON FUNCTION ai.member_roles(text, uuid[]) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION ai.member_roles(text, uuid[]) TO modelops_app;
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION ai.member_roles(text, uuid[]);")
