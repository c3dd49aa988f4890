"""What a worker reports when asked whether it is alive and can reach its dependencies."""
from __future__ import annotations

import os
import socket

from sqlalchemy import text

from modelops import clock, db


def probe(queue: str) -> dict:
    """Who answered, from which queue, and as which database role (proves the RLS role is used)."""
    with db.unscoped() as connection:
        role = connection.execute(text("SELECT current_user")).scalar_one()
    return {
        "queue": queue,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "database_role": role,
        "at": clock.now().isoformat(),
    }
