"""Ternary, quaternary and intermetallic structure types and their decorations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import spglib
from ase.data import covalent_radii
from pymatgen.core import Composition
from pymatgen.symmetry.groups import SpaceGroup

from ase_lcom.data.compositions import (
    CSP26,
    MULTINARY_TARGETS,
    composition_class,
    default_compositions,
    v3_compositions,
)
from ase_lcom.data.prototypes import PROTOTYPES, decorate
from ase_lcom.data.prototypes_multinary import STRUCTURE_TYPES, template
from ase_lcom.structure import to_atoms

EXAMPLES = {
    "perovskite_pnma": "GdFeO3", "perovskite_i4mcm": "SrTiO3", "perovskite_r3c": "LaAlO3",
    "double_perovskite": "Sr2FeMoO6", "k2nif4": "Sr2TiO4", "spinel": "MgAl2O4", "inverse_spinel": "MgFe2O4",
    "olivine": "Mg2SiO4", "triphylite": "LiFePO4", "scheelite": "CaWO4", "pyrochlore": "Gd2Ti2O7",
    "delafossite": "CuFeO2", "chalcopyrite": "CuFeS2", "kesterite": "Cu2ZnSnS4", "stannite": "Cu2FeSnS4",
    "thcr2si2": "BaFe2As2", "caal2si2": "CaAl2Si2", "zrcusias": "LaFeAsO", "heusler": "Cu2MnAl",
    "inverse_heusler": "Mn2CoAl", "half_heusler": "TiNiSn", "quaternary_heusler": "CoFeMnSi", "l1_0": "FePt",
    "b20": "FeSi", "c15": "MgCu2", "c14": "MgZn2", "c36": "MgNi2", "alb2": "MgB2", "c11b": "MoSi2",
    "l1_2": "Cu3Au", "d0_3": "Fe3Al", "d0_19": "Ni3Sn", "d0_22": "TiAl3", "a15": "Nb3Sn", "cacu5": "LaNi5",
}


def _spacegroup_number(structure, symprec: float = 0.01) -> int:
    atoms = to_atoms(structure)
    return spglib.get_symmetry_dataset((atoms.cell, atoms.get_scaled_positions(), atoms.numbers),
                                       symprec=symprec).number


def test_every_type_has_an_example():
    assert set(EXAMPLES) == set(STRUCTURE_TYPES)


@pytest.mark.parametrize("name", sorted(STRUCTURE_TYPES))
def test_type_keeps_its_space_group_wyckoff_multiplicities_and_contacts(name):
    structure_type = STRUCTURE_TYPES[name]
    # Wyckoff multiplicities: the conventional cell holds exactly their sum per label
    conventional = template(structure_type)
    for label, placeholder in zip(structure_type.labels, ("H", "He", "Li", "Be"), strict=False):
        expected = sum(int(re.match(r"\d+", w).group()) for lab, w, _ in structure_type.sites if lab == label)
        assert sum(site.specie.symbol == placeholder for site in conventional) == expected
    decorated = [s for n, s in decorate(EXAMPLES[name]) if n.split("-")[0] == name]
    assert decorated, f"{EXAMPLES[name]} is not decorated onto {name}"
    number = SpaceGroup(structure_type.spacegroup).int_number
    for structure in decorated:
        assert _spacegroup_number(structure) == number
        distances = structure.distance_matrix + np.eye(len(structure)) * 1e3
        radii = np.array([covalent_radii[site.specie.Z] for site in structure])
        assert (distances / (radii[:, None] + radii[None, :])).min() >= 0.94  # the 0.95 floor, rounding allowed


def test_every_fitting_assignment_is_decorated_once():
    def names(formula, prefix):
        return sorted(n for n, _ in decorate(formula) if n.split("-")[0] == prefix)

    # the element at 4c (the tetrahedral centre) tells the three half-Heusler orderings apart
    assert names("TiNiSn", "half_heusler") == ["half_heusler-NiSnTi", "half_heusler-TiNiSn", "half_heusler-TiSnNi"]
    assert len(names("CoFeMnSi", "quaternary_heusler")) == 3  # Y-type: which pairs share a cube diagonal
    assert names("Cu2MnAl", "heusler") == ["heusler-CuMnAl"]  # Mn <-> Al is a lattice translation
    assert len(names("BaFe2As2", "thcr2si2")) == 2  # Fe and As (2 each) swap between 4d and 4e
    assert names("MgAl2O4", "spinel") == ["spinel"] and names("MgAl2O4", "inverse_spinel") == ["inverse_spinel"]
    assert names("Mg2SiO4", "olivine") == ["olivine"] and names("Sr2TiO4", "k2nif4") == ["k2nif4"]
    assert names("Cu3Au", "l1_2") == ["l1_2"] and names("Au3Cu", "l1_2") == ["l1_2"]
    spinel = dict(decorate("MgAl2O4"))["spinel"]
    assert spinel.composition.reduced_formula == "MgAl2O4" and len(spinel) == 14
    # the inverse spinel puts the divalent cation on octahedral sites: Al fills the tetrahedra
    inverse = dict(decorate("MgAl2O4"))["inverse_spinel"]
    assert _spacegroup_number(inverse) == 74


def test_intermetallic_types_skip_ionic_binaries():
    assert [n for n, _ in decorate("NaCl")] == ["rocksalt", "cscl", "zincblende", "wurtzite", "nias", "nias-swapped"]
    assert {"l1_0-CuAu", "b20-CuAu"} <= {n for n, _ in decorate("CuAu")}
    for formula in CSP26:  # the benchmark compounds keep exactly the binary prototypes
        assert all(n.removeprefix("anti-").split("-")[0] in PROTOTYPES for n, _ in decorate(formula))


# (formula, name, sites, volume A^3) of the binary decorations before the multinary types were added
BINARY_REGRESSION = [
    ("NaCl", "rocksalt", 2, 44.5659), ("ZnO", "wurtzite", 4, 47.3708), ("Li2O", "anti-fluorite", 3, 26.0262),
    ("TiO2", "rutile", 6, 112.8082), ("GaAs", "zincblende", 2, 49.895), ("CuNi", "nias-swapped", 4, 76.4048),
]


@pytest.mark.parametrize(("formula", "name", "sites", "volume"), BINARY_REGRESSION)
def test_binary_decorations_are_unchanged(formula, name, sites, volume):
    structure = dict(decorate(formula))[name]
    assert len(structure) == sites
    assert structure.volume == pytest.approx(volume, abs=1e-3)


def test_v3_compositions_cover_the_multinary_families():
    compositions = v3_compositions()
    assert compositions == v3_compositions(seed=0)
    assert compositions[:240] == default_compositions()
    assert len(compositions) >= 600 and len(set(compositions)) == len(compositions)
    classes = [composition_class(f) for f in compositions]
    multinary = sum(len(Composition(f)) >= 3 for f in compositions)
    assert multinary >= len(compositions) / 3
    assert classes.count("intermetallic") >= len(compositions) / 5
    assert not set(compositions) & set(MULTINARY_TARGETS)
    assert max(Composition(f).num_atoms for f in compositions) <= 20  # one formula unit fits the 20-atom cells


def test_multinary_targets_file_matches_the_held_out_list():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "multinary_targets.json"
    targets = json.loads(path.read_text())["targets"]
    assert [t["formula"] for t in targets] == list(MULTINARY_TARGETS) and len(targets) >= 30
    from pymatgen.core import Structure

    for target in targets[::6]:
        structure = Structure.from_dict(target["structure"])
        assert structure.composition.reduced_formula == Composition(target["formula"]).reduced_formula
        assert _spacegroup_number(structure) == target["spacegroup_number"]
        assert target["source"]
