"""Dismai-Bench failure checks: pushing close atoms apart and fixed-cell relaxation."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.emt import EMT
from pymatgen.core import Lattice, Structure

from ase_lcom.errors import LCOMError
from ase_lcom.metrics.validity import (
    ValidityResult,
    check_structure,
    percent_failed,
    push_apart,
    relax_fixed_cell,
    shortest_distance,
)


@pytest.fixture
def cu() -> Structure:
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]])
    s.make_supercell(2)
    return s


def test_push_apart_separates_close_pairs(cu):
    close = cu.copy()
    close.translate_sites([1], close[0].coords - close[1].coords + np.array([0.9, 0.0, 0.3]), frac_coords=False,
                          to_unit_cell=True)
    assert shortest_distance(close) < 1.5
    pushed = push_apart(close)
    assert shortest_distance(pushed) >= 1.5
    assert shortest_distance(close) < 1.5  # input untouched
    assert len(pushed) == len(close) and pushed.lattice == close.lattice


def test_too_close_structure_fails():
    # more atoms than fit at 1.5 A in the cell: pushing cannot fix it
    rng = np.random.default_rng(0)
    crowded = Structure(Lattice.cubic(3.0), ["Cu"] * 30, rng.random((30, 3)))
    result = check_structure(crowded)
    assert result.reason == "too close" and not result.valid


def test_relaxation_converges_or_not(cu):
    rng = np.random.default_rng(1)
    rattled = Structure(cu.lattice, cu.species, cu.cart_coords + rng.normal(0, 0.08, (32, 3)),
                        coords_are_cartesian=True)
    relaxed, converged = relax_fixed_cell(rattled, EMT())
    assert converged and relaxed.lattice == rattled.lattice
    assert check_structure(rattled, EMT()).valid
    assert check_structure(rattled, EMT(), steps=2).reason == "not converged"
    assert check_structure(rattled, EMT(), steps=200, optimizer="FIRE").valid


def test_percent_failed(cu):
    ok, bad = ValidityResult(cu, None), ValidityResult(cu, "too close")
    assert percent_failed([ok, bad, ok, ok]) == pytest.approx(25.0)
    assert percent_failed([ok, ok], n_generated=4) == pytest.approx(50.0)
    with pytest.raises(LCOMError):
        percent_failed([])
    with pytest.raises(LCOMError):
        relax_fixed_cell(cu, EMT(), optimizer="BFGS")
