"""One failure policy for every ranking: a failed or non-finite calculation marks its candidate, ranks it last
and lets the batch go on; setup errors are raised before any candidate is scored."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT

from ase_lcom.calculators import ReferenceEnergies
from ase_lcom.errors import CalculatorError
from ase_lcom.predictors import Candidate
from ase_lcom.predictors.ranking import (
    relax_and_rerank,
    score_single_points,
    sort_by_energy,
    sort_by_validated_energy,
)
from ase_lcom.structure import to_structure

SWOLLEN = 40.0
"""Volume per atom (A^3) above which the test calculators fail: far above any Cu-Au phase EMT relaxes to."""


class FailingEMT(EMT):
    """EMT that raises a two-line error on swollen cells, or returns NaN for them with ``nan=True``."""

    def __init__(self, nan: bool = False) -> None:
        super().__init__()
        self.nan = nan

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        if atoms is not None and atoms.get_volume() / len(atoms) > SWOLLEN:
            if not self.nan:
                raise RuntimeError("SCF did not converge\nsecond line of detail")
            Calculator.calculate(self, atoms, properties, system_changes)
            self.results = {"energy": math.nan, "free_energy": math.nan, "forces": np.zeros((len(atoms), 3)),
                            "stress": np.zeros(6), "energies": np.zeros(len(atoms))}
            return
        super().calculate(atoms, properties, system_changes)


def _alloy(a: float):
    atoms = bulk("Cu", "fcc", a=a, cubic=True)
    atoms.symbols[[0, 1]] = "Au"
    return to_structure(atoms)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One reference cache file shared by both failing calculators (their elemental phases never fail)."""
    return tmp_path_factory.mktemp("references")


def _references(cache, nan: bool = False) -> ReferenceEnergies:
    return ReferenceEnergies(FailingEMT(nan=nan), cache_dir=cache, cache_key="failing-emt")


@pytest.fixture
def candidates():
    """Three CuAu cells: a slightly compressed one, a swollen one (the calculators fail on it), a good one."""
    return [Candidate(_alloy(3.75), -0.5, info={"name": "compressed"}),
            Candidate(_alloy(6.0), -0.9, info={"name": "swollen"}),
            Candidate(_alloy(3.92), -0.1, info={"name": "relaxed"})]


@pytest.mark.parametrize("nan", [False, True])
def test_single_point_failure_marks_the_candidate_and_ranks_it_last(candidates, cache, nan):
    references = _references(cache, nan)
    score_single_points(candidates, references)
    assert [c.info["name"] for c in candidates] == ["relaxed", "compressed", "swollen"]
    good, failed = candidates[:2], candidates[2]
    assert all(np.isfinite(c.validated_energy_per_atom) and "error" not in c.info for c in good)
    assert good[0].validated_energy_per_atom < good[1].validated_energy_per_atom
    assert failed.validated_energy_per_atom is None and failed.energy_per_atom == -0.9
    expected = "not finite" if nan else "SCF did not converge"
    assert expected in failed.info["error"] and "\n" not in failed.info["error"]
    assert all(c.info["ranked_by"] == "failing-emt" for c in candidates)


def test_relaxation_failure_keeps_the_structure_and_the_batch_goes_on(candidates, cache):
    swollen = candidates[1].structure
    relax_and_rerank(candidates, _references(cache), steps=40, symprec=0.1)
    assert candidates[-1].info["name"] == "swollen" and candidates[-1].structure is swollen
    assert candidates[-1].validated_energy_per_atom is None and "relaxation of" in candidates[-1].info["error"]
    for relaxed in candidates[:2]:
        assert "unrelaxed" in relaxed.info and relaxed.info["relax_steps"] <= 40
        assert np.isfinite(relaxed.validated_energy_per_atom)
    assert candidates[0].validated_energy_per_atom <= candidates[1].validated_energy_per_atom


class BrokenCalculator(Calculator):
    implemented_properties = ["energy", "forces", "stress"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        raise RuntimeError("license server unreachable")


def test_setup_errors_are_raised_before_scoring(candidates):
    with pytest.raises(CalculatorError, match="no elemental reference phase of"):
        score_single_points(candidates, ReferenceEnergies(BrokenCalculator()))
    assert all(c.validated_energy_per_atom is None and "error" not in c.info for c in candidates)


def test_sorting_puts_missing_and_non_finite_energies_last():
    structure = _alloy(3.9)
    energies = [0.3, None, -0.2, math.nan, 0.1]
    ranked = [Candidate(structure, e, info={"k": k}) for k, e in enumerate(energies)]
    sort_by_energy(ranked)
    assert [c.info["k"] for c in ranked] == [2, 4, 0, 1, 3]
    for candidate, validated in zip(ranked, [None, 1.0, -1.0, None, 0.5], strict=True):
        candidate.validated_energy_per_atom = validated
    sort_by_validated_energy(ranked)
    assert [c.info["k"] for c in ranked] == [0, 3, 4, 2, 1]
