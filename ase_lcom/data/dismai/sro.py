"""Warren-Cowley short-range order of occupations on a fixed lattice (vectorised over many occupations)."""

from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np

from ase_lcom.data.dismai.cluster_expansion import NeighbourTable


def pair_labels(species: tuple[str, ...]) -> list[str]:
    """Unordered species pairs in the order of :func:`warren_cowley`'s last axis, e.g. ``Cr-Fe``."""
    return [f"{species[a]}-{species[b]}" for a, b in combinations_with_replacement(range(len(species)), 2)]


def pair_counts(table: NeighbourTable, occupations: np.ndarray, shell: int, n_species: int) -> np.ndarray:
    """``(n, S, S)`` symmetric counts of unordered pairs of ``shell`` (0-based) by species; the diagonal holds
    like pairs, ``[a, b] == [b, a]`` the unlike pairs of that type."""
    occ = np.atleast_2d(np.asarray(occupations, dtype=np.int64))
    i, j = table.shell_pairs(shell)
    codes = occ[:, i] * n_species + occ[:, j]
    offset = (np.arange(len(occ)) * n_species * n_species)[:, None]
    ordered = np.bincount((codes + offset).ravel(), minlength=len(occ) * n_species ** 2)
    ordered = ordered.reshape(len(occ), n_species, n_species)
    sym = ordered + ordered.transpose(0, 2, 1)
    idx = np.arange(n_species)
    sym[:, idx, idx] //= 2
    return sym


def warren_cowley(table: NeighbourTable, occupations: np.ndarray, n_species: int,
                  shells: tuple[int, ...] = (0, 1)) -> np.ndarray:
    """Warren-Cowley parameters ``(n, len(shells), pairs)`` of ``(n, sites)`` occupations.

    Like pairs: ``1 - P(X|X) / c_X``; unlike pairs: ``1 - (P(Y|X) / c_Y + P(X|Y) / c_X) / 2``, where ``P(Y|X)`` is
    the fraction of the shell neighbours of X sites that are Y and ``c`` the concentrations. Pairs are ordered as
    :func:`pair_labels`.
    """
    occ = np.atleast_2d(np.asarray(occupations, dtype=np.int64))
    conc = np.stack([np.bincount(o, minlength=n_species) for o in occ]) / occ.shape[1]   # (n, S)
    pairs = list(combinations_with_replacement(range(n_species), 2))
    out = np.empty((len(occ), len(shells), len(pairs)))
    idx = np.arange(n_species)
    for k, shell in enumerate(shells):
        counts = pair_counts(table, occ, shell, n_species).astype(float)
        ends = counts.copy()
        ends[:, idx, idx] *= 2.0                                   # pair ends on X sites: 2 n_XX + sum n_XY
        with np.errstate(invalid="ignore", divide="ignore"):
            cond = ends / ends.sum(axis=2, keepdims=True)          # P(Y | X) = cond[:, X, Y]
            for p, (a, b) in enumerate(pairs):
                if a == b:
                    out[:, k, p] = 1.0 - cond[:, a, a] / conc[:, a]
                else:
                    out[:, k, p] = 1.0 - 0.5 * (cond[:, a, b] / conc[:, b] + cond[:, b, a] / conc[:, a])
    return out
