"""One archive file: a tenant's feedback rows of one agent and month, every column of
ai.training_data, in Parquet (pyarrow), in the order Postgres gives them to training (creation
time, then id), so a model streamed from the archive then Postgres sees the rows in the same order
as from Postgres alone.

JSON columns are kept as their JSON text, so a row comes back exactly as stored. A file is
described by its row count, a digest of its rows' ids that does not depend on their order (the
rows Postgres deletes are compared with it), its sha256 and a signature: an HMAC, with a key
derived from the deployment's secret, over where the file belongs and what it holds.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from modelops.keys import derived_key

# (column, how Postgres gives it, its Parquet type)
COLUMNS = (
    ("id", "id::text", pa.string()), ("tenant_id", "tenant_id::text", pa.string()),
    ("agent_type", "agent_type::text", pa.string()), ("input_data", "input_data::text", pa.string()),
    ("expected_output", "expected_output::text", pa.string()), ("actual_output", "actual_output::text", pa.string()),
    ("was_correct", "was_correct", pa.bool_()), ("user_feedback", "user_feedback", pa.string()),
    ("confidence_score", "confidence_score::text", pa.string()),
    ("feedback_timestamp", "feedback_timestamp", pa.timestamp("us")), ("created_at", "created_at", pa.timestamp("us")),
    ("updated_at", "updated_at", pa.timestamp("us")), ("source", "source", pa.string()),
    ("prediction_id", "prediction_id::text", pa.string()), ("idempotency_key", "idempotency_key", pa.string()),
    ("scrub_hits", "scrub_hits::text", pa.string()), ("signal", "signal::text", pa.string()),
)
SCHEMA = pa.schema([(name, kind) for name, _, kind in COLUMNS])
SELECTED = ", ".join(expression for _, expression, _ in COLUMNS)
READ_ROWS = 50_000
_DIGEST_MODULUS = 2**128


class ArchiveIntegrityError(Exception):
    """A file is not the one the archive wrote: refused before any of its rows is used."""


def id_digest(ids: Iterable[str]) -> int:
    """A sum of the ids' hashes: the same for the same rows in any order (Postgres returns the rows
    it deleted in an order of its own)."""
    return sum(int.from_bytes(hashlib.blake2b(str(i).encode(), digest_size=16).digest(), "big")
               for i in ids) % _DIGEST_MODULUS


@dataclass(frozen=True)
class Written:
    rows: int
    rows_digest: str
    sha256: str
    first_created_at: dt.datetime | None
    last_created_at: dt.datetime | None


def write(path, batches: Iterable[list[tuple]]) -> Written:
    """Rows (tuples in ``COLUMNS`` order), a batch at a time, to a Parquet file at ``path``."""
    rows, digest, first, last = 0, 0, None, None
    created = [name for name, _, _ in COLUMNS].index("created_at")
    with pq.ParquetWriter(str(path), SCHEMA, compression="zstd") as writer:
        for batch in batches:
            if not batch:
                continue
            columns = list(zip(*batch))
            writer.write_table(pa.table([pa.array(values, type=kind) for values, (_, _, kind) in zip(columns, COLUMNS)],
                                        schema=SCHEMA))
            rows += len(batch)
            digest = (digest + id_digest(columns[0])) % _DIGEST_MODULUS
            first = first or batch[0][created]
            last = batch[-1][created]
    with open(path, "rb") as handle:
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    return Written(rows, f"{digest:032x}", sha256, first, last)


def signature(path: str, tenant_id, agent_type: str, rows: int, rows_digest: str, sha256: str) -> str:
    message = f"modelops training archive\n{path}\n{uuid.UUID(str(tenant_id))}\n{agent_type}\n{rows}\n{rows_digest}\n{sha256}"
    return hmac.new(derived_key("training-archive"), message.encode(), hashlib.sha256).hexdigest()


def checked(handle: BinaryIO, *, sha256: str) -> pq.ParquetFile:
    """The Parquet file behind an open handle, once its bytes hash to ``sha256`` (read through the
    same handle, so what is checked is what is read)."""
    found = hashlib.file_digest(handle, "sha256").hexdigest()
    if not hmac.compare_digest(found, sha256):
        raise ArchiveIntegrityError(f"its bytes hash to {found}, not the recorded {sha256}")
    handle.seek(0)
    return pq.ParquetFile(handle)


def verify(handle: BinaryIO, written: Written) -> None:
    """The file as published holds what was written: its bytes, its row count and its rows' ids."""
    parquet = checked(handle, sha256=written.sha256)
    if parquet.metadata.num_rows != written.rows:
        raise ArchiveIntegrityError(f"it holds {parquet.metadata.num_rows} rows, not the {written.rows} written")
    digest = 0
    for batch in parquet.iter_batches(batch_size=READ_ROWS, columns=["id"]):
        digest = (digest + id_digest(batch.column(0).to_pylist())) % _DIGEST_MODULUS
    if f"{digest:032x}" != written.rows_digest:
        raise ArchiveIntegrityError("its rows' ids are not those written")


def training_batches(parquet: pq.ParquetFile, tenant_id, agent_type: str, now: dt.datetime,
                     batch_rows: int = READ_ROWS) -> Iterator[list[tuple[str, str]]]:
    """(input_data, expected_output) JSON text of the labelled rows up to ``now``, a batch at a
    time; ArchiveIntegrityError at the first row of another tenant or agent."""
    tenant = str(uuid.UUID(str(tenant_id)))
    columns = ["tenant_id", "agent_type", "input_data", "expected_output", "created_at"]
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
        owners, agents, inputs, labels, created = (batch.column(i).to_pylist() for i in range(5))
        if set(owners) != {tenant} or set(agents) != {agent_type}:
            raise ArchiveIntegrityError(f"it holds rows of {sorted(set(owners) - {tenant}) or 'another agent'}")
        yield [(i, label) for i, label, at in zip(inputs, labels, created) if label is not None and at <= now]
