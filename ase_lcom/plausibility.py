"""Plausibility of a calculator's results: a relaxation that ends far above its elements is an error, not a crystal.

A relaxation can stop with small forces in a state no crystal has: a symmetric cell held at a strong
compression (its forces vanish by symmetry, so it "converges" at step 0), a spurious minimum of a graph
potential with atoms 1 A apart, or an atom with no neighbour to bind to. Its formation energy against the same
calculator's elemental references tells: :data:`MAX_FORMATION_ENERGY`, +2 eV/atom, lies far above anything a
crystal reaches. In the shipped default dataset (2,271 CHGNet relaxations, made before this check existed) 2,223
relaxed below +1 eV/atom and 15 between +1 and +3; of the 33 above +3 eV/atom (up to +10.4), 22 hold atoms
0.6-1.4 A apart, the others are carbon, iodide and telluride cells at +3.3 to +5.1.
"""

from __future__ import annotations

import math

from ase_lcom.calculators import ReferenceEnergies, RelaxResult
from ase_lcom.errors import CalculatorError

MAX_FORMATION_ENERGY = 2.0
"""Formation energy per atom (eV/atom, against the calculator's elemental references) above which a result is
refused."""


class ImplausibleResultError(CalculatorError):
    """A calculator's result is not a physical crystal (a relaxation ending far above its elements)."""


def check_formation_energy(formula: str, formation_energy_per_atom: float, bound: float = MAX_FORMATION_ENERGY,
                           what: str = "relaxation") -> float:
    """``formation_energy_per_atom`` if it is finite and at most ``bound``.

    Raises
    ------
    ImplausibleResultError
        One line naming the formula, the energy and the bound.
    """
    if not math.isfinite(formation_energy_per_atom) or formation_energy_per_atom > bound:
        raise ImplausibleResultError(
            f"{what} of {formula} ended {formation_energy_per_atom:+.2f} eV/atom above its elements (formation "
            f"energy against the calculator's references), over the plausible +{bound:g} eV/atom: not a physical "
            "crystal")
    return formation_energy_per_atom


def relaxed_formation_energy(result: RelaxResult, references: ReferenceEnergies,
                             bound: float = MAX_FORMATION_ENERGY) -> float:
    """The formation energy per atom of a relaxation, checked by :func:`check_formation_energy`.

    ``references`` must belong to the calculator that relaxed.
    """
    composition = result.structure.composition
    energy = references.formation_energy_per_atom(composition, result.energy_per_atom)
    return check_formation_energy(composition.reduced_formula, energy, bound)
