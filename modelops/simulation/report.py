"""What happened, read back from the database: each day's new events, and the run's summary.

Events are found by what was not seen before (ids), not by timestamps, so that a slow worker's
event from yesterday is reported today rather than lost.
"""
from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import text

from modelops import db

VERSIONS = text("""
    SELECT v.id, v.agent_type, v.tenant_id, v.scope_key, v.version, v.status, v.status_reason, v.accuracy_score
    FROM ai.model_versions v WHERE v.tenant_id = ANY(:tenants) OR v.tenant_id IS NULL
""")
DECISIONS = text("""
    SELECT d.id, t.agent_type, t.tenant_id, d.decision, d.reason, d.control_accuracy, d.treatment_accuracy,
           d.control_samples, d.treatment_samples, d.p_value, tv.version AS treatment, cv.version AS control
    FROM ai.ab_test_decisions d JOIN ai.ab_tests t ON t.id = d.ab_test_id
    JOIN ai.model_versions tv ON tv.id = t.treatment_version_id JOIN ai.model_versions cv ON cv.id = t.control_version_id
    WHERE t.tenant_id = ANY(:tenants)
""")
TESTS = text("""
    SELECT t.id, t.agent_type, t.tenant_id, t.status, tv.version AS treatment, cv.version AS control
    FROM ai.ab_tests t JOIN ai.model_versions tv ON tv.id = t.treatment_version_id
    JOIN ai.model_versions cv ON cv.id = t.control_version_id WHERE t.tenant_id = ANY(:tenants)
""")
ROLLBACKS = text("""
    SELECT r.id, r.agent_type, r.tenant_id, r.outcome, r.triggers, f.version AS from_version, t.version AS to_version
    FROM ai.rollback_events r JOIN ai.model_versions f ON f.id = r.from_version_id
    LEFT JOIN ai.model_versions t ON t.id = r.to_version_id WHERE r.tenant_id = ANY(:tenants)
""")
ALERTS = text("""
    SELECT id, alert_type, severity, agent_type, tenant_id, message FROM ai.alerts
    WHERE tenant_id = ANY(:tenants) OR tenant_id IS NULL
""")
TICKETS = text("SELECT id FROM ai.investigation_tickets WHERE tenant_id = ANY(:tenants)")


@dataclass
class Ledger:
    """The run's tenants, and every event already reported."""
    names: dict[uuid.UUID, str]
    seen: set = field(default_factory=set)
    totals: Counter = field(default_factory=Counter)

    def who(self, tenant_id, agent_type: str) -> str:
        return f"{self.names.get(tenant_id, 'global')} {agent_type}"

    def news(self) -> list[str]:
        """One line per event not reported before, in a stable order."""
        with db.operator_scope() as connection:
            found = {name: connection.execute(query, {"tenants": list(self.names)}).mappings().all()
                     for name, query in (("version", VERSIONS), ("test", TESTS), ("decision", DECISIONS),
                                         ("rollback", ROLLBACKS), ("alert", ALERTS), ("ticket", TICKETS))}
        lines = []
        for kind, rows in found.items():
            for row in rows:
                key = (kind, row["id"], row.get("status"))
                if key in self.seen:
                    continue
                self.seen.add(key)
                line = self._describe(kind, row)
                if line:
                    lines.append(line)
        return lines

    def _describe(self, kind: str, row) -> str | None:
        if kind == "version":
            if row["status"] == "candidate":
                return None  # reported once judged
            self.totals[f"version {row['status']}"] += 1
            accuracy = f"accuracy {float(row['accuracy_score']):.3f}" if row["accuracy_score"] is not None else ""
            return f"version   {self.who(row['tenant_id'], row['agent_type'])} {row['version']} {row['status']}: {accuracy}; {row['status_reason']}"
        if kind == "test":
            self.totals[f"A/B test {row['status']}"] += 1
            return (f"A/B test  {self.who(row['tenant_id'], row['agent_type'])} {row['treatment']} vs {row['control']}: "
                    f"{row['status']}")
        if kind == "decision":
            self.totals[f"decision {row['decision']}"] += 1
            if row["decision"] == "continue_testing":
                return None  # one a day per running test: counted, not listed
            return (f"decision  {self.who(row['tenant_id'], row['agent_type'])} {row['treatment']} vs {row['control']}: "
                    f"{row['decision'].upper()} (treatment {_share(row['treatment_accuracy'])} of {row['treatment_samples']}, "
                    f"control {_share(row['control_accuracy'])} of {row['control_samples']}); {row['reason']}")
        if kind == "rollback":
            self.totals[f"rollback {row['outcome']}"] += 1
            fired = ", ".join(sorted(row["triggers"])) if isinstance(row["triggers"], dict) else row["triggers"]
            target = f"back to {row['to_version']}" if row["to_version"] else "no previous version: it stays"
            return f"ROLLBACK  {self.who(row['tenant_id'], row['agent_type'])} {row['from_version']} {target} ({fired})"
        if kind == "alert":
            self.totals[f"alert {row['severity']}"] += 1
            return f"alert     {row['severity']:<8} {row['alert_type']}: {row['message']}"
        self.totals["investigation ticket"] += 1
        return None


def _share(value) -> str:
    return f"{float(value):.3f}" if value is not None else "-"
