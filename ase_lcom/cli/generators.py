"""``ase-lcom sample``: structures from a trained fixed-lattice generator."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ase_lcom.cli.common import POSITIVE_INT, SEED, UsageError


def register(sub: Any) -> None:
    """Add ``sample`` to the top-level subcommands."""
    sample = sub.add_parser("sample", help="sample structures from a trained generator (cryingan, diffusion, cdvae)")
    sample.add_argument("source", metavar="DIR_OR_CHECKPOINT",
                        help="training directory (its generator.pt, else last.pt) or a generator checkpoint")
    sample.add_argument("-n", type=POSITIVE_INT, default=1000, help="structures to sample (default 1000)")
    sample.add_argument("-o", "--output", default="generated.extxyz", help="file to write (default generated.extxyz)")
    sample.add_argument("--seed", type=SEED, default=0)
    sample.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    sample.set_defaults(func=run_sample)


def run_sample(args: argparse.Namespace) -> int:
    """Sample ``-n`` structures and write them to ``--output``."""
    from ase.io import write

    from ase_lcom.generators.predictor import checkpoint_path, load_generator
    from ase_lcom.structure import to_atoms

    if args.n < 1:
        raise UsageError(f"-n must be a positive number of structures, got {args.n}")
    checkpoint = checkpoint_path(args.source)
    generator = load_generator(checkpoint, args.device)
    structures = generator.sample(args.n, seed=args.seed)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    write(output, [to_atoms(s) for s in structures], format="extxyz")
    formula = structures[0].composition.formula.replace(" ", "") if structures else "-"
    print(f"{len(structures)} structures of {formula} from the {generator.name} generator {checkpoint} "
          f"(seed {args.seed}) written to {output}")
    return 0
