"""An acceptance check for any calculator (made for M3GNet/matgl potentials): does it know simple crystals?

Two tests, both cheap:

* **lattice constants**: the E(V) curves of NaCl (rocksalt), MgO (rocksalt) and Si (diamond), single points over
  +-10% of the experimental lattice constant; the minimum (a parabola through the five points around the lowest)
  must lie within 3% of experiment;
* **polymorph ordering**: rocksalt, CsCl and zincblende cells of a few binaries, relaxed with their symmetry kept
  by the calculator and by a reference (CHGNet); each polymorph's energy above rocksalt must have the reference's
  sign and at least a quarter of ``min_gap``. Pairs the reference puts within ``min_gap`` of each other are shown
  but not judged.

Weights that do not fit the code (matgl's pre-3.0 potentials under matgl 4.x: MgO at -2.1 eV/atom, NaCl's energy
falling as the cell expands) fail the first test; an untrained or barely trained potential fails both.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import BaseCalculator

from ase_lcom.calculators import get_calculator, relax
from ase_lcom.data.prototypes import decorate
from ase_lcom.errors import ElementCoverageError, LCOMError
from ase_lcom.structure import to_atoms

LATTICE_CONSTANTS = (("NaCl", "rocksalt", 5.64), ("MgO", "rocksalt", 4.21), ("Si", "diamond", 5.43))
"""(formula, structure type, experimental cubic lattice constant in Angstrom)."""
ORDERING_BINARIES = ("NaCl", "MgO", "ZnS", "CsCl", "BeO")
POLYMORPHS = ("rocksalt", "cscl", "zincblende")


@dataclass
class LatticeResult:
    """One E(V) curve: the fitted lattice constant (``None`` without a minimum inside the scan)."""

    formula: str
    structure_type: str
    experimental: float
    fitted: float | None
    tolerance: float
    note: str = ""

    @property
    def error(self) -> float | None:
        return None if self.fitted is None else self.fitted / self.experimental - 1.0

    @property
    def passed(self) -> bool:
        return self.error is not None and abs(self.error) <= self.tolerance


@dataclass
class OrderingResult:
    """A polymorph's relaxed energy above rocksalt (eV/atom) by the calculator and by the reference."""

    formula: str
    polymorph: str
    gap: float | None
    reference_gap: float | None
    min_gap: float

    @property
    def judged(self) -> bool:
        return self.reference_gap is not None and abs(self.reference_gap) >= self.min_gap

    @property
    def degenerate(self) -> bool:
        """The calculator puts the pair within a quarter of ``min_gap``: it orders nothing (untrained weights)."""
        return self.gap is not None and abs(self.gap) < self.min_gap / 4

    @property
    def passed(self) -> bool:
        if not self.judged:
            return True
        return self.gap is not None and not self.degenerate and np.sign(self.gap) == np.sign(self.reference_gap)


@dataclass
class CalculatorCheck:
    """The outcome of :func:`check_calculator`: :attr:`passed` and a readable :meth:`report`."""

    name: str
    reference: str
    lattice: list[LatticeResult] = field(default_factory=list)
    ordering: list[OrderingResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.lattice) and all(r.passed for r in self.ordering)

    def report(self) -> str:
        """Two tables and a verdict line."""
        lines = [f"Calculator check of {self.name} (reference for orderings: {self.reference})", "",
                 "E(V) minimum against the experimental lattice constant (single points over +-10%):",
                 f"  {'compound':<9}{'structure':<11}{'a_exp':>7}{'a_min':>8}{'error':>8}  result"]
        for r in self.lattice:
            fitted = f"{r.fitted:8.3f}" if r.fitted is not None else f"{'-':>8}"
            error = f"{100 * r.error:+7.1f}%" if r.error is not None else f"{'-':>8}"
            verdict = "ok" if r.passed else f"FAIL{' (' + r.note + ')' if r.note else ''}"
            lines.append(f"  {r.formula:<9}{r.structure_type:<11}{r.experimental:7.3f}{fitted}{error}  {verdict}")
        lines += ["", f"Relaxed polymorphs, energy above rocksalt (eV/atom), sign against {self.reference}:",
                  f"  {'compound':<9}{'polymorph':<12}{self.reference[:9]:>9}{self.name.split()[0][:9]:>10}  result"]
        for r in self.ordering:
            ref = f"{r.reference_gap:+9.3f}" if r.reference_gap is not None else f"{'-':>9}"
            own = f"{r.gap:+10.3f}" if r.gap is not None else f"{'failed':>10}"
            failure = ("FAIL (relaxation failed)" if r.gap is None else "FAIL (degenerate)" if r.degenerate
                       else "FAIL (other sign)")
            verdict = ("ok" if r.passed else failure) if r.judged else f"not judged (|gap| < {r.min_gap})"
            lines.append(f"  {r.formula:<9}{r.polymorph:<12}{ref}{own}  {verdict}")
        judged = [r for r in self.ordering if r.judged]
        lines += ["", f"{'PASSED' if self.passed else 'FAILED'}: {sum(r.passed for r in self.lattice)}/"
                  f"{len(self.lattice)} lattice constants within {100 * self.lattice[0].tolerance:.0f}%, "
                  f"{sum(r.passed for r in judged)}/{len(judged)} orderings agree with {self.reference}"]
        return "\n".join(lines)


def lattice_scan(atoms: Atoms, calculator: BaseCalculator, experimental: float, span: float = 0.1,
                 points: int = 11) -> tuple[float | None, str]:
    """Lattice constant at the minimum of E(a) over ``experimental * (1 +- span)``, and why it is ``None``."""
    scales = np.linspace(1.0 - span, 1.0 + span, points)
    energies = []
    for scale in scales:
        cell = atoms.copy()
        cell.set_cell(atoms.cell.array * scale, scale_atoms=True)
        cell.calc = calculator
        try:
            energies.append(float(cell.get_potential_energy()) / len(cell))
        except LCOMError:
            raise
        except Exception as exc:
            return None, f"energy failed: {type(exc).__name__}"
    energies_arr = np.asarray(energies)
    if not np.isfinite(energies_arr).all():
        return None, "non-finite energy"
    lowest = int(np.argmin(energies_arr))
    if lowest in (0, points - 1):
        return None, f"no minimum within +-{100 * span:.0f}%"
    window = slice(max(lowest - 2, 0), min(lowest + 3, points))
    c2, c1, _ = np.polyfit(scales[window], energies_arr[window], 2)
    if c2 <= 0:
        return None, "no curvature at the minimum"
    return float(experimental * -c1 / (2 * c2)), ""


def relaxed_energy(atoms: Atoms, calculator: BaseCalculator, fmax: float = 0.02, steps: int = 200) -> float:
    """Energy per atom after a symmetry-kept BFGS relaxation of positions and cell (:func:`relax`), stopped as
    failed when the volume leaves [1/2, 2] times the start: a cell collapsing under broken weights would
    otherwise grow its neighbour lists until memory runs out. Unconverged relaxations count as they stand."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="FixSymmetry adjust_cell may be ill behaved")
        return relax(atoms, calculator, fmax=fmax, steps=steps, optimizer="BFGS", fix_symmetry=True,
                     max_volume_ratio=2.0).energy_per_atom


def polymorph_gaps(formula: str, calculator: BaseCalculator) -> dict[str, float | None]:
    """Relaxed energy per atom of each polymorph above rocksalt (``None`` where a relaxation failed)."""
    energies: dict[str, float | None] = {}
    for name, structure in decorate(formula):
        if name not in POLYMORPHS:
            continue
        try:
            energy = relaxed_energy(to_atoms(structure), calculator)
        except ElementCoverageError:
            raise
        except Exception:  # a failed relaxation (CalculatorError) or a calculator's own error
            energy = None
        energies[name] = energy if energy is not None and np.isfinite(energy) else None
    base = energies.get("rocksalt")
    return {name: (None if base is None or energy is None else energy - base)
            for name, energy in energies.items() if name != "rocksalt"}


def check_calculator(calculator: str | BaseCalculator, options: dict[str, Any] | None = None,
                     reference: str = "chgnet", tolerance: float = 0.03, min_gap: float = 0.02,
                     binaries: tuple[str, ...] = ORDERING_BINARIES, name: str | None = None) -> CalculatorCheck:
    """Run the acceptance check (module docstring) on a calculator name (with ``options``) or instance.

    Raises
    ------
    CalculatorError
        When the calculator cannot be built, or does not cover an element of the checked compounds.
    """
    from ase.build import bulk

    if isinstance(calculator, str):
        name = name or calculator
        calculator = get_calculator(calculator, **(options or {}))
    check = CalculatorCheck(name=name or type(calculator).__name__, reference=reference)
    for formula, kind, a in LATTICE_CONSTANTS:
        atoms = bulk(formula, kind, a=a)
        fitted, note = lattice_scan(atoms, calculator, a)
        check.lattice.append(LatticeResult(formula, kind, a, fitted, tolerance, note))
    reference_calculator = get_calculator(reference)
    for formula in binaries:
        own = polymorph_gaps(formula, calculator)
        theirs = polymorph_gaps(formula, reference_calculator)
        for polymorph in POLYMORPHS[1:]:
            check.ordering.append(OrderingResult(formula, polymorph, own.get(polymorph), theirs.get(polymorph),
                                                 min_gap))
    return check
