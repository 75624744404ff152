"""Periodic neighbour lists and triplets for batched crystals, in plain PyTorch.

Conventions (shared by encoder and decoder):

* an edge ``e`` goes from a neighbour ``src[e]`` to a receiving atom ``dst[e]``; ``offsets[e]`` is the
  integer lattice translation of the neighbour's image;
* ``edge_vectors`` gives ``r[src] + offsets @ L - r[dst]``: from the receiving atom to its neighbour's image,
  differentiable with respect to fractional coordinates and lattice;
* a triplet ``(kj, ji)`` pairs edge ``k -> j`` with edge ``j -> i`` (directional message passing), the back
  edge (``k`` the same image of ``i``) excluded.

Every image within the cutoff is found, for any cell shape, including cells smaller than the cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class PeriodicGraph:
    """Edges of a batch of crystals within a cutoff."""

    edge_index: torch.Tensor
    """``(2, E)`` rows ``src`` (neighbour) and ``dst`` (receiving atom), indices into the batch's atoms."""
    offsets: torch.Tensor
    """``(E, 3)`` integer lattice translations of the neighbour images (as the lattice's dtype)."""

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])


def _image_ranges(lattice: torch.Tensor, cutoff: float) -> torch.Tensor:
    """``(B, 3)`` image counts per direction: ``ceil(cutoff / interplanar spacing)``."""
    volume = torch.linalg.det(lattice).abs()
    a, b, c = lattice.unbind(-2)
    areas = torch.stack([torch.cross(b, c, dim=-1), torch.cross(c, a, dim=-1), torch.cross(a, b, dim=-1)], -2).norm(dim=-1)
    spacing = volume[:, None] / areas
    return torch.ceil(cutoff / spacing).long()


def _minimum_image_suffices(lattice: torch.Tensor, cutoff: float) -> bool:
    """Whether every cell of the batch is orthogonal with all edges longer than twice ``cutoff``: then each
    pair has at most one image within the cutoff, the one that rounding the fractional difference gives."""
    gram = lattice @ lattice.transpose(-1, -2)
    lengths = torch.diagonal(gram, dim1=-2, dim2=-1).sqrt()
    off_diagonal = (gram - torch.diag_embed(lengths**2)).abs().max()
    return bool(off_diagonal <= 1e-9 * lengths.max() ** 2 and lengths.min() > 2 * cutoff)


def _equal_cells_nearest_images(frac: torch.Tensor, lattice: torch.Tensor, atoms: int, cutoff: float,
                                chunk_size: int) -> tuple[torch.Tensor, ...]:
    """Edges of crystals of ``atoms`` atoms each where the nearest image is the only candidate
    (:func:`_minimum_image_suffices`): all pairs of a crystal at once, ordered by receiving atom."""
    batch = lattice.shape[0]
    coords = frac.view(batch, atoms, 3)
    squared_lengths = (lattice**2).sum(-1)
    not_self = ~torch.eye(atoms, dtype=torch.bool, device=frac.device)
    step = max(1, chunk_size // (atoms * atoms))
    srcs, dsts, offs, dists = [], [], [], []
    for start in range(0, batch, step):
        x = coords[start:start + step]
        delta = x[:, None, :, :] - x[:, :, None, :]  # [crystal, dst, src]: r_src - r_dst
        shift = -torch.round(delta)
        squared = ((delta + shift) ** 2 * squared_lengths[start:start + step, None, None, :]).sum(-1)
        crystal, dst, src = ((squared <= cutoff**2) & not_self).nonzero(as_tuple=True)
        first = (crystal + start) * atoms
        srcs.append(first + src)
        dsts.append(first + dst)
        offs.append(shift[crystal, dst, src])
        dists.append(squared[crystal, dst, src].sqrt())
    return torch.cat(srcs), torch.cat(dsts), torch.cat(offs), torch.cat(dists)


def _pair_images(frac: torch.Tensor, lat: torch.Tensor, num_atoms: torch.Tensor, cutoff: float, chunk_size: int,
                 nearest_only: bool) -> tuple[torch.Tensor, ...]:
    """Edges of any batch: every (pair, image) candidate within the image ranges, or the nearest image of each
    pair with ``nearest_only``; ordered by receiving atom."""
    device, dtype = frac.device, lat.dtype
    first = torch.cumsum(num_atoms, 0) - num_atoms
    pairs_per = num_atoms**2
    pair_batch = torch.repeat_interleave(torch.arange(num_atoms.shape[0], device=device), pairs_per)
    local = torch.arange(int(pairs_per.sum()), device=device) - torch.repeat_interleave(
        torch.cumsum(pairs_per, 0) - pairs_per, pairs_per)
    dst_all = first[pair_batch] + torch.div(local, num_atoms[pair_batch], rounding_mode="floor")
    src_all = first[pair_batch] + local % num_atoms[pair_batch]

    top = _image_ranges(lat, cutoff).max(0).values.tolist()
    axes = [torch.arange(-n, n + 1, device=device, dtype=dtype) for n in top]
    shifts = torch.cartesian_prod(*axes).reshape(-1, 3)
    zero_shift = (shifts == 0).all(-1)
    squared_lengths = (lat**2).sum(-1)

    srcs, dsts, offs, dists = [], [], [], []
    step = chunk_size if nearest_only else max(1, chunk_size // shifts.shape[0])
    for start in range(0, src_all.shape[0], step):
        src, dst, batch = src_all[start:start + step], dst_all[start:start + step], pair_batch[start:start + step]
        delta = frac[src] - frac[dst]  # (P, 3)
        if nearest_only:  # one candidate image per pair: the nearest
            shift = -torch.round(delta)
            dist = ((delta + shift) ** 2 * squared_lengths[batch]).sum(-1).sqrt()  # orthogonal rows
            p = ((dist <= cutoff) & (src != dst)).nonzero(as_tuple=True)[0]
            srcs.append(src[p])
            dsts.append(dst[p])
            offs.append(shift[p])
            dists.append(dist[p])
            continue
        disp = (delta[:, None, :] + shifts[None, :, :])  # (P, K, 3) fractional
        vec = torch.einsum("pkc,pcd->pkd", disp, lat[batch])
        dist = vec.norm(dim=-1)
        keep = (dist <= cutoff) & ~((src == dst)[:, None] & zero_shift[None, :])
        p, k = keep.nonzero(as_tuple=True)
        srcs.append(src[p])
        dsts.append(dst[p])
        offs.append(shifts[k])
        dists.append(dist[p, k])
    return torch.cat(srcs), torch.cat(dsts), torch.cat(offs), torch.cat(dists)


def radius_graph_pbc(
    frac_coords: torch.Tensor,
    lattice: torch.Tensor,
    num_atoms: torch.Tensor,
    cutoff: float,
    max_neighbors: int | None = None,
    chunk_size: int = 2_000_000,
) -> PeriodicGraph:
    """All (atom, neighbour image) pairs closer than ``cutoff`` in each crystal of a batch.

    Parameters
    ----------
    frac_coords
        ``(N, 3)`` fractional coordinates (any real values; they are wrapped).
    lattice
        ``(B, 3, 3)`` lattice vectors as rows, Angstrom.
    num_atoms
        ``(B,)`` atoms per crystal.
    cutoff
        Radius in Angstrom.
    max_neighbors
        Keep only this many nearest neighbours per receiving atom (ties broken by index).
    chunk_size
        Upper bound on pair-image candidates held in memory at once.
    """
    with torch.no_grad():
        raw = frac_coords.detach().to(lattice.dtype)
        cell_of = torch.floor(raw)
        frac = raw - cell_of  # wrapped into [0, 1); offsets are mapped back to the unwrapped input below
        lat = lattice.detach()
        nearest_only = _minimum_image_suffices(lat, cutoff)
        if nearest_only and bool((num_atoms == num_atoms[0]).all()):
            src, dst, offsets, dist = _equal_cells_nearest_images(frac, lat, int(num_atoms[0]), cutoff, chunk_size)
        else:
            src, dst, offsets, dist = _pair_images(frac, lat, num_atoms, cutoff, chunk_size, nearest_only)
        offsets = offsets - cell_of[src] + cell_of[dst]
        device = frac.device

        if max_neighbors is not None:
            order = torch.argsort(dist, stable=True)
            order = order[torch.argsort(dst[order], stable=True)]  # by receiving atom, nearest first
            src, dst, offsets, dist = src[order], dst[order], offsets[order], dist[order]
            counts = torch.bincount(dst, minlength=frac.shape[0])
            rank = torch.arange(dst.shape[0], device=device) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
            keep = rank < max_neighbors
            src, dst, offsets = src[keep], dst[keep], offsets[keep]
    return PeriodicGraph(torch.stack([src, dst]), offsets)


def edge_vectors(
    frac_coords: torch.Tensor, lattice: torch.Tensor, batch: torch.Tensor, graph: PeriodicGraph
) -> torch.Tensor:
    """``(E, 3)`` vectors from each receiving atom to its neighbour's image (differentiable)."""
    src, dst = graph.edge_index
    delta = frac_coords[src] - frac_coords[dst] + graph.offsets.to(frac_coords.dtype)
    return torch.einsum("ec,ecd->ed", delta, lattice[batch[dst]])


def triplets(graph: PeriodicGraph) -> tuple[torch.Tensor, torch.Tensor]:
    """Edge pairs ``(kj, ji)``: edge ``k -> j`` feeding edge ``j -> i``, without the back edge ``i -> j -> i``.

    Returns two ``(T,)`` index tensors into the edges.
    """
    src, dst = graph.edge_index
    device = src.device
    n_nodes = int(torch.cat([src, dst]).max()) + 1 if src.numel() else 0
    incoming = torch.argsort(dst, stable=True)  # edges grouped by receiving atom
    counts = torch.bincount(dst, minlength=n_nodes)
    starts = torch.cumsum(counts, 0) - counts
    # for edge ji (j = src[ji]), every edge kj arriving at j
    per_edge = counts[src]
    idx_ji = torch.repeat_interleave(torch.arange(src.shape[0], device=device), per_edge)
    within = torch.arange(idx_ji.shape[0], device=device) - torch.repeat_interleave(torch.cumsum(per_edge, 0) - per_edge, per_edge)
    idx_kj = incoming[starts[src[idx_ji]] + within]
    back = (src[idx_kj] == dst[idx_ji]) & (graph.offsets[idx_kj] == -graph.offsets[idx_ji]).all(-1)
    return idx_kj[~back], idx_ji[~back]


def triplet_angles(vectors: torch.Tensor, idx_kj: torch.Tensor, idx_ji: torch.Tensor) -> torch.Tensor:
    """Angle at ``j`` between ``j -> k`` and ``j -> i`` for each triplet (radians, differentiable)."""
    to_k = vectors[idx_kj]
    to_i = -vectors[idx_ji]
    cross = torch.cross(to_k, to_i, dim=-1).norm(dim=-1)
    return torch.atan2(cross, (to_k * to_i).sum(-1))
