"""Time periodic graph construction (radius graph + triplets) for a decoding-sized batch.

Run: python benchmarks/graph_speed.py [--batch 16] [--atoms 12] [--cutoff 7.0] [--repeats 20]
The CD-VAE decoder rebuilds this graph at every Langevin step, so it bounds decoding speed.
"""

import argparse
import statistics
import time

import numpy as np
import torch
from ase import Atoms

from ase_lcom.graph import edge_vectors, radius_graph_pbc, triplets
from ase_lcom.structure import CrystalBatch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--atoms", type=int, default=12)
    parser.add_argument("--cutoff", type=float, default=7.0)
    parser.add_argument("--max-neighbors", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    volume = 12.0 * args.atoms  # about 12 A^3 per atom, like the dataset
    cells = [Atoms(numbers=rng.integers(3, 57, args.atoms), scaled_positions=rng.random((args.atoms, 3)),
                   cell=np.diag([volume ** (1 / 3)] * 3) + rng.normal(0, 0.3, (3, 3)), pbc=True)
             for _ in range(args.batch)]
    batch = CrystalBatch.from_structures(cells, dtype=torch.float32)
    timings, n_edges, n_triplets = [], 0, 0
    for _ in range(args.repeats + 2):
        start = time.perf_counter()
        graph = radius_graph_pbc(batch.frac_coords, batch.lattice, batch.num_atoms, args.cutoff, args.max_neighbors)
        edge_vectors(batch.frac_coords, batch.lattice, batch.batch, graph)
        idx_kj, _ = triplets(graph)
        timings.append(time.perf_counter() - start)
        n_edges, n_triplets = graph.num_edges, len(idx_kj)
    timings = timings[2:]  # warm-up
    print(f"{args.batch} crystals x {args.atoms} atoms, cutoff {args.cutoff} A, max {args.max_neighbors} neighbours, "
          f"{args.threads} threads: {n_edges} edges, {n_triplets} triplets; "
          f"median {1e3 * statistics.median(timings):.1f} ms per graph (min {1e3 * min(timings):.1f} ms)")


if __name__ == "__main__":
    main()
