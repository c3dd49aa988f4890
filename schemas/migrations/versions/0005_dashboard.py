"""Dashboard access: tokens and sessions.

A token is a random secret printed once by `modelops token create`; only its SHA-256 is kept, so a
copy of the database gives no one a way in. (The secret has 256 random bits: a fast hash is enough,
there is nothing to guess.) A session is what a browser holds after it showed a token: its own
random secret in a cookie, hashed here too, ending no later than its token. Both tables are
credentials, not tenant data: only the operator role reads them (the dashboard checks a caller
before it knows which tenant the caller is), and a tenant's scope sees neither.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE ai.dashboard_tokens (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    token_sha256 CHAR(64) NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('operator', 'tenant')),
    tenant_id UUID REFERENCES ai.tenants(id) ON DELETE CASCADE,
    principal TEXT NOT NULL,                 -- who holds it; a tenant token's holder is a tenant member
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    CONSTRAINT ck_dashboard_tokens_tenant CHECK ((role = 'tenant') = (tenant_id IS NOT NULL)),
    CONSTRAINT ck_dashboard_tokens_expiry CHECK (expires_at > created_at)
);
CREATE INDEX idx_dashboard_tokens_tenant ON ai.dashboard_tokens(tenant_id);

CREATE TABLE ai.dashboard_sessions (
    session_sha256 CHAR(64) PRIMARY KEY,
    token_id UUID NOT NULL REFERENCES ai.dashboard_tokens(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX idx_dashboard_sessions_token ON ai.dashboard_sessions(token_id);
CREATE INDEX idx_dashboard_sessions_expiry ON ai.dashboard_sessions(expires_at);

ALTER TABLE ai.dashboard_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai.dashboard_sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY operator_rows ON ai.dashboard_tokens TO modelops_operator USING (true) WITH CHECK (true);
CREATE POLICY operator_rows ON ai.dashboard_sessions TO modelops_operator USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON ai.dashboard_tokens, ai.dashboard_sessions TO modelops_operator;
"""

DOWNGRADE = """
DROP TABLE ai.dashboard_sessions, ai.dashboard_tokens;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
