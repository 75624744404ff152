"""Time CD-VAE decoding (annealed Langevin sampling) of a batch of candidates with the default model size.

Run: python benchmarks/decode_speed.py [--batch 16] [--atoms 12] [--levels 20] [--steps-per-level 2]
Speed does not depend on the weights, so an untrained model of the default size measures it.
"""

import argparse
import time

import torch

from ase_lcom.models.decoder import CoordinateDenoiser, DecoderConfig, langevin_sample
from ase_lcom.structure import lattice_matrix_from_params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--atoms", type=int, default=12)
    parser.add_argument("--levels", type=int, default=20)
    parser.add_argument("--steps-per-level", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = DecoderConfig()
    denoiser = CoordinateDenoiser(cfg).eval()
    num_atoms = torch.full((args.batch,), args.atoms)
    side = (12.0 * args.atoms) ** (1 / 3)
    lattice = lattice_matrix_from_params(torch.full((args.batch, 3), side), torch.full((args.batch, 3), 90.0))
    numbers = torch.tensor([30, 8] * (args.atoms // 2) * args.batch)
    z = torch.randn(args.batch, cfg.latent_dim)
    start = time.perf_counter()
    langevin_sample(denoiser, z, lattice, numbers, num_atoms, num_levels=args.levels,
                    steps_per_level=args.steps_per_level, generator=torch.Generator().manual_seed(0))
    elapsed = time.perf_counter() - start
    calls = args.levels * args.steps_per_level
    print(f"{args.batch} candidates x {args.atoms} atoms, {args.levels} levels x {args.steps_per_level} steps "
          f"({calls} denoiser calls), {args.threads} threads: {elapsed:.2f} s ({1e3 * elapsed / calls:.0f} ms per call)")


if __name__ == "__main__":
    main()
