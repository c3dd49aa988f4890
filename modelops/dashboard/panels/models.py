"""Current Models: the production model of each agent and scope, with today's live figures
(the spec's model_health widget: ai.model_metrics of today, accuracy, precision, recall, F1),
the latest daily user satisfaction and error rate, and its open alerts."""
from __future__ import annotations

from sqlalchemy import Connection, text

from modelops.dashboard.filters import Query
from modelops.dashboard.panels import agent_is, records, tenant_is

PRODUCTION_MODELS = text(f"""
    SELECT v.id, v.agent_type, v.version, v.scope_key, v.tenant_id, tn.name AS tenant_name,
           v.status, v.is_active, v.is_production, v.trained_on,
           v.accuracy_score AS validation_accuracy,
           m.total_predictions AS predictions_today, m.labelled_predictions AS labelled_today,
           m.accuracy, m.precision, m.recall, m.f1_score, m.avg_confidence, m.avg_response_time_ms,
           m.user_overrides,
           d.date AS performance_date, d.user_satisfaction_score, d.error_rate,
           (SELECT count(*) FROM ai.alerts a WHERE a.model_version_id = v.id AND a.status <> 'resolved') AS open_alerts
    FROM ai.model_versions v
    LEFT JOIN ai.tenants tn ON tn.id = v.tenant_id
    LEFT JOIN ai.model_metrics m ON m.model_version_id = v.id AND m.metric_date = :today
    LEFT JOIN LATERAL (SELECT date, user_satisfaction_score, error_rate FROM ai.daily_performance
                       WHERE model_version_id = v.id ORDER BY date DESC LIMIT 1) d ON true
    WHERE v.is_production AND {agent_is('v.agent_type')} AND {tenant_is('v.tenant_id')}
    ORDER BY v.agent_type, v.tenant_id IS NOT NULL, tn.name, v.scope_key
""")


def read(connection: Connection, query: Query) -> dict:
    models = records(connection.execute(PRODUCTION_MODELS, query.params(today=query.today)))
    return {"date": query.today.isoformat(), "models": models}
