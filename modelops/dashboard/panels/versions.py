"""Model Versions: the version history (the spec's version_management widget: version, accuracy,
production or not, trained on), rollback events, A/B tests with their latest decision and its
figures, and a comparison of each scope's recent versions: validation accuracy beside live accuracy."""
from __future__ import annotations

from sqlalchemy import Connection

from modelops.dashboard.filters import Query
from modelops.dashboard import read_model
from modelops.dashboard.panels import plain, records
from modelops.experiments import lifecycle

# versions per scope in the comparison, and scopes compared (the filters narrow them)
COMPARED_VERSIONS = 6
COMPARED_SCOPES = 6


def read(connection: Connection, query: Query) -> dict:
    history = records(connection.execute(read_model.VERSION_HISTORY, query.params()))
    tests = lifecycle.overview(connection, query.agent_type, query.tenant_id, limit=20)
    return {
        "versions": history,
        "active": sum(1 for version in history if version["is_active"]),
        "rollbacks": [{**row, "triggers": _trigger_names(row["triggers"])}
                      for row in records(connection.execute(read_model.ROLLBACK_EVENTS, query.params()))],
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
