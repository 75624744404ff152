"""Deterministic splits by composition and leakage filters for record streams."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Structure

from ase_lcom.data.records import CrystalRecord, DataError


def split_by_composition(
    records: Iterable[CrystalRecord], fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> dict[str, list[CrystalRecord]]:
    """Split into ``train``/``val``/``test`` so that no reduced formula appears in two splits.

    Formulas are shuffled with ``seed`` and cut by the given fractions of formulas; the result depends only
    on the set of formulas, the fractions and the seed (not on record order).
    """
    if len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
        raise DataError(f"split fractions must be three non-negative numbers summing to 1, got {tuple(fractions)}")
    by_formula: dict[str, list[CrystalRecord]] = defaultdict(list)
    for record in records:
        by_formula[record.formula].append(record)
    formulas = sorted(by_formula)
    order = np.random.default_rng(seed).permutation(len(formulas))
    cuts = np.round(np.cumsum(fractions)[:2] * len(formulas)).astype(int)
    splits: dict[str, list[CrystalRecord]] = {"train": [], "val": [], "test": []}
    for rank, index in enumerate(order):
        name = "train" if rank < cuts[0] else "val" if rank < cuts[1] else "test"
        splits[name].extend(by_formula[formulas[index]])
    return splits


def exclude_compositions(records: Iterable[CrystalRecord], formulas: Iterable[str]) -> Iterator[CrystalRecord]:
    """Drop every record whose reduced formula is one of ``formulas`` (held-out compositions)."""
    banned = {Composition(f).reduced_formula for f in formulas}
    return (record for record in records if record.formula not in banned)


def exclude_matching(
    records: Iterable[CrystalRecord], references: Iterable[Structure], matcher: StructureMatcher | None = None
) -> Iterator[CrystalRecord]:
    """Drop records that match a reference structure of the same composition (StructureMatcher defaults)."""
    matcher = matcher or StructureMatcher()
    by_formula: dict[str, list[Structure]] = defaultdict(list)
    for structure in references:
        by_formula[structure.composition.reduced_formula].append(structure)
    for record in records:
        if not any(matcher.fit(record.structure, ref) for ref in by_formula.get(record.formula, ())):
            yield record
