"""Training Data: the samples that arrived today by kind of feedback (the spec's training_data
widget), how many of them carry a label, the last two weeks day by day; privacy compliance (what
the scrubber replaced, what the intake refused and why) and the state of tenant isolation."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from modelops import quality
from modelops.config import APP_ROLE, DASHBOARD_ROLE, OPERATOR_ROLE, SYSTEM_ROLE
from modelops.dashboard.filters import Query
from modelops.dashboard.panels import agent_is, records, tenant_is

HISTORY_DAYS = 14

DAILY_SAMPLES = text(f"""
    SELECT created_at::date AS day, source, count(*) AS samples
    FROM ai.training_data
    WHERE created_at >= :since AND {agent_is('agent_type::text')} AND {tenant_is('tenant_id')}
    GROUP BY 1, 2 ORDER BY 1, 2
""")
# Every table that holds a tenant's rows must have row-level security on, and the roles the
# runtime logs in as must be unable to bypass it: the facts isolation rests on.
TENANT_TABLES = text("""
    SELECT c.relname AS table_name, c.relrowsecurity AS row_level_security
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'ai' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
    ORDER BY 1
""")
# Per role: whether it exists, whether it can become the operator (a member, however indirectly,
# which SET ROLE needs), and whether it is or can become a role that skips row-level security
# (superuser or BYPASSRLS). A role is a member of itself, so its own attributes count.
ROLE_POWERS = text("""
    SELECT r.rolname,
           pg_has_role(r.oid, o.oid, 'MEMBER') AS can_become_operator,
           EXISTS (SELECT 1 FROM pg_roles b WHERE (b.rolsuper OR b.rolbypassrls) AND pg_has_role(r.oid, b.oid, 'MEMBER')) AS bypasses
    FROM pg_roles r, pg_roles o
    WHERE r.rolname = ANY(CAST(:roles AS text[])) AND o.rolname = :operator
""")
LOGIN_ROLE = text("SELECT session_user")
# The runtime roles, and whether each may act across tenants by design.
RUNTIME_ROLES = {APP_ROLE: "faces other services (serving, intake, scrubbing) and the dashboard's tenant users",
                 DASHBOARD_ROLE: "the dashboard's operators: reads across tenants, no credentials",
                 SYSTEM_ROLE: "training, experiments, monitoring, maintenance: acts across tenants by design"}
ACROSS_TENANTS_BY_DESIGN = {SYSTEM_ROLE}
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
    """Row-level security on every tenant table, and for each runtime role what Postgres says it can
    do: a role facing other services (or the dashboard's) that can become the operator, or any role
    that can skip row-level security, breaks isolation, whatever the code above it intends."""
    tables = records(connection.execute(TENANT_TABLES))
    unprotected = [table["table_name"] for table in tables if not table["row_level_security"]]
    powers = {row.rolname: row for row in connection.execute(ROLE_POWERS, {"roles": list(RUNTIME_ROLES), "operator": OPERATOR_ROLE})}
    roles = [{"role": role, "purpose": purpose, "exists": role in powers,
              "can_become_operator": role in powers and powers[role].can_become_operator,
              "bypasses": role in powers and powers[role].bypasses,
              "across_tenants_by_design": role in ACROSS_TENANTS_BY_DESIGN}
             for role, purpose in RUNTIME_ROLES.items()]
    broken = [role["role"] for role in roles
              if role["bypasses"] or (role["can_become_operator"] and not role["across_tenants_by_design"])]
    login_role = connection.execute(LOGIN_ROLE).scalar_one()
    return {
        "ok": not unprotected and not broken,
        "tables": len(tables), "unprotected": unprotected, "roles": roles, "broken_roles": broken,
        "login_role": login_role, "login_role_bypasses": login_role in broken,
        # the access log is the operators' to read
        "refused_today": connection.execute(REFUSALS, {"since": query.start_of_today}).scalar() if query.is_operator else None,
    }
