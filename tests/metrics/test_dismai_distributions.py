"""Radial and bond-angle distributions of Dismai-Bench (a-Si d_rdf, d_angle)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ase_lcom.errors import LCOMError
from ase_lcom.metrics.distributions import (
    bond_angle_distribution,
    bond_angles,
    radial_distribution,
    rdf_bin_centres,
)
from ase_lcom.metrics.set_distance import set_distance

TETRAHEDRAL = np.degrees(np.arccos(-1.0 / 3.0))  # 109.4712...


@pytest.fixture(scope="module")
def diamond_si() -> Structure:
    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])


def test_rdf_of_crystalline_si(diamond_si):
    g = radial_distribution(diamond_si)
    r = rdf_bin_centres()
    assert g.shape == (500,) and r[0] == pytest.approx(0.01) and r[-1] == pytest.approx(9.99)
    first = np.nonzero(g)[0][0]
    assert r[first] == pytest.approx(2.35)
    assert r[np.argmax(g[r < 3.0])] == pytest.approx(2.35)
    # the first shell holds 4 neighbours: sum of g * rho * shell volume over the peak
    shell = 4 / 3 * np.pi * ((r + 0.01) ** 3 - (r - 0.01) ** 3)
    assert (g * shell * len(diamond_si) / diamond_si.volume)[r < 3.0].sum() == pytest.approx(4.0)


def test_rdf_tends_to_one_for_an_ideal_gas():
    rng = np.random.default_rng(0)
    gas = Structure(Lattice.cubic(12.0), ["Ar"] * 400, rng.random((400, 3)))
    g = radial_distribution(gas)
    assert g[(rdf_bin_centres() > 5.0)].mean() == pytest.approx(1.0, abs=0.03)


def test_partial_rdf_of_rocksalt():
    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.65), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    r = rdf_bin_centres()
    assert r[np.nonzero(radial_distribution(nacl, species=("Na", "Cl")))[0][0]] == pytest.approx(2.83, abs=0.011)
    assert r[np.nonzero(radial_distribution(nacl, species=("Na", "Na")))[0][0]] == pytest.approx(3.99, abs=0.011)
    with pytest.raises(LCOMError):
        radial_distribution(nacl, species=("Na", "K"))


def test_bond_angles_of_crystalline_si(diamond_si):
    angles = bond_angles(diamond_si)
    assert angles.shape == (8 * 6,)  # 8 atoms, 4 neighbours, 6 pairs each
    np.testing.assert_allclose(angles, TETRAHEDRAL, atol=1e-6)
    dist = bond_angle_distribution(diamond_si)
    assert dist.shape == (360,) and dist.sum() == pytest.approx(1.0)
    assert dist[int(TETRAHEDRAL // 0.5)] == pytest.approx(1.0)  # the bin (109.0, 109.5]


def test_distorted_si_spreads_angles_and_distances(diamond_si):
    rng = np.random.default_rng(2)
    noisy = Structure(diamond_si.lattice, diamond_si.species, diamond_si.cart_coords + rng.normal(0, 0.1, (8, 3)),
                      coords_are_cartesian=True)
    dist = bond_angle_distribution(noisy)
    assert dist.sum() == pytest.approx(1.0) and dist.max() < 0.5
    perfect = np.stack([bond_angle_distribution(diamond_si)])
    assert set_distance(perfect, np.stack([dist])) > 0.1


def test_rdf_bad_range(diamond_si):
    with pytest.raises(LCOMError):
        radial_distribution(diamond_si, r_max=0.0)
