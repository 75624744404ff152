"""Failure checks of Dismai-Bench for interfaces and amorphous Si ("% failed" of Tables 1 and 2).

A generated structure fails when (i) after :func:`push_apart` some pair of atoms is still closer than 1.5 A,
or (ii) a fixed-cell relaxation (positions only, fmax 0.05 eV/A, at most 1000 steps) does not converge or
crashes. :func:`check_structure` runs both and returns the relaxed structure that the motif, RDF and angle
metrics are computed on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from ase.calculators.calculator import BaseCalculator
from ase.optimize import FIRE
from ase.optimize.optimize import Optimizer
from ase.optimize.sciopt import OptimizerConvergenceError, SciPyFminCG
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from ase_lcom.errors import MetricError

MIN_DISTANCE = 1.5
"""Pairs closer than this (Angstrom) after pushing apart make a structure fail."""

PUSH_DISTANCE = 1.6
"""Distance (Angstrom) the second atom of a too-close pair is moved out to."""

FMAX = 0.05
"""Force threshold (eV/Angstrom) of the relaxation."""

MAX_STEPS = 1000
"""Step limit of the relaxation."""


def shortest_distance(structure: Structure, cutoff: float = MIN_DISTANCE) -> float:
    """Shortest interatomic distance over periodic images (``inf`` if none below ``cutoff``)."""
    _, _, _, d = structure.get_neighbor_list(cutoff, exclude_self=True)
    return float(d.min()) if d.size else float("inf")


def push_apart(
    structure: Structure, min_dist: float = MIN_DISTANCE, target: float = PUSH_DISTANCE, max_iter: int = 100
) -> Structure:
    """Move atoms of too-close pairs apart along their bonds (a new structure; the input is not changed).

    Each iteration takes every pair (i < j) closer than ``min_dist`` and moves atom j along i->j so that the
    pair is ``target`` apart (an atom in several such pairs moves for its closest one); stops when no pair is
    too close or after ``max_iter`` iterations.
    """
    if target < min_dist:
        raise MetricError(f"target distance {target} must not be below min_dist {min_dist}")
    out = structure.copy()
    for _ in range(max_iter):
        i, j, images, d = out.get_neighbor_list(min_dist, exclude_self=True)
        keep = i < j
        if not keep.any():
            break
        i, j, images, d = i[keep], j[keep], images[keep], d[keep]
        order = np.argsort(d, kind="stable")
        first = order[np.unique(j[order], return_index=True)[1]]  # closest too-close pair of each moved atom
        cart = out.cart_coords
        bond = cart[j[first]] + images[first] @ out.lattice.matrix - cart[i[first]]
        length = np.maximum(d[first], 1e-8)[:, None]
        # coincident atoms have no bond direction: move them along x
        direction = np.where(length > 1e-8, bond / length, np.array([1.0, 0.0, 0.0]))
        new = cart.copy()
        new[j[first]] = cart[i[first]] - images[first] @ out.lattice.matrix + direction * target
        out = Structure(out.lattice, out.species, new, coords_are_cartesian=True, to_unit_cell=True,
                        site_properties=out.site_properties)
    return out


def relax_fixed_cell(
    structure: Structure,
    calculator: BaseCalculator,
    fmax: float = FMAX,
    steps: int = MAX_STEPS,
    optimizer: Literal["CG", "FIRE"] = "CG",
) -> tuple[Structure, bool]:
    """Relax positions at fixed cell; returns the relaxed structure and whether it converged.

    ``"CG"`` is SciPy's Polak-Ribiere conjugate gradient (ASE ``SciPyFminCG``), the optimizer of Dismai-Bench.
    A relaxation that stops on precision loss counts as converged only if its forces are below ``fmax``.
    """
    optimizers: dict[str, type[Optimizer]] = {"CG": SciPyFminCG, "FIRE": FIRE}
    if optimizer not in optimizers:
        raise MetricError(f"unknown optimizer {optimizer!r}; use 'CG' or 'FIRE'")
    atoms = AseAtomsAdaptor.get_atoms(structure)
    atoms.calc = calculator
    opt = optimizers[optimizer](atoms, logfile=None)
    with contextlib.suppress(OptimizerConvergenceError):  # precision loss: judged by the forces below
        opt.run(fmax=fmax, steps=steps)
    converged = float(np.linalg.norm(atoms.get_forces(), axis=1).max()) <= fmax + 1e-3
    return AseAtomsAdaptor.get_structure(atoms), converged


@dataclass(frozen=True)
class ValidityResult:
    """Outcome of :func:`check_structure`: ``reason`` is ``None`` for a valid structure, else why it failed."""

    structure: Structure
    reason: Literal["too close", "not converged", "relaxation crashed"] | None

    @property
    def valid(self) -> bool:
        """Whether the structure survived."""
        return self.reason is None


def check_structure(
    structure: Structure,
    calculator: BaseCalculator | None = None,
    min_dist: float = MIN_DISTANCE,
    fmax: float = FMAX,
    steps: int = MAX_STEPS,
    optimizer: Literal["CG", "FIRE"] = "CG",
) -> ValidityResult:
    """Push atoms apart, reject remaining close pairs, then (with a calculator) relax and reject non-convergence.

    A calculator exception during relaxation (e.g. atoms flying apart) is reported as ``"relaxation crashed"``.
    """
    pushed = push_apart(structure, min_dist=min_dist)
    if shortest_distance(pushed, min_dist) < min_dist:
        return ValidityResult(pushed, "too close")
    if calculator is None:
        return ValidityResult(pushed, None)
    try:
        relaxed, converged = relax_fixed_cell(pushed, calculator, fmax=fmax, steps=steps, optimizer=optimizer)
    except (RuntimeError, ValueError, FloatingPointError) as err:
        if isinstance(err, MetricError):
            raise
        return ValidityResult(pushed, "relaxation crashed")
    return ValidityResult(relaxed, None if converged else "not converged")


def percent_failed(results: Sequence[ValidityResult], n_generated: int | None = None) -> float:
    """``100 * (1 - survivors / n_generated)``; ``n_generated`` defaults to ``len(results)``."""
    total = len(results) if n_generated is None else n_generated
    if total <= 0:
        raise MetricError("percent_failed needs at least one generated structure")
    return 100.0 * (1.0 - sum(r.valid for r in results) / total)
