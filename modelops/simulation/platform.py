"""Who the simulated tenants are, how busy, and what happens to their data on which day.

The script, and why each part shows what it shows:

- **Northwind** (opted in to aggregate learning) has a bookkeeper who re-organises the categories
  from day 1 (``drift``): its first model falls behind, the next one, trained on the new bookings,
  passes the gate and wins its A/B test after the test's minimum duration; from the day after that
  promotion its bank feed carries the transactions of a business it acquired (another tenant's
  data), the promoted model degrades, and the monitoring rolls it back to the version before.
- **Initech**'s integration labels most transactions with its default category (labels that do
  not depend on the input): its models learn little else, and its candidates are refused at the
  gate (a first model that does not beat always guessing that category, or a later one below
  0.98 x production on the same validation rows).
- **Globex** and any further tenant (``--tenants``) are ordinary and stable: their models must not
  be rolled back by ordinary noise.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from modelops import AGENT_TYPES

# A test starts after a few days of drifted bookings, lasts 7 days at least, and the rollback
# follows the merger the day after its promotion.
MIN_DAYS = 15
DEFAULT_LABEL = {"category": "Uncategorized"}


@dataclass(frozen=True)
class Tenant:
    name: str
    seed: int                       # who the tenant is, for the synthetic data (its merchants, mappings)
    country: str
    region: str
    opt_in: bool = False
    volume: dict[str, int] = field(default_factory=dict)   # predictions a day, per agent
    history: int = 400              # labelled rows per agent from before the run
    feedback_share: float = 0.85    # share of predictions a user answers
    drift_from: int | None = None   # classification bookings re-organised from this day
    merges: bool = False            # acquires a business the day after its classification promotion
    default_labels: bool = False    # classification labels from a misconfigured integration

    def classification_data(self, day: int, merged: bool) -> tuple[int, float]:
        """(the tenant seed whose transactions arrive, how far the bookings drifted) on ``day``."""
        seed = self.seed + 1000 if merged else self.seed
        drift = 1.0 if self.drift_from is not None and day >= self.drift_from else 0.0
        return seed, drift


def tenants(count: int, days: int) -> list[Tenant]:
    """The scripted tenants, then ``count - 3`` ordinary ones."""
    if count < 3:
        raise ValueError(f"the scenario needs at least 3 tenants, got {count}")
    if days < MIN_DAYS:
        raise ValueError(f"the scenario needs at least {MIN_DAYS} days (an A/B test lasts 7 at least), got {days}")
    ordinary = {agent: 100 for agent in AGENT_TYPES}
    scripted = [
        Tenant("Northwind Traders", seed=101, country="DE", region="eu-central", opt_in=True,
               volume={**ordinary, "classification": 2000}, drift_from=1, merges=True),
        Tenant("Initech", seed=202, country="US", region="us-east", volume=ordinary, default_labels=True),
        Tenant("Globex", seed=303, country="US", region="us-east", volume=ordinary),
    ]
    extra = [Tenant(f"Tenant {n:03d}", seed=400 + n, country="GB", region="eu-west", volume=ordinary)
             for n in range(1, count - 2)]
    return scripted + extra
