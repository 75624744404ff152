"""Ranking candidates: by the predictor's own energy, by a calculator's single point, or after relaxation.

Every predictor ranks through these functions, so they share one failure policy: when a calculator fails on a
candidate, returns a non-finite energy or relaxes it to an implausible one (a formation energy above
:data:`~ase_lcom.plausibility.MAX_FORMATION_ENERGY`), the candidate keeps its structure, its
``validated_energy_per_atom`` is ``None``, ``info["error"]`` holds the one-line reason, it is ranked after every
scored candidate, and the rest of the batch goes on. Setup errors (an unknown calculator, missing weights, an
elemental reference that cannot be computed) are raised before any candidate is scored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ase.calculators.calculator import BaseCalculator

from ase_lcom.calculators import ReferenceEnergies, energy_per_atom, relax
from ase_lcom.errors import CalculatorError
from ase_lcom.plausibility import relaxed_formation_energy
from ase_lcom.predictors import Candidate
from ase_lcom.symmetry import symmetrize


class ReferenceCache:
    """:class:`ReferenceEnergies` per calculator, each built once: a predictor keeps one, so the references of a
    calculator instance (held in memory) are computed once per predictor, not once per prediction."""

    def __init__(self) -> None:
        self._items: dict[str | int, tuple[str | BaseCalculator, ReferenceEnergies]] = {}

    def __call__(self, calculator: str | BaseCalculator) -> ReferenceEnergies:
        """The references of a calculator name or instance."""
        key = calculator if isinstance(calculator, str) else id(calculator)
        if key not in self._items:  # the calculator is kept with its entry so that its id stays its own
            self._items[key] = (calculator, ReferenceEnergies(calculator))
        return self._items[key][1]


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def sort_by_energy(candidates: list[Candidate]) -> None:
    """Order ``candidates`` in place by the predictor's own energy, lowest first; those without a finite one
    last, in their current order."""
    candidates.sort(key=lambda c: (0, c.energy_per_atom) if _finite(c.energy_per_atom) else (1, 0.0))


def sort_by_validated_energy(candidates: list[Candidate]) -> None:
    """Order ``candidates`` in place by validated formation energy, lowest first; those without one (failed
    calculations) after all scored candidates, in their current order."""
    candidates.sort(key=lambda c: (0, c.validated_energy_per_atom) if _finite(c.validated_energy_per_atom)
                    else (1, 0.0))


def mark_failed(candidate: Candidate, reason: str) -> None:
    """Record that a validating calculation failed on ``candidate`` (no validated energy, a one-line error)."""
    text = reason.strip()
    candidate.validated_energy_per_atom = None
    candidate.info["error"] = text.splitlines()[0] if text else "calculation failed"


def _prepare(candidates: Sequence[Candidate], references: ReferenceEnergies) -> None:
    """Compute the elemental references of all candidates first: a setup error is raised as itself."""
    references.energies({el.symbol for c in candidates for el in c.structure.composition.elements})


def score_single_points(candidates: list[Candidate], references: ReferenceEnergies) -> None:
    """Score each candidate by the single-point formation energy of ``references.calculator`` (no relaxation)
    and re-rank in place; ``info["ranked_by"]`` names the calculator."""
    _prepare(candidates, references)
    for candidate in candidates:
        candidate.info["ranked_by"] = references.name
        try:
            energy = energy_per_atom(candidate.structure, references.calculator)
        except CalculatorError as exc:
            mark_failed(candidate, str(exc))
            continue
        candidate.validated_energy_per_atom = references.formation_energy_per_atom(candidate.structure, energy)
    sort_by_validated_energy(candidates)


def relax_and_rerank(candidates: list[Candidate], references: ReferenceEnergies, fmax: float = 0.05,
                     steps: int = 300, symprec: float | None = 0.1, optimizer: str = "FIRE") -> None:
    """Relax each candidate (positions and cell) with ``references.calculator`` and re-rank in place by the
    relaxed formation energy.

    A relaxed candidate's structure is the relaxed crystal (symmetrised at ``symprec`` unless it is ``None``);
    ``info`` gains ``unrelaxed`` (the structure before), ``relax_converged`` and ``relax_steps``.
    """
    _prepare(candidates, references)
    for candidate in candidates:
        try:
            result = relax(candidate.structure, references.calculator, fmax=fmax, steps=steps, optimizer=optimizer)
            formation = relaxed_formation_energy(result, references)
        except CalculatorError as exc:
            mark_failed(candidate, str(exc))
            continue
        candidate.info["unrelaxed"] = candidate.structure
        candidate.structure = result.structure if symprec is None else symmetrize(result.structure, symprec)[0]
        candidate.validated_energy_per_atom = formation
        candidate.info.update(relax_converged=result.converged, relax_steps=result.steps)
    sort_by_validated_energy(candidates)


def deduplicate(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates without repeats, in their order: a candidate is dropped when pymatgen's
    ``StructureMatcher`` (strict defaults) matches it to an earlier one of the same composition and size."""
    from ase_lcom.metrics.matching import structure_matcher

    matcher = structure_matcher("strict")
    kept: list[Candidate] = []
    for candidate in candidates:
        same = [k for k in kept if len(k.structure) == len(candidate.structure)
                and k.structure.composition == candidate.structure.composition]
        if not any(matcher.fit(k.structure, candidate.structure) for k in same):
            kept.append(candidate)
        else:
            candidate.info["duplicate"] = True
    return kept


def polish_and_rerank(candidates: list[Candidate], references: ReferenceEnergies, top: int = 3,
                      fmax: float = 0.05, steps: int = 60, symprec: float = 0.1) -> list[Candidate]:
    """Score every candidate by a single point, relax the ``top`` lowest with their symmetry kept (a short
    polish: ASE ``FixSymmetry``, BFGS, ``steps`` at most), drop duplicates and rank by validated formation energy.

    Returns the ranked, deduplicated candidates; polished ones carry ``info["polished"]``, ``unrelaxed``,
    ``relax_converged`` and ``relax_steps``, and their structure is the relaxed crystal symmetrised at
    ``symprec``.
    """
    score_single_points(candidates, references)
    candidates = deduplicate(candidates)
    scored = [c for c in candidates if _finite(c.validated_energy_per_atom)]
    for candidate in scored[:top]:
        try:
            result = relax(candidate.structure, references.calculator, fmax=fmax, steps=steps, optimizer="BFGS",
                           fix_symmetry=True)
            formation = relaxed_formation_energy(result, references)
        except CalculatorError as exc:
            mark_failed(candidate, str(exc))
            continue
        candidate.info.update(unrelaxed=candidate.structure, polished=True, relax_converged=result.converged,
                              relax_steps=result.steps)
        relaxed, symbol, number = symmetrize(result.structure, symprec)
        candidate.structure = relaxed
        candidate.info.update(spacegroup=symbol, spacegroup_number=number)
        candidate.validated_energy_per_atom = formation
    sort_by_validated_energy(candidates)
    return deduplicate(candidates)
