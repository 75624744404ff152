"""Ternary, quaternary and intermetallic structure types for :func:`ase_lcom.data.prototypes.decorate`.

Each type is given by its space group (International Tables setting; ``:2`` marks origin choice 2), its lattice
shape for a = 1 and its Wyckoff sites with literature coordinates, each site carrying a label (``A``, ``B``,
``C``, ``D``). The labels' multiplicities in the conventional cell, divided by their greatest common divisor,
are the type's stoichiometry (perovskite ``A B X3`` -> ``(1, 1, 3)``). A composition is decorated onto a type
for every assignment of its elements to the labels whose counts match its reduced formula; symmetry-equivalent
results are dropped. The cell is scaled so that no contact is shorter than its guessed bond length:
cation-anion contacts at 1.05 times the sum of covalent radii for ionic types (any other pair at 0.95 times),
every pair of sites at the sum of covalent radii for intermetallic types. The relaxation that follows finds
the real lattice constants.

Intermetallic types (Laves, L1_2, A15, ...) are decorated only with compositions free of the anion-forming
non-metals (:data:`NON_METALS`), so an ionic binary keeps its binary-type decorations only.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
from ase.data import atomic_numbers, covalent_radii
from pymatgen.core import Lattice, Structure

from ase_lcom.data.prototype_templates import conventional_cell

NON_METALS = frozenset(("H", "He", "C", "N", "O", "F", "Ne", "P", "S", "Cl", "Ar", "As", "Se", "Br", "Kr", "Te", "I",
                        "Xe"))
"""Elements that rule out the intermetallic-only types (B, Si, Ge, Sb count as metals there)."""

LABELS = ("A", "B", "C", "D")
_FLOOR = 0.95
"""No two atoms of an ionic type closer than this times the sum of their covalent radii (the other contacts)."""
_PLACEHOLDER = {"A": "H", "B": "He", "C": "Li", "D": "Be"}


@dataclass(frozen=True)
class StructureType:
    """A structure type: space group, lattice shape and labelled Wyckoff sites.

    Attributes
    ----------
    name
        Identifier without ``-`` (decorations are named ``name`` or ``name-<elements in label order>``).
    compound
        The type's namesake compound and notation, e.g. ``"MgAgAs (C1_b)"``.
    spacegroup
        Hermann-Mauguin symbol as pymatgen reads it.
    lattice
        a, b, c, alpha, beta, gamma for a = 1.
    sites
        ``(label, wyckoff, (x, y, z))`` per Wyckoff site; labels are ``A``, ``B``, ``C``, ``D`` in order of use.
    anions
        Labels of the anion sites of an ionic type (contacts: every other label to these); empty for an
        intermetallic type (contacts: every pair of sites).
    metals_only
        Decorate only compositions without :data:`NON_METALS`.
    """

    name: str
    compound: str
    spacegroup: str
    lattice: tuple[float, float, float, float, float, float]
    sites: tuple[tuple[str, str, tuple[float, float, float]], ...]
    anions: tuple[str, ...] = ()
    metals_only: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels in use, in order."""
        return tuple(label for label in LABELS if any(site[0] == label for site in self.sites))

    @property
    def stoichiometry(self) -> tuple[int, ...]:
        """Atoms per formula unit of each label."""
        symbols = [site.specie.symbol for site in template(self)]
        counts = [symbols.count(_PLACEHOLDER[label]) for label in self.labels]
        divisor = functools.reduce(math.gcd, counts)
        return tuple(c // divisor for c in counts)

    def contact_pairs(self) -> list[tuple[str, str]]:
        """Label pairs whose shortest distance sets the scale."""
        if self.anions:
            return [(c, a) for c in self.labels if c not in self.anions for a in self.anions]
        return list(itertools.combinations_with_replacement(self.labels, 2))

    def structure(self, species: dict[str, str]) -> Structure:
        """Primitive cell with each label's placeholder replaced by ``species[label]`` and the cell scaled by the
        contact rule (module docstring)."""
        conventional = template(self).copy()
        symbols = [site.specie.symbol for site in conventional]
        contacts = {pair: 1.05 if self.anions else 1.0 for pair in self.contact_pairs()}
        ratio = 0.0
        for first, second in itertools.combinations_with_replacement(self.labels, 2):
            scale = contacts.get((first, second), contacts.get((second, first), _FLOOR))
            rows = [i for i, s in enumerate(symbols) if s == _PLACEHOLDER[first]]
            cols = [i for i, s in enumerate(symbols) if s == _PLACEHOLDER[second]]
            shortest = _shortest(conventional, rows, cols)
            target = scale * float(covalent_radii[atomic_numbers[species[first]]]
                                   + covalent_radii[atomic_numbers[species[second]]])
            ratio = max(ratio, target / shortest)
        conventional.replace_species({_PLACEHOLDER[label]: species[label] for label in self.labels})
        conventional.scale_lattice(conventional.volume * ratio**3)
        return conventional.get_primitive_structure()

    def applies_to(self, elements: list[str]) -> bool:
        """Whether compositions of these elements are decorated onto this type (ignoring stoichiometry)."""
        return len(elements) == len(self.labels) and not (self.metals_only and NON_METALS.intersection(elements))


def _shortest(structure: Structure, rows: list[int], cols: list[int]) -> float:
    """Shortest distance between two site sets, periodic images included, a site never with itself."""
    distances = structure.distance_matrix[np.ix_(rows, cols)]
    same = np.equal.outer(rows, cols)
    shortest = float(np.where(same, np.inf, distances).min()) if (~same).any() else np.inf
    if set(rows) & set(cols):  # a site with its own periodic images
        shortest = min(shortest, _shortest_translation(structure.lattice))
    return shortest


def _shortest_translation(lattice: Lattice) -> float:
    vectors = [np.dot(n, lattice.matrix) for n in itertools.product((-1, 0, 1), repeat=3) if any(n)]
    return float(min(np.linalg.norm(v) for v in vectors))


@functools.cache
def template(structure_type: StructureType) -> Structure:
    """The conventional cell with placeholder elements (shipped; see :mod:`.prototype_templates`)."""
    return conventional_cell(*template_definition(structure_type))


def template_definition(structure_type: StructureType) -> tuple[str, tuple[float, ...], list[str],
                                                                list[tuple[float, ...]]]:
    """Space group, lattice parameters, placeholder species and coordinates the type's cell expands from."""
    return (structure_type.spacegroup, structure_type.lattice,
            [_PLACEHOLDER[label] for label, _, _ in structure_type.sites],
            [coords for _, _, coords in structure_type.sites])


def decorations(elements: list[str], counts: tuple[int, ...]) -> list[tuple[str, Structure]]:
    """Every structure type decorated with a reduced formula's elements (``counts`` atoms each per formula
    unit), one structure per symmetry-distinct assignment of elements to labels that fits the stoichiometry."""
    return [(name, structure.copy()) for name, structure in _decorations(tuple(elements), tuple(counts))]


@functools.lru_cache(maxsize=512)
def _decorations(elements: tuple[str, ...], counts: tuple[int, ...]) -> tuple[tuple[str, Structure], ...]:
    """:func:`decorations`, cached (the symmetry-equivalence checks are slow for quaternaries)."""
    results: list[tuple[str, Structure]] = []
    for structure_type in STRUCTURE_TYPES.values():
        if not structure_type.applies_to(elements):
            continue
        stoichiometry = structure_type.stoichiometry
        labels = structure_type.labels
        fitting = [order for order in itertools.permutations(range(len(elements)))
                   if tuple(counts[i] for i in order) == stoichiometry]
        found: list[Structure] = []
        for order in fitting:
            species = {label: elements[i] for label, i in zip(labels, order, strict=True)}
            structure = structure_type.structure(species)
            if any(structure.matches(other) for other in found):
                continue
            found.append(structure)
            suffix = "-" + "".join(species[label] for label in labels) if len(fitting) > 1 else ""
            results.append((structure_type.name + suffix, structure))
    return tuple(results)


CUBIC = (1.0, 1.0, 1.0, 90.0, 90.0, 90.0)


def _tetragonal(c: float) -> tuple[float, float, float, float, float, float]:
    return (1.0, 1.0, c, 90.0, 90.0, 90.0)


def _hexagonal(c: float) -> tuple[float, float, float, float, float, float]:
    return (1.0, 1.0, c, 90.0, 90.0, 120.0)


_TYPES = (
    # ---------------------------------------------------------------- perovskites and relatives (ionic)
    StructureType("perovskite_pnma", "GdFeO3 (orthorhombic perovskite, a-b+a- tilts; CaTiO3 coordinates)",
                  "Pnma", (1.0, 1.4039, 0.9885, 90, 90, 90),
                  (("A", "4c", (0.0349, 0.25, 0.9934)), ("B", "4b", (0.0, 0.0, 0.5)),
                   ("C", "4c", (0.4841, 0.25, 0.0711)), ("C", "8d", (0.2884, 0.0372, 0.7109))), ("C",)),
    StructureType("perovskite_i4mcm", "SrTiO3 low-temperature (tetragonal perovskite, a0a0c- tilts)",
                  "I4/mcm", _tetragonal(1.4142),
                  (("A", "4b", (0.0, 0.5, 0.25)), ("B", "4c", (0.0, 0.0, 0.0)),
                   ("C", "4a", (0.0, 0.0, 0.25)), ("C", "8h", (0.225, 0.725, 0.0))), ("C",)),
    StructureType("perovskite_r3c", "LaAlO3 (rhombohedral perovskite, a-a-a- tilts)",
                  "R-3c", _hexagonal(2.4495),
                  (("A", "6a", (0.0, 0.0, 0.25)), ("B", "6b", (0.0, 0.0, 0.0)),
                   ("C", "18e", (0.54, 0.0, 0.25))), ("C",)),
    StructureType("double_perovskite", "Sr2FeMoO6 / Cs2NaBiCl6 (rock-salt-ordered double perovskite, elpasolite)",
                  "Fm-3m", CUBIC,
                  (("A", "8c", (0.25, 0.25, 0.25)), ("B", "4a", (0.0, 0.0, 0.0)), ("C", "4b", (0.5, 0.5, 0.5)),
                   ("D", "24e", (0.25, 0.0, 0.0))), ("D",)),
    StructureType("k2nif4", "K2NiF4 (Ruddlesden-Popper n = 1, Sr2TiO4)", "I4/mmm", _tetragonal(3.25),
                  (("A", "4e", (0.0, 0.0, 0.355)), ("B", "2a", (0.0, 0.0, 0.0)),
                   ("C", "4c", (0.0, 0.5, 0.0)), ("C", "4e", (0.0, 0.0, 0.16))), ("C",)),
    # ---------------------------------------------------------------- spinels, olivines, other oxides (ionic)
    StructureType("spinel", "MgAl2O4 (normal spinel, H1_1)", "Fd-3m:2", CUBIC,
                  (("A", "8a", (0.125, 0.125, 0.125)), ("B", "16d", (0.5, 0.5, 0.5)),
                   ("C", "32e", (0.2625, 0.2625, 0.2625))), ("C",)),
    StructureType("inverse_spinel", "MgFe2O4 (inverse spinel B[AB]X4, cation order of highest symmetry)",
                  "Imma", (1.0, 1.0, 1.4142, 90, 90, 90),
                  (("A", "4c", (0.25, 0.25, 0.25)), ("B", "4b", (0.5, 0.5, 0.0)), ("B", "4e", (0.0, 0.25, 0.875)),
                   ("C", "8h", (0.5, 0.025, 0.2375)), ("C", "8i", (0.725, 0.25, 0.0125))), ("C",)),
    StructureType("olivine", "Mg2SiO4 (forsterite; LiFePO4 coordinates)", "Pnma", (1.0, 0.5818, 0.4540, 90, 90, 90),
                  (("A", "4a", (0.0, 0.0, 0.0)), ("A", "4c", (0.2822, 0.25, 0.9747)),
                   ("B", "4c", (0.0949, 0.25, 0.4183)), ("C", "4c", (0.0968, 0.25, 0.7424)),
                   ("C", "4c", (0.4571, 0.25, 0.2060)), ("C", "8d", (0.1658, 0.0466, 0.2847))), ("C",)),
    StructureType("triphylite", "LiFePO4 (ordered olivine)", "Pnma", (1.0, 0.5818, 0.4540, 90, 90, 90),
                  (("A", "4a", (0.0, 0.0, 0.0)), ("B", "4c", (0.2822, 0.25, 0.9747)),
                   ("C", "4c", (0.0949, 0.25, 0.4183)), ("D", "4c", (0.0968, 0.25, 0.7424)),
                   ("D", "4c", (0.4571, 0.25, 0.2060)), ("D", "8d", (0.1658, 0.0466, 0.2847))), ("D",)),
    StructureType("scheelite", "CaWO4 (scheelite)", "I 41/a :2", _tetragonal(2.170),
                  (("A", "4b", (0.0, 0.25, 0.625)), ("B", "4a", (0.0, 0.25, 0.125)),
                   ("C", "16f", (0.1511, 0.0086, 0.2113))), ("C",)),
    StructureType("pyrochlore", "Gd2Ti2O7 (pyrochlore A2B2X6X')", "Fd-3m:2", CUBIC,
                  (("A", "16d", (0.5, 0.5, 0.5)), ("B", "16c", (0.0, 0.0, 0.0)),
                   ("C", "48f", (0.33, 0.125, 0.125)), ("C", "8b", (0.375, 0.375, 0.375))), ("C",)),
    StructureType("delafossite", "CuFeO2 (delafossite, 3R)", "R-3m", _hexagonal(5.67),
                  (("A", "3a", (0.0, 0.0, 0.0)), ("B", "3b", (0.0, 0.0, 0.5)),
                   ("C", "6c", (0.0, 0.0, 0.1066))), ("C",)),
    # ---------------------------------------------------------------- tetrahedral semiconductors (ionic)
    StructureType("chalcopyrite", "CuFeS2 (chalcopyrite, E1_1)", "I-42d", _tetragonal(1.97),
                  (("A", "4a", (0.0, 0.0, 0.0)), ("B", "4b", (0.0, 0.0, 0.5)),
                   ("C", "8d", (0.2574, 0.25, 0.125))), ("C",)),
    StructureType("kesterite", "Cu2ZnSnS4 (kesterite)", "I-4", _tetragonal(2.0),
                  (("A", "2a", (0.0, 0.0, 0.0)), ("A", "2c", (0.0, 0.5, 0.25)), ("B", "2d", (0.0, 0.5, 0.75)),
                   ("C", "2b", (0.0, 0.0, 0.5)), ("D", "8g", (0.756, 0.757, 0.872))), ("D",)),
    StructureType("stannite", "Cu2FeSnS4 (stannite)", "I-42m", _tetragonal(1.97),
                  (("A", "4d", (0.0, 0.5, 0.25)), ("B", "2a", (0.0, 0.0, 0.0)), ("C", "2b", (0.0, 0.0, 0.5)),
                   ("D", "8i", (0.2454, 0.2454, 0.1298))), ("D",)),
    # ---------------------------------------------------------------- layered ternaries (Zintl / intermetallic)
    StructureType("thcr2si2", "ThCr2Si2 (BaFe2As2, CeCu2Si2)", "I4/mmm", _tetragonal(2.62),
                  (("A", "2a", (0.0, 0.0, 0.0)), ("B", "4d", (0.0, 0.5, 0.25)),
                   ("C", "4e", (0.0, 0.0, 0.375))), ("C",)),
    StructureType("caal2si2", "CaAl2Si2 (anti-La2O3 type)", "P-3m1", _hexagonal(1.73),
                  (("A", "1a", (0.0, 0.0, 0.0)), ("B", "2d", (1 / 3, 2 / 3, 0.6338)),
                   ("C", "2d", (1 / 3, 2 / 3, 0.2712))), ("C",)),
    StructureType("zrcusias", "ZrCuSiAs (LaFeAsO, 1111 type)", "P4/nmm:2", _tetragonal(2.17),
                  (("A", "2c", (0.25, 0.25, 0.1415)), ("B", "2b", (0.75, 0.25, 0.5)),
                   ("C", "2c", (0.25, 0.25, 0.6512)), ("D", "2a", (0.75, 0.25, 0.0))), ("C", "D")),
    # ---------------------------------------------------------------- Heusler family (every pair in contact)
    StructureType("heusler", "Cu2MnAl (full Heusler, L2_1)", "Fm-3m", CUBIC,
                  (("A", "8c", (0.25, 0.25, 0.25)), ("B", "4a", (0.0, 0.0, 0.0)), ("C", "4b", (0.5, 0.5, 0.5)))),
    StructureType("inverse_heusler", "Hg2CuTi (inverse Heusler, XA)", "F-43m", CUBIC,
                  (("A", "4a", (0.0, 0.0, 0.0)), ("A", "4c", (0.25, 0.25, 0.25)),
                   ("B", "4b", (0.5, 0.5, 0.5)), ("C", "4d", (0.75, 0.75, 0.75)))),
    StructureType("half_heusler", "MgAgAs (half-Heusler, C1_b)", "F-43m", CUBIC,
                  (("A", "4a", (0.0, 0.0, 0.0)), ("B", "4b", (0.5, 0.5, 0.5)), ("C", "4c", (0.25, 0.25, 0.25)))),
    StructureType("quaternary_heusler", "LiMgPdSn (quaternary Heusler, Y type)", "F-43m", CUBIC,
                  (("A", "4a", (0.0, 0.0, 0.0)), ("B", "4b", (0.5, 0.5, 0.5)),
                   ("C", "4c", (0.25, 0.25, 0.25)), ("D", "4d", (0.75, 0.75, 0.75)))),
    # ---------------------------------------------------------------- binary intermetallics (metals only)
    StructureType("l1_0", "CuAu (L1_0)", "P4/mmm", _tetragonal(1.36),
                  (("A", "1a", (0.0, 0.0, 0.0)), ("B", "1d", (0.5, 0.5, 0.5))), metals_only=True),
    StructureType("b20", "FeSi (B20)", "P2_13", CUBIC,
                  (("A", "4a", (0.1358, 0.1358, 0.1358)), ("B", "4a", (0.844, 0.844, 0.844))), metals_only=True),
    StructureType("c15", "MgCu2 (cubic Laves, C15)", "Fd-3m:2", CUBIC,
                  (("A", "8a", (0.125, 0.125, 0.125)), ("B", "16d", (0.5, 0.5, 0.5))), metals_only=True),
    StructureType("c14", "MgZn2 (hexagonal Laves, C14)", "P6_3/mmc", _hexagonal(1.642),
                  (("A", "4f", (1 / 3, 2 / 3, 0.0629)), ("B", "2a", (0.0, 0.0, 0.0)),
                   ("B", "6h", (0.8305, 0.661, 0.25))), metals_only=True),
    StructureType("c36", "MgNi2 (dihexagonal Laves, C36)", "P6_3/mmc", _hexagonal(3.282),
                  (("A", "4e", (0.0, 0.0, 0.0937)), ("A", "4f", (1 / 3, 2 / 3, 0.8437)),
                   ("B", "4f", (1 / 3, 2 / 3, 0.125)), ("B", "6g", (0.5, 0.0, 0.0)),
                   ("B", "6h", (0.1656, 0.3312, 0.25))), metals_only=True),
    StructureType("alb2", "AlB2 (C32)", "P6/mmm", _hexagonal(1.08),
                  (("A", "1a", (0.0, 0.0, 0.0)), ("B", "2d", (1 / 3, 2 / 3, 0.5))), metals_only=True),
    StructureType("c11b", "MoSi2 (C11_b)", "I4/mmm", _tetragonal(2.45),
                  (("A", "2a", (0.0, 0.0, 0.0)), ("B", "4e", (0.0, 0.0, 0.3353))), metals_only=True),
    StructureType("l1_2", "Cu3Au (L1_2)", "Pm-3m", CUBIC,
                  (("A", "3c", (0.0, 0.5, 0.5)), ("B", "1a", (0.0, 0.0, 0.0))), metals_only=True),
    StructureType("d0_3", "BiF3 / Fe3Al (D0_3)", "Fm-3m", CUBIC,
                  (("A", "8c", (0.25, 0.25, 0.25)), ("A", "4b", (0.5, 0.5, 0.5)), ("B", "4a", (0.0, 0.0, 0.0))),
                  metals_only=True),
    StructureType("d0_19", "Ni3Sn / Mg3Cd (D0_19)", "P6_3/mmc", _hexagonal(0.80),
                  (("A", "6h", (0.8333, 0.6666, 0.25)), ("B", "2c", (1 / 3, 2 / 3, 0.25))), metals_only=True),
    StructureType("d0_22", "TiAl3 (D0_22)", "I4/mmm", _tetragonal(2.23),
                  (("A", "2b", (0.0, 0.0, 0.5)), ("A", "4d", (0.0, 0.5, 0.25)), ("B", "2a", (0.0, 0.0, 0.0))),
                  metals_only=True),
    StructureType("a15", "Cr3Si (A15)", "Pm-3n", CUBIC,
                  (("A", "6c", (0.25, 0.0, 0.5)), ("B", "2a", (0.0, 0.0, 0.0))), metals_only=True),
    StructureType("cacu5", "CaCu5 (D2_d)", "P6/mmm", _hexagonal(0.80),
                  (("A", "1a", (0.0, 0.0, 0.0)), ("B", "2c", (1 / 3, 2 / 3, 0.0)), ("B", "3g", (0.5, 0.0, 0.5))),
                  metals_only=True),
)

STRUCTURE_TYPES: dict[str, StructureType] = {t.name: t for t in _TYPES}
"""The ternary, quaternary and intermetallic types by name."""
