"""Cells beyond the CD-VAE's size: planned, refused with one line, or scored and relaxed by the calculator."""

from __future__ import annotations

import pytest
from ase.build import bulk

from ase_lcom.calculators import get_calculator
from ase_lcom.errors import FormulaError
from ase_lcom.lcom.large_cells import plan_cells
from ase_lcom.lcom.predictor import LCOMPredictor
from ase_lcom.predictors import Candidate
from ase_lcom.predictors.volume_scan import rescale_prototype_seeds
from ase_lcom.structure import to_structure

FAST = {"n_candidates": 2, "num_levels": 2, "steps_per_level": 1, "polish": "emt", "polish_steps": 20}


def test_plan_splits_cell_sizes_between_decoder_and_calculator():
    plan = plan_cells("Mg2SiO4", None, 12, 40)
    assert (plan.decoded_units, plan.direct_units) == ([1], [2, 3, 4, 5])
    assert plan.direct_sizes == [14, 21, 28, 35]
    assert plan_cells("ZnO", 3, 12, 40).decoded_units == [3]


@pytest.mark.parametrize("formula, units, polish, message", [
    ("Mg2SiO4", 4, None, "the CD-VAE decodes at most 12; cells up to 40 atoms need a calculator"),
    ("Y3Al5O12", 3, 40, "Y3Al5O12 x 3 has 60 atoms, more than the limit of 40"),
    ("Y3Al5O12", None, None, "one formula unit of Y3Al5O12 has 20 atoms: the CD-VAE decodes at most 12"),
])
def test_plan_refuses_cells_beyond_the_limits_in_one_line(formula, units, polish, message):
    with pytest.raises(FormulaError, match=message.replace("(", r"\(")) as error:
        plan_cells(formula, units, 12, polish)
    assert "\n" not in str(error.value)


def test_formula_unit_beyond_the_decoder_goes_to_the_calculator():
    """Cu3Au with a 3-atom decoder: every candidate is an undecoded prototype, scored and polished by EMT."""
    predictor = LCOMPredictor(max_atoms=3, **FAST)
    candidates = predictor.predict_candidates("Cu3Au", seed=0)
    assert candidates and all(c.structure.composition.reduced_formula == "Cu3Au" for c in candidates)
    assert all(c.info["undecoded"] and len(c.structure) > 3 for c in candidates)
    assert {c.info["seed"] for c in candidates} >= {"prototype:l1_2"}
    assert candidates[0].info.get("polished") and candidates[0].info["spacegroup"]
    with pytest.raises(FormulaError, match="need a calculator"):
        LCOMPredictor(max_atoms=3, **{**FAST, "polish": None}).predict_candidates("Cu3Au")


def test_random_cells_fill_in_without_prototypes():
    candidates = LCOMPredictor(max_atoms=4, prototypes=False, **FAST).predict_candidates("Cu5Au", seed=1)
    assert [c.info["seed"] for c in candidates] == ["random", "random"]
    assert all(len(c.structure) == 6 and c.structure.composition.reduced_formula == "Cu5Au" for c in candidates)


def test_multinary_prototype_seeds_are_rescaled_to_their_best_volume_and_others_kept():
    stretched = to_structure(bulk("Cu", "fcc", a=3.6 * 1.15))
    seed = Candidate(stretched.copy(), None, info={"seed": "prototype:l1_2", "undecoded": True})
    decoded = Candidate(stretched.copy(), None, info={"seed": "prototype:l1_2"})
    binary = Candidate(stretched.copy(), None, info={"seed": "prototype:rocksalt", "undecoded": True})
    rescale_prototype_seeds([seed, decoded, binary], get_calculator("emt"))
    assert seed.info["volume_scale"] == 0.86
    assert seed.structure.lattice.a == pytest.approx(stretched.lattice.a * 0.86)
    for kept in (decoded, binary):
        assert kept.structure.volume == pytest.approx(stretched.volume) and "volume_scale" not in kept.info


@pytest.mark.parametrize("option", [{"max_atoms": 0}, {"max_polish_atoms": -1}])
def test_cell_limits_must_be_positive(option):
    with pytest.raises(ValueError, match=next(iter(option))):
        LCOMPredictor(**option)


def test_relax_and_rank_by_take_the_calculator_only_cells_too():
    options = {**FAST, "polish": None, "calculator": "emt", "relax_steps": 10}
    relaxed = LCOMPredictor(max_atoms=3, **options).predict_candidates("Cu3Au", relax=True)
    assert relaxed and all(c.info["undecoded"] and "unrelaxed" in c.info for c in relaxed)
    ranked = LCOMPredictor(max_atoms=3, **{**options, "rank_by": "emt"}).predict_candidates("Cu3Au")
    assert ranked and all(c.info["ranked_by"] == "emt" for c in ranked)
    energies = [c.validated_energy_per_atom for c in ranked]
    assert energies == sorted(energies)
