"""Energy metrics of a predicted crystal against a reference (its compound's ground state).

The CSP criterion of the LCOM paper: a prediction succeeds when its formation energy per atom is within 20% of
the reference's, ``(E_f(pred) - E_f(ref)) / |E_f(ref)| <= 0.2``. Energies are in eV/atom and must come from
the same calculator.
"""

from __future__ import annotations

import math

from ase_lcom.errors import MetricError

CRITERION_TOLERANCE = 0.2
"""The paper's relative tolerance on the formation energy."""


def relative_gap(energy: float, reference: float) -> float:
    """``(energy - reference) / |reference|``: how far above the reference, as a fraction of its size.

    Raises
    ------
    MetricError
        The reference is zero or not finite (the gap is undefined).
    """
    if reference == 0 or not math.isfinite(reference):
        raise MetricError(f"the relative energy gap is undefined against a reference energy of {reference}")
    return (energy - reference) / abs(reference)


def energy_criterion(energy: float, reference: float, tolerance: float = CRITERION_TOLERANCE) -> bool:
    """Whether ``energy`` is at most ``tolerance`` (relative, see :func:`relative_gap`) above ``reference``."""
    return bool(relative_gap(energy, reference) <= tolerance)


def energy_above_mev(energy_per_atom: float, reference_per_atom: float) -> float:
    """Energy above the reference, meV/atom, from energies in eV/atom."""
    return 1000.0 * (energy_per_atom - reference_per_atom)
