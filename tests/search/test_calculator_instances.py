"""Search baselines with calculator instances, formula-unit choices and the atom limit."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.emt import EMT

from ase_lcom.calculators import get_calculator
from ase_lcom.errors import FormulaError
from ase_lcom.search.predictors import AIRSSPredictor, ParticleSwarmPredictor, RandomSearchPredictor


def test_random_search_with_an_emt_instance():
    predictor = RandomSearchPredictor(calculator=EMT(), budget=6)
    candidates = predictor.predict_candidates("CuAu", formula_units=1, n_candidates=2, seed=0)
    assert candidates and all(np.isfinite(c.energy_per_atom) for c in candidates)
    assert all(c.info["model"] == "emt" and c.info["predictor"] == "ras" for c in candidates)
    assert predictor.references.path is None  # an instance's references stay in memory
    named = RandomSearchPredictor(calculator="emt", budget=6).predict_candidates("CuAu", formula_units=1,
                                                                                n_candidates=2, seed=0)
    assert [c.energy_per_atom for c in named] == pytest.approx([c.energy_per_atom for c in candidates])


@pytest.mark.slow
def test_random_search_with_a_chgnet_instance():
    """A non-EMT calculator instance (CHGNet's ASE calculator) scores the search and gives the references."""
    calculator = get_calculator("chgnet")
    candidates = RandomSearchPredictor(calculator=calculator, budget=3).predict_candidates(
        "Si", formula_units=2, n_candidates=1, seed=0)
    (best,) = candidates
    assert best.info["model"] == type(calculator).__name__.lower() and np.isfinite(best.energy_per_atom)
    assert best.info["energy_per_atom"] < 0 and best.energy_per_atom > best.info["energy_per_atom"]


def test_formula_unit_choices_are_limited_by_max_atoms():
    predictor = ParticleSwarmPredictor(calculator="emt", budget=8, swarm=4, formula_unit_choices=(1, 2, 4),
                                       max_atoms=4)
    candidates = predictor.predict_candidates("CuAu", n_candidates=8, seed=1)
    assert {c.info["formula_units"] for c in candidates} <= {1, 2}
    assert candidates[0].info["evaluations"] == 8
    with pytest.raises(FormulaError, match="fits within 1 atoms"):
        RandomSearchPredictor(calculator="emt", budget=2, max_atoms=1).predict_candidates("CuAu")
    with pytest.raises(FormulaError, match="more than the limit of 4"):
        predictor.predict_candidates("CuAu", formula_units=3)


def test_relaxed_search_candidates_are_reranked():
    candidates = AIRSSPredictor(calculator="emt", budget=2, relax_steps=20).predict_candidates(
        "CuAu", formula_units=1, n_candidates=2, relax=True)
    validated = [c.validated_energy_per_atom for c in candidates]
    assert all(v is not None for v in validated) and validated == sorted(validated)
    assert all("unrelaxed" in c.info and c.info["relax_steps"] <= 20 for c in candidates)
