"""Privacy tasks: scrub accepted feedback and only then store it; rebuild the opt-in aggregates."""
from sqlalchemy.exc import OperationalError

from modelops import clock, intake
from modelops.privacy import aggregates
from workers.app import app


@app.task(name="modelops.privacy.scrub_and_store", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def scrub_and_store(events: list[dict]) -> dict:
    """Result: {stored, duplicates, scrub_hits: {placeholder: n}}."""
    return intake.scrub_and_store(events)


@app.task(name="modelops.privacy.build_aggregates")
def build_aggregates() -> list[dict]:
    """Rebuild every country and region aggregate from the tenants opted in now."""
    return aggregates.build_all(clock.now())
