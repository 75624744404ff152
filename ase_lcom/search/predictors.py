"""Search baselines as structure predictors: GN-OA random search (RAS), particle swarm (PSO), Bayesian
optimisation (BO, TPE as in GN-OA), all scored by a calculator's single-point energy, and AIRSS-style random
search with relaxation.

GN-OA (Cheng et al. 2022) used a MEGNet energy model and 5000 evaluations; here the calculator (CHGNet by
default) plays that role and ``budget`` sets the number of evaluations. Overlapping or ill-formed crystals
score :data:`PENALTY` without a calculator call (they still count against the budget).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase.calculators.calculator import BaseCalculator
from pymatgen.core import Composition, Structure

from ase_lcom.calculators import ReferenceEnergies, energy_per_atom, relax
from ase_lcom.errors import CalculatorError, FormulaError
from ase_lcom.predictors import Candidate, StructurePredictor, check_call_options
from ase_lcom.predictors.ranking import ReferenceCache, relax_and_rerank, sort_by_energy
from ase_lcom.search.space import SymmetricCrystalSpace
from ase_lcom.structure import DEFAULT_MAX_ATOMS, FormulaLike, cell_composition, parse_formula
from ase_lcom.symmetry import symmetrize

PENALTY = 10.0
"""Score (eV/atom) of crystals that are rejected before any calculation or on which the calculator fails."""


@dataclass
class SearchOptions:
    """Options of the search baselines (``ras``, ``bo``; ``pso`` and ``airss`` add their own).

    Attributes
    ----------
    calculator
        Calculator name for :func:`ase_lcom.calculators.get_calculator`, or an ASE calculator instance (its
        elemental references are then computed once per predictor and kept in memory).
    budget
        Energy evaluations per prediction (GN-OA: 5000).
    formula_unit_choices
        Formula units tried when the number is not given (the budget is split between those that fit
        ``max_atoms``).
    max_atoms
        Largest cell searched.
    symprec
        spglib tolerance for symmetrising the candidates (Angstrom).
    relax_steps, fmax
        Optimizer steps and force threshold (eV/Angstrom) of ``relax=True``.
    """

    calculator: str | BaseCalculator = "chgnet"
    budget: int = 300
    formula_unit_choices: tuple[int, ...] = (1, 2)
    max_atoms: int = DEFAULT_MAX_ATOMS
    symprec: float = 0.1
    relax_steps: int = 300
    fmax: float = 0.05


class SearchPredictor(StructurePredictor):
    """Shared machinery: the search space, the energy calls, the ranked result.

    Takes the fields of its :attr:`Options` as arguments (``calculator`` first). A candidate's
    ``energy_per_atom`` is its formation energy with the calculator's elemental references.
    """

    name = ""
    Options = SearchOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._references = ReferenceCache()

    @property
    def references(self) -> ReferenceEnergies:
        """The elemental references of the calculator; ``references.calculator`` is the calculator."""
        return self._references(self.options.calculator)

    def energy(self, structure: Structure | None) -> float:
        """Single-point energy per atom (eV/atom); :data:`PENALTY` for rejected crystals or failed calls."""
        if structure is None:
            return PENALTY
        try:
            return energy_per_atom(structure, self.references.calculator)
        except CalculatorError:  # a calculator may refuse pathological cells; the search moves on
            return PENALTY

    def search(self, space: SymmetricCrystalSpace, budget: int, rng: np.random.Generator,
               ) -> list[tuple[float, Structure]]:
        """Evaluated (energy per atom, structure) pairs; subclasses define the strategy."""
        raise NotImplementedError

    def _formula_units(self, reduced: Composition, formula_units: int | None) -> list[int]:
        if formula_units is not None:
            return [formula_units]
        per_unit = int(reduced.num_atoms)
        units = [u for u in self.formula_unit_choices if u * per_unit <= self.max_atoms]
        if not units:
            raise FormulaError(f"no cell of {', '.join(map(str, self.formula_unit_choices))} formula units of "
                               f"{reduced.reduced_formula} fits within {self.max_atoms} atoms")
        return units

    def predict_candidates(self, formula: FormulaLike, formula_units: int | None = None, n_candidates: int = 8,
                           seed: int = 0, relax: bool = False, **options: Any) -> list[Candidate]:
        """The ``n_candidates`` lowest-energy crystals the search evaluated, best first.

        Parameters
        ----------
        formula, formula_units
            The composition and the formula units per cell (``None``: each of ``formula_unit_choices``).
        seed
            Seeds the search.
        relax
            Relax each candidate with the calculator and re-rank by the relaxed formation energy.
        """
        check_call_options(self, options)
        start = time.perf_counter()
        composition = parse_formula(formula).reduced_composition
        reduced = composition.reduced_formula
        units = self._formula_units(composition, formula_units)
        rng = np.random.default_rng(seed)
        found: list[tuple[float, Structure, int]] = []
        trace: list[float] = []
        for k, units_here in enumerate(units):
            share = self.budget // len(units) + (1 if k < self.budget % len(units) else 0)
            space = SymmetricCrystalSpace(cell_composition(reduced, units_here, max_atoms=self.max_atoms))
            for energy, structure in self.search(space, share, rng):
                found.append((energy, structure, units_here))
                trace.append(min(energy, trace[-1]) if trace else energy)
        valid = sorted((f for f in found if f[0] < PENALTY), key=lambda f: f[0])
        references = self.references
        elapsed = time.perf_counter() - start
        candidates = []
        for energy, structure, units_here in valid[:n_candidates]:
            symmetrized, symbol, number = symmetrize(structure, self.symprec)
            candidates.append(Candidate(symmetrized, references.formation_energy_per_atom(
                Composition(reduced), energy), info={
                "predictor": self.name, "model": references.name, "spacegroup": symbol,
                "spacegroup_number": number, "formula_units": units_here, "energy_per_atom": energy,
                "evaluations": len(found), "trace": trace, "seconds": elapsed}))
        sort_by_energy(candidates)
        if relax:
            relax_and_rerank(candidates, references, fmax=self.fmax, steps=self.relax_steps, symprec=self.symprec)
        return candidates


class RandomSearchPredictor(SearchPredictor):
    """GN-OA RAS: uniform random points of the symmetric search space."""

    name = "ras"

    def search(self, space: SymmetricCrystalSpace, budget: int, rng: np.random.Generator,
               ) -> list[tuple[float, Structure]]:
        out = []
        for _ in range(budget):
            structure = space.decode(rng.random(space.dim))
            out.append((self.energy(structure), structure))
        return out


@dataclass
class SwarmOptions(SearchOptions):
    """:class:`SearchOptions` and ``swarm``, the number of particles."""

    swarm: int = 20


class ParticleSwarmPredictor(SearchPredictor):
    """GN-OA PSO: a particle swarm (inertia 0.7, cognitive and social weights 1.5) in the search space."""

    name = "pso"
    Options = SwarmOptions

    def search(self, space: SymmetricCrystalSpace, budget: int, rng: np.random.Generator,
               ) -> list[tuple[float, Structure]]:
        size = max(2, min(self.swarm, budget))
        x = rng.random((size, space.dim))
        v = np.zeros_like(x)
        out: list[tuple[float, Structure]] = []
        best_x, best_f = x.copy(), np.full(size, np.inf)
        while len(out) < budget:
            for i in range(size):
                if len(out) >= budget:
                    break
                structure = space.decode(x[i])
                f = self.energy(structure)
                out.append((f, structure))
                if f < best_f[i]:
                    best_f[i], best_x[i] = f, x[i].copy()
            leader = best_x[int(np.argmin(best_f))]
            r1, r2 = rng.random(x.shape), rng.random(x.shape)
            v = 0.7 * v + 1.5 * r1 * (best_x - x) + 1.5 * r2 * (leader - x)
            x = np.clip(x + v, 0.0, 1.0)
        return out


class BayesianOptimizationPredictor(SearchPredictor):
    """GN-OA BO: tree-structured Parzen estimator (optuna's TPE sampler, seeded) over the search space."""

    name = "bo"

    def search(self, space: SymmetricCrystalSpace, budget: int, rng: np.random.Generator,
               ) -> list[tuple[float, Structure]]:
        import optuna

        out: list[tuple[float, Structure]] = []

        def objective(trial: Any) -> float:
            x = np.array([trial.suggest_float(f"x{k}", 0.0, 1.0) for k in range(space.dim)])
            structure = space.decode(x)
            f = self.energy(structure)
            out.append((f, structure))
            return f

        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # one log line per trial otherwise
        try:
            study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=int(rng.integers(2**31 - 1))))
            study.optimize(objective, n_trials=budget)
        finally:
            optuna.logging.set_verbosity(verbosity)
        return out


@dataclass
class AIRSSOptions(SearchOptions):
    """:class:`SearchOptions` with ``budget`` counting relaxations (default 8) and ``relax_steps`` (default 150)
    the optimizer steps of each, in the search and with ``relax=True``."""

    budget: int = 8
    relax_steps: int = 150


class AIRSSPredictor(SearchPredictor):
    """AIRSS-style: random symmetric cells (pyxtal), each relaxed with the calculator; ``budget`` relaxations."""

    name = "airss"
    Options = AIRSSOptions

    def search(self, space: SymmetricCrystalSpace, budget: int, rng: np.random.Generator,
               ) -> list[tuple[float, Structure]]:
        from ase_lcom.data.prototypes import random_structure

        out = []
        for _ in range(budget):
            cell = random_structure(space.cell, rng)
            try:
                result = relax(cell, self.references.calculator, fmax=self.fmax, steps=self.relax_steps,
                               optimizer="BFGS")
            except CalculatorError:  # the relaxation counts against the budget; the search moves on
                out.append((PENALTY, cell))
                continue
            out.append((result.energy_per_atom, result.structure))
        return out
