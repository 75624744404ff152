"""Radial and bond-angle distributions (Dismai-Bench ``d_rdf`` and ``d_angle`` for amorphous Si).

* :func:`radial_distribution`: g(r) from 0 to 10 A in 0.02 A bins (500 values), over all periodic images,
  normalised by the ideal-gas pair density so that it tends to 1 at large r.
* :func:`bond_angles` / :func:`bond_angle_distribution`: every angle j-i-k between CrystalNN neighbours j, k
  of each atom i (geometric CrystalNN: ``distance_cutoffs=None, x_diff_weight=0, porous_adjustment=False``),
  histogrammed from 0 to 180 degrees in 0.5 degree bins as fractions summing to 1 (360 values).
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from ase_lcom.errors import MetricError
from ase_lcom.metrics.motif import BatchCrystalNN

RDF_R_MAX = 10.0
"""Upper end of g(r) in Angstrom."""

RDF_BIN_WIDTH = 0.02
"""Width of a g(r) bin in Angstrom (500 bins up to 10 A)."""

ANGLE_BIN_WIDTH = 0.5
"""Width of a bond-angle bin in degrees (360 bins from 0 to 180)."""

GEOMETRIC_CRYSTALNN = {"distance_cutoffs": None, "x_diff_weight": 0.0, "porous_adjustment": False}
"""CrystalNN settings of the bond-angle distribution: neighbours from geometry alone."""


def rdf_bin_centres(r_max: float = RDF_R_MAX, bin_width: float = RDF_BIN_WIDTH) -> np.ndarray:
    """Centres of the g(r) bins in Angstrom (0.01, 0.03, ..., 9.99 by default)."""
    n_bins = int(round(r_max / bin_width))
    return (np.arange(n_bins) + 0.5) * bin_width


def radial_distribution(
    structure: Structure,
    r_max: float = RDF_R_MAX,
    bin_width: float = RDF_BIN_WIDTH,
    species: tuple[str, str] | None = None,
) -> np.ndarray:
    """Radial distribution function g(r) of a periodic structure.

    Counts every ordered pair (i, j != i) over all periodic images with i of ``species[0]`` and j of
    ``species[1]`` (default: all atoms), divided by ``N_i * (N_j / V) * 4/3 pi (r_hi^3 - r_lo^3)`` per bin.

    Returns
    -------
    numpy.ndarray
        ``round(r_max / bin_width)`` values (500 by default); the bin centres are :func:`rdf_bin_centres`.
    """
    n_bins = int(round(r_max / bin_width))
    if n_bins < 1 or r_max <= 0:
        raise MetricError(f"r_max ({r_max}) must be positive and at least one bin width ({bin_width})")
    symbols = np.array([sp.symbol for sp in structure.species])
    first = np.ones(len(structure), bool) if species is None else symbols == species[0]
    second = np.ones(len(structure), bool) if species is None else symbols == species[1]
    if not first.any() or not second.any():
        raise MetricError(f"structure {structure.formula} has no {species[0]}-{species[1]} pairs")
    centers, points, _, dists = structure.get_neighbor_list(r_max, exclude_self=True)
    keep = first[centers] & second[points]
    edges = np.arange(n_bins + 1) * bin_width
    counts = np.histogram(dists[keep], bins=edges)[0]
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    density = second.sum() / structure.volume
    return counts / (first.sum() * density * shell)


def bond_angles(structure: Structure) -> np.ndarray:
    """All bond angles j-i-k in degrees, over unordered neighbour pairs of every atom i.

    Neighbours are those of the most probable coordination number of geometric CrystalNN
    (:data:`GEOMETRIC_CRYSTALNN`), as in ``CrystalNN.get_nn_info``.
    """
    data = BatchCrystalNN(**GEOMETRIC_CRYSTALNN).get_all_nn_data(structure)
    cart = structure.cart_coords
    angles = []
    for i, d in enumerate(data):
        cn = max(d.cn_weights, key=d.cn_weights.get)
        if cn < 2:
            continue
        vec = np.array([e["site"].coords for e in d.cn_nninfo[cn]]) - cart[i]
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        j, k = np.triu_indices(len(vec), k=1)
        angles.append(np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", vec[j], vec[k]), -1.0, 1.0))))
    return np.concatenate(angles) if angles else np.empty(0)


def angle_bin_edges(bin_width: float = ANGLE_BIN_WIDTH) -> np.ndarray:
    """Edges of the bond-angle bins in degrees (0, 0.5, ..., 180 by default)."""
    return np.linspace(0.0, 180.0, int(round(180.0 / bin_width)) + 1)


def bond_angle_distribution(structure: Structure, bin_width: float = ANGLE_BIN_WIDTH) -> np.ndarray:
    """Fractions of the bond angles of a structure per bin (360 values summing to 1 by default).

    Bins are closed on the right and the first one also on the left: ``[0, 0.5], (0.5, 1], ..., (179.5, 180]``.
    """
    angles = bond_angles(structure)
    if angles.size == 0:
        raise MetricError(f"structure {structure.formula} has no atom with two or more neighbours")
    edges = angle_bin_edges(bin_width)
    index = np.clip(np.searchsorted(edges, angles, side="left") - 1, 0, len(edges) - 2)
    return np.bincount(index, minlength=len(edges) - 1) / angles.size
