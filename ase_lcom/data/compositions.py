"""Composition lists: the LCOM paper's 26 benchmark compounds, the default dataset's families, the v3 dataset's
ternary, quaternary and intermetallic families and the held-out multinary benchmark compounds."""

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


MULTINARY_TARGETS = (
    "SrTiO3 KMgF3 GdFeO3 YAlO3 LaAlO3 Cs2AgBiBr6 Ba2MgWO6 Sr2TiO4 K2NiF4 MgAl2O4 ZnAl2O4 ZnCr2O4 CaWO4 Gd2Ti2O7 "
    "Mg2SiO4 CuAlO2 CuFeO2 CuInSe2 CuGaS2 Cu2ZnSnS4 BaFe2As2 CeCu2Si2 CaAl2Si2 LaFeAsO Cu2MnAl Co2MnSi Ni2MnGa "
    "TiNiSn ZrNiSn NbFeSb Mn2CoAl CoFeMnSi MgZn2 MgCu2 MgNi2 Ni3Al Cu3Au Nb3Sn V3Si FePt Fe3Al Ni3Sn TiAl3 MoSi2 "
    "FeSi LaNi5 MgB2"
).split()
"""Ternary, quaternary and intermetallic compounds of known structure type held out of the v3 training data
(``benchmarks/multinary_targets.json`` holds their types, sources and reference structures)."""

RARE_EARTH = ("La", "Ce", "Pr", "Nd", "Sm", "Gd", "Y")
EARLY_METALS = ("Li", "Na", "Mg", "Ca", "Sr", "Ba", "Sc", "Y", "La", "Ce", "Ti", "Zr", "Hf", "V", "Nb", "Ta", "Cr",
                "Mo", "W")
LATE_METALS = ("Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ru", "Rh", "Pd", "Ag", "Cd", "Ir", "Pt", "Au")
P_METALS = ("B", "Al", "Ga", "In", "Si", "Ge", "Sn", "Sb", "Pb", "Bi")


Formula = tuple[tuple[str, int], ...]
"""A composition as ``((element, count), ...)``."""


def _family(counts: tuple[int, ...], *element_sets: Iterable[str]) -> list[Formula]:
    """Every composition with ``counts[i]`` atoms of an element drawn from ``element_sets[i]``."""
    return [tuple(zip(elements, counts, strict=True)) for elements in itertools.product(*element_sets)]


def _distinct(formulas: Iterable[Formula]) -> list[str]:
    """Reduced formulas of the compositions among ``formulas`` whose elements are all distinct."""
    return sorted({Composition(dict(f)).reduced_formula for f in formulas if len({el for el, _ in f}) == len(f)})


def _balanced(formulas: Iterable[Formula], anions: Iterable[str]) -> list[str]:
    """Reduced formulas of the charge-balanced compositions among ``formulas`` (``anions`` negative)."""
    anions = tuple(anions)
    return [f for f in _distinct(formulas) if charge_balanced(Composition(f), anions)]


def v3_families() -> dict[str, list[str]]:
    """Candidate compositions of the v3 dataset by family: ionic ternaries and quaternaries that are
    charge-balanced in common oxidation states (:func:`charge_balanced`), and intermetallics (metals and the
    metalloids B, Si, Ge, Sb) in the stoichiometries of the intermetallic structure types."""
    tm2 = ("Mg", "Zn", "Cd", "Mn", "Fe", "Co", "Ni", "Cu")
    tm3 = ("Al", "Ga", "In", "Sc", "Cr", "Fe", "V", "Mn", "Co", "Ti")
    halide_b = ("Pb", "Sn", "Ge", "Mg", "Ca", "Sr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Cd")
    a2_b = ("Mg", "Ca", "Sr", "Ba", "Zn", "Mn", "Fe", "Co", "Ni")
    delafossite_b = ("Al", "Ga", "In", "Fe", "Cr", "Co", "Sc", "Y", "Bi")
    double_b = ("Mg", "Zn", "Ni", "Co", "Fe", "Mn", "Sc", "Y", "In", "Ga")
    elpasolite_b = ("Bi", "Sb", "In", "Sc", "Y", "Al", "Ga", "Fe")
    metals = EARLY_METALS + LATE_METALS
    families = {
        "perovskite ABX3": _balanced(_family((1, 1, 3), RARE_EARTH, tm3, ("O",))
                                     + _family((1, 1, 3), ALKALI, halide_b, ("Br", "I")), ("O", "Br", "I")),
        "spinel AB2X4": _balanced(_family((1, 2, 4), tm2, tm3, ("O", "S", "Se")), ("O", "S", "Se")),
        "A2BX4": _balanced(_family((2, 1, 4), a2_b, ("Si", "Ge", "Ti", "Sn", "Zr"), ("O",))
                           + _family((2, 1, 4), ("Na", "K", "Rb", "Cs"), tm2, ("F", "Cl")), ("O", "F", "Cl")),
        "ABX2": _balanced(_family((1, 1, 2), ("Cu", "Ag", "Li", "Na", "K"), delafossite_b, ("O", "S", "Se", "Te")),
                          ("O", "S", "Se", "Te")),
        "ABX4": _balanced(_family((1, 1, 4), ("Ca", "Sr", "Ba", "Cd", "Pb", "Zn", "Mg"), ("W", "Mo"), ("O",))
                          + _family((1, 1, 4), ALKALI, ("Y", "Sc", "Al", "Ga", "In", "Gd"), ("F",)), ("O", "F")),
        "pyrochlore A2B2X7": _balanced(_family((2, 2, 7), RARE_EARTH, ("Ti", "Zr", "Hf", "Sn"), ("O",)), ("O",)),
        "Zintl AB2X2": _balanced(_family((1, 2, 2), ("Ca", "Sr", "Ba", "Mg"), ("Mn", "Fe", "Co", "Zn", "Cd"),
                                         ("P", "As", "Sb")), ("P", "As", "Sb")),
        "double perovskite A2BB'X6": _balanced(
            _family((2, 1, 1, 6), ("Ca", "Sr", "Ba"), double_b, ("W", "Mo", "Nb", "Ta", "Sb"), ("O",))
            + _family((2, 1, 1, 6), ("Cs",), ("Li", "Na", "K", "Ag", "Cu"), elpasolite_b, ("Cl", "Br")),
            ("O", "Cl", "Br")),
        "kesterite A2BCX4": _balanced(_family((2, 1, 1, 4), ("Cu", "Ag"), ("Zn", "Cd", "Fe", "Mn", "Co", "Ni", "Mg"),
                                              ("Sn", "Ge", "Si"), ("S", "Se", "Te")), ("S", "Se", "Te")),
        "olivine ABCX4": _balanced(_family((1, 1, 1, 4), ("Li", "Na"), ("Fe", "Mn", "Co", "Ni", "Mg"),
                                           ("P", "As", "V"), ("O",)), ("O",)),
        "oxypnictide ABCX": _balanced(_family((1, 1, 1, 1), RARE_EARTH, ("Fe", "Co", "Ni", "Mn", "Zn"), ("As", "P"),
                                              ("O",)), ("As", "P", "O")),
        "intermetallic AB": _distinct(_family((1, 1), metals, LATE_METALS + P_METALS)),
        "intermetallic AB2": _distinct(_family((1, 2), metals, LATE_METALS + P_METALS)),
        "intermetallic A3B": _distinct(_family((3, 1), metals, metals + P_METALS)),
        "intermetallic AB5": _distinct(_family((1, 5), RARE_EARTH + ("Ca", "Sr", "Th"),
                                               ("Ni", "Co", "Cu", "Zn", "Pt", "Fe"))),
        "Heusler X2YZ": _distinct(_family((2, 1, 1), ("Co", "Ni", "Cu", "Fe", "Mn", "Rh", "Pd", "Ru"),
                                          ("Ti", "V", "Cr", "Mn", "Fe", "Zr", "Hf", "Nb"),
                                          ("Al", "Ga", "In", "Si", "Ge", "Sn", "Sb"))),
        "half-Heusler XYZ": _distinct(_family((1, 1, 1), ("Ti", "Zr", "Hf", "V", "Nb", "Ta", "Sc", "Y", "Mg", "Li"),
                                              ("Co", "Ni", "Fe", "Rh", "Pd", "Pt", "Ir", "Cu"),
                                              ("Sn", "Sb", "Bi", "Ge", "Si", "Pb", "Ga"))),
        "intermetallic RT2X2": _distinct(_family((1, 2, 2), ("La", "Ce", "Y", "Ca", "Sr", "Ba", "Gd", "Nd"),
                                                 ("Fe", "Co", "Ni", "Cu", "Ru", "Rh", "Pd", "Mn"), ("Si", "Ge"))),
        "quaternary Heusler XX'YZ": _distinct(_family((1, 1, 1, 1), ("Co", "Fe", "Ni", "Cu"), ("Mn", "Cr", "V", "Fe"),
                                                      ("Ti", "V", "Cr", "Mn", "Zr"),
                                                      ("Al", "Si", "Ga", "Ge", "Sn"))),
    }
    return families


V3_FAMILY_SIZES = {
    "perovskite ABX3": 30, "spinel AB2X4": 25, "A2BX4": 20, "ABX2": 25, "ABX4": 15, "pyrochlore A2B2X7": 8,
    "Zintl AB2X2": 15, "double perovskite A2BB'X6": 25, "kesterite A2BCX4": 20, "olivine ABCX4": 8,
    "oxypnictide ABCX": 8, "intermetallic AB": 45, "intermetallic AB2": 30, "intermetallic A3B": 30,
    "intermetallic AB5": 8, "Heusler X2YZ": 30, "half-Heusler XYZ": 30, "intermetallic RT2X2": 20,
    "quaternary Heusler XX'YZ": 15,
}
"""Compositions drawn per family for :func:`v3_compositions`."""


def v3_compositions(seed: int = 0) -> list[str]:
    """The v3 dataset's compositions: the default dataset's (:func:`default_compositions`) followed by a seeded
    sample of each family of :func:`v3_families` (:data:`V3_FAMILY_SIZES`), without the held-out
    :data:`MULTINARY_TARGETS` and without repeats."""
    rng = np.random.default_rng(seed)
    chosen = default_compositions()
    taken = set(chosen) | set(MULTINARY_TARGETS)
    for family, candidates in v3_families().items():
        pool = [f for f in candidates if f not in taken]
        picked = sorted(str(f) for f in rng.choice(pool, size=min(V3_FAMILY_SIZES[family], len(pool)), replace=False))
        chosen += picked
        taken.update(picked)
    return chosen


def composition_class(formula: str) -> str:
    """``"intermetallic"`` (metals and the metalloids B, Si, Ge, Sb only), else ``"element"``, ``"binary"``,
    ``"ternary"`` or ``"quaternary+"`` by the number of elements."""
    from ase_lcom.data.prototypes_multinary import NON_METALS

    elements = [el.symbol for el in Composition(formula)]
    if len(elements) > 1 and not NON_METALS.intersection(elements):
        return "intermetallic"
    return {1: "element", 2: "binary", 3: "ternary"}.get(len(elements), "quaternary+")
