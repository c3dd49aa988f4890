"""Drift profiles and the population stability index, on the agents' synthetic inputs."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from modelops.agents import get_agent
from modelops.agents.synthetic import generate
from modelops.monitoring import drift
from modelops.training import profile


def inputs(agent_type: str, n: int, *, seed: int, tenant_seed: int) -> list[dict]:
    agent = get_agent(agent_type)
    return [agent.validate_input(row) for row, _ in generate(agent_type, n, seed=seed, tenant_seed=tenant_seed)]


@pytest.fixture(scope="module")
def trained():
    """A classification profile from 3,000 training rows of one tenant, confidences around 0.8."""
    confidences = np.random.default_rng(0).beta(8, 2, 600).tolist()
    return profile.training_profile(inputs("classification", 3_000, seed=1, tenant_seed=5), confidences)


def test_psi_is_the_textbook_sum():
    assert drift.psi([0.5, 0.5], [0.5, 0.5]) == 0
    expected = (0.9 - 0.5) * math.log(0.9 / 0.5) + (0.1 - 0.5) * math.log(0.1 / 0.5)
    assert drift.psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(expected)
    # an empty bin is floored, not infinitely surprising
    assert math.isfinite(drift.psi([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]))


def test_inputs_are_flattened_to_dotted_names_with_lists_by_length_and_flags_as_categories():
    flat = profile.flatten({"bank_line": {"amount": -12.5, "reference": None}, "candidates": [{}, {}], "has_receipt": True})
    assert flat == {"bank_line.amount": -12.5, "bank_line.reference": None, "candidates.count": 2.0, "has_receipt": "true"}


def test_the_profile_reads_numbers_categories_and_free_text_and_drops_constants(trained):
    features = trained["features"]
    assert features["amount"]["kind"] == "numeric" and len(features["amount"]["edges"]) >= 5
    assert features["direction"]["kind"] == "categorical" and set(features["direction"]["categories"]) <= {"debit", "credit"}
    assert features["description.words"]["read_as"] == "words" and features["description.length"]["read_as"] == "length"
    assert "currency" not in features  # every training row was in one currency: no information
    assert "date" not in features and "date.length" not in features  # ISO dates all have one length
    assert all(sum(view["shares"]) == pytest.approx(1) for view in features.values())
    assert json.loads(json.dumps(trained)) == trained  # stored as JSONB


def test_values_on_a_bin_edge_fall_in_the_lower_bin_and_missing_values_in_their_own():
    bins = profile._numeric_bins([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    shares = drift.recent_shares({**bins, "read_as": "value"}, [bins["edges"][0], None, None, None])
    assert shares[0] == 0.25 and shares[-1] == 0.75


def test_another_sample_of_the_same_population_shows_no_drift(trained):
    found = drift.compare(trained, inputs("classification", 2_000, seed=2, tenant_seed=5),
                          np.random.default_rng(1).beta(8, 2, 2_000).round(2).tolist())
    assert max(found["features"].values()) < 0.1 and found["confidence"] < 0.1


def test_another_population_drifts_on_its_words(trained):
    found = drift.compare(trained, inputs("classification", 2_000, seed=2, tenant_seed=9), [])
    shifted = {name for name, value in found["features"].items() if value > drift.PSI_THRESHOLD}
    assert shifted & {"description.words", "merchant.words"}
    assert found["confidence"] is None


def test_amounts_twenty_times_larger_drift_on_the_amount_alone(trained):
    recent = [{**row, "amount": row["amount"] * 20} for row in inputs("classification", 2_000, seed=2, tenant_seed=5)]
    found = drift.compare(trained, recent, [])
    assert {name for name, value in found["features"].items() if value > drift.PSI_THRESHOLD} == {"amount"}


def test_a_model_that_grew_unsure_drifts_on_its_confidence(trained):
    found = drift.compare(trained, inputs("classification", 2_000, seed=2, tenant_seed=5),
                          np.random.default_rng(2).beta(3, 3, 2_000).round(2).tolist())
    assert found["confidence"] > drift.PSI_THRESHOLD


def test_a_large_training_set_is_profiled_from_an_even_sample():
    rows = [{"amount": float(i % 100), "kind": "a" if i % 2 else "b"} for i in range(profile.PROFILE_ROWS * 3)]
    profiled = profile.training_profile(rows, [])
    assert profiled["rows"] == profile.PROFILE_ROWS and profiled["confidence"] is None
    assert profiled["features"]["kind"]["shares"][:2] == [0.5, 0.5]
