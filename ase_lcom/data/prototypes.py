"""A library of common crystal prototypes (as OQMD decorates them) and random symmetric cells (pyxtal).

Prototypes are defined by space group and Wyckoff positions with placeholder species ``A``, ``B``, ``X``;
:func:`decorate` fills them with real elements and scales the cell so the shortest cation-anion contact is about the
sum of covalent radii (a relaxation then finds the real lattice constant).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from ase.data import atomic_numbers, covalent_radii
from pymatgen.core import Composition, Element, Structure

from ase_lcom.data.prototype_templates import conventional_cell
from ase_lcom.data.prototypes_multinary import decorations as _multinary_decorations
from ase_lcom.errors import FormulaError


@dataclass(frozen=True)
class Prototype:
    """A structure type: space group, lattice shape and Wyckoff sites of placeholder species."""

    name: str
    stoichiometry: tuple[int, ...]
    """Atoms of A, B, (X) per formula unit, e.g. ``(1, 2)`` for AB2."""
    spacegroup: str
    lattice: tuple[float, float, float, float, float, float]
    """Lattice parameters a, b, c, alpha, beta, gamma for a = 1."""
    sites: tuple[tuple[str, tuple[float, float, float]], ...]
    contact: tuple[str, str] = ("A", "B")
    """The two site labels whose shortest contact sets the scale (cation-anion; B-X in perovskites)."""

    def structure(self, species: dict[str, str]) -> Structure:
        """Primitive cell with placeholders replaced by ``species``, scaled so that the shortest contact between
        the :attr:`contact` sites is the sum of their covalent radii (times 1.05)."""
        conventional = _template(self).copy()
        first, second = (_PLACEHOLDER[label] for label in self.contact)
        labels = [site.specie.symbol for site in conventional]
        rows = [i for i, label in enumerate(labels) if label == first]
        cols = [i for i, label in enumerate(labels) if label == second]
        if first == second:  # elements: the shortest contact, periodic images included
            shortest = min(float((conventional.distance_matrix + np.eye(len(labels)) * 1e9).min()),
                           min(conventional.lattice.abc))
        else:
            shortest = float(conventional.distance_matrix[np.ix_(rows, cols)].min())
        target = contact_distance(species[self.contact[0]], species[self.contact[1]])
        conventional.replace_species({_PLACEHOLDER[label]: species[label] for label in species})
        conventional.scale_lattice(conventional.volume * (target / shortest) ** 3)
        return conventional.get_primitive_structure()


_PLACEHOLDER = {"A": "H", "B": "He", "X": "Li"}


@functools.cache
def _template(prototype: Prototype) -> Structure:
    """The prototype's conventional cell with placeholder elements (shipped; see :mod:`.prototype_templates`)."""
    return conventional_cell(*template_definition(prototype))


def template_definition(prototype: Prototype) -> tuple[str, tuple[float, ...], list[str], list[tuple[float, ...]]]:
    """Space group, lattice parameters, placeholder species and coordinates the prototype's cell expands from."""
    return (prototype.spacegroup, prototype.lattice, [_PLACEHOLDER[label] for label, _ in prototype.sites],
            [coords for _, coords in prototype.sites])


HEX = (1.0, 1.0, 1.633, 90.0, 90.0, 120.0)
CUBIC = (1.0, 1.0, 1.0, 90.0, 90.0, 90.0)

PROTOTYPES: dict[str, Prototype] = {
    p.name: p
    for p in (
        # elements
        Prototype("fcc", (1,), "Fm-3m", CUBIC, (("A", (0, 0, 0)),), ("A", "A")),
        Prototype("bcc", (1,), "Im-3m", CUBIC, (("A", (0, 0, 0)),), ("A", "A")),
        Prototype("hcp", (1,), "P6_3/mmc", HEX, (("A", (1 / 3, 2 / 3, 0.25)),), ("A", "A")),
        Prototype("diamond", (1,), "Fd-3m", CUBIC, (("A", (0, 0, 0)),), ("A", "A")),
        Prototype("graphite", (1,), "P6_3/mmc", (1.0, 1.0, 2.73, 90, 90, 120),
                  (("A", (0, 0, 0.25)), ("A", (1 / 3, 2 / 3, 0.25))), ("A", "A")),
        # AB
        Prototype("rocksalt", (1, 1), "Fm-3m", CUBIC, (("A", (0, 0, 0)), ("B", (0.5, 0.5, 0.5)))),
        Prototype("cscl", (1, 1), "Pm-3m", CUBIC, (("A", (0, 0, 0)), ("B", (0.5, 0.5, 0.5)))),
        Prototype("zincblende", (1, 1), "F-43m", CUBIC, (("A", (0, 0, 0)), ("B", (0.25, 0.25, 0.25)))),
        Prototype("wurtzite", (1, 1), "P6_3mc", HEX, (("A", (1 / 3, 2 / 3, 0)), ("B", (1 / 3, 2 / 3, 0.375)))),
        Prototype("nias", (1, 1), "P6_3/mmc", (1.0, 1.0, 1.39, 90, 90, 120),
                  (("A", (0, 0, 0)), ("B", (1 / 3, 2 / 3, 0.25)))),
        # AB2 (A is the single-count element; A2B compounds get the anti-types, A = the anion)
        Prototype("fluorite", (1, 2), "Fm-3m", CUBIC, (("A", (0, 0, 0)), ("B", (0.25, 0.25, 0.25)))),
        Prototype("rutile", (1, 2), "P4_2/mnm", (1.0, 1.0, 0.645, 90, 90, 90),
                  (("A", (0, 0, 0)), ("B", (0.305, 0.305, 0)))),
        Prototype("cdi2", (1, 2), "P-3m1", (1.0, 1.0, 1.6, 90, 90, 120),
                  (("A", (0, 0, 0)), ("B", (1 / 3, 2 / 3, 0.25)))),
        Prototype("pyrite", (1, 2), "Pa-3", CUBIC, (("A", (0, 0, 0)), ("B", (0.385, 0.385, 0.385)))),
        # ABX3: A large cation, B small cation, X anion
        Prototype("perovskite", (1, 1, 3), "Pm-3m", CUBIC,
                  (("A", (0.5, 0.5, 0.5)), ("B", (0, 0, 0)), ("X", (0.5, 0, 0))), ("B", "X")),
        Prototype("ilmenite_like", (1, 1, 3), "R-3", (1.0, 1.0, 2.77, 90, 90, 120),
                  (("A", (0, 0, 0.36)), ("B", (0, 0, 0.15)), ("X", (0.32, 0.02, 0.24))), ("B", "X")),
    )
}


def contact_distance(a: str, b: str, scale: float = 1.05) -> float:
    """Guess of an A-B nearest-neighbour distance: sum of covalent radii times ``scale`` (Angstrom)."""
    return scale * float(covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]])


def decorate(composition: Composition | str) -> list[tuple[str, Structure]]:
    """All prototype structures matching a composition's reduced stoichiometry, decorated with its elements.

    Every assignment of elements to sites that fits the stoichiometry is tried and symmetry-equivalent
    results are dropped: AB tries both orders (they differ for NiAs), A2B compounds get the anti-types of the
    AB2 prototypes (anti-fluorite, anti-CdI2, ...), ABX3 tries both cation orders. The ternary, quaternary
    and intermetallic types of :mod:`ase_lcom.data.prototypes_multinary` follow (perovskite tilt variants,
    spinels, Heuslers, ThCr2Si2, Laves phases, L1_2, A15, ...), named ``<type>`` or, where several assignments
    of elements to sites fit, ``<type>-<elements in site-label order>`` (e.g. ``half_heusler-TiSnNi``).
    """
    reduced = Composition(composition).reduced_composition
    elements = [el.symbol for el in reduced]
    counts = tuple(int(reduced[el]) for el in elements)
    results: list[tuple[str, Structure]] = []
    for proto in PROTOTYPES.values():
        if len(proto.stoichiometry) != len(elements):
            continue
        labels = "ABX"[: len(elements)]
        for order in itertools.permutations(range(len(elements))):
            if tuple(counts[i] for i in order) != proto.stoichiometry:
                continue
            species = {label: elements[i] for label, i in zip(labels, order)}
            structure = proto.structure(species)
            same_type = [other for name, other in results if name.split("-")[0] == proto.name]
            if not any(structure.matches(other) for other in same_type):
                anti = len(elements) == 2 and proto.stoichiometry == (1, 2) and counts[order[0]] == 1 and (
                    Element(species["A"]).X > Element(species["B"]).X
                )
                name = ("anti-" if anti else "") + proto.name + ("-swapped" if same_type else "")
                results.append((name, structure))
    return results + _multinary_decorations(elements, counts)


def random_structure(composition: Composition | str, rng: np.random.Generator, max_tries: int = 50) -> Structure:
    """A random symmetric crystal of exactly this cell composition (pyxtal; random space group).

    Raises
    ------
    FormulaError
        When no space group accommodates the composition within ``max_tries`` attempts.
    """
    from pyxtal import pyxtal

    composition = Composition(composition)
    species = [el.symbol for el in composition]
    counts = [int(composition[el]) for el in species]
    for _ in range(max_tries):
        crystal = pyxtal()
        try:
            crystal.from_random(3, int(rng.integers(2, 231)), species, counts,
                                random_state=int(rng.integers(2**31 - 1)))
        except Exception:  # pyxtal raises several types for incompatible space groups; try another
            continue
        if crystal.valid:
            structure = crystal.to_pymatgen()
            if structure.composition == composition:
                return structure
    raise FormulaError(f"pyxtal found no random symmetric cell for {composition.formula} in {max_tries} tries")
