"""CrystalNN motif fingerprints: BatchCrystalNN agrees with pymatgen/matminer; interface variant."""

from __future__ import annotations

import numpy as np
import pytest
from matminer.featurizers.site import CrystalNNFingerprint
from pymatgen.analysis.local_env import CrystalNN
from pymatgen.core import Lattice, Structure

from ase_lcom.errors import LCOMError
from ase_lcom.metrics.motif import (
    BatchCrystalNN,
    interface_fingerprints,
    site_fingerprints,
    structure_fingerprint,
    weighted_cation_average,
)

GEOMETRIC = {"distance_cutoffs": None, "x_diff_weight": 0.0, "porous_adjustment": False}


@pytest.fixture(scope="module")
def noisy_si() -> Structure:
    si = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])
    si.make_supercell([2, 1, 1])
    rng = np.random.default_rng(0)
    return Structure(si.lattice, si.species, si.cart_coords + rng.normal(0, 0.25, (16, 3)), coords_are_cartesian=True)


@pytest.fixture(scope="module")
def mixed_rocksalt() -> Structure:
    """Conventional rock salt with Co/Li cations and Cl/O anions, slightly distorted."""
    cations = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    anions = [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]]
    s = Structure(Lattice.cubic(4.2), ["Co", "Co", "Li", "Li", "Cl", "Cl", "O", "O"], cations + anions)
    rng = np.random.default_rng(1)
    return Structure(s.lattice, s.species, s.cart_coords + rng.normal(0, 0.05, (8, 3)), coords_are_cartesian=True)


def _same_nn_data(expected, got):
    exp = {k: v for k, v in expected.cn_weights.items() if v}
    out = {k: v for k, v in got.cn_weights.items() if v}
    assert exp.keys() == out.keys()
    np.testing.assert_allclose([out[k] for k in exp], [exp[k] for k in exp], atol=1e-12)
    for cn in exp:
        key = lambda e: (e["site_index"], *np.round(e["site"].coords, 6))  # noqa: E731
        assert sorted(map(key, expected.cn_nninfo[cn])) == sorted(map(key, got.cn_nninfo[cn]))


@pytest.mark.parametrize("kwargs", [{}, GEOMETRIC])
def test_batch_crystalnn_matches_pymatgen(noisy_si, kwargs):
    batch = BatchCrystalNN(**kwargs).get_all_nn_data(noisy_si)
    for n, got in enumerate(batch):
        _same_nn_data(CrystalNN(**kwargs).get_nn_data(noisy_si, n), got)


def test_batch_crystalnn_matches_pymatgen_cation_anion(mixed_rocksalt):
    s = mixed_rocksalt.copy()
    s.add_oxidation_state_by_element({"Co": 3, "Li": 1, "Cl": -1, "O": -2})
    batch = BatchCrystalNN(cation_anion=True).get_all_nn_data(s, range(4))
    for n in range(4):
        _same_nn_data(CrystalNN(cation_anion=True).get_nn_data(s, n), batch[n])


def test_ops_fingerprint_matches_matminer(noisy_si):
    ours = site_fingerprints(noisy_si)
    assert ours.shape == (16, 61)
    featurizer = CrystalNNFingerprint.from_preset("ops")
    np.testing.assert_allclose(ours, [featurizer.featurize(noisy_si, n) for n in range(16)], atol=1e-12)
    np.testing.assert_allclose(structure_fingerprint(noisy_si), ours.mean(axis=0))


def test_perfect_diamond_is_tetrahedral():
    si = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.431), ["Si"], [[0, 0, 0]])
    fp = structure_fingerprint(si)
    # layout: CN1 wt, sgl_bd; CN2 wt + 5; CN3 wt + 3; CN4 wt, square co-planar, tetrahedral, ...
    assert fp[12] == pytest.approx(1.0)  # CN4 weight
    assert fp[14] == pytest.approx(1.0, abs=1e-6)  # tetrahedral order parameter
    assert fp.sum() == pytest.approx(fp[12:18].sum())


def test_interface_fingerprints(mixed_rocksalt):
    fps = interface_fingerprints(mixed_rocksalt)
    assert set(fps) == {"Co", "Li"}
    assert all(v.shape == (109,) for v in fps.values())
    decorated = mixed_rocksalt.copy()
    decorated.add_oxidation_state_by_element({"Co": 3, "Li": 1, "Cl": -1, "O": -2})
    ops = CrystalNNFingerprint.from_preset("ops", cation_anion=True)
    np.testing.assert_allclose(fps["Co"][:61], np.mean([ops.featurize(decorated, n) for n in (0, 1)], axis=0))
    # octahedral cations: CN6 weight 1 and the anion fractions of the 6 nearest anions (Cl, O) appended at CN6
    frac = []
    for n in (0, 1):
        symbols = [nb.specie.symbol for nb in decorated.get_neighbors(decorated[n], 2.5)]  # the 6 anions
        frac.append([symbols.count("Cl") / 6, symbols.count("O") / 6])
    cn6 = 61 + 2 * 5
    assert fps["Co"][22] > 0.8  # CN6 weight (after 2 + 6 + 4 + 6 + 4 entries for CN1-5)
    np.testing.assert_allclose(fps["Co"][cn6:cn6 + 2], np.mean(frac, axis=0))
    pairs = fps["Co"][61:].reshape(24, 2)
    assert np.all(pairs.sum(axis=1) <= 1.0 + 1e-12)


def test_weighted_cation_average():
    avg = weighted_cation_average({"Li": np.ones(3), "Sc": np.zeros(3)}, {"Li": 72, "Sc": 24})
    np.testing.assert_allclose(avg, 0.75)
    with pytest.raises(LCOMError):
        weighted_cation_average({"Li": np.ones(3)}, {"Co": 3})


def test_missing_oxidation_state(mixed_rocksalt):
    with pytest.raises(LCOMError, match="oxidation state"):
        interface_fingerprints(mixed_rocksalt, oxidation_states={"Li": 1, "Cl": -1, "O": -2})
