"""Cluster expansion, swap Monte Carlo and SRO selection of the Dismai-Bench alloys."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from ase_lcom.data.dismai.alloy_monte_carlo import K_B, SwapMonteCarlo
from ase_lcom.data.dismai.alloys import AlloyOccupations, AlloyProtocol, run_chains, select_sets
from ase_lcom.data.dismai.cluster_expansion import ClusterExpansion, NeighbourTable, fcc_cell, reference_sites
from ase_lcom.data.dismai.sro import pair_labels, warren_cowley
from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.data.records import DataError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ce() -> ClusterExpansion:
    return ClusterExpansion.read()


@pytest.fixture(scope="module")
def small(ce):
    cell, frac = fcc_cell(ce, (2, 2, 2))
    return cell, frac, NeighbourTable.build(cell, frac, ce)


@pytest.fixture(scope="module")
def ref_table(ce) -> NeighbourTable:
    cell, frac = reference_sites()
    return NeighbourTable.build(cell, frac, ce)


def brute_force_energy(ce: ClusterExpansion, cell: np.ndarray, frac: np.ndarray, occ: np.ndarray) -> float:
    """Sum of the expansion's terms over every site pair and every periodic image, by explicit loops."""
    cart = frac @ cell
    radii = ce.shell_distances * ce.lattice_constant
    total = len(occ) * ce.empty + sum(ce.point[o] for o in occ)
    images = list(itertools.product(range(-1, 2), repeat=3))   # enough: the outermost shell is < one cell edge
    for i in range(len(occ)):
        for j in range(i, len(occ)):
            for n in images:
                if i == j and n <= (0, 0, 0):        # a self pair counts once, via one of +-n
                    continue
                d = np.linalg.norm(cart[j] + np.array(n) @ cell - cart[i])
                for k, r in enumerate(radii):
                    if abs(d - r) < 1e-6:
                        total += ce.pairs[k, occ[i], occ[j]]
    return float(total)


def test_reads_packaged_coefficients(ce):
    assert ce.species == ("Cr", "Fe", "Ni")
    assert ce.pairs.shape == (7, 3, 3)
    assert np.allclose(ce.pairs, ce.pairs.transpose(0, 2, 1))
    assert ce.pairs[1, 0, 0] == pytest.approx(-0.03477817417403486)    # 2nd shell Cr-Cr
    assert ce.composition == {"Fe": 154, "Ni": 51, "Cr": 51}


def test_reference_cell_has_fcc_shells(ref_table, ce):
    assert ref_table.neighbours.shape == (256, 134)
    for k, m in enumerate(ce.pairs_per_site):
        assert np.count_nonzero(ref_table.column_shell == k) == 2 * m
        i, j = ref_table.shell_pairs(k)
        assert len(i) == 256 * m


def test_pure_iron_energy_by_hand(ce, ref_table):
    fe = ce.species.index("Fe")
    expected = ce.empty + sum(ce.pairs_per_site[k] * ce.pairs[k, fe, fe] for k in range(7))
    assert ce.energy(ref_table, np.full(256, fe)) / 256 == pytest.approx(expected, abs=1e-12)


def test_energy_equals_brute_force_on_32_site_cell(ce, small):
    cell, frac, table = small
    rng = np.random.default_rng(1)
    for counts in ([10, 12, 10], [2, 30, 0], [16, 0, 16]):
        occ = rng.permutation(np.repeat(np.arange(3), counts))
        assert ce.energy(table, occ) == pytest.approx(brute_force_energy(ce, cell, frac, occ), abs=1e-10)


def test_energy_equals_brute_force_on_reference_sites(ce, ref_table):
    """The 256-site cell with pairs counted once per unordered site pair (every pair has one image here)."""
    cell, frac = reference_sites()
    occ = np.random.default_rng(2).permutation(np.repeat(np.arange(3), [51, 154, 51]))
    cart = frac @ cell
    d = cart[None] - cart[:, None]
    d -= 14.4 * np.round(d / 14.4)
    dist = np.linalg.norm(d, axis=-1)
    total = 256 * ce.empty
    for k, r in enumerate(ce.shell_distances * ce.lattice_constant):
        i, j = np.nonzero(np.triu(np.abs(dist - r) < 1e-6, 1))
        total += ce.pairs[k, occ[i], occ[j]].sum()
    assert ce.energy(ref_table, occ) == pytest.approx(total, abs=1e-10)


@pytest.mark.parametrize("cell_name", ["small", "ref_table"])
def test_swap_delta_equals_recomputed_difference(ce, small, ref_table, cell_name):
    table = small[2] if cell_name == "small" else ref_table
    mc = SwapMonteCarlo(ce, table, 300.0)
    rng = np.random.default_rng(3)
    n = table.num_sites
    occ = rng.integers(0, 3, size=n)
    for _ in range(50):
        i, j = rng.choice(n, size=2, replace=False)
        swapped = occ.copy()
        swapped[[i, j]] = occ[[j, i]]
        expected = ce.energy(table, swapped) - ce.energy(table, occ)
        assert mc.swap_delta(occ, i, j) == pytest.approx(expected, abs=1e-12)


def test_chain_energy_tracks_recomputation_and_keeps_composition(ce, small):
    cell, frac, table = small
    mc = SwapMonteCarlo(ce, table, 800.0)
    rng = np.random.default_rng(4)
    state = mc.random_state({"Cr": 8, "Fe": 16, "Ni": 8}, rng)
    occ, energies, acceptance = mc.run(state, 40, 5, rng)
    assert 0.0 < acceptance < 1.0
    assert np.all(np.bincount(occ.ravel(), minlength=3) == np.array([8, 16, 8]) * 40)
    for snap, e in zip(occ[[13, -1]], energies[[13, -1]], strict=True):
        assert e == pytest.approx(brute_force_energy(ce, cell, frac, snap), abs=1e-9)


def test_same_generator_gives_same_chain(ce, small):
    table = small[2]
    runs = []
    for _ in range(2):
        mc = SwapMonteCarlo(ce, table, 600.0)
        rng = np.random.default_rng(5)
        runs.append(mc.run(mc.random_state({"Cr": 8, "Fe": 16, "Ni": 8}, rng), 10, 3, rng)[0])
    assert np.array_equal(*runs)


def test_samples_boltzmann_distribution_of_two_solutes(ce, small):
    """2 Cr in 30 Fe on 32 sites: 496 states, enumerable; MC frequencies of the energy levels match Boltzmann."""
    cell, frac, table = small
    temperature = 600.0
    cr, fe = ce.species.index("Cr"), ce.species.index("Fe")
    states = []
    for a, b in itertools.combinations(range(32), 2):
        occ = np.full(32, fe)
        occ[[a, b]] = cr
        states.append(occ)
    energies = np.round(ce.energy(table, np.array(states)), 9)
    levels, inverse = np.unique(energies, return_inverse=True)
    weights = np.bincount(inverse, weights=np.exp(-(energies - energies.min()) / (K_B * temperature)))
    exact = weights / weights.sum()
    mc = SwapMonteCarlo(ce, table, temperature)
    rng = np.random.default_rng(6)
    _, sampled, _ = mc.run(mc.random_state({"Cr": 2, "Fe": 30}, rng), 20000, 1, rng)
    observed = np.array([np.mean(np.isclose(sampled, e, atol=1e-7)) for e in levels])
    assert observed.sum() == pytest.approx(1.0)
    assert np.abs(observed - exact).max() < 0.02


def test_warren_cowley_of_random_and_hand_counted_cells(ce, ref_table):
    occ = np.random.default_rng(7).permutation(np.repeat(np.arange(3), [51, 154, 51]))
    alpha = warren_cowley(ref_table, occ, 3)
    assert alpha.shape == (1, 2, 6)
    assert np.abs(alpha).max() < 0.3
    # Cr on one of the 4 FCC sublattices only: no Cr-Cr nearest neighbours (alpha = 1), all 2nd neighbours of a
    # Cr are on its own sublattice (P(Cr|Cr) = 1, alpha = 1 - 1/c_Cr)
    cell, frac = reference_sites()
    parity = np.round(frac * 8).astype(int) % 2                       # site coordinates in units of a / 2
    sub_a = np.nonzero((parity == parity[0]).all(axis=1))[0]
    assert len(sub_a) == 64
    occ = np.full(256, ce.species.index("Fe"))
    occ[sub_a] = ce.species.index("Cr")
    alpha = warren_cowley(ref_table, occ, 3)[0]
    crcr = pair_labels(ce.species).index("Cr-Cr")
    assert alpha[0, crcr] == pytest.approx(1.0)
    assert alpha[1, crcr] == pytest.approx(1.0 - 1.0 / 0.25)


def test_too_small_cell_is_refused(ce):
    cell, frac = fcc_cell(ce, (1, 1, 1))
    with pytest.raises(DataError):
        NeighbourTable.build(cell, frac, ce)


def test_300K_orders_more_than_1500K(ce, ref_table):
    strength = {}
    for temperature in (300.0, 1500.0):
        mc = SwapMonteCarlo(ce, ref_table, temperature)
        rng = np.random.default_rng(8)
        occ, _, _ = mc.run(mc.random_state(ce.composition, rng), 40, 50, rng)
        strength[temperature] = np.abs(warren_cowley(ref_table, occ[20:], 3)).mean()
    assert strength[300.0] > 3 * strength[1500.0]


def test_selection_wide_and_narrow(tmp_path):
    protocol = AlloyProtocol(1500.0, n_chains=2, n_passes=400, snapshot_every=2, burn_in_passes=100,
                             n_structures=40, band=0.15)
    chains = run_chains(protocol, tmp_path / "work", seed=1, progress=False)
    assert run_chains(protocol, tmp_path / "work", seed=1, progress=False) == chains       # resumes: nothing left
    sets = select_sets(protocol, chains)
    wide, narrow = sets["wide"], sets["narrow"]
    assert len(wide) == len(narrow) == 40
    assert np.all(np.bincount(wide.chain) == 20)
    assert wide.passes.min() > protocol.burn_in_passes
    mean = np.array(narrow.meta["pool_sro_mean"])
    assert np.all(np.abs(narrow.sro - mean) <= 0.15 + 1e-6)
    assert np.all(np.sort(narrow.passes[narrow.chain == 0]) == narrow.passes[narrow.chain == 0])
    path = tmp_path / "set.npz"
    wide.write(path)
    back = AlloyOccupations.read(path)
    assert back.occupations.dtype == np.uint8 and np.array_equal(back.occupations, wide.occupations)
    s = back.structures()[0]
    assert s.composition.get_el_amt_dict() == {"Cr": 51, "Fe": 154, "Ni": 51}
    fast = back.to_dataset("x")
    slow = FixedLatticeDataset.from_structures(back.structures()[:3], "x")
    assert fast.species_order == slow.species_order and len(fast) == 40
    for a, b in zip(fast.structures[:3], slow.structures, strict=True):
        assert [x.symbol for x in a.species] == [x.symbol for x in b.species]
        assert np.allclose(a.frac_coords, b.frac_coords)
    back.occupations[5, :2] = back.species.index("Ni")
    with pytest.raises(DataError, match="structure 5 has another composition"):
        back.to_dataset()
    with pytest.raises(DataError, match=r"chain setting n_passes is 400 in .*chain-00\.npz but 600 now"):
        run_chains(AlloyProtocol(1500.0, n_chains=2, n_passes=600, snapshot_every=2, burn_in_passes=100),
                   tmp_path / "work", seed=1, progress=False)


def test_narrow_request_fails_clearly_when_band_is_empty(tmp_path):
    protocol = AlloyProtocol(1500.0, n_chains=1, n_passes=200, snapshot_every=10, burn_in_passes=50,
                             n_structures=10, band=1e-9)
    chains = run_chains(protocol, tmp_path, seed=2, progress=False)
    assert "narrow" not in select_sets(protocol, chains, required=("wide",))
    with pytest.raises(DataError, match="within"):
        select_sets(protocol, chains)


@pytest.mark.parametrize("temperature", ["300K", "1500K"])
def test_shipped_sets_if_generated(temperature):
    wide_path = REPO / "datasets" / "dismai" / f"alloy-{temperature}-wide" / f"alloy-{temperature}-wide.npz"
    narrow_path = REPO / "datasets" / "dismai" / f"alloy-{temperature}-narrow" / f"alloy-{temperature}-narrow.npz"
    if not (wide_path.is_file() and narrow_path.is_file()):
        pytest.skip("alloy datasets not generated")
    narrow = AlloyOccupations.read(narrow_path)
    assert len(narrow) == 1500
    assert np.all(np.abs(narrow.sro - np.array(narrow.meta["pool_sro_mean"])) <= narrow.meta["protocol"]["band"])


def test_shipped_300K_sets_order_more_than_1500K():
    root = REPO / "datasets" / "dismai"
    paths = {t: root / f"alloy-{t}-wide" / f"alloy-{t}-wide.npz" for t in ("300K", "1500K")}
    if not all(p.is_file() for p in paths.values()):
        pytest.skip("alloy datasets not generated")
    strength = {t: np.abs(AlloyOccupations.read(p).sro.mean(axis=0)).mean() for t, p in paths.items()}
    assert strength["300K"] > 3 * strength["1500K"]
