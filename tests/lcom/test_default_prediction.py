"""The main job: the shipped model's default prediction is the known ground state (strict StructureMatcher)."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

from ase_lcom.lcom.predictor import LCOMPredictor
from ase_lcom.metrics.matching import is_match


@pytest.fixture(scope="module")
def predictor() -> LCOMPredictor:
    return LCOMPredictor()


def _wurtzite_zno() -> Structure:
    lattice = Lattice.hexagonal(3.25, 5.21)
    return Structure.from_spacegroup("P6_3mc", lattice, ["Zn", "O"], [[1 / 3, 2 / 3, 0.0], [1 / 3, 2 / 3, 0.382]])


def _rocksalt_nacl() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.mark.slow
def test_zno_is_wurtzite(predictor: LCOMPredictor) -> None:
    best = predictor.predict_candidates("ZnO")[0]
    assert best.info["spacegroup"] == "P6_3mc"
    assert is_match(best.structure, _wurtzite_zno(), "strict")
    assert best.info["model"] == "lcom-default-v5" and best.info["polished"]


@pytest.mark.slow
def test_nacl_is_rocksalt(predictor: LCOMPredictor) -> None:
    best = predictor.predict("NaCl")
    assert is_match(best, _rocksalt_nacl(), "strict")
    zincblende = Structure.from_spacegroup("F-43m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.25] * 3])
    assert not is_match(best, zincblende, "strict")  # the matcher tells the polymorphs apart


def test_pure_mode_runs_no_calculator(predictor: LCOMPredictor, monkeypatch: pytest.MonkeyPatch) -> None:
    """``polish=None`` is the paper's method: surrogate-ranked decodes only, no calculator is built."""
    import ase_lcom.calculators as calculators

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pure mode called a calculator")

    monkeypatch.setattr(calculators, "get_calculator", refuse)
    candidates = LCOMPredictor(polish="none", n_candidates=2).predict_candidates("NaCl", formula_units=1)
    assert len(candidates) == 2
    assert all(c.validated_energy_per_atom is None and not c.info.get("undecoded") for c in candidates)
    energies = [c.energy_per_atom for c in candidates]
    assert energies == sorted(energies)
