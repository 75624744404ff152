"""Alloy site matching, vacancies, cluster fingerprints and Warren-Cowley SRO (Dismai-Bench Table 3)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import read
from pymatgen.io.ase import AseAtomsAdaptor

from ase_lcom.errors import LCOMError
from ase_lcom.metrics.alloy import (
    SHELL_PAIRS_PER_SITE,
    AlloyReference,
    cluster_fingerprint,
    match_to_reference,
    score_alloy_set,
    warren_cowley,
)


@pytest.fixture(scope="module")
def ref_structure(shared_data):
    return AseAtomsAdaptor.get_structure(read(shared_data / "dismai_bench" / "alloy_ref_struc.extxyz"))


@pytest.fixture(scope="module")
def reference(ref_structure):
    return AlloyReference.from_structure(ref_structure)


def _decorated(ref_structure, specials: dict[int, str]):
    """The reference cell filled with Fe except the given sites."""
    s = ref_structure.copy()
    for i in range(len(s)):
        s.replace(i, specials.get(i, "Fe"))
    return s


def test_reference_shells(reference):
    assert reference.n_sites == 256
    assert reference.lattice_constant == pytest.approx(3.6)
    assert [len(p) // (2 * 256) for p in reference.shell_pairs] == list(SHELL_PAIRS_PER_SITE)


@pytest.mark.parametrize("align", ["fixed", "translate", "rotate"])
def test_ideal_reference_has_no_vacancy_and_one_removed_atom_gives_one(ref_structure, reference, align):
    match = match_to_reference(ref_structure, reference, align)
    assert match.n_vacancies == 0 and match.n_off_lattice == 0 and not match.failed()
    fewer = ref_structure.copy()
    fewer.remove_sites([17])
    match = match_to_reference(fewer, reference, align)
    assert match.n_vacancies == 1
    assert match.occupancy[17] == -1


def test_translated_and_noisy_lattice_is_matched(ref_structure, reference):
    moved = ref_structure.copy()
    moved.translate_sites(list(range(256)), [1.1, -0.7, 1.3], frac_coords=False)  # > 0.8 A off the fixed frame
    # seeded: the rotation comes from one atom's 2nd-neighbour axes (Dismai-Bench's rule), which 0.2 A of noise can
    # tilt by a few degrees, enough to push an edge atom past the 0.8 A tolerance for some noise draws
    moved.perturb(0.2, min_distance=0.0, seed=0)
    assert match_to_reference(moved, reference, "fixed").n_vacancies > 200
    for align in ("translate", "rotate"):
        match = match_to_reference(moved, reference, align)
        assert match.n_vacancies == 0
        np.testing.assert_allclose(cluster_fingerprint(moved, reference, match=match),
                                   cluster_fingerprint(ref_structure, reference))


def test_fingerprint_shape_and_normalisation(ref_structure, reference):
    fp = cluster_fingerprint(ref_structure, reference)
    assert fp.shape == (45,)
    np.testing.assert_allclose(fp[:3], np.array([51, 154, 51]) / 256)  # Cr, Fe, Ni
    np.testing.assert_allclose(fp[3:].reshape(7, 6).sum(axis=1), 1.0)


def _hand_fingerprint(shell_of_cr_ni: int | None) -> np.ndarray:
    """One Cr and one Ni in 255 Fe: per shell k with m_k pairs per site, Cr-Ni = [k == s], Cr-Fe = Fe-Ni =
    2 m_k - [k == s], Fe-Fe = 256 m_k - 4 m_k + [k == s], Cr-Cr = Ni-Ni = 0; divided by 256 m_k."""
    rows = []
    for k, m in enumerate(SHELL_PAIRS_PER_SITE, start=1):
        s = float(k == shell_of_cr_ni)
        rows.append(np.array([0, 2 * m - s, s, 256 * m - 4 * m + s, 2 * m - s, 0]) / (256 * m))
    return np.concatenate([[1 / 256, 254 / 256, 1 / 256], *rows])


def test_swapping_species_changes_fingerprint_by_hand_computed_amount(ref_structure, reference):
    dist = ref_structure.distance_matrix
    ni, far = 0, int(np.nonzero(np.isclose(dist[0], 7.2))[0][0])  # 7.2 A: outside all 7 shells
    near = int(np.nonzero(np.isclose(dist[0], 3.6 / np.sqrt(2)))[0][0])  # a 1st neighbour of the Ni site
    before = _decorated(ref_structure, {ni: "Ni", far: "Cr"})
    after = _decorated(ref_structure, {ni: "Ni", near: "Cr"})  # Cr swapped with the Fe next to Ni
    fp_before, fp_after = cluster_fingerprint(before, reference), cluster_fingerprint(after, reference)
    np.testing.assert_allclose(fp_before, _hand_fingerprint(None), atol=1e-15)
    np.testing.assert_allclose(fp_after, _hand_fingerprint(1), atol=1e-15)
    delta = fp_after - fp_before
    step = 1 / (256 * 6)
    np.testing.assert_allclose(delta[3:9], [0, -step, step, step, -step, 0], atol=1e-15)
    assert np.count_nonzero(np.abs(delta) > 1e-15) == 4


def test_warren_cowley(ref_structure, reference):
    # one Cr and one Ni as 1st neighbours among Fe: P(Ni|Cr) = 1/12, c_Ni = 1/256
    near = int(np.nonzero(np.isclose(ref_structure.distance_matrix[0], 3.6 / np.sqrt(2)))[0][0])
    s = _decorated(ref_structure, {0: "Ni", near: "Cr"})
    sro = warren_cowley(s, reference)
    assert sro.shape == (2, 6)
    assert sro[0, 2] == pytest.approx(1 - 256 / 12)  # Cr-Ni, shell 1
    assert sro[1, 2] == pytest.approx(1.0)  # no Cr-Ni 2nd neighbours
    assert sro[0, 0] == pytest.approx(1.0)  # no Cr-Cr pairs
    # random solid solutions have SRO near 0 on average
    rng = np.random.default_rng(0)
    pool = np.array(["Cr"] * 51 + ["Fe"] * 154 + ["Ni"] * 51)
    values = []
    for _ in range(30):
        random = ref_structure.copy()
        for i, sp in enumerate(pool[rng.permutation(256)]):
            random.replace(i, sp)
        values.append(warren_cowley(random, reference))
    assert np.abs(np.mean(values, axis=0)).max() < 0.06


def test_score_set_counts_failures_and_vacancies(ref_structure, reference):
    scattered = ref_structure.copy()
    scattered.perturb(1.2, min_distance=1.0, seed=0)  # most atoms leave their sites
    fewer = ref_structure.copy()
    fewer.remove_sites([3])
    score = score_alloy_set([ref_structure, fewer, scattered], reference, max_off_lattice=50)
    assert score.failed.tolist() == [False, False, True]
    assert score.fingerprints.shape == (2, 45)
    assert score.percent_failed == pytest.approx(100 / 3)
    assert score.percent_with_vacancies == pytest.approx(50.0)
    kept = score_alloy_set([ref_structure, fewer, scattered], reference)  # translate: the paper rejects none
    assert kept.failed.tolist() == [False, False, False]
    assert kept.n_vacancies[2] > 50 and kept.fingerprints.shape == (3, 45)


def test_bad_input(ref_structure, reference):
    other = ref_structure.copy()
    other.scale_lattice(other.volume * 1.1)
    with pytest.raises(LCOMError, match="different cells"):
        match_to_reference(other, reference)
    wrong = ref_structure.copy()
    wrong.replace(0, "Cu")
    with pytest.raises(LCOMError, match="Cu"):
        cluster_fingerprint(wrong, reference)
    with pytest.raises(LCOMError, match="perfect FCC"):
        AlloyReference.from_structure(other.copy().perturb(0.3))
