"""Symmetrisation of predictions: the space group found, bad input refused before spglib, no lasting side effect."""

from __future__ import annotations

import os

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from ase_lcom.errors import StructureError
from ase_lcom.symmetry import SPGLIB_WARNING_ENV, symmetrize


def test_symmetrize_finds_rocksalt(nacl):
    perturbed = nacl.copy()
    perturbed.translate_sites([0], [0.01, 0.0, 0.0], frac_coords=False)
    structure, symbol, number = symmetrize(perturbed, symprec=0.1)
    assert (symbol, number) == ("Fm-3m", 225) and len(structure) == 2
    assert symmetrize(perturbed, symprec=1e-4)[1:] != ("Fm-3m", 225)  # the tolerance matters


def test_structure_without_symmetry_is_returned_as_p1():
    rng = np.random.default_rng(0)
    crystal = Structure(Lattice(np.diag([3.1, 4.3, 5.7]) + rng.normal(0, 0.2, (3, 3))), ["Na", "Cl", "Cl"],
                        rng.random((3, 3)))
    structure, symbol, number = symmetrize(crystal, symprec=1e-3)
    assert (symbol, number) == ("P1", 1) and structure is crystal


@pytest.mark.parametrize("symprec", [0.0, -0.1, float("nan"), float("inf"), True, "0.1"])
def test_bad_tolerance_is_refused(nacl, symprec):
    with pytest.raises(StructureError, match="symprec must be a positive distance"):
        symmetrize(nacl, symprec=symprec)


def test_non_finite_lattice_is_refused_before_spglib():
    crystal = Structure(Lattice(np.full((3, 3), np.nan)), ["Na"], [[0, 0, 0]])
    with pytest.raises(StructureError, match="not finite"):
        symmetrize(crystal)
    crystal = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, np.inf, 0.5]])
    with pytest.raises(StructureError, match="not finite"):
        symmetrize(crystal)


def test_spglib_warnings_are_off_only_during_the_call(nacl, monkeypatch):
    seen = []
    original = SpacegroupAnalyzer.get_space_group_number

    def spy(self):
        seen.append(os.environ.get(SPGLIB_WARNING_ENV))
        return original(self)

    monkeypatch.setattr(SpacegroupAnalyzer, "get_space_group_number", spy)
    monkeypatch.delenv(SPGLIB_WARNING_ENV, raising=False)
    symmetrize(nacl)
    assert seen == ["OFF"] and SPGLIB_WARNING_ENV not in os.environ
    monkeypatch.setenv(SPGLIB_WARNING_ENV, "ON")  # the user's own choice is kept, during and after
    symmetrize(nacl)
    assert seen == ["OFF", "ON"] and os.environ[SPGLIB_WARNING_ENV] == "ON"
