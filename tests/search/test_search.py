"""GN-OA-style search space and the ras/pso/bo/airss baselines (real CHGNet energies, tiny budgets)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Composition
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from ase_lcom.errors import FormulaError
from ase_lcom.predictors import load_predictor
from ase_lcom.search.space import SymmetricCrystalSpace, _combinations


def test_wyckoff_combinations_respect_multiplicities():
    combos = _combinations(225, (4, 4))  # Fm-3m conventional rocksalt: 4a + 4b
    assert (("a",), ("b",)) in combos and (("b",), ("a",)) in combos
    assert all(len(set(letters)) == len(letters) for combo in combos for letters in combo)  # 4a/4b fixed: once
    assert _combinations(225, (3, 3)) == ()


@pytest.mark.parametrize(("formula", "formula_units"), [("ZnO", 2), ("NaCl", 1), ("Si", 2)])
def test_decoded_crystals_have_the_cell_composition_and_their_symmetry(formula, formula_units):
    space = SymmetricCrystalSpace.for_formula(formula, formula_units)
    rng = np.random.default_rng(0)
    decoded = [s for s in (space.decode(rng.random(space.dim)) for _ in range(40)) if s is not None]
    assert len(decoded) > 10
    for structure in decoded:
        assert structure.composition == Composition(formula) * formula_units
        assert structure.volume > 0.5 * space.volume
    groups = {SpacegroupAnalyzer(s, symprec=1e-3).get_space_group_number() for s in decoded}
    assert max(groups) > 100  # high-symmetry groups are reachable


@pytest.mark.parametrize("name", ["ras", "pso", "bo"])
def test_search_baselines_find_low_energy_nacl(name):
    predictor = load_predictor(name, budget=24)
    candidates = predictor.predict_candidates("NaCl", formula_units=1, n_candidates=3, seed=0)
    assert 1 <= len(candidates) <= 3
    energies = [c.energy_per_atom for c in candidates]
    assert energies == sorted(energies) and energies[0] < -1.0  # CHGNet E_f of rocksalt is about -2.05 eV/atom
    assert candidates[0].info["evaluations"] == 24
    trace = candidates[0].info["trace"]
    assert all(b <= a for a, b in zip(trace, trace[1:]))  # best-so-far never rises
    again = load_predictor(name, budget=24).predict_candidates("NaCl", formula_units=1, n_candidates=1, seed=0)
    assert again[0].energy_per_atom == pytest.approx(energies[0])  # seeded: reproducible


def test_airss_relaxes_random_cells():
    candidates = load_predictor("airss", budget=2).predict_candidates("NaCl", formula_units=1, n_candidates=2)
    assert candidates[0].energy_per_atom < -1.5


def test_search_rejects_bad_formula():
    with pytest.raises(FormulaError):
        load_predictor("ras", budget=2).predict_candidates("NaXx")


def test_centred_groups_reach_two_atom_rocksalt():
    """Fm-3m needs 4 + 4 atoms in its conventional cell; its 2-atom primitive cell must still be searchable."""
    space = SymmetricCrystalSpace.for_formula("NaCl", 1)
    assert 225 in space.groups and 216 in space.groups  # rocksalt and zincblende
    rng = np.random.default_rng(1)
    x = rng.random(space.dim)
    x[0] = (space.groups.index(225) + 0.5) / len(space.groups)
    found = [s for s in (space.decode(np.r_[x[:2], rng.random(space.dim - 2)]) for _ in range(30)) if s is not None]
    assert found and all(len(s) == 2 for s in found)
    assert {SpacegroupAnalyzer(s, symprec=1e-3).get_space_group_symbol() for s in found} == {"Fm-3m"}
