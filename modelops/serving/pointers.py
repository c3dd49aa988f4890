"""Which version serves (agent, tenant) right now, checked at most every half second.

A promotion or rollback is a committed row change; a serving process learns of it when it next
checks the keys it is asked about. Keys older than ``max_age`` are checked together, in one call
per batch, with every other key in use that is half as old (``PointerCache._refresh``): the call
reads a signature of every registry row each key's route depends on (one query) and resolves
again only the keys whose signature moved. So the database sees a query or
two a second per process however many predictions flow, and a change is in effect within
``max_age`` plus one batch (under 1 s). Freshness is measured on the monotonic clock, not
``modelops.clock``: it is about how soon real time sees a committed change, whatever simulated
time says.
"""
from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from typing import Callable, Iterable

from modelops.serving.routes import Route

Key = tuple[str, uuid.UUID]  # (agent_type, tenant_id)
Known = tuple[str, Route]  # (signature of what the route was resolved from, the route)
# refresh(keys to read, what is known of them) -> (signature, route) for every one of those keys
Refresher = Callable[[list[Key], dict[Key, Known]], dict[Key, Known]]

MAX_AGE_SECONDS = 0.5
MAX_KEYS = 100_000  # a route is small; the bound only stops an unbounded stream of tenants growing it


class PointerCache:
    def __init__(self, refresh: Refresher, max_age: float = MAX_AGE_SECONDS, max_keys: int = MAX_KEYS,
                 monotonic: Callable[[], float] = time.monotonic):
        self.refresh = refresh
        self.max_age = max_age
        self.max_keys = max_keys
        self.monotonic = monotonic
        self._entries: OrderedDict[Key, tuple[float, Known]] = OrderedDict()  # least recently asked first
        self._asked: dict[Key, float] = {}  # when each key was last asked for

    def routes(self, keys: Iterable[Key]) -> dict[Key, Route]:
        wanted = set(keys)
        now = self.monotonic()
        if any(key not in self._entries or now - self._entries[key][0] >= self.max_age for key in wanted):
            self._refresh(wanted, now)
        for key in wanted:
            self._entries.move_to_end(key)
            self._asked[key] = now
        while len(self._entries) > self.max_keys:
            key, _ = self._entries.popitem(last=False)
            del self._asked[key]
        return {key: self._entries[key][1][1] for key in wanted}

    def _refresh(self, wanted: set[Key], now: float) -> None:
        """Reads this batch's stale and new keys, and with them every key in use (asked for within
        ``max_age``) that is at least half of ``max_age`` old, so that the keys in use are read
        together, once or twice per ``max_age``. Each key read only when it was stale, at its own
        moment, made single requests from many tenants read the registry in nearly every batch (a
        tenth of a pool process's time at 800 requests a second from 100 tenants)."""
        soon = self.max_age / 2
        due = {key for key in wanted if key not in self._entries or now - self._entries[key][0] >= soon}
        for key in reversed(self._entries):  # the most recently asked first
            if now - self._asked[key] >= self.max_age:
                break
            if now - self._entries[key][0] >= soon:
                due.add(key)
        known = {key: self._entries[key][1] for key in due if key in self._entries}
        for key, entry in self.refresh(list(due), known).items():
            self._entries[key] = (now, entry)
