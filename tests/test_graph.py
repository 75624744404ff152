"""Periodic neighbour lists and triplets against ASE's neighbour list."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list

from ase_lcom.graph import _minimum_image_suffices, edge_vectors, radius_graph_pbc, triplet_angles, triplets
from ase_lcom.structure import CrystalBatch


def random_cells(seed: int, count: int = 6) -> list[Atoms]:
    """Random triclinic cells, including ones much smaller than the cutoff and strongly skewed ones."""
    rng = np.random.default_rng(seed)
    cells = []
    for _ in range(count):
        n = int(rng.integers(1, 7))
        matrix = np.diag(rng.uniform(1.8, 6.0, 3)) + np.triu(rng.uniform(-2.0, 2.0, (3, 3)), 1)
        cells.append(Atoms(numbers=rng.integers(1, 30, n), scaled_positions=rng.random((n, 3)), cell=matrix, pbc=True))
    return cells


def ase_edges(atoms_list: list[Atoms], cutoff: float) -> set[tuple]:
    edges, first = set(), 0
    for atoms in atoms_list:
        i, j, shift = neighbor_list("ijS", atoms, cutoff)
        edges |= {(int(b) + first, int(a) + first, *map(int, s)) for a, b, s in zip(i, j, shift)}
        first += len(atoms)
    return edges


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("cutoff", [3.0, 6.0])
def test_radius_graph_matches_ase(seed, cutoff):
    cells = random_cells(seed)
    batch = CrystalBatch.from_structures(cells, niggli=False)
    graph = radius_graph_pbc(batch.frac_coords, batch.lattice, batch.num_atoms, cutoff)
    ours = {(int(s), int(d), *map(int, o)) for s, d, o in zip(*graph.edge_index, graph.offsets.round())}
    assert len(ours) == graph.num_edges  # no edge twice
    assert ours == ase_edges(cells, cutoff)
    vectors = edge_vectors(batch.frac_coords, batch.lattice, batch.batch, graph)
    assert float(vectors.norm(dim=-1).max()) <= cutoff + 1e-9


@pytest.mark.parametrize(("lengths", "sizes"), [((7.0, 8.0, 9.5), (40, 40, 40)), ((6.1, 6.1, 6.1), (40, 25))])
def test_orthogonal_cells_above_twice_the_cutoff_match_ase(lengths, sizes):
    """The minimum-image paths (orthogonal cells, edges longer than 2 x cutoff; crystals of one size and of
    several) find ASE's edges and images, from wrapped and unwrapped coordinates alike."""
    rng = np.random.default_rng(3)
    cells = [Atoms(numbers=rng.integers(1, 30, n), scaled_positions=rng.random((n, 3)), cell=np.diag(lengths),
                   pbc=True) for n in sizes]
    batch = CrystalBatch.from_structures(cells, niggli=False)
    assert _minimum_image_suffices(batch.lattice, 3.0)
    graph = radius_graph_pbc(batch.frac_coords, batch.lattice, batch.num_atoms, 3.0)
    ours = {(int(s), int(d), *map(int, o)) for s, d, o in zip(*graph.edge_index, graph.offsets.round())}
    assert len(ours) == graph.num_edges > 0
    assert ours == ase_edges(cells, 3.0)
    shifted = batch.frac_coords + torch.randint(-2, 3, batch.frac_coords.shape, dtype=batch.frac_coords.dtype)
    moved = radius_graph_pbc(shifted, batch.lattice, batch.num_atoms, 3.0)
    key = lambda g, f: sorted(zip(g.edge_index[0].tolist(), g.edge_index[1].tolist(),
                                  np.round(edge_vectors(f, batch.lattice, batch.batch, g).numpy(), 8).tolist()))
    assert key(moved, shifted) == key(graph, batch.frac_coords)
    nearest = radius_graph_pbc(batch.frac_coords, batch.lattice, batch.num_atoms, 3.0, max_neighbors=5, chunk_size=999)
    near = edge_vectors(batch.frac_coords, batch.lattice, batch.batch, nearest).norm(dim=-1)
    every = edge_vectors(batch.frac_coords, batch.lattice, batch.batch, graph).norm(dim=-1)
    for atom in range(int(batch.num_atoms.sum())):  # the five nearest of each atom, chunked by crystal
        expected = torch.sort(every[graph.edge_index[1] == atom]).values[:5]
        torch.testing.assert_close(torch.sort(near[nearest.edge_index[1] == atom]).values, expected)


def test_unwrapped_coordinates_give_the_same_vectors():
    cells = random_cells(5, count=3)
    batch = CrystalBatch.from_structures(cells, niggli=False)
    shifted = batch.frac_coords + torch.randint(-3, 4, batch.frac_coords.shape, dtype=batch.frac_coords.dtype)
    g1 = radius_graph_pbc(batch.frac_coords, batch.lattice, batch.num_atoms, 5.0)
    g2 = radius_graph_pbc(shifted, batch.lattice, batch.num_atoms, 5.0)
    v1 = edge_vectors(batch.frac_coords, batch.lattice, batch.batch, g1)
    v2 = edge_vectors(shifted, batch.lattice, batch.batch, g2)
    key = lambda g, v: sorted(zip(g.edge_index[0].tolist(), g.edge_index[1].tolist(), np.round(v.numpy(), 8).tolist()))
    assert key(g1, v1) == key(g2, v2)


def test_max_neighbors_keeps_the_nearest():
    cells = random_cells(7, count=4)
    batch = CrystalBatch.from_structures(cells, niggli=False)
    full = radius_graph_pbc(batch.frac_coords, batch.lattice, batch.num_atoms, 6.0)
    capped = radius_graph_pbc(batch.frac_coords, batch.lattice, batch.num_atoms, 6.0, max_neighbors=5)
    assert int(torch.bincount(capped.edge_index[1]).max()) <= 5
    d_full = edge_vectors(batch.frac_coords, batch.lattice, batch.batch, full).norm(dim=-1)
    d_cap = edge_vectors(batch.frac_coords, batch.lattice, batch.batch, capped).norm(dim=-1)
    for atom in range(int(batch.num_atoms.sum())):
        nearest = torch.sort(d_full[full.edge_index[1] == atom]).values[:5]
        torch.testing.assert_close(torch.sort(d_cap[capped.edge_index[1] == atom]).values, nearest)


def test_tiny_cell_sees_many_images_of_itself():
    atoms = Atoms("Cu", cell=np.eye(3) * 2.0, pbc=True)
    batch = CrystalBatch.from_structures([atoms])
    graph = radius_graph_pbc(batch.frac_coords, batch.lattice, batch.num_atoms, 4.1)
    assert graph.num_edges == len(neighbor_list("i", atoms, 4.1)) == 32  # shells at 2, 2.83, 3.46, 4 A: 6+12+8+6


def test_triplets_and_angles_in_a_water_like_toy_cell():
    # three atoms, big cell, cutoff catches only the two O-H bonds: triplets H-O-H both ways, no back edges
    atoms = Atoms("OH2", positions=[[5, 5, 5], [5.96, 5, 5], [5 - 0.24, 5.93, 5]], cell=np.eye(3) * 10, pbc=True)
    batch = CrystalBatch.from_structures([atoms], niggli=False)
    graph = radius_graph_pbc(batch.frac_coords, batch.lattice, batch.num_atoms, 1.2)
    assert graph.num_edges == 4
    idx_kj, idx_ji = triplets(graph)
    src, dst = graph.edge_index
    assert len(idx_kj) == 2
    assert (dst[idx_kj] == src[idx_ji]).all() and (src[idx_kj] != dst[idx_ji]).all()
    vectors = edge_vectors(batch.frac_coords, batch.lattice, batch.batch, graph)
    angles = torch.rad2deg(triplet_angles(vectors, idx_kj, idx_ji))
    torch.testing.assert_close(angles, torch.full_like(angles, float(atoms.get_angle(1, 0, 2))), atol=1e-6, rtol=0)


def test_triplet_count_matches_a_direct_count():
    cells = random_cells(11, count=3)
    batch = CrystalBatch.from_structures(cells, niggli=False)
    graph = radius_graph_pbc(batch.frac_coords, batch.lattice, batch.num_atoms, 3.5)
    idx_kj, idx_ji = triplets(graph)
    src, dst = graph.edge_index
    expected = 0
    for e in range(graph.num_edges):  # for edge j -> i, edges into j minus the back edge
        into_j = (dst == src[e]).nonzero().flatten()
        back = [(src[k] == dst[e]) and bool((graph.offsets[k] == -graph.offsets[e]).all()) for k in into_j]
        expected += len(into_j) - sum(back)
    assert len(idx_kj) == expected


def test_vectors_are_differentiable():
    cells = random_cells(3, count=2)
    batch = CrystalBatch.from_structures(cells, niggli=False)
    frac = batch.frac_coords.clone().requires_grad_(True)
    lattice = batch.lattice.clone().requires_grad_(True)
    graph = radius_graph_pbc(frac, lattice, batch.num_atoms, 4.0)
    edge_vectors(frac, lattice, batch.batch, graph).norm(dim=-1).sum().backward()
    assert torch.isfinite(frac.grad).all() and torch.isfinite(lattice.grad).all() and lattice.grad.abs().sum() > 0
