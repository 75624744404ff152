"""Composition lists: the LCOM paper's 26 benchmark compounds and the default dataset's families."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
from pymatgen.core import Composition, Structure

from ase_lcom.data.prototypes import decorate

CSP26 = (
    "LiF NaF KF RbF CsF LiCl NaCl KCl RbCl CsCl BeO MgO CaO SrO BaO ZnO CdO BeS MgS CaS SrS BaS ZnS CdS C Si"
).split()
"""The 26 compounds of the LCOM paper's Table 1 (from GN-OA, Cheng et al. 2022)."""

BENCHMARK_POLYMORPHS = ("rocksalt", "cscl", "zincblende", "wurtzite")
"""Reference polymorphs of the binary benchmark compounds; C uses diamond and graphite, Si diamond."""

ALKALI = ("Li", "Na", "K", "Rb", "Cs")
ALKALINE_EARTH = ("Be", "Mg", "Ca", "Sr", "Ba")
TRANSITION = ("Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Y", "Zr", "Nb", "Mo", "Ag", "Cd", "Hf", "Ta", "W")
P_BLOCK_CATIONS = ("B", "Al", "Ga", "In", "Si", "Ge", "Sn", "Pb", "Sb", "Bi")
ANIONS = ("N", "P", "As", "O", "S", "Se", "Te", "F", "Cl", "Br", "I")


def benchmark_polymorphs(formula: str) -> list[Structure]:
    """Reference polymorphs whose matches must not enter training data under the paper protocol."""
    reduced = Composition(formula).reduced_formula
    wanted = {"C": ("diamond", "graphite"), "Si": ("diamond",)}.get(reduced, BENCHMARK_POLYMORPHS)
    return [structure for name, structure in decorate(reduced) if name in wanted]


def charge_balanced(composition: Composition, anions: Iterable[str] = ANIONS) -> bool:
    """True when common oxidation states (pymatgen's ``common_oxidation_states``) sum to zero, with the
    ``anions`` negative and every other element positive."""
    elements = list(composition)
    states = [
        [s for s in el.common_oxidation_states if (s < 0 if el.symbol in anions else s > 0)] for el in elements
    ]
    return any(
        sum(s * composition[el] for s, el in zip(combo, elements)) == 0 for combo in itertools.product(*states)
    )


def candidate_compositions() -> list[str]:
    """Every charge-balanced AB, AB2, A2B and ABX3 composition over the default element sets."""
    cations = ALKALI + ALKALINE_EARTH + TRANSITION + P_BLOCK_CATIONS
    formulas: set[str] = set()
    for cation, anion in itertools.product(cations, ANIONS):
        for counts in ((1, 1), (1, 2), (2, 1)):
            composition = Composition({cation: counts[0], anion: counts[1]})
            if charge_balanced(composition):
                formulas.add(composition.reduced_formula)
    for a, b, x in itertools.product(ALKALI + ALKALINE_EARTH, TRANSITION + P_BLOCK_CATIONS, ("O", "F", "Cl")):
        composition = Composition({a: 1, b: 1, x: 3})
        if charge_balanced(composition):
            formulas.add(composition.reduced_formula)
    return sorted(formulas)


def default_compositions(n: int = 240, seed: int = 0) -> list[str]:
    """The default dataset's compositions: the 26 benchmark compounds plus a seeded uniform sample of the
    other charge-balanced candidates (:func:`candidate_compositions`)."""
    rng = np.random.default_rng(seed)
    pool = [f for f in candidate_compositions() if f not in CSP26]
    chosen = list(rng.choice(pool, size=min(n - len(CSP26), len(pool)), replace=False))
    return CSP26 + sorted(str(f) for f in chosen)
