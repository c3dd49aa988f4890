"""Where archive files live: a local directory by default (``training-archive`` in the artifact
store), or any fsspec filesystem URL (``s3://bucket/prefix``, with the ``object-storage`` extra)
named by ``MODELOPS_ARCHIVE_URL``.

A file appears whole or not at all: it is written to a staging name beside its final one, synced,
then renamed (a local rename is atomic; on an object store the final object is made by one copy of
a complete upload). Paths inside the store are made here from a tenant id, an agent name, a month
and a part, never taken from outside.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from modelops.config import settings

ARCHIVE_DIRECTORY = "training-archive"


def archive_url() -> str:
    return os.environ.get("MODELOPS_ARCHIVE_URL") or str(settings().artifact_dir / ARCHIVE_DIRECTORY)


def part_path(tenant_id, agent_type: str, month: dt.date, part: int) -> str:
    """The one path a part of a tenant's month may have: partitioned by tenant, agent and month."""
    return (f"tenant={uuid.UUID(str(tenant_id))}/agent={agent_type}/month={month:%Y-%m}/"
            f"part-{int(part):04d}.parquet")


class LocalStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _file(self, relative: str) -> Path:
        return self.root / relative

    @contextmanager
    def staged(self, relative: str) -> Iterator[Path]:
        """A staging file beside the final one (so the rename stays on one filesystem); removed
        unless ``publish`` renamed it, or by the next archiver if this one is killed."""
        target = self._file(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        # one archiver runs at a time (mover.archive_old_rows): a staging file here is one that a
        # killed archiver left, holding rows no one reads
        for left in target.parent.glob(".staging-*"):
            left.unlink(missing_ok=True)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=".staging-", suffix=".parquet")
        os.close(handle)
        try:
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    def publish(self, staged: Path, relative: str) -> None:
        with open(staged, "rb+") as handle:
            os.fsync(handle.fileno())
        target = self._file(relative)
        os.replace(staged, target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)

    def open(self, relative: str) -> BinaryIO:
        return open(self._file(relative), "rb")

    def exists(self, relative: str) -> bool:
        return self._file(relative).is_file()

    def delete(self, relative: str) -> None:
        self._file(relative).unlink(missing_ok=True)


class FsspecStore:
    def __init__(self, url: str):
        import fsspec

        self.fs, self.root = fsspec.core.url_to_fs(url)

    def _key(self, relative: str) -> str:
        return f"{self.root.rstrip('/')}/{relative}"

    @contextmanager
    def staged(self, relative: str) -> Iterator[Path]:
        directory = tempfile.mkdtemp(prefix="modelops-archive-")
        try:
            yield Path(directory) / "staged.parquet"
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def publish(self, staged: Path, relative: str) -> None:
        staging = self._key(f"{relative}.staging-{uuid.uuid4().hex}")
        self.fs.put_file(str(staged), staging)
        self.fs.mv(staging, self._key(relative))

    def open(self, relative: str) -> BinaryIO:
        return self.fs.open(self._key(relative), "rb")

    def exists(self, relative: str) -> bool:
        return self.fs.exists(self._key(relative))

    def delete(self, relative: str) -> None:
        if self.fs.exists(self._key(relative)):
            self.fs.rm(self._key(relative))


def open_store(url: str | None = None) -> LocalStore | FsspecStore:
    url = url or archive_url()
    if "://" in url and not url.startswith("file://"):
        return FsspecStore(url)
    return LocalStore(url.removeprefix("file://"))
