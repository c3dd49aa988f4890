"""Training Data: the samples that arrived today by kind of feedback (the spec's training_data
widget), how many of them carry a label, the last two weeks day by day; privacy compliance (what
the scrubber replaced, what the intake refused and why) and the state of tenant isolation."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from modelops import quality
from modelops.dashboard.filters import Query
from modelops.dashboard.panels import agent_is, records, tenant_is

HISTORY_DAYS = 14

DAILY_SAMPLES = text(f"""
    SELECT created_at::date AS day, source, count(*) AS samples
    FROM ai.training_data
    WHERE created_at >= :since AND {agent_is('agent_type::text')} AND {tenant_is('tenant_id')}
    GROUP BY 1, 2 ORDER BY 1, 2
""")
# Every table that holds a tenant's rows must have row-level security on, and the role the
# application logs in as must be unable to bypass it: the two facts isolation rests on.
TENANT_TABLES = text("""
    SELECT c.relname AS table_name, c.relrowsecurity AS row_level_security
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'ai' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
    ORDER BY 1
""")
LOGIN_ROLE = text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = session_user")
REFUSALS = text("SELECT count(*) FROM ai.access_audit WHERE NOT allowed AND created_at >= :since")


def read(connection: Connection, query: Query) -> dict:
    today = quality.figures(connection, query.start_of_today)
    agents = [entry for entry in today["agents"] if _selected(entry, query)]
    rejected = [entry for entry in today["rejected"]
                if query.tenant_id is None or entry["tenant_id"] == str(query.tenant_id)]
    since = query.start_of_today - dt.timedelta(days=HISTORY_DAYS - 1)
    return {
        "date": query.today.isoformat(),
        "today": _totals(agents, rejected),
        "per_agent": agents,
        "daily": records(connection.execute(DAILY_SAMPLES, query.params(since=since))),
        "isolation": _isolation(connection, query),
    }


def _selected(entry: dict, query: Query) -> bool:
    return ((query.agent_type is None or entry["agent_type"] == query.agent_type)
            and (query.tenant_id is None or entry["tenant_id"] == str(query.tenant_id)))


def _totals(agents: list[dict], rejected: list[dict]) -> dict:
    by_source: dict[str, int] = {}
    scrub_hits: dict[str, int] = {}
    for entry in agents:
        for source, n in entry["by_source"].items():
            by_source[source] = by_source.get(source, 0) + n
        for placeholder, n in entry["scrub_hits"].items():
            scrub_hits[placeholder] = scrub_hits.get(placeholder, 0) + n
    rejected_by_cause: dict[str, int] = {}
    for entry in rejected:
        for cause, n in entry["by_cause"].items():
            rejected_by_cause[cause] = rejected_by_cause.get(cause, 0) + n
    total = sum(entry["total"] for entry in agents)
    labelled = sum(entry["labelled"] for entry in agents)
    return {
        "total_samples": total, "labelled": labelled,
        "labelled_share": labelled / total if total else None,
        "by_source": dict(sorted(by_source.items())),
        "privacy": {"scrub_hits": dict(sorted(scrub_hits.items())), "scrubbed_values": sum(scrub_hits.values()),
                    "rejected": sum(rejected_by_cause.values()), "rejected_by_cause": rejected_by_cause},
    }


def _isolation(connection: Connection, query: Query) -> dict:
    tables = records(connection.execute(TENANT_TABLES))
    role = connection.execute(LOGIN_ROLE).one()
    unprotected = [table["table_name"] for table in tables if not table["row_level_security"]]
    bypass = bool(role.rolsuper or role.rolbypassrls)
    return {
        "ok": not unprotected and not bypass,
        "tables": len(tables), "unprotected": unprotected,
        "login_role": role.rolname, "login_role_bypasses": bypass,
        # the access log is the operators' to read
        "refused_today": connection.execute(REFUSALS, {"since": query.start_of_today}).scalar() if query.is_operator else None,
    }
