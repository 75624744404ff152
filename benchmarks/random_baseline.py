"""The floor a fixed-lattice generator must beat: atoms at uniformly random fractional coordinates.

Run: python benchmarks/random_baseline.py --dataset alloy-1500K-narrow --out runs/gen/uniform-random-alloy-1500K-narrow
     [--root datasets/dismai] [-n 1000] [--seed 0]

Writes OUT/generated.extxyz: ``n`` structures of the set's lattice and composition (species in the set's order)
with every coordinate drawn uniformly on [0, 1). Score it like a generator's samples, e.g.
``ase-lcom benchmark dismai --dataset SET --structures OUT/generated.extxyz --out OUT/dismai --align fixed``;
a generator whose scores match these has learnt nothing the metric sees.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from ase.io import write

from ase_lcom.cli.common import POSITIVE_INT, SEED
from ase_lcom.data.dismai.datasets import load_dataset
from ase_lcom.structure import to_atoms


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="a Dismai dataset name (under --root) or file")
    parser.add_argument("--root", default="datasets/dismai")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("-n", type=POSITIVE_INT, default=1000, help="structures (default 1000)")
    parser.add_argument("--seed", type=SEED, default=0)
    args = parser.parse_args(argv)
    dataset = load_dataset(args.dataset, root=args.root)
    rng = np.random.default_rng(args.seed)
    frames = [to_atoms(dataset.structure_from_frac(rng.random((dataset.num_atoms, 3)))) for _ in range(args.n)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write(out / "generated.extxyz", frames, format="extxyz")
    print(f"wrote {len(frames)} uniformly random {dataset.template.composition.reduced_formula} structures "
          f"to {out / 'generated.extxyz'}")


if __name__ == "__main__":
    main()
