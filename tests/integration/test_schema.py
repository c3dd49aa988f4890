"""The migrated schema against the specification's tables, column by column."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from modelops import migrations
from tests.servers import TEST_DATABASE, recreate_database

pytestmark = pytest.mark.integration

# The spec's CREATE TABLE statements, as (column, type, default); None where the spec sets none.
SPEC_COLUMNS = {
    "training_data": [
        ("id", "uuid", "gen_random_uuid()"),
        ("tenant_id", "uuid", None),
        ("agent_type", "ai.agent_type", None),
        ("input_data", "jsonb", None),
        ("expected_output", "jsonb", None),
        ("actual_output", "jsonb", None),
        ("was_correct", "boolean", None),
        ("user_feedback", "text", None),
        ("confidence_score", "numeric(3,2)", None),
        ("feedback_timestamp", "timestamp without time zone", "CURRENT_TIMESTAMP"),
        ("created_at", "timestamp without time zone", "CURRENT_TIMESTAMP"),
        ("updated_at", "timestamp without time zone", "CURRENT_TIMESTAMP"),
    ],
    "model_versions": [
        ("id", "uuid", "gen_random_uuid()"),
        ("agent_type", "character varying(50)", None),
        ("version", "character varying(20)", None),
        ("trained_on", "timestamp without time zone", None),
        ("training_samples", "integer", None),
        ("validation_samples", "integer", None),
        ("accuracy_score", "numeric(5,4)", None),
        ("precision_score", "numeric(5,4)", None),
        ("recall_score", "numeric(5,4)", None),
        ("f1_score", "numeric(5,4)", None),
        ("training_duration", "interval", None),
        ("is_active", "boolean", "false"),
        ("is_production", "boolean", "false"),
        ("rollback_version", "uuid", None),
        ("model_artifact_path", "text", None),
        ("training_config", "jsonb", None),
        ("created_by", "uuid", None),
        ("created_at", "timestamp without time zone", "CURRENT_TIMESTAMP"),
        ("updated_at", "timestamp without time zone", "CURRENT_TIMESTAMP"),
    ],
    "model_metrics": [
        ("id", "uuid", "gen_random_uuid()"),
        ("model_version_id", "uuid", None),
        ("metric_date", "date", None),
        ("total_predictions", "integer", "0"),
        ("correct_predictions", "integer", "0"),
        ("accuracy", "numeric(5,4)", None),
        ("precision", "numeric(5,4)", None),
        ("recall", "numeric(5,4)", None),
        ("f1_score", "numeric(5,4)", None),
        ("avg_confidence", "numeric(3,2)", None),
        ("user_overrides", "integer", "0"),
        ("avg_response_time_ms", "numeric(8,2)", None),
        ("peak_memory_usage_mb", "integer", None),
        ("cpu_utilization_percent", "numeric(5,2)", None),
        ("created_at", "timestamp without time zone", "CURRENT_TIMESTAMP"),
    ],
    "daily_performance": [
        ("id", "uuid", "gen_random_uuid()"),
        ("agent_type", "character varying(50)", None),
        ("model_version", "character varying(20)", None),
        ("date", "date", None),
        ("accuracy_trend", "numeric(5,4)", None),
        ("confidence_stability", "numeric(5,4)", None),
        ("user_satisfaction_score", "numeric(3,2)", None),
        ("prediction_volume", "integer", None),
        ("error_rate", "numeric(5,4)", None),
        ("created_at", "timestamp without time zone", "CURRENT_TIMESTAMP"),
    ],
    "prediction_log": [
        ("id", "uuid", "gen_random_uuid()"),
        ("model_version_id", "uuid", None),
        ("agent_type", "character varying(50)", None),
        ("tenant_id", "uuid", None),
        ("input_data", "jsonb", None),
        ("predicted_output", "jsonb", None),
        ("actual_output", "jsonb", None),
        ("confidence_score", "numeric(3,2)", None),
        ("was_correct", "boolean", None),
        ("user_feedback", "text", None),
        ("user_override", "boolean", "false"),
        ("override_reason", "text", None),
        ("prediction_timestamp", "timestamp without time zone", "CURRENT_TIMESTAMP"),
        ("prediction_duration_ms", "numeric(8,2)", None),
        ("is_reproducible", "boolean", "true"),
    ],
}

# NOT NULL as the spec writes it (the audit log's timestamp is NOT NULL too: it is the partition key).
SPEC_NOT_NULL = {
    "training_data": {"id", "tenant_id", "agent_type", "input_data"},
    "model_versions": {"id", "agent_type", "version", "trained_on"},
    "model_metrics": {"id", "model_version_id", "metric_date"},
    "daily_performance": {"id", "agent_type", "model_version", "date"},
    "prediction_log": {"id", "model_version_id", "agent_type", "tenant_id", "input_data", "prediction_timestamp"},
}

SPEC_INDEXES = {
    "idx_training_data_tenant", "idx_training_data_agent_type", "idx_training_data_created_at",
    "idx_training_data_was_correct", "idx_model_versions_agent_type", "idx_model_versions_active",
    "idx_model_versions_production", "idx_model_versions_version", "idx_model_metrics_version_date",
    "idx_daily_performance_date", "idx_daily_performance_agent", "idx_prediction_log_tenant",
    "idx_prediction_log_model", "idx_prediction_log_timestamp", "idx_prediction_log_agent",
}

CATALOG_COLUMNS = text("""
    SELECT column_name, data_type, udt_schema, udt_name, character_maximum_length,
           numeric_precision, numeric_scale, column_default, is_nullable
    FROM information_schema.columns
    WHERE table_schema = 'ai' AND table_name = :table
""")


def render_type(row) -> str:
    if row.data_type == "USER-DEFINED":
        return f"{row.udt_schema}.{row.udt_name}"
    if row.data_type == "character varying":
        return f"character varying({row.character_maximum_length})"
    if row.data_type == "numeric":
        return f"numeric({row.numeric_precision},{row.numeric_scale})"
    return row.data_type


def live_columns(connection, table: str) -> dict:
    return {row.column_name: row for row in connection.execute(CATALOG_COLUMNS, {"table": table})}


@pytest.mark.parametrize("table", sorted(SPEC_COLUMNS))
def test_every_spec_column_has_the_spec_type_default_and_nullability(owner, table):
    with owner.connect() as connection:
        live = live_columns(connection, table)
    for name, spec_type, spec_default in SPEC_COLUMNS[table]:
        assert name in live, f"ai.{table}.{name} is missing"
        assert render_type(live[name]) == spec_type, f"ai.{table}.{name}"
        assert live[name].column_default == spec_default, f"ai.{table}.{name} default"
        assert (live[name].is_nullable == "NO") == (name in SPEC_NOT_NULL[table]), f"ai.{table}.{name} nullability"


def test_agent_type_enum_holds_the_six_agents(owner):
    with owner.connect() as connection:
        labels = connection.execute(text("SELECT unnest(enum_range(NULL::ai.agent_type))::text")).scalars().all()
    assert labels == ["classification", "reconciliation", "journal", "compliance", "insight", "chat"]


def test_spec_indexes_and_metric_upsert_key_exist(owner):
    with owner.connect() as connection:
        indexes = set(connection.execute(text("SELECT indexname FROM pg_indexes WHERE schemaname = 'ai'")).scalars())
        # the spec's ON CONFLICT (model_version_id, metric_date) needs exactly this unique key
        unique_columns = connection.execute(text("""
            SELECT array_agg(a.attname ORDER BY k.ord)
            FROM pg_constraint c
            CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
            WHERE c.conrelid = 'ai.model_metrics'::regclass AND c.contype = 'u'
            GROUP BY c.oid
        """)).scalars().all()
    assert SPEC_INDEXES <= indexes
    assert ["model_version_id", "metric_date"] in unique_columns


def test_one_production_model_per_agent_and_tenant(owner, make_tenant):
    tenant = make_tenant()
    insert = text("""
        INSERT INTO ai.model_versions (agent_type, version, trained_on, tenant_id, is_production)
        VALUES ('chat', :version, now(), :tenant, true)
    """)
    with owner.begin() as connection:
        connection.execute(insert, {"version": "v1.0", "tenant": tenant})
    with pytest.raises(Exception, match="uq_model_versions_one_production"):
        with owner.begin() as connection:
            connection.execute(insert, {"version": "v1.1", "tenant": tenant})
    # another tenant's production model is no conflict
    with owner.begin() as connection:
        connection.execute(insert, {"version": "v1.0", "tenant": make_tenant()})


def test_prediction_log_is_partitioned_by_month(owner):
    with owner.connect() as connection:
        strategy = connection.execute(text(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'ai.prediction_log'::regclass"
        )).scalar_one()
        partitions = connection.execute(text(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'ai.prediction_log'::regclass"
        )).scalar_one()
    assert strategy == "r"
    assert partitions >= 4  # last month, this month and the months ahead


def test_downgrade_to_empty_and_upgrade_again(database):
    scratch = make_url(database).set(database=f"{TEST_DATABASE}_migrations").render_as_string(hide_password=False)
    recreate_database(scratch)
    engine = create_engine(scratch, poolclass=pool.NullPool)

    def ai_tables() -> int:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'ai'")).scalar_one()

    migrations.upgrade(database_url=scratch)
    created = ai_tables()
    migrations.upgrade(database_url=scratch)  # a second run is a no-op
    assert ai_tables() == created > 0
    assert migrations.current_revision(scratch) == migrations.head_revision()

    migrations.downgrade(database_url=scratch)
    assert ai_tables() == 0
    assert migrations.current_revision(scratch) is None

    migrations.upgrade(database_url=scratch)
    assert ai_tables() == created
    engine.dispose()
