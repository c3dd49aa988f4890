"""Sticky assignment: the same key lands in the same group in every call and every process, and
the treatment gets its allocation's share of keys, within sampling error."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from scipy.stats import binom

from modelops.experiments.assignment import CONTROL, TREATMENT, assign, position

KEYS = [f"entity-{n}" for n in range(10_000)]


def treatment_share_bounds(keys: int, allocation: float) -> tuple[int, int]:
    """The central 99.9% of Binomial(keys, allocation): a hash that behaves like a fair draw
    lands outside with probability 0.001."""
    return int(binom.ppf(0.0005, keys, allocation)), int(binom.ppf(0.9995, keys, allocation))


@pytest.mark.parametrize("allocation", [0.1, 0.5, 0.02])
def test_the_treatment_gets_its_allocation_of_10000_keys_within_sampling_error(allocation):
    treated = sum(assign("test-share", key, allocation) == TREATMENT for key in KEYS)
    low, high = treatment_share_bounds(len(KEYS), allocation)
    assert low <= treated <= high, f"{treated} of {len(KEYS)} in treatment at allocation {allocation}"


def test_the_default_allocation_is_the_specs_ten_percent():
    treated = sum(assign("test-default", key) == TREATMENT for key in KEYS)
    low, high = treatment_share_bounds(len(KEYS), 0.1)
    assert low <= treated <= high


def test_the_same_key_stays_in_its_group_across_calls():
    first = [assign("test-sticky", key) for key in KEYS[:2000]]
    assert [assign("test-sticky", key) for key in KEYS[:2000]] == first
    assert set(first) == {CONTROL, TREATMENT}


@pytest.mark.slow
def test_the_same_key_gets_the_same_group_in_another_process_with_another_hash_seed():
    keys = KEYS[:500]
    here = [assign("test-process", key) for key in keys]
    script = ("import json, sys; from modelops.experiments.assignment import assign; "
              "print(json.dumps([assign('test-process', k) for k in json.load(sys.stdin)]))")
    for seed in ("1", "4242"):
        result = subprocess.run([sys.executable, "-c", script], input=json.dumps(keys), capture_output=True,
                                text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        assert json.loads(result.stdout) == here


def test_the_hash_scheme_is_pinned():
    # Changing how positions are computed would move users between groups in every running test;
    # these values were computed once from SHA-256 of "<len(test id)>:<test id>:<key>".
    assert position("ab-test-1", "customer-42") == 0.13761719300674896
    assert position("7f9c0e3a-5b7e-4c1e-9d2a-000000000001", "ent-1") == 0.35244958088976447


def test_raising_the_allocation_only_moves_keys_into_treatment():
    before = {key: assign("test-ramp", key, 0.1) for key in KEYS}
    after = {key: assign("test-ramp", key, 0.3) for key in KEYS}
    assert not [key for key in KEYS if before[key] == TREATMENT and after[key] == CONTROL]
    assert sum(after[key] == TREATMENT for key in KEYS) > sum(before[key] == TREATMENT for key in KEYS)


def test_another_test_reshuffles_the_keys():
    first = {key for key in KEYS if assign("test-a", key, 0.5) == TREATMENT}
    second = {key for key in KEYS if assign("test-b", key, 0.5) == TREATMENT}
    # Independent groups overlap on a quarter of the keys, not on half of them (or all).
    low, high = treatment_share_bounds(len(KEYS), 0.25)
    assert low <= len(first & second) <= high


def test_test_id_and_key_do_not_run_into_each_other():
    assert position("ab", "c") != position("a", "bc")


@pytest.mark.parametrize("allocation", [0, 1, 1.2, -0.1, True, "0.1"])
def test_an_allocation_outside_zero_to_one_is_a_value_error_naming_it(allocation):
    with pytest.raises(ValueError, match="allocation"):
        assign("test-bad", "key", allocation)


def test_an_empty_key_or_test_id_is_a_value_error():
    with pytest.raises(ValueError, match="key"):
        assign("test-bad", "")
    with pytest.raises(ValueError, match="test_id"):
        assign("", "key")
