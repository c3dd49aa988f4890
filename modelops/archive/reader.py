"""What a tenant's training job reads of the archive: its own archived months, each file checked
before a row of it is used.

The parts come from ai.training_archive read as the tenant (row-level security shows it its own
rows only), in the snapshot that reads its rows in Postgres, so each month is read once: from the
archive if its rows were deleted in that snapshot, else from Postgres. A file is read only at the
one path its tenant, agent, month and part give; it must carry the archive's signature over that
path and its contents, hash to the recorded sha256, and hold only the tenant's rows of the agent.
Anything else (a file planted in another tenant's folder, a forged or swapped one) raises
ArchiveIntegrityError naming the file, and no row of it is used.
"""
from __future__ import annotations

import datetime as dt
import hmac
from typing import Iterator

from modelops.archive import files
from modelops.archive.files import ArchiveIntegrityError
from modelops.archive.manifest import Part
from modelops.archive.store import open_store, part_path


def batches(parts: list[Part], tenant_id, agent_type: str, now: dt.datetime,
            batch_rows: int = files.READ_ROWS) -> Iterator[list[tuple[str, str]]]:
    """(input_data, expected_output) JSON text of the parts' labelled rows, a batch at a time."""
    store = open_store()
    for part in parts:
        expected = part_path(tenant_id, agent_type, part.month, part.part)
        try:
            if str(part.tenant_id) != str(tenant_id) or part.agent_type != agent_type or part.path != expected:
                raise ArchiveIntegrityError(f"it is recorded for {part.tenant_id}/{part.agent_type}, not this tenant's "
                                            f"{agent_type} archive")
            signature = files.signature(part.path, tenant_id, agent_type, part.row_count, part.rows_digest, part.sha256)
            if not part.signature or not hmac.compare_digest(part.signature, signature):
                raise ArchiveIntegrityError("its record does not carry the archive's signature")
            with store.open(part.path) as handle:
                parquet = files.checked(handle, sha256=part.sha256)
                yield from files.training_batches(parquet, tenant_id, agent_type, now, batch_rows)
        except (ArchiveIntegrityError, OSError) as error:
            raise ArchiveIntegrityError(f"archive file {part.path} refused: {error}") from None
