"""Housekeeping tasks: health probes through any queue, audit-log partitions."""
from modelops import clock, db, health, retention
from workers.app import app


@app.task(name="modelops.maintenance.ping")
def ping(queue: str) -> dict:
    """Sent to each queue in turn by `modelops ping` and the main job's round trip."""
    return health.probe(queue)


@app.task(name="modelops.maintenance.maintain_partitions")
def maintain_partitions() -> dict:
    today = clock.today()
    with db.operator_scope() as connection:
        made = retention.ensure_partitions(connection, today)
        dropped = retention.drop_expired_partitions(connection, today)
    return {"ensured": made, "dropped": dropped}
