"""Alerts: raised, deduplicated while open, resolved by an operator, and notified once.

An alert's kind is its type, tenant, agent and model version (its ``dedup_key``). While one of a
kind is open (active or acknowledged), raising it again only counts the occurrence and refreshes
its message and details: a condition checked every second raises one alert, not one a second
(a partial unique index holds this however many processes raise it at once).

Notification is an outbox: a new alert is written with ``notified_at`` empty, in the caller's
transaction, and ``deliver_pending`` hands such alerts to the notifiers after that transaction
committed. So no one is told of an alert that rolled back, no transaction (nor the scope lock a
rollback holds) waits on a slow webhook, and a repeat of an open alert is never notified again.
Alerts that any code writes into the table (the A/B evaluation's sample-ratio alert, say) go out
the same way. An alert is claimed (marked notified) before it is sent and given back if its
channel failed, to be tried again at the next pass while it stays open; a process that dies
between the claim and the send loses that one notification (the alert itself stays listed).
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import Connection, text

from modelops import db
from modelops.alerting import notifiers

SEVERITIES = ("info", "warning", "critical")
AUDIENCES = ("ml", "operations")
# one pass stops at this many alerts, and at the first one a channel refused (it is likely down)
DELIVERY_BATCH = 20


class AlertError(ValueError):
    """An alert that cannot be raised or resolved as asked; the message says why."""


def dedup_key(alert_type: str, tenant_id: Any = None, agent_type: str | None = None, model_version_id: Any = None) -> str:
    return ":".join([alert_type, str(tenant_id or "-"), agent_type or "-", str(model_version_id or "-")])


RAISE = text("""
    INSERT INTO ai.alerts (alert_type, severity, audience, tenant_id, agent_type, model_version_id, message, details,
                           dedup_key, created_at, last_seen_at)
    VALUES (:alert_type, :severity, :audience, :tenant, :agent, :version, :message, CAST(:details AS jsonb),
            :dedup_key, :now, :now)
    ON CONFLICT (dedup_key) WHERE status <> 'resolved'
    DO UPDATE SET occurrences = ai.alerts.occurrences + 1, last_seen_at = EXCLUDED.last_seen_at,
                  message = EXCLUDED.message, details = EXCLUDED.details
    RETURNING *, (xmax = 0) AS created
""")


def raise_alert(connection: Connection, *, alert_type: str, severity: str, message: str, audience: str = "ml",
                tenant_id: Any = None, agent_type: str | None = None, model_version_id: Any = None,
                details: dict | None = None, now: dt.datetime) -> dict:
    """The alert as stored, with ``created``: True for a new alert (it will be notified), False when
    an open one of the same kind was bumped."""
    if not alert_type or not alert_type.strip():
        raise AlertError("an alert needs a type")
    if severity not in SEVERITIES:
        raise AlertError(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    if audience not in AUDIENCES:
        raise AlertError(f"audience must be one of {', '.join(AUDIENCES)}, got {audience!r}")
    if not message or not message.strip():
        raise AlertError("an alert needs a message")
    tenant = _uuid(tenant_id, "tenant_id")
    version = _uuid(model_version_id, "model_version_id")
    row = connection.execute(RAISE, {
        "alert_type": alert_type.strip(), "severity": severity, "audience": audience, "tenant": tenant,
        "agent": agent_type, "version": version, "message": message.strip(),
        "details": json.dumps(details or {}, default=str), "now": now,
        "dedup_key": dedup_key(alert_type.strip(), tenant, agent_type, version),
    }).mappings().one()
    return {**view(row), "created": row["created"]}


def resolve_alert(connection: Connection, alert_id: Any, *, resolved_by: str, note: str | None, now: dt.datetime) -> dict:
    """Close an open alert, saying who did and why; AlertError for an unknown or already resolved one."""
    alert = _uuid(alert_id, "alert id")
    if alert is None:
        raise AlertError("say which alert to resolve (its id)")
    if not resolved_by or not resolved_by.strip():
        raise AlertError("say who resolves the alert (it is recorded as resolved_by)")
    row = connection.execute(
        text("""UPDATE ai.alerts SET status = 'resolved', resolved_at = :now, resolved_by = :by, resolution_note = :note
                WHERE id = :id AND status <> 'resolved' RETURNING *"""),
        {"id": alert, "now": now, "by": resolved_by.strip(), "note": (note or "").strip() or None},
    ).mappings().first()
    if row is not None:
        return view(row)
    existing = connection.execute(text("SELECT resolved_at, resolved_by FROM ai.alerts WHERE id = :id"), {"id": alert}).first()
    if existing is None:
        raise AlertError(f"alert {alert} does not exist (or belongs to another tenant)")
    raise AlertError(f"alert {alert} was already resolved by {existing.resolved_by} at {existing.resolved_at.isoformat()}")


LISTING = text("""
    SELECT * FROM ai.alerts
    WHERE (CAST(:tenant AS uuid) IS NULL OR tenant_id = CAST(:tenant AS uuid))
      AND (:include_resolved OR status <> 'resolved')
    ORDER BY status = 'resolved', array_position(ARRAY['critical', 'warning', 'info'], severity), last_seen_at DESC
    LIMIT :limit
""")


def listing(connection: Connection, tenant_id: Any = None, include_resolved: bool = False, limit: int = 200) -> list[dict]:
    """Open alerts first, the most severe first, then the most recently seen; resolved ones after
    them when asked for."""
    tenant = _uuid(tenant_id, "tenant id")
    rows = connection.execute(LISTING, {"tenant": tenant, "include_resolved": include_resolved, "limit": limit})
    return [view(row) for row in rows.mappings()]


def open_alerts(connection: Connection, tenant_id: Any = None) -> list[dict]:
    return listing(connection, tenant_id)


CLAIM_PENDING = text("""
    UPDATE ai.alerts SET notified_at = :now
    WHERE id IN (SELECT id FROM ai.alerts WHERE notified_at IS NULL AND status <> 'resolved'
                 ORDER BY created_at LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING *
""")


def deliver_pending(now: dt.datetime, channels: list[notifiers.Notifier] | None = None) -> dict:
    """Notify the open alerts not notified yet (every tenant's); {notified, failed} alert ids."""
    channels = notifiers.configured() if channels is None else channels
    with db.operator_scope() as connection:
        claimed = [view(row) for row in connection.execute(CLAIM_PENDING, {"now": now, "limit": DELIVERY_BATCH}).mappings()]
    claimed.sort(key=lambda alert: alert["created_at"])
    notified, failed = [], []
    for alert in claimed:
        if failed or not notifiers.deliver(alert, channels):
            failed.append(alert["id"])
        else:
            notified.append(alert["id"])
    if failed:  # given back, to be tried again at the next pass
        with db.operator_scope() as connection:
            connection.execute(text("UPDATE ai.alerts SET notified_at = NULL WHERE id = ANY(CAST(:ids AS uuid[]))"),
                               {"ids": failed})
    return {"notified": notified, "failed": failed}


def view(row) -> dict:
    """An alert row as plain JSON values."""
    alert = {key: row[key] for key in ("alert_type", "severity", "status", "audience", "agent_type", "message",
                                       "details", "dedup_key", "occurrences", "resolved_by", "resolution_note")}
    alert |= {key: str(row[key]) if row[key] else None for key in ("id", "tenant_id", "model_version_id")}
    alert |= {key: row[key].isoformat() if row[key] else None
              for key in ("created_at", "last_seen_at", "notified_at", "resolved_at")}
    return alert


def _uuid(value: Any, what: str) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise AlertError(f"{what} must be a UUID, got {value!r}") from None
