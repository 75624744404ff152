"""The paper's 20% formation-energy criterion and energies above a reference."""

from __future__ import annotations

import math

import pytest

from ase_lcom.errors import MetricError
from ase_lcom.metrics.energy import energy_above_mev, energy_criterion, relative_gap


def test_criterion_is_relative_to_the_size_of_the_reference():
    reference = -2.0  # eV/atom, a formation energy
    assert relative_gap(-1.62, reference) == pytest.approx(0.19)
    assert energy_criterion(-1.62, reference) and not energy_criterion(-1.58, reference)
    assert energy_criterion(-2.5, reference)  # below the reference passes
    assert energy_criterion(-1.58, reference, tolerance=0.25)
    assert relative_gap(1.1, 1.0) == pytest.approx(0.1)  # a positive reference: still "above" means worse


def test_undefined_gap_and_energy_above():
    for bad in (0.0, math.inf, math.nan):
        with pytest.raises(MetricError, match="undefined"):
            relative_gap(-1.0, bad)
    assert energy_above_mev(-3.99, -4.0) == pytest.approx(10.0)
    assert energy_above_mev(-4.0, -3.99) == pytest.approx(-10.0)
