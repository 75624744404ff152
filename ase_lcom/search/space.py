"""A GN-OA-style search space (Cheng et al. 2022): symmetric crystals from a vector in the unit hypercube.

A point ``x`` in ``[0, 1]^D`` picks, in order: the space group (among those whose Wyckoff positions can hold
the cell's atom counts in the conventional cell, i.e. the counts times the centring factor: 4 for F, so the
2-atom primitive cell of rocksalt is reachable), the Wyckoff assignment, the volume (relative to a radius-based estimate), the
lattice lengths and angles (constrained to the group's crystal system), and the free coordinates of each
occupied Wyckoff position (projected onto the position by its symmetry operations, so special positions
stay special). The conventional crystal is returned as its primitive cell, which has the requested
composition. Random search, particle swarm and Bayesian optimisation all move in this one space.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from pymatgen.core import Composition, Element, Lattice, Structure

from ase_lcom.structure import FormulaLike, cell_composition

MAX_COMBINATIONS = 64
"""Wyckoff assignments kept per space group (the first ones pyxtal lists; large cells have thousands)."""

CENTRING = {"P": 1, "A": 2, "B": 2, "C": 2, "I": 2, "R": 3, "F": 4}
"""Lattice points per conventional cell, by the first letter of the Hermann-Mauguin symbol (pyxtal lists
rhombohedral groups in the hexagonal setting)."""


@lru_cache(maxsize=1)
def _group_table() -> dict[int, tuple[int, list[tuple[int, str, int]]]]:
    """For every space group: its centring factor and the (multiplicity, letter, degrees of freedom) of each
    Wyckoff position (one pass over pyxtal's groups, about 2 s, cached)."""
    from pyxtal.symmetry import Group

    table = {}
    for g in range(1, 231):
        group = Group(g)
        table[g] = (CENTRING[group.symbol[0]], [(int(w.multiplicity), w.letter, int(w.get_dof())) for w in group])
    return table


@lru_cache(maxsize=4096)
def _combinations(group: int, counts: tuple[int, ...]) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Up to :data:`MAX_COMBINATIONS` Wyckoff assignments (letters per species) that hold ``counts`` atoms;
    positions without free parameters are used at most once."""
    positions = _group_table()[group][1]
    found: list[tuple[tuple[str, ...], ...]] = []

    def fill(species: int, remaining: int, start: int, used: frozenset[int], chosen: list[tuple[str, ...]],
             current: list[str]) -> None:
        if len(found) >= MAX_COMBINATIONS:
            return
        if remaining == 0:
            if species + 1 == len(counts):
                found.append(tuple(chosen + [tuple(current)]))
            else:
                fill(species + 1, counts[species + 1], 0, used, chosen + [tuple(current)], [])
            return
        for index in range(start, len(positions)):
            multiplicity, letter, dof = positions[index]
            if multiplicity > remaining or (dof == 0 and index in used):
                continue
            fill(species, remaining - multiplicity, index, used | {index} if dof == 0 else used, chosen,
                 current + [letter])

    fill(0, counts[0], 0, frozenset(), [], [])
    return tuple(found)


def _radius(symbol: str) -> float:
    element = Element(symbol)
    return float(element.atomic_radius_calculated or element.atomic_radius or 1.5)


class SymmetricCrystalSpace:
    """Decode unit-hypercube vectors into symmetric crystals of one cell composition.

    Parameters
    ----------
    cell
        The cell composition (e.g. ``Composition("Zn2O2")``).
    groups
        Space groups to consider (default: all of 2-230 that fit the counts, plus P1 if none does).
    """

    def __init__(self, cell: Composition, groups: list[int] | None = None) -> None:
        self.cell = Composition(cell)
        self.species = [el.symbol for el in self.cell]
        self.counts = tuple(int(round(self.cell[s])) for s in self.species)
        candidates = groups if groups is not None else list(range(2, 231))
        self.groups = [g for g in candidates if _combinations(g, self._conventional_counts(g))] or [1]
        self.num_sites = sum(self.counts)
        self.dim = 2 + 7 + 3 * self.num_sites
        self.volume = sum(4 / 3 * math.pi * _radius(s) ** 3 * n for s, n in zip(self.species, self.counts)) * 1.8
        self.min_distance = {(a, b): 0.6 * (_radius(a) + _radius(b)) for a in self.species for b in self.species}

    def decode(self, x: np.ndarray) -> Structure | None:
        """The crystal for ``x``, or ``None`` when atoms overlap (closer than 0.6 of summed radii)."""
        from pyxtal.symmetry import Group

        x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0 - 1e-9)
        group_number = self.groups[int(x[0] * len(self.groups))]
        centring = _group_table()[group_number][0]
        combos = _combinations(group_number, self._conventional_counts(group_number)) if group_number > 1 else (
            tuple(("1a",) * n for n in self.counts),)
        combo = combos[int(x[1] * len(combos))]
        group = Group(group_number)
        lattice = self._lattice(group.lattice_type, x[2:9], centring)
        species, coords, k = [], [], 9
        for symbol, letters in zip(self.species, combo):
            for letter in letters:
                if group_number == 1:
                    orbit = x[k:k + 3][None, :]
                else:
                    orbit = group.get_wyckoff_position(letter).apply_ops(x[k:k + 3])
                orbit = np.unique(np.round(np.mod(orbit, 1.0), 6), axis=0)
                species += [symbol] * len(orbit)
                coords.append(orbit)
                k += 3
        structure = Structure(lattice, species, np.concatenate(coords))
        if structure.composition != self.cell * centring or not self._separated(structure):
            return None
        if centring > 1:
            structure = structure.get_primitive_structure()
            if structure.composition != self.cell:
                return None
        return structure

    def _conventional_counts(self, group: int) -> tuple[int, ...]:
        return tuple(n * _group_table()[group][0] for n in self.counts)

    def _lattice(self, system: str, x: np.ndarray, centring: int = 1) -> Lattice:
        ratios = 0.7 + 0.6 * x[1:4]
        angles = 60.0 + 60.0 * x[4:7]
        a, b, c = ratios
        alpha, beta, gamma = angles
        if system == "cubic":
            b = c = a
            alpha = beta = gamma = 90.0
        elif system in ("tetragonal", "hexagonal", "trigonal"):
            b = a
            alpha = beta = 90.0
            gamma = 120.0 if system != "tetragonal" else 90.0
        elif system == "orthorhombic":
            alpha = beta = gamma = 90.0
        elif system == "monoclinic":
            alpha = gamma = 90.0
        lattice = Lattice.from_parameters(a, b, c, alpha, beta, gamma)
        if not np.isfinite(lattice.volume) or lattice.volume < 1e-3:
            lattice = Lattice.from_parameters(a, b, c, 90.0, 90.0, 90.0)
        target = self.volume * centring * (0.6 + 1.2 * x[0])
        return lattice.scale(target)

    def _separated(self, structure: Structure) -> bool:
        distances = structure.distance_matrix + np.eye(len(structure)) * 1e3
        symbols = [site.specie.symbol for site in structure]
        for i in range(len(structure)):
            for j in range(i, len(structure)):
                if distances[i, j] < self.min_distance[(symbols[i], symbols[j])]:
                    return False
        # periodic images of each atom (short lattice vectors)
        return min(structure.lattice.abc) > min(self.min_distance.values())

    @classmethod
    def for_formula(cls, formula: FormulaLike, formula_units: int) -> SymmetricCrystalSpace:
        """The space of cells holding ``formula_units`` formula units of the reduced ``formula``."""
        return cls(cell_composition(formula, formula_units, max_atoms=None))
