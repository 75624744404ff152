"""FCC alloy metrics of Dismai-Bench (Table 3: ``d_cluster``, % with vacancies, % failed; Warren-Cowley SRO).

A generated structure is first matched to the ideal sites of a reference lattice (:class:`AlloyReference`, e.g.
the 256-site Fe60Ni20Cr20 cell): :func:`match_to_reference` finds the offset (and, for models whose lattice can
rotate, the orientation) of the generated FCC lattice and gives every reference site the species of the nearest
atom within 0.8 A, or marks it vacant. From the occupied sites:

* :func:`cluster_fingerprint`: 45 values, the 3 concentrations and, for each of the 7 FCC neighbour shells, the
  probability of each of the 6 species pairs given a site pair of that shell;
* :func:`warren_cowley`: Warren-Cowley short-range order parameters of the 1st and 2nd shells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement, permutations, product
from typing import Literal

import numpy as np
from pymatgen.core import Structure

from ase_lcom.errors import MetricError

SITE_TOLERANCE = 0.8
"""An atom within this distance (Angstrom) of a reference site occupies it."""

MAX_OFF_LATTICE = 50
"""A generated alloy with more atoms than this off the reference lattice counts as failed (Dismai-Bench's CDVAE
protocol; its CryinGAN and DiffCSP protocols reject none: :func:`rejection_limit`)."""


def rejection_limit(align: str) -> int | None:
    """The off-lattice count above which Dismai-Bench rejects a generated alloy under ``align``: only its CDVAE
    protocol (``rotate``) rejects; the fixed (CryinGAN) and translated (DiffCSP) protocols score every structure,
    snapping the atoms found within 0.8 A of a site and counting the other sites as vacancies."""
    return MAX_OFF_LATTICE if align == "rotate" else None


SHELL_SQUARED = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5)
"""Squared distances of the first 7 FCC neighbour shells in units of the cubic lattice constant squared."""

SHELL_PAIRS_PER_SITE = (6, 3, 12, 6, 12, 4, 24)
"""Unordered site pairs per site in each of the 7 shells (half the shell's coordination number)."""

DEFAULT_SPECIES = ("Cr", "Fe", "Ni")
"""Species of the Dismai-Bench alloys, in the (alphabetical) order of the fingerprint."""

Align = Literal["fixed", "translate", "rotate"]


class OrientationError(MetricError):
    """No FCC orientation can be found in a generated structure (it counts as failed)."""


@dataclass(frozen=True)
class AlloyReference:
    """Ideal sites of a periodic FCC cell and their site pairs per neighbour shell.

    Build it with :meth:`from_structure` from a reference structure (its species are ignored).
    """

    structure: Structure
    lattice_constant: float
    shell_pairs: tuple[np.ndarray, ...]
    """Per shell, an ``(n_pairs, 2)`` array of ordered site-index pairs (each unordered pair twice)."""

    @classmethod
    def from_structure(cls, reference: Structure, n_shells: int = 7) -> AlloyReference:
        """Reference from a perfect periodic FCC structure (e.g. ``alloy_ref_struc.extxyz``)."""
        if not 1 <= n_shells <= len(SHELL_SQUARED):
            raise MetricError(f"n_shells must be between 1 and {len(SHELL_SQUARED)}, got {n_shells}")
        dist = reference.distance_matrix + np.diag(np.full(len(reference), np.inf))
        a = float(dist.min() * np.sqrt(2.0))
        radii = a * np.sqrt(SHELL_SQUARED[:n_shells])
        centers, points, _, d = reference.get_neighbor_list(radii[-1] + 0.1 * a, exclude_self=True)
        shell = np.argmin(np.abs(d[:, None] - radii[None, :]), axis=1)
        on_shell = np.abs(d - radii[shell]) < 0.05 * a
        pairs = tuple(np.stack([centers, points], axis=1)[on_shell & (shell == k)] for k in range(n_shells))
        for k, p in enumerate(pairs):
            if len(p) != len(reference) * 2 * SHELL_PAIRS_PER_SITE[k]:
                raise MetricError(f"reference is not a perfect FCC cell: wrong number of shell-{k + 1} pairs")
        return cls(structure=reference, lattice_constant=a, shell_pairs=pairs)

    @property
    def n_sites(self) -> int:
        """Number of reference sites."""
        return len(self.structure)


@dataclass(frozen=True)
class LatticeMatch:
    """Result of matching a generated structure to reference sites.

    ``occupancy`` holds, for each reference site, the index of the occupying atom in the generated structure or
    -1 for a vacancy; ``n_off_lattice`` counts generated atoms with no reference site within the tolerance.
    """

    occupancy: np.ndarray
    n_off_lattice: int
    offset: np.ndarray
    rotation: np.ndarray

    @property
    def n_vacancies(self) -> int:
        """Reference sites with no atom within the tolerance."""
        return int((self.occupancy < 0).sum())

    def failed(self, max_off_lattice: int | None = MAX_OFF_LATTICE) -> bool:
        """Whether more than ``max_off_lattice`` atoms lie off the lattice (Dismai-Bench "% failed"; ``None``
        rejects nothing)."""
        return max_off_lattice is not None and self.n_off_lattice > max_off_lattice


def _min_image(lattice, frac_delta: np.ndarray) -> np.ndarray:
    """Cartesian minimum-image vectors of fractional differences (exact for the near-cubic cells used here)."""
    return lattice.get_cartesian_coords(frac_delta - np.round(frac_delta))


_CUBIC_ROTATIONS = np.array([
    np.eye(3)[list(p)] * np.array(signs)[:, None]
    for p in permutations(range(3)) for signs in product((1, -1), repeat=3)
    if np.isclose(np.linalg.det(np.eye(3)[list(p)] * np.array(signs)[:, None]), 1.0)
])


def _orientation(structure: Structure, a: float, tol: float = 0.4, angle_tol: float = 0.0175) -> np.ndarray:
    """Rotation taking the reference cube axes onto the generated lattice's 2nd-neighbour directions.

    Dismai-Bench's rule: the first atom with exactly six 2nd neighbours (at ``a +- tol``) two of whose vectors
    are within ``angle_tol`` rad of 90 degrees.
    """
    centers, points, images, d = structure.get_neighbor_list(a + tol, exclude_self=True)
    second = np.abs(d - a) <= tol
    cart = structure.cart_coords
    vec_all = cart[points] + images @ structure.lattice.matrix - cart[centers]
    for i in range(len(structure)):
        vec = vec_all[second & (centers == i)]
        if len(vec) != 6:
            continue
        unit = vec / np.linalg.norm(vec, axis=1, keepdims=True)
        cos = unit[1:] @ unit[0]
        perpendicular = np.nonzero(np.abs(np.arccos(np.clip(cos, -1, 1)) - np.pi / 2) < angle_tol)[0]
        if len(perpendicular) == 0:
            continue
        e1, e2 = unit[0], unit[1 + perpendicular[0]]
        basis = np.stack([e1, e2, np.cross(e1, e2)], axis=1)
        u, _, vt = np.linalg.svd(basis)  # nearest proper rotation to the measured axes
        # of the 24 cubic-equivalent choices of axes, the one closest to no rotation
        candidates = (u @ vt) @ _CUBIC_ROTATIONS
        return candidates[np.argmax(np.trace(candidates, axis1=1, axis2=2))]
    raise OrientationError("no atom with an FCC second-neighbour shell found: cannot orient the lattice")


def match_to_reference(
    structure: Structure, reference: AlloyReference, align: Align = "translate", tolerance: float = SITE_TOLERANCE
) -> LatticeMatch:
    """Assign the atoms of a generated structure to the reference sites.

    Parameters
    ----------
    structure
        Generated structure in the reference cell (same lattice vectors).
    reference
        The ideal sites.
    align
        ``"fixed"``: reference sites as they are (models that keep atoms on a fixed frame); ``"translate"``: shift
        the reference so that a site sits on the generated atom nearest the origin, refined by the mean
        displacement of the matched atoms; ``"rotate"``: also rotate it onto the generated lattice's orientation.
    tolerance
        Largest atom-site distance in Angstrom.
    """
    lattice = structure.lattice
    if not np.allclose(lattice.matrix, reference.structure.lattice.matrix, atol=1e-3 * reference.lattice_constant):
        raise MetricError("generated structure and reference have different cells; alloys use the reference cell")
    if align not in ("fixed", "translate", "rotate"):
        raise MetricError(f"unknown align {align!r}; use 'fixed', 'translate' or 'rotate'")
    gen_frac = structure.frac_coords
    ref_cart = reference.structure.cart_coords
    offset, rotation = np.zeros(3), np.eye(3)
    if align != "fixed":
        pin = int(np.argmin(np.linalg.norm(_min_image(lattice, gen_frac), axis=1)))
        to_pin = _min_image(lattice, gen_frac[pin] - reference.structure.frac_coords)
        anchor = int(np.argmin(np.linalg.norm(to_pin, axis=1)))
        if align == "rotate":
            rotation = _orientation(structure, reference.lattice_constant)
        # sites relative to the anchor site, rotated, then placed on the pinned atom
        offset = structure.cart_coords[pin] - rotation @ ref_cart[anchor]
    sites = ref_cart @ rotation.T + offset
    site_frac = lattice.get_fractional_coords(sites)
    for _ in range(2 if align != "fixed" else 1):
        delta = _min_image(lattice, gen_frac[:, None, :] - site_frac[None, :, :])
        dist = np.linalg.norm(delta, axis=2)
        nearest_atom = np.argmin(dist, axis=0)
        matched = dist[nearest_atom, np.arange(len(sites))] <= tolerance
        if align == "fixed" or not matched.any():
            break
        shift = delta[nearest_atom[matched], np.nonzero(matched)[0]].mean(axis=0)
        offset = offset + shift
        site_frac = lattice.get_fractional_coords(ref_cart @ rotation.T + offset)
    occupancy = np.where(matched, nearest_atom, -1)
    n_off = int((dist.min(axis=1) > tolerance).sum())
    return LatticeMatch(occupancy=occupancy, n_off_lattice=n_off, offset=offset, rotation=rotation)


def _site_species(structure: Structure, match: LatticeMatch, species: Sequence[str]) -> np.ndarray:
    """Species index (into ``species``) of every reference site, -1 where vacant."""
    lookup = {s: i for i, s in enumerate(species)}
    symbols = [sp.symbol for sp in structure.species]
    unknown = set(symbols) - set(lookup)
    if unknown:
        raise MetricError(f"species {sorted(unknown)} not among the alloy species {list(species)}")
    codes = np.array([lookup[s] for s in symbols])
    return np.where(match.occupancy >= 0, codes[np.maximum(match.occupancy, 0)], -1)


def _pair_matrices(site_species: np.ndarray, reference: AlloyReference, n_species: int) -> np.ndarray:
    """Ordered pair counts ``C[shell, a, b]`` over occupied site pairs (each unordered pair in both orders)."""
    out = np.zeros((len(reference.shell_pairs), n_species, n_species))
    for k, pairs in enumerate(reference.shell_pairs):
        a, b = site_species[pairs[:, 0]], site_species[pairs[:, 1]]
        both = (a >= 0) & (b >= 0)
        out[k] = np.bincount(a[both] * n_species + b[both], minlength=n_species**2).reshape(n_species, n_species)
    return out


def cluster_fingerprint_from_sites(
    site_species: np.ndarray, reference: AlloyReference, n_species: int = 3
) -> np.ndarray:
    """Cluster fingerprint from the species index of every reference site (-1 for a vacancy).

    Returns ``n_species`` concentrations followed, per shell, by the probabilities of the unordered species
    pairs (a <= b, in ``itertools.combinations_with_replacement`` order) given a site pair of that shell:
    ``n_ab / (N_atoms * pairs_per_site)``; they sum to 1 per shell on a vacancy-free lattice.
    """
    occupied = site_species >= 0
    n_atoms = int(occupied.sum())
    if n_atoms == 0:
        raise MetricError("no reference site is occupied")
    conc = np.bincount(site_species[occupied], minlength=n_species) / n_atoms
    counts = _pair_matrices(site_species, reference, n_species)
    ia, ib = np.array(list(combinations_with_replacement(range(n_species), 2))).T
    unordered = np.where(ia == ib, counts[:, ia, ib] / 2, counts[:, ia, ib])
    per_site = np.array(SHELL_PAIRS_PER_SITE[: len(reference.shell_pairs)], dtype=float)
    return np.concatenate([conc, (unordered / (n_atoms * per_site[:, None])).ravel()])


def cluster_fingerprint(
    structure: Structure,
    reference: AlloyReference,
    species: Sequence[str] = DEFAULT_SPECIES,
    align: Align = "translate",
    match: LatticeMatch | None = None,
) -> np.ndarray:
    """45-value cluster fingerprint of a generated alloy (for 3 species and 7 shells).

    See :func:`cluster_fingerprint_from_sites`; pair order for ``("Cr", "Fe", "Ni")``: Cr-Cr, Cr-Fe, Cr-Ni,
    Fe-Fe, Fe-Ni, Ni-Ni. Pass ``match`` to reuse a :func:`match_to_reference` result.
    """
    match = match_to_reference(structure, reference, align) if match is None else match
    return cluster_fingerprint_from_sites(_site_species(structure, match, species), reference, len(species))


def warren_cowley_from_sites(
    site_species: np.ndarray, reference: AlloyReference, n_species: int = 3, shells: Sequence[int] = (1, 2)
) -> np.ndarray:
    """Warren-Cowley parameters ``alpha_ab = 1 - [P(b|a)/c_b + P(a|b)/c_a] / 2`` per shell, shape ``(len(shells), P)``.

    ``P(b|a)`` is the probability that the other end of a shell pair from an ``a`` atom holds ``b``; for
    ``a == b`` this is the usual ``1 - P(a|a)/c_a``. Pairs in the order of :func:`cluster_fingerprint_from_sites`.
    """
    occupied = site_species >= 0
    conc = np.bincount(site_species[occupied], minlength=n_species) / occupied.sum()
    if np.any(conc == 0):
        raise MetricError("Warren-Cowley parameters need every species present")
    counts = _pair_matrices(site_species, reference, n_species)[[s - 1 for s in shells]]
    totals = counts.sum(axis=2, keepdims=True)
    if np.any(totals == 0):
        raise MetricError("Warren-Cowley parameters need, in every shell, an occupied neighbour of every species")
    cond = counts / totals  # cond[k, a, b] = P(b | a)
    ia, ib = np.array(list(combinations_with_replacement(range(n_species), 2))).T
    return 1.0 - 0.5 * (cond[:, ia, ib] / conc[ib] + cond[:, ib, ia] / conc[ia])


def warren_cowley(
    structure: Structure,
    reference: AlloyReference,
    species: Sequence[str] = DEFAULT_SPECIES,
    shells: Sequence[int] = (1, 2),
    align: Align = "translate",
    match: LatticeMatch | None = None,
) -> np.ndarray:
    """Warren-Cowley SRO of a generated alloy, shape ``(len(shells), 6)`` for 3 species (see
    :func:`warren_cowley_from_sites`)."""
    match = match_to_reference(structure, reference, align) if match is None else match
    return warren_cowley_from_sites(_site_species(structure, match, species), reference, len(species), shells)


@dataclass(frozen=True)
class AlloySetScore:
    """Per-structure alloy results of a set: fingerprints of the accepted structures and the rates of the table."""

    fingerprints: np.ndarray
    n_vacancies: np.ndarray
    failed: np.ndarray

    @property
    def percent_failed(self) -> float:
        """Percentage of structures with more than the allowed number of off-lattice atoms."""
        return 100.0 * float(self.failed.mean())

    @property
    def percent_with_vacancies(self) -> float:
        """Percentage of accepted structures with at least one vacant reference site."""
        accepted = ~self.failed
        return 100.0 * float((self.n_vacancies[accepted] > 0).mean()) if accepted.any() else float("nan")


def score_alloy_set(
    structures: Sequence[Structure],
    reference: AlloyReference,
    species: Sequence[str] = DEFAULT_SPECIES,
    align: Align = "translate",
    max_off_lattice: int | None | Literal["protocol"] = "protocol",
) -> AlloySetScore:
    """Match every structure, flag failures and fingerprint the accepted ones.

    A structure fails when more than ``max_off_lattice`` atoms are off the lattice (``"protocol"``: the paper's
    rule for ``align``, :func:`rejection_limit`; ``None``: never), when no site is occupied, or (``align="rotate"``)
    when no lattice orientation can be found.
    """
    limit = rejection_limit(align) if max_off_lattice == "protocol" else max_off_lattice
    rows, vacancies, failed = [], [], []
    for s in structures:
        try:
            match = match_to_reference(s, reference, align)
        except OrientationError:
            vacancies.append(-1)
            failed.append(True)
            continue
        vacancies.append(match.n_vacancies)
        failed.append(match.failed(limit))
        if not failed[-1]:
            try:
                rows.append(cluster_fingerprint(s, reference, species, match=match))
            except MetricError:  # no site occupied
                failed[-1] = True
    n_features = len(species) + len(reference.shell_pairs) * len(species) * (len(species) + 1) // 2
    return AlloySetScore(fingerprints=np.array(rows).reshape(-1, n_features),
                         n_vacancies=np.array(vacancies), failed=np.array(failed, dtype=bool))
