"""Calling the public tasks as a service: the arguments sealed in an envelope with its credential.

What any other service does in its own language (docs/contracts.md), for the system's own tools
that act as one: the demo's scenario, the command line's predictions, benchmarks, tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelops.auth.envelope import seal


@dataclass(frozen=True)
class ServiceCaller:
    service: str
    credential: bytes

    @classmethod
    def from_hex(cls, service: str, credential: str) -> "ServiceCaller":
        return cls(service, bytes.fromhex(credential))

    def kwargs(self, task_name: str, **arguments: Any) -> dict:
        """The ``kwargs`` of one call of ``task_name`` with these arguments."""
        return {"envelope": seal(self.credential, self.service, task_name, arguments)}
