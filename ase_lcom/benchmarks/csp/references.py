"""The CSP benchmark's reference polymorphs and the validating calculator.

For each compound the reference polymorphs (rocksalt, CsCl, zincblende, wurtzite; diamond and graphite for C;
diamond for Si) are built from prototypes and relaxed with the validating calculator; the lowest is the
calculator's ground state (``gs``), and :data:`EXPERIMENTAL_GROUND_STATES` records the experimental one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pymatgen.core import Composition, Structure

from ase_lcom.data.compositions import BENCHMARK_POLYMORPHS
from ase_lcom.data.prototypes import decorate
from ase_lcom.errors import LCOMError
from ase_lcom.store import read_json, write_json

EXPERIMENTAL_GROUND_STATES = {
    **{f: "rocksalt" for f in ("LiF", "NaF", "KF", "RbF", "CsF", "LiCl", "NaCl", "KCl", "RbCl", "MgO", "CaO",
                               "SrO", "BaO", "CdO", "MgS", "CaS", "SrS", "BaS")},
    "CsCl": "cscl", "BeO": "wurtzite", "ZnO": "wurtzite", "BeS": "zincblende", "ZnS": "zincblende",
    "CdS": "wurtzite", "C": "graphite", "Si": "diamond",
}
"""Structure type of each benchmark compound's experimental ground state (ambient conditions)."""

DEGENERACY_MEV = 10.0
"""Reference polymorphs this close (meV/atom) to the calculator's ground state also count as correct."""

ELEMENTS = ("C", "Si")
"""Benchmark compounds that are elements: their criterion uses total energies (formation energies are ~0)."""


class ReferenceCacheError(LCOMError, ValueError):
    """A reference cache belongs to another calculator."""


def reference_polymorphs(formula: str) -> dict[str, Structure]:
    """Unrelaxed reference polymorphs of a benchmark compound by structure type."""
    reduced = Composition(formula).reduced_formula
    wanted = {"C": ("diamond", "graphite"), "Si": ("diamond",)}.get(reduced, BENCHMARK_POLYMORPHS)
    return {name: structure for name, structure in decorate(reduced) if name in wanted}


class Validator:
    """The validating calculator: single points, relaxations and formation energies against its elements."""

    def __init__(self, calculator: str = "chgnet", **options: Any) -> None:
        """``options`` go to :func:`~ase_lcom.calculators.get_calculator` (e.g. GPAW's ``ecut``)."""
        from ase_lcom.calculators import ReferenceEnergies, get_calculator

        self.name = calculator
        self.calculator = get_calculator(calculator, **options)
        self.references = ReferenceEnergies(calculator, **options)

    def energy_per_atom(self, structure: Structure) -> float:
        from ase_lcom.calculators import energy_per_atom

        return energy_per_atom(structure, self.calculator)

    def formation(self, structure: Structure, energy_per_atom: float) -> float:
        return self.references.formation_energy_per_atom(structure.composition, energy_per_atom)

    def relax(self, structure: Structure, fix_symmetry: bool = False) -> tuple[Structure, float, float]:
        """Relaxed structure, its energy per atom, and the seconds taken."""
        from ase_lcom.calculators import relax

        start = time.perf_counter()
        result = relax(structure, self.calculator, fmax=0.05 if not fix_symmetry else 0.02, steps=300,
                       optimizer="BFGS" if fix_symmetry else "FIRE", fix_symmetry=fix_symmetry)
        return result.structure, result.energy_per_atom, time.perf_counter() - start


def compute_references(formulas: Sequence[str], validator: Validator, path: str | Path,
                       progress: bool = True, formation: bool = True) -> dict[str, dict[str, Any]]:
    """Relaxed reference polymorphs per compound, cached in the JSON file ``path`` (rewritten atomically after
    each compound; finished compounds are kept). ``formation=False`` stores no formation energies (they need
    the calculator's elemental references: hours of DFT for GPAW, and polymorph orderings do not use them).

    Raises
    ------
    ReferenceCacheError
        ``path`` holds references of another calculator.
    """
    from tqdm.auto import tqdm

    refs: dict[str, dict[str, Any]] = read_json(path, default={})
    if refs and next(iter(refs.values())).get("calculator") != validator.name:
        raise ReferenceCacheError(f"{path} holds references of another calculator; use another --out directory")
    for formula in tqdm([f for f in formulas if f not in refs], desc="reference polymorphs", disable=not progress):
        polymorphs = {}
        for name, structure in reference_polymorphs(formula).items():
            relaxed, energy, _ = validator.relax(structure, fix_symmetry=True)
            polymorphs[name] = {"structure": relaxed.as_dict(), "energy_per_atom": energy,
                                "formation_energy_per_atom": validator.formation(relaxed, energy) if formation
                                else None,
                                "num_atoms": len(relaxed)}
        gs = min(polymorphs, key=lambda n: polymorphs[n]["energy_per_atom"])
        refs[formula] = {"calculator": validator.name, "polymorphs": polymorphs, "ground_state": gs,
                         "experimental": EXPERIMENTAL_GROUND_STATES.get(formula)}
        write_json(path, refs)
    return refs


def accepted_structures(reference: dict[str, Any]) -> dict[str, Structure]:
    """The experimental ground state and every polymorph within :data:`DEGENERACY_MEV` of the calculator's."""
    polymorphs = reference["polymorphs"]
    lowest = polymorphs[reference["ground_state"]]["energy_per_atom"]
    names = {n for n, p in polymorphs.items() if 1000 * (p["energy_per_atom"] - lowest) <= DEGENERACY_MEV}
    if reference.get("experimental") in polymorphs:
        names.add(reference["experimental"])
    return {n: Structure.from_dict(polymorphs[n]["structure"]) for n in sorted(names)}


def experimental_units(formula: str) -> int:
    """Formula units in the primitive cell of the compound's experimental ground-state structure type."""
    cell = reference_polymorphs(formula)[EXPERIMENTAL_GROUND_STATES[formula]]
    return round(len(cell) / Composition(formula).reduced_composition.num_atoms)


def ground_state_units(formula: str, reference: dict[str, Any]) -> int:
    """Formula units per cell of the calculator's ground state (2 atoms, or 4 for wurtzite and graphite)."""
    atoms = reference["polymorphs"][reference["ground_state"]]["num_atoms"]
    return max(1, int(round(atoms / Composition(formula).reduced_composition.num_atoms)))
