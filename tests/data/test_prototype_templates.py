"""The shipped conventional cells of the prototype library: complete, exact, never stale."""

import numpy as np
import pytest

from ase_lcom.data import prototype_templates
from ase_lcom.data.prototype_templates import conventional_cell, expand, template_key
from ase_lcom.data.prototypes import PROTOTYPES
from ase_lcom.data.prototypes import template_definition as binary_definition
from ase_lcom.data.prototypes_multinary import STRUCTURE_TYPES
from ase_lcom.data.prototypes_multinary import template_definition as multinary_definition

DEFINITIONS = {p.name: binary_definition(p) for p in PROTOTYPES.values()} | {
    t.name: multinary_definition(t) for t in STRUCTURE_TYPES.values()}


def test_every_prototype_has_a_shipped_cell():
    shipped = prototype_templates._shipped()
    missing = [name for name, d in DEFINITIONS.items() if template_key(*d) not in shipped]
    assert not missing, f"rerun scripts/build_prototype_templates.py: no shipped cell for {missing}"


@pytest.mark.parametrize("name", ["rocksalt", "wurtzite", "perovskite", "spinel", "heusler", "thcr2si2"])
def test_shipped_cell_is_the_expanded_one(name):
    definition = DEFINITIONS[name]
    shipped, fresh = conventional_cell(*definition), expand(*definition)
    assert [s.specie.symbol for s in shipped] == [s.specie.symbol for s in fresh]
    # to rounding: a fresh install's numpy or pymatgen may differ from the build's in the last bit (1e-16)
    np.testing.assert_allclose(shipped.lattice.matrix, fresh.lattice.matrix, rtol=0, atol=1e-12)
    np.testing.assert_allclose(shipped.frac_coords, fresh.frac_coords, rtol=0, atol=1e-12)


def test_an_edited_definition_is_expanded_afresh():
    spacegroup, lattice, species, coords = DEFINITIONS["rocksalt"]
    edited = (spacegroup, (2.0, 2.0, 2.0, 90.0, 90.0, 90.0), species, coords)
    assert template_key(*edited) not in prototype_templates._shipped()
    assert conventional_cell(*edited).lattice.a == pytest.approx(2.0)
