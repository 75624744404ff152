"""Figure 3's protocol on the 20 `val` tuning binaries (outside the default dataset), for several models.

Run: python benchmarks/improvement_tuning.py --out benchmarks/results/improvement-tuning --seed 0,1 \
         v3=runs/v3/shipped-v3.pt whitened=runs/s9/w08.pt v3-200=runs/v3/shipped-v3.pt:200:0.05 [NAME=BUNDLE ...]

Surrogate settings are chosen here, never on the 26 benchmark compounds. Every model starts from the same
CHGNet-relaxed random cells (cached in ``OUT/seeds.json``) at the cell size of the compound's CHGNet ground state
(references in ``benchmarks/results/csp-candidates/references-val.json``). Writes ``OUT/<name>.json`` (rows and
summary, as ``ase-lcom benchmark improvement``) and prints, per model and surrogate, the median improvement over
compounds, compounds and seeds improved, how often COMs ends below SL, and the median latent distance travelled.
``BUNDLE:STEPS:STEP_LR`` gives both surrogates another optimisation budget.
"""

import argparse
import json
from pathlib import Path

import numpy as np

REFERENCES = Path(__file__).parent / "results" / "csp-candidates" / "references-val.json"


def main() -> None:
    from ase_lcom.benchmarks import improvement
    from ase_lcom.benchmarks.csp import ground_state_units
    from ase_lcom.models.bundle import LCOMModel
    from ase_lcom.store import write_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", default="0,1", help="comma-separated runs (8 seeds each per compound)")
    parser.add_argument("models", nargs="+", metavar="NAME=BUNDLE[:STEPS:STEP_LR]")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    units = {formula: ground_state_units(formula, ref) for formula, ref in json.loads(REFERENCES.read_text()).items()}
    runs = [int(s) for s in args.seed.split(",")]
    for spec in args.models:
        name, model = spec.split("=", 1)
        path, *budget = model.split(":")
        steps, step_lr = (int(budget[0]), float(budget[1])) if budget else (None, None)
        rows = improvement.seed_improvements(sorted(units), LCOMModel.load(path), units, seed=runs, steps=steps,
                                             step_lr=step_lr, seed_cache=args.out / "seeds.json")
        summary = improvement.summarize(rows)
        write_json(args.out / f"{name}.json", {"model": model, "summary": summary, "rows": rows})
        below = np.mean(np.concatenate([r["coms"] for r in rows]) < np.concatenate([r["sl"] for r in rows]))
        for surrogate in improvement.SURROGATES:
            s = summary[surrogate]
            distance = np.median(np.concatenate([r[f"{surrogate}_distance"] for r in rows]))
            print(f"{name:<10} {surrogate:<4} median {100 * s['median_improvement']:+6.2f}%  compounds "
                  f"{s['compounds_improved']}/{s['compounds']}  seeds {100 * s['seeds_improved']:.0f}%  "
                  f"distance {distance:5.1f}  realised {s['median_realised_drop']:+.3f} / predicted "
                  f"{s['median_predicted_drop']:+.2f} eV/atom" + (f"  COMs below SL {100 * below:.0f}%"
                                                                  if surrogate == "sl" else ""))


if __name__ == "__main__":
    main()
