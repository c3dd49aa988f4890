"""The registry's tables as SQLAlchemy Core metadata, for queries built from Python rather than
written as SQL strings.

The migrations (schemas/migrations/) make the tables; this describes them, column by column (name,
type, nullability), and tests/integration/test_tables.py checks the migrated database against it,
so the two cannot drift apart. Constraints, defaults, row-level security and grants stay the
migrations' alone.
"""
from sqlalchemy import (
    BigInteger, Boolean, CHAR, Column, Computed, FetchedValue, Integer, Interval, MetaData, Numeric, String, Table, Text,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP, UUID

metadata = MetaData(schema="ai")

# Every model version of every agent and scope: its metrics, artifact, config and status.
model_versions = Table(
    "model_versions", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=FetchedValue()),  # gen_random_uuid()
    Column("agent_type", String(50), nullable=False),
    Column("version", String(20), nullable=False),
    Column("trained_on", TIMESTAMP(), nullable=False),
    Column("training_samples", Integer),
    Column("validation_samples", Integer),
    Column("accuracy_score", Numeric(5, 4)),
    Column("precision_score", Numeric(5, 4)),
    Column("recall_score", Numeric(5, 4)),
    Column("f1_score", Numeric(5, 4)),
    Column("training_duration", Interval),
    Column("is_active", Boolean),
    Column("is_production", Boolean),
    Column("rollback_version", UUID(as_uuid=True)),
    Column("model_artifact_path", Text),
    Column("training_config", JSONB),
    Column("created_by", UUID(as_uuid=True)),
    Column("created_at", TIMESTAMP()),
    Column("updated_at", TIMESTAMP()),
    Column("tenant_id", UUID(as_uuid=True)),
    Column("scope", Text, nullable=False),
    Column("region", Text),
    # tenant:<id>, region:<name> or global: the production pointer's key, computed by Postgres
    Column("scope_key", Text, Computed("CASE scope WHEN 'tenant' THEN 'tenant:' || tenant_id::text "
                                       "WHEN 'regional' THEN 'region:' || region ELSE 'global' END", persisted=True)),
    Column("status", Text, nullable=False),
    Column("status_reason", Text),
    Column("artifact_sha256", CHAR(64)),
    Column("artifact_size_bytes", BigInteger),
    Column("metrics_detail", JSONB),
    Column("training_run_id", UUID(as_uuid=True)),
)

# Who held the production pointer of an agent and scope, from when to when, and why it moved.
production_history = Table(
    "production_history", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=FetchedValue()),  # gen_random_uuid()
    Column("agent_type", String(50), nullable=False),
    Column("tenant_id", UUID(as_uuid=True)),
    Column("scope_key", Text, nullable=False),
    Column("model_version_id", UUID(as_uuid=True), nullable=False),
    Column("event", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("started_at", TIMESTAMP(), nullable=False),
    Column("ended_at", TIMESTAMP()),
    Column("ended_reason", Text),
)
