"""The dashboard's read model: the queries that join model versions and their production history
to metrics, tenants, alerts and rollback events for display, in one place beside the registry's
store (modelops/registry/store.py), which owns every other read and every write of those tables.
Each panel runs its query in the caller's scope (an operator's, or a tenant's under row-level
security) with the filters of modelops.dashboard.panels."""
from __future__ import annotations

from sqlalchemy import text

from modelops.dashboard.panels import agent_is, tenant_is

HISTORY_LIMIT = 50  # versions in the Model Versions panel's history
ALERTS_LIMIT = 100

# Model Versions: the history with each version's live accuracy, and the rollback events
VERSION_HISTORY = text(f"""
    SELECT v.id, v.agent_type, v.version, v.scope_key, v.tenant_id, tn.name AS tenant_name, v.status,
           v.status_reason, v.is_active, v.is_production, v.trained_on, v.training_samples,
           v.accuracy_score, v.f1_score, live.predictions, live.accuracy AS live_accuracy
    FROM ai.model_versions v
    LEFT JOIN ai.tenants tn ON tn.id = v.tenant_id
    LEFT JOIN LATERAL (SELECT sum(total_predictions) AS predictions,
                              sum(correct_predictions)::float / nullif(sum(labelled_predictions), 0) AS accuracy
                       FROM ai.model_metrics WHERE model_version_id = v.id) live ON true
    WHERE {agent_is('v.agent_type')} AND {tenant_is('v.tenant_id')}
    ORDER BY v.created_at DESC, v.version DESC
    LIMIT {HISTORY_LIMIT}
""")

ROLLBACK_EVENTS = text(f"""
    SELECT r.id, r.agent_type, r.tenant_id, tn.name AS tenant_name, r.scope_key, f.version AS from_version,
           t.version AS to_version, r.outcome, r.triggers, r.actor, r.reason, r.created_at
    FROM ai.rollback_events r
    JOIN ai.model_versions f ON f.id = r.from_version_id
    LEFT JOIN ai.model_versions t ON t.id = r.to_version_id
    LEFT JOIN ai.tenants tn ON tn.id = r.tenant_id
    WHERE {agent_is('r.agent_type')} AND {tenant_is('r.tenant_id')}
    ORDER BY r.created_at DESC
    LIMIT 20
""")

# Current Models: each production model with today's figures, its latest day and its open alerts
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

# Performance Trends: per agent and day (the metrics rows carry no agent: their version does)
DAILY_TRENDS = text(f"""
    SELECT m.metric_date AS day, v.agent_type,
           sum(m.total_predictions) AS predictions,
           sum(m.correct_predictions)::float / nullif(sum(m.labelled_predictions), 0) AS accuracy,
           sum(m.response_time_sum_ms) / nullif(sum(m.total_predictions), 0) AS response_time_ms,
           sum(m.confidence_sum) / nullif(sum(m.total_predictions), 0) AS confidence
    FROM ai.model_metrics m JOIN ai.model_versions v ON v.id = m.model_version_id
    WHERE m.metric_date > :since AND m.metric_date <= :today
      AND {agent_is('v.agent_type')} AND {tenant_is('m.tenant_id')}
    GROUP BY 1, 2
    ORDER BY 2, 1
""")

# Alerts & Events: alerts with their version, and the latest production moves
ALERTS = text(f"""
    SELECT a.id, a.alert_type, a.severity, a.status, a.audience, a.tenant_id, tn.name AS tenant_name,
           a.agent_type, v.version, a.message, a.occurrences, a.created_at AS timestamp, a.last_seen_at,
           a.resolved_at, a.resolved_by, a.resolution_note
    FROM ai.alerts a
    LEFT JOIN ai.tenants tn ON tn.id = a.tenant_id
    LEFT JOIN ai.model_versions v ON v.id = a.model_version_id
    WHERE (a.status <> 'resolved' OR a.resolved_at >= :resolved_since)
      AND {agent_is('a.agent_type')} AND {tenant_is('a.tenant_id')}
    ORDER BY a.status = 'resolved', CASE a.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
             a.last_seen_at DESC
    LIMIT {ALERTS_LIMIT}
""")

PRODUCTION_EVENTS = text(f"""
    SELECT h.event, h.agent_type, h.tenant_id, tn.name AS tenant_name, h.scope_key, v.version, h.reason,
           h.actor, h.started_at AS timestamp
    FROM ai.production_history h
    JOIN ai.model_versions v ON v.id = h.model_version_id
    LEFT JOIN ai.tenants tn ON tn.id = h.tenant_id
    WHERE {agent_is('h.agent_type')} AND {tenant_is('h.tenant_id')}
    ORDER BY h.started_at DESC
    LIMIT 20
""")

# /metrics: predictions per agent
PREDICTIONS_BY_AGENT = text("""
    SELECT v.agent_type, coalesce(sum(m.total_predictions), 0) AS predictions,
           coalesce(sum(m.labelled_predictions), 0) AS labelled, coalesce(sum(m.correct_predictions), 0) AS correct,
           coalesce(sum(m.user_overrides), 0) AS overrides
    FROM ai.model_metrics m JOIN ai.model_versions v ON v.id = m.model_version_id
    GROUP BY 1
""")
