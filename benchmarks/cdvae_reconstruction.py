"""Reconstruction match rate of a trained CD-VAE on held-out structures (strict and CDVAE tolerances).

Run: python benchmarks/cdvae_reconstruction.py --checkpoint RUN/best.pt --data DATA [--split RUN/split.json]
         [--count 200] [--levels 20] [--steps-per-level 2] [--out report.json]
With --split, only the test compositions of that split are used; otherwise every structure of DATA.
"""

import argparse
import json
import sys
import time

from ase_lcom.benchmarks.reconstruction import match_rates, reconstruct
from ase_lcom.data.readers import read_records
from ase_lcom.models.checkpoints import load_cdvae


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--split")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--levels", type=int, default=20)
    parser.add_argument("--steps-per-level", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the report to this JSON file")
    args = parser.parse_args()
    model, _ = load_cdvae(args.checkpoint)
    test = set(json.loads(open(args.split).read())["test"]) if args.split else None
    structures = [r.structure for r in read_records(args.data) if test is None or r.formula in test][: args.count]
    start = time.perf_counter()
    decoded = reconstruct(model, structures, args.levels, args.steps_per_level, seed=args.seed)
    report = match_rates(structures, decoded)
    report["seconds_per_structure"] = (time.perf_counter() - start) / max(1, len(structures))
    report["command"] = " ".join(["python", "benchmarks/cdvae_reconstruction.py", *sys.argv[1:]])
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
