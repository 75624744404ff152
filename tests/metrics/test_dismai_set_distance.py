"""Set distances, pivotal bootstrap intervals and model summaries of Dismai-Bench."""

from __future__ import annotations

import numpy as np
import pytest

from ase_lcom.errors import LCOMError
from ase_lcom.execution import ProcessExecutor, SerialExecutor
from ase_lcom.metrics.set_distance import (
    bootstrap_interval,
    featurize_set,
    set_distance,
    summarize_models,
)


def test_identical_sets_have_distance_zero():
    feats = np.random.default_rng(0).normal(size=(50, 61))
    assert set_distance(feats, feats) == 0.0
    assert set_distance(feats, feats[::-1], metric="cosine") == pytest.approx(0.0, abs=1e-12)


def test_distance_between_averages():
    ref = np.array([[0.0, 0.0], [2.0, 0.0]])  # mean (1, 0)
    gen = np.array([[1.0, 3.0], [1.0, 5.0]])  # mean (1, 4)
    assert set_distance(ref, gen) == pytest.approx(4.0)
    assert set_distance(ref, gen, metric="cosine") == pytest.approx(1.0 - 1.0 / np.sqrt(17.0))


def test_bootstrap_is_pivotal_with_fixed_seed():
    rng = np.random.default_rng(1)
    ref, gen = rng.normal(size=(40, 3)), rng.normal(0.5, 1.0, size=(30, 3))
    res = bootstrap_interval(ref, gen, n_resamples=500)
    # the same resamples drawn by hand: the generated set only, the reference mean fixed
    picks = np.random.default_rng(7).integers(0, 30, size=(500, 30))
    boot = np.linalg.norm(gen[picks].mean(axis=1) - ref.mean(axis=0), axis=1)
    q_lo, q_hi = np.quantile(boot, [0.025, 0.975])
    assert res.value == pytest.approx(set_distance(ref, gen))
    assert res.lower == pytest.approx(2 * res.value - q_hi)
    assert res.upper == pytest.approx(2 * res.value - q_lo)
    assert res.lower_error == pytest.approx(q_hi - res.value)
    assert bootstrap_interval(ref, gen, n_resamples=500) == res


def test_bootstrap_of_a_set_against_itself():
    # identical sets: the distance is 0 and the pivotal interval [-q_hi, -q_lo] reaches 0 from below
    feats = np.random.default_rng(2).normal(size=(60, 5))
    res = bootstrap_interval(feats, feats)
    assert res.value == 0.0
    assert res.lower < 0.0 and res.upper <= 0.0
    # two samples of one distribution (a scalar feature): the interval contains 0
    rng = np.random.default_rng(3)
    res = bootstrap_interval(rng.normal(size=(500, 1)), rng.normal(size=(500, 1)))
    assert res.lower <= 0.0 <= res.upper


def test_summarize_models():
    summary = summarize_models([0.0, 0.0, 0.4])
    assert (summary.mean, summary.min, summary.max) == pytest.approx((0.4 / 3, 0.0, 0.4))
    assert str(summarize_models([0.0, 0.1, 0.1])) == "0.0667 (0, 0.1)"


def test_featurize_set_serial_and_processes_agree():
    structures = [np.arange(i, i + 4, dtype=float) for i in range(6)]
    serial = featurize_set(np.cumsum, structures)
    assert serial.shape == (6, 4)
    np.testing.assert_allclose(serial[2], [2, 5, 9, 14])
    np.testing.assert_allclose(featurize_set(np.cumsum, structures, executor=SerialExecutor()), serial)
    with ProcessExecutor(workers=2) as executor:
        np.testing.assert_allclose(featurize_set(np.cumsum, structures, executor=executor), serial)
    with pytest.raises(ValueError):
        featurize_set(np.linalg.inv, [np.ones(2)], executor=SerialExecutor())  # a task error is raised


@pytest.mark.parametrize(
    "call",
    [
        lambda: set_distance(np.ones((3, 2)), np.ones((3, 4))),
        lambda: set_distance(np.ones((0, 2)), np.ones((3, 2))),
        lambda: set_distance(np.ones((3, 2)), np.ones((3, 2)), metric="manhattan"),
        lambda: bootstrap_interval(np.ones((3, 2)), np.ones((3, 2)), confidence=1.5),
        lambda: featurize_set(np.cumsum, []),
        lambda: summarize_models([]),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(LCOMError):
        call()
