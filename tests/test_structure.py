"""Formula parsing, structure validation, conversions and the tensor form."""

from __future__ import annotations

import csv
import itertools
import math

import numpy as np
import pytest
import torch
from ase import Atoms
from hypothesis import given, settings
from hypothesis import strategies as st
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Lattice, Structure

from ase_lcom.errors import FormulaError, StructureError
from ase_lcom.structure import (
    CrystalBatch,
    cell_composition,
    formula_unit_options,
    lattice_matrix_from_params,
    lattice_params_from_matrix,
    parse_formula,
    read_structure,
    read_structures,
    to_atoms,
    to_structure,
    validate_structure,
    write_structure,
)


# ------------------------------------------------------------------------------------------ formulas
@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("ZnO", {"Zn": 1, "O": 1}),
        ("Zn2O2", {"Zn": 2, "O": 2}),
        ("Ca(OH)2", {"Ca": 1, "O": 2, "H": 2}),
        (" SrTiO3 ", {"Sr": 1, "Ti": 1, "O": 3}),
        ("Na Cl", {"Na": 1, "Cl": 1}),
        (Composition("MgO"), {"Mg": 1, "O": 1}),
        ({"Si": 2}, {"Si": 2}),
    ],
)
def test_parse_formula_accepts(formula, expected):
    assert parse_formula(formula) == Composition(expected)


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("", "empty formula"),
        ("   ", "empty formula"),
        ("Xx2", "unknown element symbol 'Xx'"),
        ("NaCL", "unknown element symbol 'L'"),
        ("NaCl0.5", "fractional amount 0.5 of Cl"),
        ("Na-1Cl", "negative amount -1 of Na"),
        ("Na0Cl", "zero amount of Na"),
        ("nacl", "element symbols start with a capital letter"),
        ("Na$Cl", "invalid character '$'"),
        ("(NaCl", "unbalanced parentheses"),
        ("NaCl)", "unbalanced parentheses"),
        ("Na.Cl", "misplaced '.'"),
        ({"Na": "x"}, "is not a number"),
        ("2NaCl", "does not follow an element symbol"),
        ("C100", "100 atoms per cell, more than the limit of 20"),
        ("Og", "Og (Z=118) is not supported"),
        (42, "must be a string"),
        ({"Na": 0.5, "Cl": 1}, "fractional amount 0.5 of Na"),
    ],
)
def test_parse_formula_rejects_with_a_message(formula, message):
    with pytest.raises(FormulaError) as info:
        parse_formula(formula)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_max_atoms_is_configurable():
    assert parse_formula("C100", max_atoms=None).num_atoms == 100
    with pytest.raises(FormulaError, match="limit of 4"):
        parse_formula("SrTiO3", max_atoms=4)


def test_cell_composition_uses_formula_units_of_the_reduced_formula():
    assert cell_composition("ZnO", formula_units=2) == Composition("Zn2O2")
    assert cell_composition("Zn2O2", formula_units=3) == Composition("Zn3O3")
    assert cell_composition("Zn2O2") == Composition("Zn2O2")
    with pytest.raises(FormulaError, match="positive integer"):
        cell_composition("ZnO", formula_units=0)
    with pytest.raises(FormulaError, match="positive integer"):
        cell_composition("ZnO", formula_units=1.5)
    with pytest.raises(FormulaError, match="more than the limit"):
        cell_composition("SrTiO3", formula_units=5)


def test_formula_unit_options():
    assert formula_unit_options("ZnO", max_atoms=8) == [1, 2, 3, 4]
    assert formula_unit_options("Zn2O2", max_atoms=8) == [1, 2, 3, 4]
    with pytest.raises(FormulaError, match="more than the limit"):
        formula_unit_options("SrTiO3", max_atoms=4)


# ------------------------------------------------------------------------------------ validation, I/O
def test_validate_structure_rejects_impossible_cells(nacl):
    overlapping = nacl.copy()
    overlapping.append("Na", [0.01, 0.0, 0.0])
    with pytest.raises(StructureError, match="apart"):
        validate_structure(overlapping)
    flat = Structure(Lattice([[3, 0, 0], [0, 3, 0], [3, 3, 0]]), ["Cu"], [[0, 0, 0]])
    with pytest.raises(StructureError, match="impossible cell"):
        validate_structure(flat)
    tiny = Structure(Lattice.cubic(0.3), ["Cu"], [[0, 0, 0]])  # the atom sits 0.3 A from its own image
    with pytest.raises(StructureError, match="apart"):
        validate_structure(tiny)
    with pytest.raises(StructureError, match="no full 3D cell"):
        validate_structure(Atoms("Cu"))
    assert validate_structure(nacl) == nacl


@pytest.mark.parametrize("name", ["nacl.cif", "POSCAR", "nacl.extxyz"])
def test_write_then_read_structure_formats(tmp_path, nacl, name):
    path = write_structure(nacl, tmp_path / name, format="vasp" if name == "POSCAR" else None)
    back = read_structure(path)
    assert StructureMatcher(stol=0.01, ltol=0.001, angle_tol=0.1).fit(back, nacl)
    assert back.lattice.abc == pytest.approx(nacl.lattice.abc, abs=1e-4)


def test_read_structure_errors(tmp_path):
    with pytest.raises(StructureError, match="not found"):
        read_structure(tmp_path / "missing.cif")
    corrupt = tmp_path / "corrupt.cif"
    corrupt.write_text("data_x\n_cell_length_a banana\nloop_\n_atom_site_label\n")
    with pytest.raises(StructureError, match="cannot read"):
        read_structure(corrupt)


def test_read_structures_reads_every_frame(tmp_path, nacl):
    frames = [nacl, nacl.copy().scale_lattice(nacl.volume * 1.1)]
    path = write_structure(frames, tmp_path / "two.extxyz")
    assert [round(s.volume, 3) for s in read_structures(path)] == [round(s.volume, 3) for s in frames]


# ------------------------------------------------------------------------------------------ tensors
@st.composite
def crystals(draw) -> Atoms:
    """Random triclinic cells with 1-6 atoms of random elements at least ~1 A apart."""
    lengths = draw(st.lists(st.floats(3.0, 8.0), min_size=3, max_size=3))
    angles = draw(st.lists(st.floats(65.0, 115.0), min_size=3, max_size=3))
    lattice = Lattice.from_parameters(*lengths, *angles)
    if not np.isfinite(lattice.volume) or lattice.volume < 0.3 * np.prod(lengths):  # near-degenerate angles
        lattice = Lattice.from_parameters(*lengths, 90, 90, 90)
    matrix = lattice.matrix
    n = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    frac = np.random.default_rng(seed).random((n, 3))
    numbers = draw(st.lists(st.integers(1, 94), min_size=n, max_size=n))
    return Atoms(numbers=numbers, scaled_positions=frac, cell=matrix, pbc=True)


@settings(max_examples=40, deadline=None)
@given(crystals())
def test_roundtrip_atoms_structure_tensors_structure(atoms):
    structure = to_structure(atoms)
    assert to_atoms(structure).get_atomic_numbers().tolist() == atoms.get_atomic_numbers().tolist()
    niggli = structure.get_reduced_structure("niggli")
    back = CrystalBatch.from_structures([atoms]).to_structures()[0]
    # species, lattice and positions are preserved exactly in the Niggli-reduced cell
    assert [s.specie.Z for s in back] == [s.specie.Z for s in niggli]
    np.testing.assert_allclose(back.lattice.matrix, niggli.lattice.matrix, atol=1e-10)
    diff = back.frac_coords - niggli.frac_coords
    np.testing.assert_allclose(diff - np.round(diff), 0.0, atol=1e-10)
    # and the reduced cell describes the same crystal as the input
    assert back.volume == pytest.approx(atoms.get_volume(), rel=1e-9)
    cart_in = np.sort(np.round(to_structure(atoms).get_sorted_structure().distance_matrix, 6), axis=None)
    cart_out = np.sort(np.round(back.get_sorted_structure().distance_matrix, 6), axis=None)
    np.testing.assert_allclose(cart_in, cart_out, atol=1e-5)


def test_crystal_batch_on_real_perovskites(shared_data):
    with (shared_data / "cdvae" / "perov_5" / "test.csv").open() as handle:
        rows = list(itertools.islice(csv.DictReader(handle), 8))
    structures = [Structure.from_str(row["cif"], fmt="cif") for row in rows]
    batch = CrystalBatch.from_structures(structures)
    assert batch.num_crystals == 8
    assert batch.num_atoms.tolist() == [len(s) for s in structures]
    assert batch.batch.tolist() == [i for i, s in enumerate(structures) for _ in s]
    assert bool(((batch.frac_coords >= 0) & (batch.frac_coords < 1)).all())
    for before, after in zip(structures, batch.to_structures()):
        assert after.composition == before.composition
        assert after.volume == pytest.approx(before.volume, rel=1e-9)
    lengths, angles = batch.lattice_params()
    expected = np.array([s.get_reduced_structure().lattice.abc for s in structures])
    np.testing.assert_allclose(lengths.numpy(), expected, rtol=1e-9)
    niggli = structures[0].get_reduced_structure()
    diff = batch.cart_coords[:5].numpy() - niggli.cart_coords  # equal up to lattice translations
    frac_diff = np.linalg.solve(niggli.lattice.matrix.T, diff.T).T
    np.testing.assert_allclose(frac_diff, np.round(frac_diff), atol=1e-9)


def test_lattice_parameters_roundtrip_and_are_differentiable():
    lengths = torch.tensor([[3.0, 4.0, 5.0], [6.0, 6.0, 6.0]], dtype=torch.float64, requires_grad=True)
    angles = torch.tensor([[80.0, 95.0, 110.0], [60.0, 60.0, 60.0]], dtype=torch.float64)
    matrix = lattice_matrix_from_params(lengths, angles)
    back_lengths, back_angles = lattice_params_from_matrix(matrix)
    torch.testing.assert_close(back_lengths, lengths)
    torch.testing.assert_close(back_angles, angles)
    volume = torch.linalg.det(matrix).abs().sum()
    volume.backward()
    assert lengths.grad is not None and torch.isfinite(lengths.grad).all()
    pmg = Lattice.from_parameters(3.0, 4.0, 5.0, 80.0, 95.0, 110.0)
    assert math.isclose(float(torch.linalg.det(matrix[0].detach())), pmg.volume, rel_tol=1e-12)
