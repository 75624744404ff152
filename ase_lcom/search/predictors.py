"""Search baselines as structure predictors: GN-OA random search (RAS), particle swarm (PSO), Bayesian
optimisation (BO, TPE as in GN-OA), all scored by a calculator's single-point energy, and AIRSS-style random
search with relaxation.

GN-OA (Cheng et al. 2022) used a MEGNet energy model and 5000 evaluations; here the calculator (CHGNet by
default) plays that role and ``budget`` sets the number of evaluations. Overlapping or ill-formed crystals
score :data:`PENALTY` without a calculator call (they still count against the budget).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from ase.calculators.calculator import BaseCalculator
from pymatgen.core import Composition, Structure

from ase_lcom.predictors import Candidate, StructurePredictor
from ase_lcom.search.space import SymmetricCrystalSpace
from ase_lcom.structure import FormulaLike, cell_composition, parse_formula, to_atoms

PENALTY = 10.0
"""Score (eV/atom) of crystals that are rejected before any calculation."""


class SearchPredictor(StructurePredictor):
    """Shared machinery: the search space, the energy calls, the ranked result.

    Parameters
    ----------
    calculator
        Calculator name for :func:`ase_lcom.calculators.get_calculator` (or an instance).
    budget
        Energy evaluations per prediction (GN-OA: 5000).
    z_options
        Formula units tried when ``z`` is not given (the budget is split between them).
    """

    name = ""

    def __init__(self, calculator: str | BaseCalculator = "chgnet", budget: int = 300,
                 z_options: tuple[int, ...] = (1, 2), symprec: float = 0.1) -> None:
        self.calculator_name = calculator if isinstance(calculator, str) else type(calculator).__name__.lower()
        self._calculator = calculator if not isinstance(calculator, str) else None
        self.budget = budget
        self.z_options = z_options
        self.symprec = symprec

    @property
    def calculator(self) -> BaseCalculator:
        from ase_lcom.calculators import get_calculator

        if self._calculator is None:
            self._calculator = get_calculator(self.calculator_name)
        return self._calculator

    def energy(self, structure: Structure | None) -> float:
        """Single-point energy per atom (eV/atom); :data:`PENALTY` for rejected crystals or failed calls."""
        if structure is None:
            return PENALTY
        atoms = to_atoms(structure)
        atoms.calc = self.calculator
        try:
            value = float(atoms.get_potential_energy()) / len(atoms)
        except Exception:  # a calculator may refuse pathological cells; the search moves on
            return PENALTY
        return value if np.isfinite(value) else PENALTY

    def search(self, space: SymmetricCrystalSpace, budget: int, rng: np.random.Generator,
               ) -> list[tuple[float, Structure]]:
        """Evaluated (energy per atom, structure) pairs; subclasses define the strategy."""
        raise NotImplementedError

    def predict_candidates(self, formula: FormulaLike, z: int | None = None, n_candidates: int = 8, seed: int = 0,
                           relax: bool = False, **options: Any) -> list[Candidate]:
        from ase_lcom.calculators import ReferenceEnergies
        from ase_lcom.lcom.predictor import symmetrize

        start = time.perf_counter()
        reduced = parse_formula(formula).reduced_formula
        units = [z] if z is not None else list(self.z_options)
        rng = np.random.default_rng(seed)
        found: list[tuple[float, Structure, int]] = []
        trace: list[float] = []
        for k, units_here in enumerate(units):
            share = self.budget // len(units) + (1 if k < self.budget % len(units) else 0)
            space = SymmetricCrystalSpace(cell_composition(reduced, units_here))
            for energy, structure in self.search(space, share, rng):
                found.append((energy, structure, units_here))
                trace.append(min(energy, trace[-1]) if trace else energy)
        valid = sorted((f for f in found if f[0] < PENALTY), key=lambda f: f[0])
        references = ReferenceEnergies(self.calculator_name)
        elapsed = time.perf_counter() - start
        candidates = []
        for energy, structure, units_here in valid[:n_candidates]:
            symmetrized, symbol, number = symmetrize(structure, self.symprec)
            candidates.append(Candidate(symmetrized, references.formation_energy_per_atom(
                Composition(reduced), energy), info={
                "predictor": self.name, "spacegroup": symbol, "spacegroup_number": number, "z": units_here,
                "energy_per_atom": energy, "evaluations": len(found), "trace": trace, "seconds": elapsed}))
        if relax:
            self._relax(candidates)
        return candidates

    def _relax(self, candidates: list[Candidate]) -> None:
        from ase_lcom.calculators import ReferenceEnergies, relax

        references = ReferenceEnergies(self.calculator_name)
        for candidate in candidates:
            result = relax(candidate.structure, self.calculator, steps=300)
            candidate.info["unrelaxed"] = candidate.structure
            candidate.structure = result.structure
            candidate.validated_energy_per_atom = references.formation_energy_per_atom(
                result.structure.composition, result.energy_per_atom)
        candidates.sort(key=lambda c: c.validated_energy_per_atom)


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


class ParticleSwarmPredictor(SearchPredictor):
    """GN-OA PSO: a particle swarm (inertia 0.7, cognitive and social weights 1.5) in the search space."""

    name = "pso"

    def __init__(self, *args: Any, swarm: int = 20, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.swarm = swarm

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

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=int(rng.integers(2**31 - 1))))
        out: list[tuple[float, Structure]] = []

        def objective(trial: Any) -> float:
            x = np.array([trial.suggest_float(f"x{k}", 0.0, 1.0) for k in range(space.dim)])
            structure = space.decode(x)
            f = self.energy(structure)
            out.append((f, structure))
            return f

        study.optimize(objective, n_trials=budget)
        return out


class AIRSSPredictor(SearchPredictor):
    """AIRSS-style: random symmetric cells (pyxtal), each relaxed with the calculator; ``budget`` relaxations."""

    name = "airss"

    def __init__(self, *args: Any, budget: int = 8, relax_steps: int = 150, **kwargs: Any) -> None:
        super().__init__(*args, budget=budget, **kwargs)
        self.relax_steps = relax_steps

    def search(self, space: SymmetricCrystalSpace, budget: int, rng: np.random.Generator,
               ) -> list[tuple[float, Structure]]:
        from ase_lcom.calculators import relax
        from ase_lcom.data.prototypes import random_structure

        out = []
        for _ in range(budget):
            result = relax(random_structure(space.cell, rng), self.calculator, fmax=0.05, steps=self.relax_steps,
                           optimizer="BFGS")
            out.append((result.energy_per_atom, result.structure))
        return out
