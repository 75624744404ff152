"""LCOMTransformation with any installed predictor, serialised by its predictor name and options."""

from __future__ import annotations

import json

import pytest
from pymatgen.alchemy.transmuters import StandardTransmuter
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.transformations.standard_transformations import SubstitutionTransformation

from ase_lcom.errors import PluginError
from ase_lcom.transformations import LCOMTransformation


@pytest.fixture
def cuau() -> Structure:
    return Structure(Lattice.cubic(3.0), ["Cu", "Au"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_search_predictor_in_a_transmuter_pipeline(cuau):
    transformation = LCOMTransformation("ras", n_candidates=2, calculator="emt", budget=6)
    transmuter = StandardTransmuter.from_structures(
        [cuau], [SubstitutionTransformation({"Au": "Ag"}), transformation])
    final = transmuter.transformed_structures[0].final_structure
    assert final.composition.reduced_composition == Composition("AgCu")
    ranked = transformation.apply_transformation(cuau, return_ranked_list=2)
    assert len(ranked) == 2 and ranked[0]["energy_per_atom"] <= ranked[1]["energy_per_atom"]
    assert all(r["structure"].composition.reduced_composition == Composition("AuCu") for r in ranked)


def test_round_trip_through_json():
    transformation = LCOMTransformation("pso", n_candidates=3, seed=2, relax=True, calculator="emt", budget=4,
                                        swarm=2)
    data = json.loads(json.dumps(transformation.as_dict()))
    restored = LCOMTransformation.from_dict(data)
    assert restored.as_dict() == transformation.as_dict()
    assert (restored.predictor, restored.seed, restored.relax) == ("pso", 2, True)
    assert restored.predictor_instance().options.swarm == 2


def test_latent_predictor_is_seeded_by_the_input(cuau):
    transformation = LCOMTransformation(n_candidates=2, num_levels=4, steps_per_level=1, steps=3)
    assert transformation.predictor_instance().steps == 3
    structure = transformation.apply_transformation(cuau)
    assert structure.composition.reduced_composition == Composition("AuCu") and len(structure) == 2


def test_options_are_checked_against_the_predictor():
    with pytest.raises(PluginError, match="'ras' has no option 'model'"):
        LCOMTransformation("ras", model="bundle.pt")
    with pytest.raises(PluginError, match="unknown predictor 'gan9'"):
        LCOMTransformation("gan9")
