"""The artifact store: model files named by their content hash, shared by every worker.

joblib files are pickles, and loading a pickle runs code, so nothing is unpickled before three
checks pass, none of which trusts the database alone:

- the path the version row records is resolved inside the store: an absolute path, a ``..`` or a
  symlink that leads out is refused, so a row cannot point a worker at a file elsewhere;
- a signature file beside the artifact holds an HMAC of its path and sha256 under a key that is
  never in the database (``modelops.keys``): only a process holding the key (a trainer) can vouch
  for a (path, sha256) pair, so a database session that rewrites both to name a planted file
  cannot make it load;
- the bytes must hash to the recorded sha256: a tampered, truncated or swapped file is refused.

Writes go to a temporary file in the same directory and are renamed into place, so a reader never
sees half a file and two workers writing the same model do not collide.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import os
import pickle
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import joblib

from modelops.keys import derived_key

# The protocol joblib writes; every Python this project supports reads it.
PROTOCOL = 4
# An artifact's signature lives beside it, in a file named after it with this suffix.
SIGNATURE_SUFFIX = ".sig"
SHA256 = re.compile(r"[0-9a-f]{64}")


class ArtifactIntegrityError(RuntimeError):
    """The artifact cannot be trusted: its bytes are not the ones recorded, its signature does not
    verify, or its path leads out of the store. Nothing of it was unpickled."""


class UnsafeArtifactPath(ArtifactIntegrityError, ValueError):
    """A path that is not a plain relative path inside the store."""


class ArtifactSignatureError(ArtifactIntegrityError):
    """The (path, sha256) pair was not signed with this deployment's artifact key."""


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


def relative_path(path: str) -> PurePosixPath:
    """``path`` as a plain path relative to the store; UnsafeArtifactPath when it is empty,
    absolute or climbs with ``..`` (a symlink leading out is found by ``ArtifactStore.resolve``)."""
    if not isinstance(path, str) or not path.strip() or "\0" in path:
        raise UnsafeArtifactPath(f"artifact path {path!r} is refused: it is not a path")
    relative = PurePosixPath(path)
    if relative.is_absolute():
        raise UnsafeArtifactPath(f"artifact path {path!r} is refused: it is absolute, and artifact paths are "
                                 f"relative to the artifact store")
    if ".." in relative.parts:
        raise UnsafeArtifactPath(f"artifact path {path!r} is refused: it climbs out of the artifact store with '..'")
    return relative


def signature(path: PurePosixPath, sha256: str) -> str:
    """The HMAC-SHA256 that vouches for the artifact at ``path`` having the bytes hashing to ``sha256``."""
    message = f"modelops artifact\n{path.as_posix()}\n{sha256}".encode()
    return hmac.new(derived_key("artifacts"), message, hashlib.sha256).hexdigest()


def _signature_path(relative: PurePosixPath) -> PurePosixPath:
    return relative.with_name(relative.name + SIGNATURE_SUFFIX)


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, target)


class ArtifactStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def resolve(self, path: str | PurePosixPath) -> Path:
        """The file ``path`` names inside the store, symlinks followed; UnsafeArtifactPath when it
        is not relative or leads out of the store."""
        relative = relative_path(path.as_posix() if isinstance(path, PurePosixPath) else path)
        root = self.root.resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root):
            raise UnsafeArtifactPath(f"artifact path {str(path)!r} is refused: a symlink leads it out of the "
                                     f"artifact store, to {target}")
        return target

    def save(self, model: Any) -> StoredArtifact:
        data = serialise(model)
        digest = hashlib.sha256(data).hexdigest()
        relative = PurePosixPath(digest[:2], f"{digest}.joblib")
        target = self.resolve(relative)
        if not target.exists():
            _write_atomically(target, data)
        # Written every time (the same bytes for the same model), so a model saved again is signed
        # even if its file was first written before artifacts were signed.
        _write_atomically(self.resolve(_signature_path(relative)), signature(relative, digest).encode())
        return StoredArtifact(relative.as_posix(), digest, len(data))

    def verified_bytes(self, path: str, sha256: str) -> bytes:
        """The artifact's bytes once its path, signature and hash have been checked; nothing is
        unpickled. ArtifactIntegrityError (naming the path) when any check fails."""
        target = self.resolve(path)
        if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
            raise ArtifactIntegrityError(f"artifact {path}: the recorded sha256 {sha256!r} is not 64 lowercase hex "
                                         f"characters; refusing to load it")
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise ArtifactIntegrityError(f"artifact {path} is missing from {self.root}") from None
        self._check_signature(relative_path(path), sha256)
        # The bytes read are the bytes checked: a file swapped after its path was resolved fails here.
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise ArtifactIntegrityError(f"artifact {path} hashes to {actual[:12]}…, not the recorded {sha256[:12]}…; refusing to load it")
        return data

    def _check_signature(self, relative: PurePosixPath, sha256: str) -> None:
        signature_file = self.resolve(_signature_path(relative))
        try:
            recorded = signature_file.read_text().strip()
        except FileNotFoundError:
            raise ArtifactSignatureError(f"artifact {relative} has no signature ({signature_file.name} is missing: it "
                                         f"was written before artifacts were signed, or not by a trainer); refusing to "
                                         f"load it") from None
        if not hmac.compare_digest(recorded, signature(relative, sha256)):
            raise ArtifactSignatureError(f"artifact {relative} with sha256 {sha256[:12]}… does not match its signature: "
                                         f"that path and hash were not recorded together by a trainer of this deployment; "
                                         f"refusing to load it")

    def intact(self, path: str, sha256: str) -> bool:
        """Whether ``load`` would accept the artifact (read and checked, not unpickled)."""
        try:
            self.verified_bytes(path, sha256)
        except ArtifactIntegrityError:
            return False
        return True

    def load(self, path: str, sha256: str) -> Any:
        return joblib.load(io.BytesIO(self.verified_bytes(path, sha256)))
