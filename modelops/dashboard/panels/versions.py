"""Model Versions: the version history (the spec's version_management widget: version, accuracy,
production or not, trained on), rollback events, A/B tests with their latest decision and its
figures, and a comparison of each scope's recent versions: validation accuracy beside live accuracy."""
from __future__ import annotations

from sqlalchemy import Connection, text

from modelops.dashboard.filters import Query
from modelops.dashboard.panels import agent_is, plain, records, tenant_is
from modelops.experiments import lifecycle

HISTORY_LIMIT = 50
# versions per scope in the comparison, and scopes compared (the filters narrow them)
COMPARED_VERSIONS = 6
COMPARED_SCOPES = 6

HISTORY = text(f"""
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
ROLLBACKS = text(f"""
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


def read(connection: Connection, query: Query) -> dict:
    history = records(connection.execute(HISTORY, query.params()))
    tests = lifecycle.overview(connection, query.agent_type, query.tenant_id, limit=20)
    return {
        "versions": history,
        "active": sum(1 for version in history if version["is_active"]),
        "rollbacks": [{**row, "triggers": _trigger_names(row["triggers"])}
                      for row in records(connection.execute(ROLLBACKS, query.params()))],
        "ab_tests": [{key: plain(value) for key, value in test.items()} for test in tests],
        "comparison": _comparison(history),
    }


def _trigger_names(triggers) -> list[str]:
    """The names of the conditions that fired, whatever figures each carries beside its name."""
    if isinstance(triggers, dict):
        return sorted(triggers)
    return [str(item.get("trigger") or item.get("name") or item) if isinstance(item, dict) else str(item)
            for item in triggers or []]


def _comparison(history: list[dict]) -> list[dict]:
    """Each scope's recent versions, oldest first, with validation and live accuracy."""
    scopes: dict[tuple[str, str], dict] = {}
    for version in history:  # newest first
        key = (version["agent_type"], version["scope_key"])
        if key not in scopes:
            if len(scopes) == COMPARED_SCOPES:
                continue
            scopes[key] = {"agent_type": key[0], "scope_key": key[1], "tenant_name": version["tenant_name"], "versions": []}
        if len(scopes[key]["versions"]) < COMPARED_VERSIONS:
            scopes[key]["versions"].append({"version": version["version"], "validation_accuracy": version["accuracy_score"],
                                            "live_accuracy": version["live_accuracy"], "is_production": version["is_production"]})
    for scope in scopes.values():
        scope["versions"].reverse()
    return list(scopes.values())
