"""Memory a calculator needs for one cell, estimated before it is asked (:func:`check_calculator_memory`), so that
a cell too large for the machine is a one-line error instead of a process killed for memory.

* Graph potentials grow linearly with the atoms. Measured peak memory growth for energy, forces and stress from
  32 to 256 atoms (one thread; fcc Cu / rocksalt NaCl supercells): CHGNet 17.5 / 5.3 MB per atom, matgl's
  M3GNet (default architecture, that of M3GNet-MP-2021.2.8-PES) 4.7 / 3.0 MB. The estimates take the dense metal
  with a margin: :data:`CHGNET_BYTES_PER_ATOM` (also for matgl models other than M3GNet, not measured) and
  :data:`M3GNET_BYTES_PER_ATOM`.
* GPAW in plane-wave mode grows with plane waves (cell volume x ecut^1.5) x bands (valence electrons) x
  irreducible k-points, so faster than the atoms: :func:`gpaw_estimate`.
* EMT and other calculators: no estimate, no check.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from ase import Atoms

from ase_lcom import limits

CHGNET_BYTES_PER_ATOM = 18e6
M3GNET_BYTES_PER_ATOM = 6e6

GPAW_BASE_BYTES = 400e6
"""Python, GPAW and its setups before any wave function (the peak of a 2-atom Si cell was 333 MB)."""
GPAW_WAVE_FUNCTION_COPIES = 6
"""Wave-function-sized arrays at the peak (wave functions, their residuals and the eigensolver's work arrays,
projections)."""


def _packages(calculator: Any) -> set[str]:
    return {type_.__module__.split(".")[0] for type_ in type(calculator).__mro__}


def graph_bytes_per_atom(calculator: Any) -> float | None:
    """Peak bytes per atom of a CHGNet or matgl calculator; ``None`` for other calculators."""
    packages = _packages(calculator)
    if "chgnet" in packages:
        return CHGNET_BYTES_PER_ATOM
    if "matgl" in packages:
        model = getattr(getattr(calculator, "potential", None), "model", None)
        return M3GNET_BYTES_PER_ATOM if type(model).__name__ == "M3GNet" else CHGNET_BYTES_PER_ATOM
    return None


@functools.lru_cache(maxsize=128)
def _valence_electrons(symbol: str, xc: str) -> int:
    """Valence electrons of GPAW's PAW setup of ``symbol`` (all its electrons when the setup cannot be read)."""
    from ase.data import atomic_numbers

    try:
        from gpaw.setup_data import SetupData

        return int(SetupData(symbol, xc, "paw").Nv)
    except Exception:
        return atomic_numbers[symbol]


def irreducible_kpoints(atoms: Atoms, size: tuple[int, int, int]) -> int:
    """k-points of a Gamma-centred ``size`` mesh in the irreducible wedge (spglib, time reversal: GPAW's count)."""
    import spglib

    cell = (np.asarray(atoms.cell), atoms.get_scaled_positions(), atoms.numbers)
    mapping, _ = spglib.get_ir_reciprocal_mesh([int(n) for n in size], cell, is_shift=[0, 0, 0],
                                               is_time_reversal=True)
    return len(np.unique(mapping))


def gpaw_estimate(atoms: Atoms, calculator: Any) -> tuple[float, str] | None:
    """Peak bytes of a plane-wave GPAW calculator on ``atoms`` and how they were counted; ``None`` when the
    calculator is not one (or its settings cannot be read: GPAW's ``params`` of version 25 and later).

    :data:`GPAW_BASE_BYTES` + :data:`GPAW_WAVE_FUNCTION_COPIES` x 16 bytes x plane waves (volume x
    (2 ecut)^1.5 / 6 pi^2, atomic units) x bands (1.5 x occupied + 4, above GPAW's default) x irreducible
    k-points x spins (two when any initial magnetic moment is set). With GPAW 26.7 at ecut 400 eV and 3.5
    k-points per A^-1 the plane-wave count is within 2% of GPAW's own, and the peak memory of Si2, Si8, NaCl8 and
    Si16 cells (333, 377, 395, 486 MB) lies below the estimates (407, 468, 518, 652 MB).
    """
    from ase.calculators.calculator import kpts2sizeandoffsets
    from ase.units import Bohr, Ha

    if "gpaw" not in _packages(calculator):
        return None
    params = getattr(calculator, "params", None)
    ecut = getattr(getattr(params, "mode", None), "ecut", None)
    kpts = getattr(params, "kpts", None)
    size = getattr(kpts, "size", None)
    if size is None and getattr(kpts, "density", None) is not None:
        size = kpts2sizeandoffsets(density=kpts.density, gamma=getattr(kpts, "gamma", None), atoms=atoms)[0]
    if ecut is None or size is None:
        return None
    xc = str(getattr(getattr(params, "xc", None), "name", "PBE"))
    plane_waves = atoms.get_volume() / Bohr**3 * (2 * ecut / Ha) ** 1.5 / (6 * math.pi**2)
    valence = sum(_valence_electrons(symbol, xc) for symbol in atoms.get_chemical_symbols())
    bands = math.ceil(1.5 * valence / 2) + 4
    k = irreducible_kpoints(atoms, tuple(size))
    spins = 2 if np.any(atoms.get_initial_magnetic_moments()) else 1
    needed = GPAW_BASE_BYTES + GPAW_WAVE_FUNCTION_COPIES * 16 * plane_waves * bands * k * spins
    return needed, f"{plane_waves:,.0f} plane waves x {bands} bands x {k} k-points x {spins} spin(s)"


def check_calculator_memory(atoms: Atoms, calculator: Any) -> None:
    """Refuse a cell that ``calculator`` could not hold in the available memory (CHGNet, matgl, GPAW).

    Raises
    ------
    InvalidValueError
        With the estimate, what it counts, and how to raise the limit (``$ASE_LCOM_MEMORY_GB``).
    """
    per_atom = graph_bytes_per_atom(calculator)
    if per_atom is not None:
        package = "chgnet" if "chgnet" in _packages(calculator) else "matgl"
        limits.check_memory(len(atoms), per_atom, f"{package} ({type(calculator).__name__})")
        return
    estimate = gpaw_estimate(atoms, calculator)
    if estimate is not None:
        needed, counted = estimate
        limits.check_memory_need(needed, f"GPAW on {len(atoms)} atoms ({counted})",
                                 "use a smaller cell, a lower ecut or fewer k-points")
