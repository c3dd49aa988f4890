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
from modelops.registry import store

# (the versions themselves come from the registry, which also gives the others their version labels:
# a run's tests and rollbacks are of its tenants' versions and the shared models, all among them)
DECISIONS = text("""
    SELECT d.id, t.agent_type, t.tenant_id, d.decision, d.reason, d.control_accuracy, d.treatment_accuracy,
           d.control_samples, d.treatment_samples, d.p_value, t.treatment_version_id, t.control_version_id
    FROM ai.ab_test_decisions d JOIN ai.ab_tests t ON t.id = d.ab_test_id
    WHERE t.tenant_id = ANY(:tenants)
""")
TESTS = text("""
    SELECT t.id, t.agent_type, t.tenant_id, t.status, t.treatment_version_id, t.control_version_id
    FROM ai.ab_tests t WHERE t.tenant_id = ANY(:tenants)
""")
ROLLBACKS = text("""
    SELECT r.id, r.agent_type, r.tenant_id, r.outcome, r.triggers, r.from_version_id, r.to_version_id
    FROM ai.rollback_events r WHERE r.tenant_id = ANY(:tenants)
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
            versions = store.of_tenants(connection, list(self.names))
            found = {name: connection.execute(query, {"tenants": list(self.names)}).mappings().all()
                     for name, query in (("test", TESTS), ("decision", DECISIONS), ("rollback", ROLLBACKS),
                                         ("alert", ALERTS), ("ticket", TICKETS))}
        labels = {version.id: version.version for version in versions}
        lines = [self._describe_version(version) for version in versions
                 if self._first_seen(("version", version.id, version.status))]
        lines += [self._describe(kind, row, labels) for kind, rows in found.items() for row in rows
                  if self._first_seen((kind, row["id"], row.get("status")))]
        return [line for line in lines if line]

    def _first_seen(self, key: tuple) -> bool:
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def _describe_version(self, version: store.ModelVersion) -> str | None:
        if version.status == "candidate":
            return None  # reported once judged
        self.totals[f"version {version.status}"] += 1
        accuracy = f"accuracy {float(version.accuracy_score):.3f}" if version.accuracy_score is not None else ""
        return (f"version   {self.who(version.tenant_id, version.agent_type)} {version.version} {version.status}: "
                f"{accuracy}; {version.status_reason}")

    def _describe(self, kind: str, row, labels: dict) -> str | None:
        if kind == "test":
            self.totals[f"A/B test {row['status']}"] += 1
            return (f"A/B test  {self.who(row['tenant_id'], row['agent_type'])} {labels[row['treatment_version_id']]} vs "
                    f"{labels[row['control_version_id']]}: "
                    f"{row['status']}")
        if kind == "decision":
            self.totals[f"decision {row['decision']}"] += 1
            if row["decision"] == "continue_testing":
                return None  # one a day per running test: counted, not listed
            return (f"decision  {self.who(row['tenant_id'], row['agent_type'])} {labels[row['treatment_version_id']]} vs "
                    f"{labels[row['control_version_id']]}: "
                    f"{row['decision'].upper()} (treatment {_share(row['treatment_accuracy'])} of {row['treatment_samples']}, "
                    f"control {_share(row['control_accuracy'])} of {row['control_samples']}); {row['reason']}")
        if kind == "rollback":
            self.totals[f"rollback {row['outcome']}"] += 1
            fired = ", ".join(sorted(row["triggers"])) if isinstance(row["triggers"], dict) else row["triggers"]
            target = f"back to {labels[row['to_version_id']]}" if row["to_version_id"] else "no previous version: it stays"
            return f"ROLLBACK  {self.who(row['tenant_id'], row['agent_type'])} {labels[row['from_version_id']]} {target} ({fired})"
        if kind == "alert":
            self.totals[f"alert {row['severity']}"] += 1
            return f"alert     {row['severity']:<8} {row['alert_type']}: {row['message']}"
        self.totals["investigation ticket"] += 1
        return None


def _share(value) -> str:
    return f"{float(value):.3f}" if value is not None else "-"
