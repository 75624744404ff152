"""The Fe-Ni-Cr cluster expansion of the Dismai-Bench alloys, on a periodic FCC cell.

The expansion is a lattice-gas pair Hamiltonian: an empty term plus one coefficient per unordered species pair
for each of the 7 FCC neighbour shells (eV per pair), and point terms (all zero) per species. The total energy
of an occupation ``sigma`` of an ``N``-site cell is

    E = N * empty + sum_X point[X] * n_X + sum_shell sum_{pairs (i, j) in shell} V_shell[sigma_i, sigma_j]

where the pair sum runs over every periodic image pair once; ``E / N`` is the formation energy in eV/atom of
``alloy_cluster_expansion.json``.

The coefficients are kept in this pair-count form on purpose: smol, icet and clease parametrise the same pair
Hamiltonian in point-referenced (indicator with one species dropped) or orthogonal bases, so using them needs a
basis change of all 46 coefficients and a further dependency, while a pure pair sum is a table look-up per
neighbour (``NeighbourTable``) that the Monte Carlo kernel in :mod:`.alloy_monte_carlo` evaluates directly.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ase_lcom.data.records import DataError

DATA_ENV = "ASE_LCOM_DISMAI_DATA"
"""Folder holding Dismai-Bench's ``alloy_cluster_expansion.json`` and ``alloy_ref_struc.extxyz``."""


def dismai_data_file(name: str) -> Path:
    """A Dismai-Bench input file (``alloy_cluster_expansion.json``, ``alloy_ref_struc.extxyz``): from
    ``$ASE_LCOM_DISMAI_DATA``, else the ``shared/data/dismai_bench`` folder beside a source checkout. Only
    regenerating the alloy sets needs them; the generated sets carry their own lattice sites."""
    folders = [Path(os.environ[DATA_ENV])] if os.environ.get(DATA_ENV) else []
    folders.append(Path(__file__).resolve().parents[4] / "shared" / "data" / "dismai_bench")
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"Dismai-Bench input {name} not found in {' or '.join(map(str, folders))}: "
                    f"set ${DATA_ENV} to the folder that holds it (Dismai-Bench's public data)")


@dataclass(frozen=True)
class ClusterExpansion:
    """Pair cluster expansion on an FCC lattice.

    Attributes
    ----------
    species
        Element symbols, the index order of occupations.
    empty
        Constant term, eV/atom.
    point
        ``(S,)`` point coefficients, eV per atom of that species.
    pairs
        ``(shells, S, S)`` symmetric pair coefficients, eV per unordered pair.
    shell_distances
        ``(shells,)`` neighbour distances in units of the lattice constant.
    pairs_per_site
        ``(shells,)`` number of pairs per site of each shell (half the coordination number).
    lattice_constant
        FCC lattice constant in Angstrom.
    composition
        Atoms per species of the dataset cell, keyed by symbol.
    supercell
        Repetitions of the conventional cubic cell.
    """

    species: tuple[str, ...]
    empty: float
    point: np.ndarray
    pairs: np.ndarray
    shell_distances: np.ndarray
    pairs_per_site: np.ndarray
    lattice_constant: float
    composition: dict[str, int]
    supercell: tuple[int, int, int]

    @classmethod
    def read(cls, path: str | Path | None = None) -> ClusterExpansion:
        """Read a coefficient file (Dismai-Bench's Fe-Ni-Cr expansion, :func:`dismai_data_file`, when ``path`` is
        None)."""
        path = Path(path) if path is not None else dismai_data_file("alloy_cluster_expansion.json")
        try:
            data = json.loads(path.read_text())
            species = tuple(sorted(data["lattice"]["composition"]))
            index = {s: k for k, s in enumerate(species)}
            shells = sorted(data["shells"], key=int)
            pairs = np.zeros((len(shells), len(species), len(species)))
            for k, shell in enumerate(shells):
                for pair, value in data["eci"]["pairs"][shell].items():
                    a, b = (index[s] for s in pair.split("-"))
                    pairs[k, a, b] = pairs[k, b, a] = float(value)
            return cls(
                species=species,
                empty=float(data["eci"]["empty"]),
                point=np.array([float(data["eci"]["point"][s]) for s in species]),
                pairs=pairs,
                shell_distances=np.array([float(data["shells"][s]["distance_over_a"]) for s in shells]),
                pairs_per_site=np.array([int(data["shells"][s]["pairs_per_site"]) for s in shells]),
                lattice_constant=float(data["lattice"]["a_angstrom"]),
                composition={s: int(n) for s, n in data["lattice"]["composition"].items()},
                supercell=tuple(int(n) for n in data["lattice"]["supercell"]),
            )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise DataError(f"cannot read cluster expansion {path}: {exc}") from exc

    @property
    def num_shells(self) -> int:
        return len(self.shell_distances)

    def energy(self, table: NeighbourTable, occupation: np.ndarray) -> np.ndarray:
        """Total energy in eV of one ``(sites,)`` or many ``(n, sites)`` occupations of ``table``'s cell."""
        occ = np.atleast_2d(np.asarray(occupation, dtype=np.intp))
        if occ.shape[1] != table.num_sites:
            raise DataError(f"occupation has {occ.shape[1]} sites, the cell has {table.num_sites}")
        n_sites = table.num_sites
        total = n_sites * self.empty + self.point[occ].sum(axis=1)
        neighbours = occ[:, table.neighbours]                       # (n, sites, columns)
        pair_values = self.pairs[table.column_shell[None, None, :], occ[:, :, None], neighbours]
        total = total + 0.5 * pair_values.sum(axis=(1, 2))           # every pair is seen from both ends
        return total if np.ndim(occupation) == 2 else total[0]


@dataclass(frozen=True)
class NeighbourTable:
    """Periodic neighbours of every site of a cell, per FCC shell, with image multiplicity.

    Attributes
    ----------
    neighbours
        ``(sites, columns)`` site index of each neighbour; columns are grouped by shell and every site has the
        same number per shell (twice ``pairs_per_site``). A site appears more than once in a row when several of
        its periodic images are neighbours (cells narrower than twice the outermost shell).
    column_shell
        ``(columns,)`` shell index of each column.
    """

    neighbours: np.ndarray
    column_shell: np.ndarray

    @property
    def num_sites(self) -> int:
        return self.neighbours.shape[0]

    @classmethod
    def build(cls, cell: np.ndarray, frac: np.ndarray, expansion: ClusterExpansion,
              tol: float = 1e-3) -> NeighbourTable:
        """Neighbour table of sites at fractional coordinates ``frac`` in ``cell`` (Angstrom).

        Raises
        ------
        DataError
            A site lacks the FCC coordination of some shell (not an FCC lattice of the expansion's lattice
            constant), or a site is its own neighbour through a periodic image (cell too small).
        """
        cell = np.asarray(cell, dtype=float)
        frac = np.asarray(frac, dtype=float) % 1.0
        radii = expansion.shell_distances * expansion.lattice_constant
        r_max = radii.max() + tol
        heights = np.abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
        reach = np.ceil(r_max / heights).astype(int)
        images = np.array(np.meshgrid(*(np.arange(-n, n + 1) for n in reach), indexing="ij")).reshape(3, -1).T
        cart = frac @ cell
        shifts = images @ cell
        n_sites = len(frac)
        # (sites i, sites j, images) displacement lengths, j + image - i
        d = np.linalg.norm(cart[None, :, None, :] + shifts[None, None, :, :] - cart[:, None, None, :], axis=-1)
        columns, column_shell = [], []
        for k, r in enumerate(radii):
            hit_i, hit_j, _ = np.nonzero(np.abs(d - r) < tol)
            expected = 2 * int(expansion.pairs_per_site[k])
            per_site = np.bincount(hit_i, minlength=n_sites)
            if np.any(per_site != expected):
                bad = int(np.argmax(per_site != expected))
                raise DataError(f"site {bad} has {per_site[bad]} neighbours at {r:.4f} A, an FCC lattice of "
                                f"a = {expansion.lattice_constant} A has {expected}")
            if np.any(hit_i == hit_j):
                raise DataError(f"the cell is too small: a site is its own neighbour in shell {k + 1} ({r:.4f} A)")
            order = np.argsort(hit_i, kind="stable")
            columns.append(hit_j[order].reshape(n_sites, expected))
            column_shell.extend([k] * expected)
        return cls(np.ascontiguousarray(np.concatenate(columns, axis=1), dtype=np.int64),
                   np.array(column_shell, dtype=np.int64))

    def shell_pairs(self, shell: int) -> tuple[np.ndarray, np.ndarray]:
        """``(i, j)`` arrays listing every pair of ``shell`` (0-based) once, images counted."""
        cols = np.nonzero(self.column_shell == shell)[0]
        i = np.repeat(np.arange(self.num_sites), len(cols))
        j = self.neighbours[:, cols].ravel()
        keep = i < j  # every pair is listed from both ends; no site neighbours itself
        return i[keep], j[keep]


def fcc_cell(expansion: ClusterExpansion, repeats: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Cubic cell matrix and fractional site coordinates of ``repeats`` conventional FCC cells."""
    basis = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])
    reps = np.array(repeats)
    grid = np.array(np.meshgrid(*(np.arange(n) for n in reps), indexing="ij")).reshape(3, -1).T
    frac = ((grid[:, None, :] + basis[None, :, :]) / reps).reshape(-1, 3)
    return np.diag(reps * expansion.lattice_constant), frac


def reference_sites() -> tuple[np.ndarray, np.ndarray]:
    """Cell and fractional coordinates of the 256 reference sites (``alloy_ref_struc.extxyz``, its site order)."""
    from ase.io import read

    atoms = read(dismai_data_file("alloy_ref_struc.extxyz"))
    cell = np.array(atoms.cell.array)
    cell[np.abs(cell) < 1e-9] = 0.0
    return cell, atoms.get_scaled_positions(wrap=True)
