"""Isotropic volume scan of prototype seeds before they are scored.

Prototype decorations are built from covalent radii (:mod:`ase_lcom.data.prototypes`), which for open
frameworks (olivine, spinel, garnet-like cells) leaves the cell 30-80% too large: scored by one single point
at that volume, the right structure type loses to a decoded crystal of the right density before the polish
ever relaxes it. A few single points over isotropic scalings put each seed near its own best volume first.
Only the ternary, quaternary and intermetallic types of :mod:`ase_lcom.data.prototypes_multinary` are scanned:
the binary prototypes' contacts fix their volume well (CSP26 unchanged with or without the scan), and scanning
them too made a binary prediction 1-6 s slower (40-100%, measured on NaCl, ZnO, GaN, MgO).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ase.calculators.calculator import BaseCalculator

from ase_lcom.calculators import energy_per_atom
from ase_lcom.data.prototypes_multinary import STRUCTURE_TYPES
from ase_lcom.errors import CalculatorError
from ase_lcom.predictors import Candidate

LINEAR_SCALES = (0.80, 0.86, 0.92, 1.0, 1.06)
"""Lattice-vector scalings tried (volume 0.51 to 1.19 times the prototype's)."""


def rescale_prototype_seeds(candidates: Sequence[Candidate], calculator: BaseCalculator,
                            scales: Sequence[float] = LINEAR_SCALES) -> None:
    """Scale, in place, each seed of a multinary prototype (``info["seed"]`` ``prototype:<type>[-...]`` with
    ``<type>`` in :data:`~ase_lcom.data.prototypes_multinary.STRUCTURE_TYPES`, and ``info["undecoded"]``) to the
    scaling of lowest single-point energy; ``info["volume_scale"]`` records the linear factor chosen. Decoded
    crystals, random cells and binary prototypes keep their own lattice."""
    for candidate in candidates:
        info = candidate.info
        label = str(info.get("seed", ""))
        if not (info.get("undecoded") and label.startswith("prototype:")
                and label.removeprefix("prototype:").split("-")[0] in STRUCTURE_TYPES):
            continue
        best, best_energy = 1.0, math.inf
        for scale in scales:
            trial = candidate.structure.copy()
            trial.scale_lattice(candidate.structure.volume * scale**3)
            try:
                energy = energy_per_atom(trial, calculator)
            except CalculatorError:
                continue
            if math.isfinite(energy) and energy < best_energy:
                best, best_energy = scale, energy
        if best != 1.0:
            candidate.structure.scale_lattice(candidate.structure.volume * best**3)
        info["volume_scale"] = best
