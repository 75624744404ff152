"""Held-out errors of an M3GNet potential per composition: absolute energy, energy relative to the composition's
mean (what ordering polymorphs needs), forces; the training compositions beside them.

    python benchmarks/m3gnet_held_out.py --model runs/m3gnet-gpaw --data datasets/m3gnet-frames/gpaw.db \
        --label-calculator gpaw --out benchmarks/results/m3gnet-v2/held-out.md

The split is the model's ``split.json``; frames whose elements the potential does not answer for are skipped.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--label-calculator", default="gpaw")
    parser.add_argument("--out", type=Path, required=True, help="markdown table; a .json of the same name beside it")
    args = parser.parse_args()

    from pymatgen.core import Composition
    from threadpoolctl import threadpool_limits

    from ase_lcom.calculators import get_calculator
    from ase_lcom.errors import ElementCoverageError
    from ase_lcom.training.m3gnet import read_frames

    split = json.loads((args.model / "split.json").read_text())
    part = {formula: name for name in ("train", "val") for formula in split[name]}
    calculator = get_calculator("m3gnet", model=args.model)
    errors: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with threadpool_limits(1):
        for atoms in read_frames(args.data, args.label_calculator):
            formula = Composition(atoms.get_chemical_formula()).reduced_formula
            if formula not in part:
                continue
            label = atoms.calc.results
            cell = atoms.copy()
            cell.calc = calculator
            try:
                energy = cell.get_potential_energy()
            except ElementCoverageError:
                continue
            force = float(np.abs(cell.get_forces() - label["forces"]).mean())
            errors[formula].append(((energy - label["energy"]) / len(atoms), force))
    rows = []
    for formula, values in sorted(errors.items(), key=lambda kv: (part[kv[0]] != "val", kv[0])):
        de = np.array([e for e, _ in values])
        rows.append({"composition": formula, "split": part[formula], "frames": len(values),
                     "mean_error": float(de.mean()), "energy_mae": float(np.abs(de).mean()),
                     "relative_energy_mae": float(np.abs(de - de.mean()).mean()),
                     "force_mae": float(np.mean([f for _, f in values]))})
    lines = ["| composition | split | frames | mean energy error (meV/atom) | energy MAE | energy MAE, composition "
             "mean removed | force MAE (eV/A) |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in ("val", "train"):
        chosen = [r for r in rows if r["split"] == name]
        if name == "val":
            lines += [f"| {r['composition']} | held out | {r['frames']} | {1000 * r['mean_error']:+.0f} | "
                      f"{1000 * r['energy_mae']:.0f} | {1000 * r['relative_energy_mae']:.0f} | {r['force_mae']:.3f} |"
                      for r in chosen]
        if chosen:
            n = sum(r["frames"] for r in chosen)
            mean = {k: sum(r[k] * r["frames"] for r in chosen) / n
                    for k in ("energy_mae", "relative_energy_mae", "force_mae")}
            label = "all held out" if name == "val" else f"training ({len(chosen)} compositions)"
            lines.append(f"| **{label}** | | {n} | | {1000 * mean['energy_mae']:.0f} | "
                         f"{1000 * mean['relative_energy_mae']:.0f} | {mean['force_mae']:.3f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
