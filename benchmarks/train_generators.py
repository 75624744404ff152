"""Train the fixed-lattice generators (CryinGAN, coordinate diffusion, CD-VAE) on a Dismai-Bench dataset.

Run: python benchmarks/train_generators.py --kind cryingan --dataset alloy-1500K-narrow --out runs/gan-1500K
         [--root datasets/dismai] [--hours 2] [--epochs N] [--device cpu] [--seed 0]
         [--samples 1000 --samples-out generated.extxyz]
     python benchmarks/train_generators.py --kind all --time-batches 4 [--threads 1]

Training stops after ``--epochs`` or once ``--hours`` of training have been spent (summed over resumed runs);
rerunning the same command resumes from OUT/last.pt. OUT receives generator.pt, history.json and
loss_curves.png. Alloy sets use the published CryinGAN settings (lambda 0.1, the 64 copies of each structure
shifted by whole FCC cells; an epoch draws ``--shifts-per-epoch`` of them, 0 for all as published), other sets
lambda 0.05 and no shifts (``--shifts-per-epoch`` applies to CryinGAN on alloys only); the diffusion noise reaches
0.05 (a-Si) or 0.1 (others).

``--time-batches K`` trains K batches of each model on random 256-atom Fe-Ni-Cr data in a 14.4 A cube
and prints seconds per batch and per epoch of a 1500-structure set (CryinGAN with and without the 64-fold
augmentation), to set training budgets.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from pymatgen.core import Lattice, Structure

from ase_lcom.benchmarks.dismai import GENERATOR_SIZES, generator_for_dataset
from ase_lcom.cli.common import NON_NEGATIVE_INT
from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.generators import StructureGenerator
from ase_lcom.generators.cdvae import CDVAEGenerator, CDVAETrainConfig
from ase_lcom.generators.cryingan import CryinGAN
from ase_lcom.generators.diffusion import CoordinateDiffusion
from ase_lcom.models.coordinate_diffusion import DiffusionConfig
from ase_lcom.training.coordinate_diffusion import DiffusionTrainConfig
from ase_lcom.training.cryingan import CryinGANTrainConfig
from ase_lcom.training.generator_loop import plot_loss_curves

KINDS = ("cryingan", "diffusion", "cdvae")
FCC_A = 3.6


def timing_generator(kind: str, device: str) -> StructureGenerator:
    """A one-epoch generator of the published sizes, for timing batches on random data (no augmentation)."""
    if kind == "cryingan":
        return CryinGAN(train_config=CryinGANTrainConfig(epochs=1, device=device))
    if kind == "diffusion":
        return CoordinateDiffusion(DiffusionConfig(), DiffusionTrainConfig(epochs=1, device=device))
    return CDVAEGenerator(train_config=CDVAETrainConfig(epochs=1, device=device))


def random_dataset(count: int, seed: int = 0) -> FixedLatticeDataset:
    """``count`` random 256-atom Fe154Ni51Cr51 structures in a 14.4 A cube (timing only)."""
    rng = np.random.default_rng(seed)
    species = ["Fe"] * 154 + ["Ni"] * 51 + ["Cr"] * 51
    lattice = Lattice.cubic(4 * FCC_A)
    return FixedLatticeDataset.from_structures([Structure(lattice, species, rng.random((256, 3)))
                                                for _ in range(count)], name="alloy-random")


def time_batches(kinds: list[str], batches: int, device: str) -> dict[str, dict[str, float]]:
    """Seconds per training batch of each generator on random data, and per epoch of 1500 structures."""
    report = {}
    for kind in kinds:
        model = timing_generator(kind, device)
        size = model.train_config.batch_size
        with tempfile.TemporaryDirectory() as tmp:
            model.fit(random_dataset(batches * size), tmp, progress=False)
        per_batch = model.history[0]["seconds"] / batches
        row = {"batch_size": size, "seconds_per_batch": per_batch, "seconds_per_epoch_1500": per_batch * 1500 / size}
        if kind == "cryingan":
            row["seconds_per_epoch_1500_x64"] = row["seconds_per_epoch_1500"] * 64
        report[kind] = row
        print(kind, json.dumps(row), flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=[*KINDS, "all"], required=True)
    parser.add_argument("--dataset", help="a Dismai dataset name or a dataset file")
    parser.add_argument("--root", default="datasets/dismai")
    parser.add_argument("--out", help="training directory (one per kind with --kind all: OUT/KIND)")
    parser.add_argument("--hours", type=float, default=2.0, help="training-time budget")
    parser.add_argument("--epochs", type=int, default=1_000_000, help="epoch limit (the budget usually stops first)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", choices=GENERATOR_SIZES, default="cpu",
                        help="cpu: hours on two cores (default); published: the paper's sizes")
    parser.add_argument("--shifts-per-epoch", type=NON_NEGATIVE_INT,
                        help="CryinGAN on alloys: whole-cell shifts of each structure per epoch (0: all 64, published; "
                        "default 1 at --size cpu)")
    parser.add_argument("--samples", type=int, default=0, help="structures to sample after training")
    parser.add_argument("--samples-out", default="generated.extxyz", help="file under OUT for the samples")
    parser.add_argument("--time-batches", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    kinds = list(KINDS) if args.kind == "all" else [args.kind]
    if args.time_batches:
        time_batches(kinds, args.time_batches, args.device)
        return
    if not args.dataset or not args.out:
        sys.exit("--dataset and --out are needed to train")
    from ase.io import write

    from ase_lcom.data.dismai import load_dataset
    from ase_lcom.structure import to_atoms

    dataset = load_dataset(args.dataset, args.root)
    for kind in kinds:
        out = Path(args.out) / kind if len(kinds) > 1 else Path(args.out)
        model = generator_for_dataset(kind, dataset, args.epochs, args.hours * 3600, args.device, args.seed,
                                      args.size, args.shifts_per_epoch)
        start = time.perf_counter()
        history = model.fit(dataset, out)
        plot_loss_curves(history, path=out / "loss_curves.png")
        print(f"{kind}: {len(history)} epochs, {sum(r['seconds'] for r in history) / 3600:.2f} h of training "
              f"({(time.perf_counter() - start) / 3600:.2f} h this run)")
        if args.samples:
            write(out / args.samples_out, [to_atoms(s) for s in model.sample(args.samples, seed=args.seed)])


if __name__ == "__main__":
    main()
