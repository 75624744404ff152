"""Canonical Metropolis Monte Carlo with swap (Kawasaki) moves for a pair cluster expansion.

A move picks a site uniformly and a partner uniformly among the sites of the other species, and accepts the
exchange of their species with probability ``min(1, exp(-dE / kT))``; this proposal is symmetric, so the chain
samples the canonical ensemble at fixed composition. A pass is one attempted swap per site. The random numbers
come from a ``numpy.random.Generator`` and are handed to the compiled kernel, so a chain is reproducible from
its generator alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from ase_lcom.data.dismai.cluster_expansion import ClusterExpansion, NeighbourTable
from ase_lcom.data.records import DataError

#: Boltzmann constant in eV/K.
K_B = 8.617333262e-5


@numba.njit(cache=True)
def _swap_delta(occ: np.ndarray, nbr: np.ndarray, col_pairs: np.ndarray, i: int, j: int) -> float:
    """Energy change of exchanging the species of sites ``i`` and ``j`` (pairs between them are unchanged)."""
    a = occ[i]
    b = occ[j]
    delta = 0.0
    for c in range(nbr.shape[1]):
        k = nbr[i, c]
        if k != j:
            s = occ[k]
            delta += col_pairs[c, b, s] - col_pairs[c, a, s]
        k = nbr[j, c]
        if k != i:
            s = occ[k]
            delta += col_pairs[c, a, s] - col_pairs[c, b, s]
    return delta


@numba.njit(cache=True)
def _run_passes(occ: np.ndarray, by_species: np.ndarray, slot: np.ndarray, counts: np.ndarray,
                nbr: np.ndarray, col_pairs: np.ndarray, beta: float, uniforms: np.ndarray,
                snapshots: np.ndarray, snapshot_energy: np.ndarray, energy: float, moves_per_snapshot: int) -> tuple:
    """Run ``len(snapshots)`` blocks of ``moves_per_snapshot`` attempted swaps, storing the occupation after each.

    ``by_species[s, :counts[s]]`` lists the sites of species ``s`` and ``slot[site]`` is the site's position in
    that list; both are kept in step with ``occ``. ``uniforms`` holds three numbers in [0, 1) per move.
    """
    n_sites = occ.shape[0]
    n_species = counts.shape[0]
    accepted = 0
    move = 0
    for snap in range(snapshots.shape[0]):
        for _ in range(moves_per_snapshot):
            i = min(int(uniforms[move, 0] * n_sites), n_sites - 1)
            a = occ[i]
            # the partner: uniform over the sites of the other species, laid end to end
            r = min(int(uniforms[move, 1] * (n_sites - counts[a])), n_sites - counts[a] - 1)
            b = 0
            for s in range(n_species):
                if s == a:
                    continue
                if r < counts[s]:
                    b = s
                    break
                r -= counts[s]
            j = by_species[b, r]
            delta = _swap_delta(occ, nbr, col_pairs, i, j)
            if delta <= 0.0 or uniforms[move, 2] < np.exp(-beta * delta):
                occ[i] = b
                occ[j] = a
                si = slot[i]
                sj = slot[j]
                by_species[a, si] = j
                by_species[b, sj] = i
                slot[i] = sj
                slot[j] = si
                energy += delta
                accepted += 1
            move += 1
        snapshots[snap, :] = occ
        snapshot_energy[snap] = energy
    return energy, accepted


@dataclass
class ChainState:
    """State of one Monte Carlo chain: the occupation and its total energy (eV)."""

    occupation: np.ndarray
    energy: float


class SwapMonteCarlo:
    """Canonical swap Monte Carlo of a pair cluster expansion on one cell.

    Parameters
    ----------
    expansion
        The cluster expansion.
    table
        Neighbour table of the cell.
    temperature
        Temperature in K.
    """

    def __init__(self, expansion: ClusterExpansion, table: NeighbourTable, temperature: float) -> None:
        if temperature <= 0:
            raise DataError(f"temperature must be positive, got {temperature} K")
        self.expansion = expansion
        self.table = table
        self.temperature = float(temperature)
        self._col_pairs = np.ascontiguousarray(expansion.pairs[table.column_shell])

    def swap_delta(self, occupation: np.ndarray, i: int, j: int) -> float:
        """Energy change in eV of exchanging the species of sites ``i`` and ``j``."""
        occ = np.ascontiguousarray(occupation, dtype=np.int64)
        return float(_swap_delta(occ, self.table.neighbours, self._col_pairs, int(i), int(j)))

    def random_state(self, counts: dict[str, int], rng: np.random.Generator) -> ChainState:
        """A random occupation with ``counts`` atoms per species (a random solid solution)."""
        occ = np.repeat(np.arange(len(self.expansion.species)),
                        [counts.get(s, 0) for s in self.expansion.species])
        if len(occ) != self.table.num_sites:
            raise DataError(f"composition has {len(occ)} atoms, the cell has {self.table.num_sites} sites")
        occ = rng.permutation(occ)
        return ChainState(occ, float(self.expansion.energy(self.table, occ)))

    def run(self, state: ChainState, n_snapshots: int, passes_per_snapshot: int, rng: np.random.Generator,
            on_block: Callable[[int], None] | None = None, block: int = 100,
            temperature: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
        """Advance ``state`` in place and return snapshots.

        Parameters
        ----------
        state
            Chain state, updated in place.
        n_snapshots
            Number of snapshots to take.
        passes_per_snapshot
            Passes (one attempted swap per site each) between snapshots.
        rng
            Source of the random numbers.
        on_block
            Called with the number of passes done after every ``block`` snapshots (progress reporting).
        temperature
            Run at this temperature (K) instead of the sampler's (annealing stages).

        Returns
        -------
        occupations, energies, acceptance
            ``(n_snapshots, sites)`` ``uint8`` occupations, ``(n_snapshots,)`` total energies in eV, and the
            fraction of accepted swaps.
        """
        n_sites = self.table.num_sites
        occ = np.ascontiguousarray(state.occupation, dtype=np.int64)
        n_species = len(self.expansion.species)
        counts = np.bincount(occ, minlength=n_species).astype(np.int64)
        if np.count_nonzero(counts) < 2:
            raise DataError("swap Monte Carlo needs at least two species on the cell")
        by_species = np.zeros((n_species, n_sites), dtype=np.int64)
        slot = np.zeros(n_sites, dtype=np.int64)
        for s in range(n_species):
            sites = np.nonzero(occ == s)[0]
            by_species[s, :len(sites)] = sites
            slot[sites] = np.arange(len(sites))
        beta = 1.0 / (K_B * (self.temperature if temperature is None else temperature))
        moves = passes_per_snapshot * n_sites
        out = np.empty((n_snapshots, n_sites), dtype=np.uint8)
        energies = np.empty(n_snapshots)
        energy = state.energy
        accepted = 0
        for start in range(0, n_snapshots, block):
            stop = min(start + block, n_snapshots)
            snaps = np.empty((stop - start, n_sites), dtype=np.int64)
            uniforms = rng.random(((stop - start) * moves, 3))
            energy, acc = _run_passes(occ, by_species, slot, counts, self.table.neighbours, self._col_pairs,
                                      beta, uniforms, snaps, energies[start:stop], energy, moves)
            out[start:stop] = snaps
            accepted += acc
            if on_block is not None:
                on_block((stop - start) * passes_per_snapshot)
        state.occupation = occ
        state.energy = energy
        return out, energies, accepted / max(1, n_snapshots * moves)
