"""The artifact store: model files named by their content hash, shared by every worker.

joblib files are pickles, and loading a pickle runs code, so a file is unpickled only after its
bytes hash to the sha256 recorded in the version row: a tampered, truncated or swapped file is
refused. Writes go to a temporary file in the same directory and are renamed into place, so a
reader never sees half a file and two workers writing the same model do not collide.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

# The protocol joblib writes; every Python this project supports reads it.
PROTOCOL = 4


class ArtifactIntegrityError(RuntimeError):
    """The artifact's bytes are not the ones the version row recorded."""


@dataclass(frozen=True)
class StoredArtifact:
    path: str  # relative to the store's root, so the store can move
    sha256: str
    size_bytes: int


class CanonicalPickler(pickle._Pickler):
    """A pickler whose bytes depend on the model alone, not on the process that writes it.

    A pickler writes a string once and refers back to it when the *same object* comes again, so
    whether "dtype" is written out or referred to depends on which string objects this process
    happens to share (interning, caches, what it did before): the same model pickled by two worker
    processes came out 6 bytes apart. This one refers back to any *equal* string written before.
    (joblib's own pickler is this pure-Python one too; joblib.load reads the result.)
    """

    def __init__(self, file, protocol: int = PROTOCOL):
        super().__init__(file, protocol)
        self._strings: dict[str, int] = {}

    def save(self, obj, save_persistent_id=True):
        if type(obj) is not str:
            return super().save(obj, save_persistent_id)
        index = self._strings.get(obj)
        if index is not None:
            self.write(self.get(index))
            return None
        super().save(obj, save_persistent_id)
        if id(obj) in self.memo:
            self._strings[obj] = self.memo[id(obj)][0]
        return None


def serialise(model: Any) -> bytes:
    buffer = io.BytesIO()
    CanonicalPickler(buffer).dump(model)
    return buffer.getvalue()


class ArtifactStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def save(self, model: Any) -> StoredArtifact:
        data = serialise(model)
        digest = hashlib.sha256(data).hexdigest()
        relative = Path(digest[:2]) / f"{digest}.joblib"
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, target)
        return StoredArtifact(str(relative), digest, len(data))

    def load(self, path: str, sha256: str) -> Any:
        target = self.root / path
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise ArtifactIntegrityError(f"artifact {path} is missing from {self.root}") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise ArtifactIntegrityError(f"artifact {path} hashes to {actual[:12]}…, not the recorded {sha256[:12]}…; refusing to load it")
        return joblib.load(io.BytesIO(data))
