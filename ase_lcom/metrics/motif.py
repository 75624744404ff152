"""CrystalNN motif fingerprints (Dismai-Bench ``d_motif``, interface ``d_Li``/``d_Co``/``d_Sc``/``d_all``).

* :class:`BatchCrystalNN` is pymatgen's :class:`~pymatgen.analysis.local_env.CrystalNN` with the Voronoi
  step vectorised and run for many sites at once (same neighbours and weights, about five times faster).
* :func:`site_fingerprints` / :func:`structure_fingerprint`: matminer's ``CrystalNNFingerprint`` 'ops'
  preset (24 coordination-number weights and 37 order parameters, 61 values per site), averaged over sites.
* :func:`interface_fingerprints`: the interface variant (oxidation states, ``cation_anion=True``, cation sites
  only, the fraction of each anion species among the neighbours appended per coordination number: 109 values
  for two anion species), one averaged fingerprint per cation species; :func:`weighted_cation_average` gives the
  atom-count weighted fingerprint of ``d_all``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
from matminer.featurizers.site.fingerprint import load_cn_motif_op_params, load_cn_target_motif_op
from pymatgen.analysis.local_env import CrystalNN, LocalStructOrderParams
from pymatgen.core import Composition, PeriodicSite, Structure
from pymatgen.core.local_env import _get_default_radius, _get_radius  # radius rules of CrystalNN itself
from scipy.spatial import QhullError, Voronoi

from ase_lcom.errors import MetricError

MAX_CN = 24
"""Largest coordination number of the fingerprints."""

OPS_LENGTH = 61
"""Values per site of the 'ops' fingerprint (24 CN weights + 37 order parameters)."""

INTERFACE_OXIDATION_STATES: dict[str, int] = {"Li": 1, "Sc": 3, "Co": 3, "Cl": -1, "O": -2}
"""Oxidation states Dismai-Bench assigns to the Li3ScCl6-LiCoO2 interface."""

INTERFACE_ANIONS: tuple[str, ...] = ("Cl", "O")
"""Anion species whose neighbour fractions are appended to the interface fingerprint, in this order."""


# --------------------------------------------------------------------------------------------- Voronoi
def _voronoi_facets(
    points: np.ndarray, indices: np.ndarray, target_mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Facets of the Voronoi cell of ``points[0]``: (neighbour index, neighbour xyz, solid angle, area).

    ``points`` are the site and every site within the search cutoff (the point set of pymatgen's ``VoronoiNN``),
    ``indices`` their site indices. The facet solid angles and areas are computed for all facets at once.
    Returns ``None`` when the cell is open.
    """
    try:
        voro = Voronoi(points)
    except QhullError as err:
        raise MetricError(f"Voronoi tessellation around site {indices[0]} failed (coincident atoms?)") from err
    ridges = np.nonzero((voro.ridge_points == 0).any(axis=1))[0]
    vertex_lists = [voro.ridge_vertices[r] for r in ridges]
    if any(-1 in v for v in vertex_lists):
        return None
    other = voro.ridge_points[ridges].sum(axis=1)  # the partner of point 0 in each ridge
    # fan triangulation (v0, vi, vi+1) of every facet, all facets in one array
    tri = np.array([(v[0], v[i], v[i + 1]) for v in vertex_lists for i in range(1, len(v) - 1)])
    facet_of_tri = np.repeat(np.arange(len(ridges)), [len(v) - 2 for v in vertex_lists])
    c = points[0]
    d0, d1, d2 = (voro.vertices[tri[:, k]] - c for k in range(3))
    r0, r1, r2 = (np.linalg.norm(d, axis=1) for d in (d0, d1, d2))
    triple = np.abs(np.einsum("ij,ij->i", d0, np.cross(d1, d2)))
    denominator = (
        r0 * r1 * r2 + r2 * np.einsum("ij,ij->i", d0, d1) + r1 * np.einsum("ij,ij->i", d0, d2)
        + r0 * np.einsum("ij,ij->i", d1, d2)
    )
    n_facets = len(ridges)
    solid = np.bincount(facet_of_tri, 2.0 * np.arctan2(triple, denominator), minlength=n_facets)
    volume = np.bincount(facet_of_tri, triple / 6.0, minlength=n_facets)
    face_dist = np.linalg.norm(points[other] - c, axis=1) / 2.0
    area = 3.0 * volume / face_dist
    keep = target_mask[indices[other]]
    if not keep.any():
        raise MetricError(f"site {indices[0]} has no Voronoi neighbour among the allowed bonding targets")
    return indices[other][keep], points[other][keep], solid[keep], area[keep]


class BatchCrystalNN(CrystalNN):
    """:class:`~pymatgen.analysis.local_env.CrystalNN` that computes many sites at once.

    Takes the same arguments and returns the same :class:`~pymatgen.analysis.local_env.CrystalNN.NNData` as
    pymatgen's class; only the Voronoi facet geometry is vectorised (pymatgen loops over facets in Python, which
    costs ~10 ms per site). Use :meth:`get_all_nn_data` for a whole structure.
    """

    def get_nn_data(self, structure: Structure, n: int, length: int | None = None) -> CrystalNN.NNData:
        """Near-neighbour data of site ``n`` (see :meth:`CrystalNN.get_nn_data`)."""
        return self.get_all_nn_data(structure, [n], length)[0]

    def get_all_nn_data(
        self, structure: Structure, indices: Sequence[int] | None = None, length: int | None = None
    ) -> list[CrystalNN.NNData]:
        """Near-neighbour data of the sites ``indices`` (default: every site), in that order."""
        indices = list(range(len(structure))) if indices is None else list(indices)
        context = _StructureContext(structure, self.search_cutoff)
        return [self._site_nn_data(context, n, length or self.fingerprint_length) for n in indices]

    def _target_mask(self, context: _StructureContext, n: int) -> np.ndarray:
        if not self.cation_anion:
            return np.ones(len(context.species), dtype=bool)
        if np.isnan(context.oxi[n]):
            raise MetricError("cation_anion=True needs oxidation states on every site (add_oxidation_state_by_element)")
        mask = ~np.isnan(context.oxi) & (context.oxi * context.oxi[n] <= 0)
        if not mask.any():
            raise MetricError(f"site {n} has no oppositely charged site to bond to (cation_anion=True)")
        return mask

    def _site_nn_data(self, context: _StructureContext, n: int, length: int | None) -> CrystalNN.NNData:
        structure = context.structure
        mask = self._target_mask(context, n)
        cutoff = self.search_cutoff
        while (facets := _voronoi_facets(*context.sphere(n, cutoff), mask)) is None:
            if cutoff >= context.max_cutoff:
                raise MetricError(f"site {n}: open Voronoi cell even with the largest search cutoff")
            cutoff = min(cutoff * 2, context.max_cutoff + 0.001)
        nbr, xyz, solid, area = facets
        weight = solid / solid.max()
        if self.porous_adjustment:
            weight = weight * solid / area
        if self.x_diff_weight > 0:
            x1, x2 = context.electroneg[n], context.electroneg[nbr]
            chem = np.where(np.isnan(x1) | np.isnan(x2), 1.0,
                            1.0 + self.x_diff_weight * np.sqrt(np.abs(x1 - x2) / 3.3))
            weight = weight * chem
        if weight.max() == 0:
            return self.transform_to_length(self.NNData([], {0: 1.0}, {0: []}), length)
        weight = weight / weight.max()
        if self.distance_cutoffs:
            diameter = context.radius[n] + context.radius[nbr]
            dist = np.linalg.norm(xyz - context.cart[n], axis=1)
            low, high = diameter + self.distance_cutoffs[0], diameter + self.distance_cutoffs[1]
            ramp = (np.cos((dist - low) / (high - low) * math.pi) + 1) * 0.5
            weight = weight * np.where(dist <= low, 1.0, np.where(dist < high, ramp, 0.0))
        if weight.max() == 0:
            return self.transform_to_length(self.NNData([], {0: 1.0}, {0: []}), length)
        weight = np.round(weight, 3)
        order = np.argsort(-weight, kind="stable")
        order = order[weight[order] > 0]
        lattice = structure.lattice
        images = np.round(lattice.get_fractional_coords(xyz[order]) - context.frac[nbr[order]]).astype(int)
        nn = [
            {"site": PeriodicSite(context.compositions[j], xyz[k], lattice, coords_are_cartesian=True,
                                  skip_checks=True),
             "image": tuple(image), "weight": float(weight[k]), "site_index": int(j)}
            for k, j, image in zip(order, nbr[order], images, strict=True)
        ]
        dist_bins = sorted(set(weight[order].tolist()), reverse=True) + [0]
        cn_weights, cn_nninfo = {}, {}
        for idx, val in enumerate(dist_bins[:-1]):
            nn_info = [entry for entry in nn if entry["weight"] >= val]
            cn_nninfo[len(nn_info)] = nn_info
            cn_weights[len(nn_info)] = self._semicircle_integral(dist_bins, idx)
        cn0_weight = 1 - sum(cn_weights.values())
        if cn0_weight > 0:
            cn_nninfo[0] = []
            cn_weights[0] = cn0_weight
        return self.transform_to_length(self.NNData(nn, cn_weights, cn_nninfo), length)


class _StructureContext:
    """Per-structure arrays shared by all sites: species properties and one neighbour list."""

    def __init__(self, structure: Structure, cutoff: float) -> None:
        self.structure = structure
        self.species = structure.species
        as_composition = {sp: Composition({sp: 1}) for sp in set(self.species)}
        self.compositions = [as_composition[sp] for sp in self.species]
        self.cart = structure.cart_coords
        self.frac = structure.frac_coords
        first = _first_index(self.species)
        radius = {sp: _site_radius(structure[i]) for sp, i in first.items()}
        self.radius = np.array([radius[sp] for sp in self.species])
        self.electroneg = np.array([sp.X for sp in self.species], dtype=float)
        self.oxi = np.array([np.nan if getattr(sp, "oxi_state", None) is None else sp.oxi_state
                             for sp in self.species], dtype=float)
        self.max_cutoff = max(np.linalg.norm(structure.lattice.get_cartesian_coords(c))
                              for c in ([1, 1, 1], [-1, 1, 1], [1, -1, 1], [1, 1, -1])) + 0.01
        self.cutoff = cutoff
        centers, points, images, dists = structure.get_neighbor_list(cutoff, exclude_self=True)
        order = np.lexsort((dists, centers))
        self._centers, self._points = centers[order], points[order]
        self._xyz = self.cart[self._points] + images[order] @ structure.lattice.matrix
        self._bounds = np.searchsorted(self._centers, np.arange(len(structure) + 1))

    def sphere(self, n: int, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates and site indices of site ``n`` (first) and every site within ``cutoff`` of it."""
        if cutoff <= self.cutoff:
            lo, hi = self._bounds[n], self._bounds[n + 1]
            return (np.vstack([self.cart[n], self._xyz[lo:hi]]), np.concatenate([[n], self._points[lo:hi]]))
        sites = self.structure.get_sites_in_sphere(self.cart[n], cutoff, include_index=True)
        sites = sorted(sites, key=lambda s: s.nn_distance)
        return np.array([s.coords for s in sites]), np.array([s.index for s in sites])


def _first_index(items: Sequence) -> dict:
    first: dict = {}
    for i, item in enumerate(items):
        first.setdefault(item, i)
    return first


def _site_radius(site: PeriodicSite) -> float:
    r = _get_radius(site)
    return r if r > 0 else _get_default_radius(site)


# ------------------------------------------------------------------------------------------ fingerprints
@lru_cache(maxsize=1)
def _ops_by_cn() -> dict[int, list[LocalStructOrderParams]]:
    """CN -> one LocalStructOrderParams per order parameter of the 'ops' preset, built as matminer does.

    Each order parameter needs its own object: pymatgen's evaluation of several types in one object gives
    different values for some of them.
    """
    targets, params = load_cn_target_motif_op(), load_cn_motif_op_params()
    ops: dict[int, list[LocalStructOrderParams]] = {}
    for cn in range(1, MAX_CN + 1):
        ops[cn] = []
        for t in targets.get(cn, []):
            spec = params.get(cn, {}).get(t)
            kind = spec[0] if spec else t
            parameter = dict(spec[1]) if spec and len(spec) > 1 else None  # plain dict: faster look-ups
            ops[cn].append(LocalStructOrderParams([kind], parameters=[parameter]))
    return ops


def _ops_vector(structure: Structure, n: int, data: CrystalNN.NNData) -> list[float]:
    """One site's 'ops' fingerprint from its CrystalNN data: per CN the weight, then weight x each order parameter."""
    values: list[float] = []
    for cn, ops in _ops_by_cn().items():
        wt = data.cn_weights.get(cn, 0)
        values.append(wt)
        if wt == 0:
            values.extend([0] * len(ops))
            continue
        sites = [structure[n], *(d["site"] for d in data.cn_nninfo[cn])]
        neighbours = list(range(1, cn + 1))
        values.extend(wt * (op.get_order_parameters(sites, 0, indices_neighs=neighbours)[0] or 0) for op in ops)
    return values


def site_fingerprints(structure: Structure, indices: Sequence[int] | None = None, **crystalnn_kwargs) -> np.ndarray:
    """matminer ``CrystalNNFingerprint.from_preset('ops')`` of sites, shape ``(n_sites, 61)``.

    Parameters
    ----------
    structure
        The structure.
    indices
        Sites to fingerprint (default: all).
    **crystalnn_kwargs
        Passed to :class:`BatchCrystalNN` (pymatgen ``CrystalNN`` defaults otherwise).
    """
    indices = list(range(len(structure))) if indices is None else list(indices)
    data = BatchCrystalNN(**crystalnn_kwargs).get_all_nn_data(structure, indices)
    return np.array([_ops_vector(structure, n, d) for n, d in zip(indices, data, strict=True)], dtype=float)


def structure_fingerprint(structure: Structure) -> np.ndarray:
    """Site-averaged 'ops' fingerprint of a structure (61 values; the a-Si ``d_motif`` feature)."""
    return site_fingerprints(structure).mean(axis=0)


def interface_fingerprints(
    structure: Structure,
    oxidation_states: Mapping[str, int] = INTERFACE_OXIDATION_STATES,
    anions: Sequence[str] = INTERFACE_ANIONS,
) -> dict[str, np.ndarray]:
    """Per-cation-species averaged fingerprints of an interface (109 values for two anion species).

    Each cation site gets the 61-value 'ops' fingerprint computed with ``CrystalNN(cation_anion=True)`` and, for
    every coordination number 1-24, the fraction of each anion species among its neighbours at that coordination
    number (0 where the weight is 0), appended in the order CN1 (anion 1, anion 2, ...), CN2, ...

    Parameters
    ----------
    structure
        The interface structure (no oxidation states needed: they are set from ``oxidation_states``).
    oxidation_states
        Oxidation state per element; elements with a positive state are the cations.
    anions
        Anion elements whose neighbour fractions are appended.

    Returns
    -------
    dict
        Cation element symbol -> mean fingerprint over that element's sites.
    """
    missing = {el.symbol for el in structure.composition.elements} - set(oxidation_states)
    if missing:
        raise MetricError(f"no oxidation state given for {sorted(missing)}")
    decorated = structure.copy()
    decorated.add_oxidation_state_by_element(dict(oxidation_states))
    symbols = [sp.symbol for sp in decorated.species]
    cations = [i for i, s in enumerate(symbols) if oxidation_states[s] > 0]
    data = BatchCrystalNN(cation_anion=True).get_all_nn_data(decorated, cations)
    rows = []
    for n, d in zip(cations, data, strict=True):
        fractions = []
        for cn in range(1, MAX_CN + 1):
            neigh = [e["site"].specie.symbol for e in d.cn_nninfo.get(cn, [])]
            present = d.cn_weights.get(cn, 0) != 0 and neigh
            fractions.extend(neigh.count(a) / len(neigh) if present else 0.0 for a in anions)
        rows.append(_ops_vector(decorated, n, d) + fractions)
    rows_arr = np.array(rows, dtype=float)
    cation_symbols = np.array([symbols[i] for i in cations])
    return {s: rows_arr[cation_symbols == s].mean(axis=0) for s in dict.fromkeys(cation_symbols)}


def weighted_cation_average(per_species: Mapping[str, np.ndarray], counts: Mapping[str, int]) -> np.ndarray:
    """Atom-count weighted average of per-species fingerprints (the ``d_all`` feature).

    ``counts`` is the number of atoms of each cation species in one structure, e.g. ``{"Li": 72, "Co": 36,
    "Sc": 12}``; ``per_species`` maps the same species to (set-averaged) fingerprints.
    """
    if set(per_species) != set(counts):
        raise MetricError(f"fingerprints for {sorted(per_species)} but counts for {sorted(counts)}")
    total = sum(counts.values())
    return sum(np.asarray(per_species[s], dtype=float) * counts[s] for s in counts) / total
