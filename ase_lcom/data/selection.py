"""Choosing compositions and records: the ``csp26`` keyword, held-out training data, benchmark subsets."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from ase_lcom.data.compositions import CSP26
from ase_lcom.data.records import CrystalRecord, DataError
from ase_lcom.structure import parse_formula

CSP26_KEYWORD = "csp26"
"""Stands for the 26 CSP benchmark compounds in a list of formulas (any case)."""


def expand_compositions(items: Iterable[str]) -> list[str]:
    """The formulas of ``items`` with :data:`CSP26_KEYWORD` replaced by the 26 benchmark compounds (blank items
    are skipped)."""
    formulas: list[str] = []
    for item in (item.strip() for item in items):
        if item.lower() == CSP26_KEYWORD:
            formulas += CSP26
        elif item:
            parse_formula(item, max_atoms=None)  # a misspelt formula is an error, not silently nothing excluded
            formulas.append(item)
    return formulas


def training_records(path: str | os.PathLike, exclude: Iterable[str] = (), format: str | None = None,
                     plausible_only: bool = True) -> list[CrystalRecord]:
    """The records of a dataset file without those of the ``exclude`` compositions (formulas, or ``csp26`` for
    the 26 benchmark compounds: the held-out protocol) and, with ``plausible_only``, without our generator's
    relaxations whose formation energy is over :data:`~ase_lcom.plausibility.MAX_FORMATION_ENERGY` (no crystal;
    the shipped default dataset, made before that check, holds 33 above +3 eV/atom, most with atoms 0.6-1.4 A
    apart). Rows of other sources are kept whatever their energy: perov_5's DFT set has real hypothetical
    perovskites above +2 eV/atom."""
    from ase_lcom.data.readers import read_records
    from ase_lcom.data.splits import exclude_compositions

    records = exclude_compositions(read_records(path, format=format), expand_compositions(exclude))
    return [r for r in records if not (plausible_only and is_implausible(r))]


def is_implausible(record: CrystalRecord) -> bool:
    """Whether a record is one of our generator's relaxations (``source`` ``generated:...``) with a formation
    energy over the plausible bound."""
    from ase_lcom.plausibility import MAX_FORMATION_ENERGY

    energy = record.formation_energy_per_atom
    return record.source.startswith("generated:") and energy is not None and not energy <= MAX_FORMATION_ENERGY


def benchmark_compounds(formulas: Sequence[str] | None = None) -> list[str]:
    """``formulas`` checked to be benchmark compounds (all 26 when ``None`` or empty).

    Raises
    ------
    DataError
        Naming the formulas that are not among the 26.
    """
    chosen = [f.strip() for f in formulas or () if f.strip()] or list(CSP26)
    unknown = [f for f in chosen if f not in CSP26]
    if unknown:
        raise DataError(f"not a benchmark compound: {', '.join(unknown)} (choose from {' '.join(CSP26)})")
    return chosen
