"""The latent predictors on the shipped model: what produced each candidate, explicit randomness, calculators."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.calculators.emt import EMT

from ase_lcom.errors import PluginError
from ase_lcom.lcom.predictor import CDVAEPredictor, LCOMPredictor

FAST = {"n_candidates": 2, "num_levels": 4, "steps_per_level": 1, "polish": None}  # the pure pipeline


def test_candidates_name_the_predictor_and_model_and_cell():
    candidates = LCOMPredictor(**FAST).predict_candidates("ZnO", formula_units=2, seed=0)
    assert len(candidates) == 2
    for candidate in candidates:
        assert candidate.info["predictor"] == "lcom"
        assert candidate.info["model"].startswith("lcom-default-v")
        assert candidate.info["formula_units"] == 2 and candidate.info["num_atoms"] == 4
    assert CDVAEPredictor(**FAST).predict_candidates("ZnO", formula_units=1)[0].info["predictor"] == "cdvae"


def test_prediction_neither_uses_nor_changes_the_global_torch_generator():
    predictor = LCOMPredictor(**FAST, prototypes=False)  # random seed cells and decoder noise only
    torch.manual_seed(1)
    state = torch.get_rng_state()
    first = predictor.predict_candidates("MgO", formula_units=1, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(2)
    again = predictor.predict_candidates("MgO", formula_units=1, seed=3)
    assert [c.structure for c in again] == [c.structure for c in first]
    assert [c.energy_per_atom for c in again] == [c.energy_per_atom for c in first]
    other = predictor.predict_candidates("MgO", formula_units=1, seed=4)
    assert [c.structure for c in other] != [c.structure for c in first]


def test_rank_by_a_calculator_instance():
    candidates = LCOMPredictor(**FAST, rank_by=EMT()).predict_candidates("CuAu", formula_units=1)
    validated = [c.validated_energy_per_atom for c in candidates]
    scored = [v for v in validated if v is not None]
    assert scored == sorted(scored) and validated[: len(scored)] == scored
    assert all(np.isfinite(v) for v in scored)
    assert all(c.info["ranked_by"] == "emt" for c in candidates)
    assert all(("error" in c.info) == (c.validated_energy_per_atom is None) for c in candidates)


def test_unknown_options_are_refused():
    with pytest.raises(PluginError, match="'lcom' has no option 'budget'"):
        LCOMPredictor(budget=3)
    with pytest.raises(PluginError, match="'lcom' has no call option 'z'"):
        LCOMPredictor(**FAST).predict_candidates("ZnO", z=2)
