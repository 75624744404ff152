"""Cells larger than the CD-VAE decodes: seeds that go to the calculator directly.

The shipped CD-VAE is trained on cells of at most ``max_atoms`` (12) atoms and decodes nothing larger
faithfully, but many common structure types have bigger primitive cells (olivine 28, C36 Laves 24, pyrochlore
22, garnet-like formula units of 20). For those sizes the latent search has nothing to offer; the
calculator-driven paths (the default polish, ``rank_by`` and ``relax``) instead score and relax the prototype
decorations and random symmetric cells themselves, up to ``max_polish_atoms`` (40).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.core import Composition, Structure

from ase_lcom.errors import FormulaError
from ase_lcom.structure import cell_composition, formula_unit_options

MAX_POLISH_ATOMS = 40
"""Default upper limit on atoms per cell for the calculator-driven path."""


@dataclass(frozen=True)
class CellPlan:
    """Which cell sizes a prediction decodes (latent search) and which it hands to the calculator directly."""

    reduced: str
    per_unit: int
    decoded_units: list[int]
    direct_units: list[int]

    @property
    def direct_sizes(self) -> list[int]:
        return [z * self.per_unit for z in self.direct_units]


def plan_cells(formula: str, formula_units: int | None, max_atoms: int, max_polish_atoms: int | None) -> CellPlan:
    """Split the cell sizes of ``formula`` between the decoder (``<= max_atoms``) and the calculator
    (``max_atoms < n <= max_polish_atoms``; ``None``: no calculator, so nothing beyond ``max_atoms``).

    Raises
    ------
    FormulaError
        With one line naming the limit when no cell of the formula fits.
    """
    limit = max_atoms if max_polish_atoms is None else max(max_atoms, max_polish_atoms)
    reduced = Composition(formula).reduced_formula
    per_unit = int(Composition(reduced).num_atoms)
    if formula_units is not None:
        cell_composition(reduced, formula_units, max_atoms=None)  # a positive whole number, or a one-line error
        units = [formula_units] if per_unit * formula_units <= limit else []
    else:
        units = formula_unit_options(reduced, limit) if per_unit <= limit else []
    if not units:
        n = per_unit * (formula_units or 1)
        what = f"{reduced} x {formula_units}" if formula_units is not None else f"one formula unit of {reduced}"
        if max_polish_atoms is None and n <= MAX_POLISH_ATOMS:
            raise FormulaError(f"{what} has {n} atoms: the CD-VAE decodes at most {max_atoms}; cells up to "
                               f"{MAX_POLISH_ATOMS} atoms need a calculator (the default polish, rank_by or relax)")
        raise FormulaError(f"{what} has {n} atoms, more than the limit of {limit} atoms per cell "
                           "(raise max_polish_atoms or use fewer formula units)")
    return CellPlan(reduced, per_unit, [z for z in units if z * per_unit <= max_atoms],
                    [z for z in units if z * per_unit > max_atoms])


def direct_seeds(plan: CellPlan, n_random: int, rng: np.random.Generator,
                 prototypes: bool) -> list[tuple[str, Structure]]:
    """``(label, structure)`` seeds of the calculator-only sizes: every prototype decoration of those sizes
    and, when the decoder has no size at all, ``n_random`` random symmetric cells cycling over them."""
    from ase_lcom.data.prototypes import decorate, random_structure

    sizes = plan.direct_sizes
    seeds: list[tuple[str, Structure]] = []
    if prototypes and sizes:
        seeds += [(f"prototype:{name}", cell) for name, cell in decorate(plan.reduced) if len(cell) in sizes]
    if not plan.decoded_units:
        units = plan.direct_units
        seeds += [("random", random_structure(cell_composition(plan.reduced, units[k % len(units)], max_atoms=None),
                                              rng)) for k in range(max(0, n_random - len(seeds)))]
    return seeds
