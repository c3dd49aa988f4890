"""Privacy tasks: scrub accepted feedback and only then store it; rebuild the opt-in aggregates."""
from modelops import clock, intake
from modelops.privacy import aggregates
from schemas.tasks import TaskName
from workers.app import task


@task(TaskName.PRIVACY_SCRUB_AND_STORE, outage_retries=8)
def scrub_and_store(events: list[dict]) -> dict:
    """Result: {stored, duplicates, scrub_hits: {placeholder: n}}."""
    return intake.scrub_and_store(events)


@task(TaskName.PRIVACY_BUILD_AGGREGATES)
def build_aggregates() -> list[dict]:
    """Rebuild every country and region aggregate from the tenants opted in now."""
    return aggregates.build_all(clock.now())
