"""The predictor interface: declared options, their validation, per-call options, optional energies."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from pymatgen.core import Lattice, Structure

from ase_lcom.errors import PluginError
from ase_lcom.predictors import (
    Candidate,
    StructurePredictor,
    available_predictors,
    load_predictor,
    predictor_class,
    predictor_options,
)

BUILT_IN = ("lcom", "sl", "cdvae", "ras", "pso", "bo", "airss")


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_predictor_declares_its_constructor_options(name):
    assert name in available_predictors()
    options = predictor_options(name)
    assert dataclasses.is_dataclass(options)
    fields = [f.name for f in dataclasses.fields(options)]
    assert list(inspect.signature(predictor_class(name)).parameters) == fields


def test_search_options_extend_the_shared_ones():
    assert [f.name for f in dataclasses.fields(predictor_options("pso"))][-1] == "swarm"
    defaults = {f.name: f.default for f in dataclasses.fields(predictor_options("airss"))}
    assert defaults["budget"] == 8 and defaults["relax_steps"] == 150
    assert {f.name: f.default for f in dataclasses.fields(predictor_options("ras"))}["budget"] == 300


def test_unknown_option_is_a_one_line_error_listing_the_valid_ones():
    with pytest.raises(PluginError) as caught:
        load_predictor("ras", model="bundle.pt")
    message = str(caught.value)
    assert "'ras' has no option 'model'" in message and "budget" in message and "\n" not in message
    with pytest.raises(PluginError, match="'pso' has no option 'rank_by'"):
        load_predictor("pso", budget=4, rank_by="chgnet")
    with pytest.raises(PluginError, match="unknown predictor 'nope'"):
        predictor_options("nope")


class FixedPredictor(StructurePredictor):
    """A predictor without options and without an energy: one cubic cell of the formula's atoms."""

    name = "fixed"

    def predict_candidates(self, formula, formula_units=None, n_candidates=8, seed=0, **options):
        from ase_lcom.structure import cell_composition

        composition = cell_composition(formula, formula_units)
        species = [el.symbol for el, n in composition.items() for _ in range(int(n))]
        coords = [[i / len(species), 0, 0] for i in range(len(species))]
        return [Candidate(Structure(Lattice.cubic(3.0 * len(species)), species, coords))]


def test_predictor_without_options_and_energy():
    predictor = FixedPredictor()
    assert dataclasses.fields(predictor.options) == ()
    with pytest.raises(PluginError, match="'fixed' has no option 'budget'; its options: none"):
        FixedPredictor(budget=3)
    (candidate,) = predictor.predict_candidates("ZnO", formula_units=2)
    assert candidate.energy_per_atom is None and candidate.validated_energy_per_atom is None
    assert len(predictor.predict("ZnO", formula_units=3)) == 6


def test_options_become_attributes_and_positional_order_follows_the_dataclass():
    predictor = load_predictor("ras", calculator="emt", budget=5)
    assert predictor.options == predictor_options("ras")(calculator="emt", budget=5)
    assert (predictor.budget, predictor.calculator) == (5, "emt")
    assert predictor_class("ras")("emt", 7).budget == 7
    with pytest.raises(PluginError, match="'ras'"):
        predictor_class("ras")("emt", 7, (1,), 20, 0.1, 300, 0.05, "extra")


def test_unknown_call_option_names_what_predict_candidates_takes():
    predictor = load_predictor("ras", calculator="emt", budget=2)
    with pytest.raises(PluginError, match="no call option 'steps'; predict_candidates takes: formula_units, "
                                          "n_candidates, seed, relax"):
        predictor.predict_candidates("CuAu", steps=3)


class LabelledPredictor(StructurePredictor):
    """One fixed crystal per formula (a general triclinic ZnO cell, a simple cubic Cu), labelled by spglib."""

    name = "labelled"
    CRYSTALS = {
        "ZnO": Structure(Lattice.from_parameters(3.1, 4.3, 5.7, 71, 83, 97), ["Zn", "O", "Zn", "O"],
                         [[0.01, 0.13, 0.27], [0.41, 0.58, 0.11], [0.77, 0.33, 0.69], [0.2, 0.9, 0.52]]),
        "Cu": Structure(Lattice.cubic(2.6), ["Cu"], [[0, 0, 0]]),
    }

    def predict_candidates(self, formula, formula_units=None, n_candidates=8, seed=0, **options):
        from ase_lcom.symmetry import symmetrize

        structure, symbol, number = symmetrize(self.CRYSTALS[formula], 0.1)
        return [Candidate(structure, None, info={"spacegroup": symbol, "spacegroup_number": number})]


def test_predict_warns_when_the_best_candidate_has_no_symmetry():
    import warnings

    from ase_lcom.errors import LowSymmetryWarning

    with pytest.warns(LowSymmetryWarning, match="best labelled candidate for ZnO has no symmetry"):
        LabelledPredictor().predict("ZnO")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LowSymmetryWarning)
        LabelledPredictor().predict("Cu")
