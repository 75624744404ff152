"""Every candidate of the latent predictors, scored: is a miss a search failure or a ranking failure?

Run: python benchmarks/csp_candidates.py --out runs/csp-candidates/rows.jsonl [--set csp26|val|train-ab]
     [--variants cdvae:coms:0,lcom:coms:50,sl:sl:50,lcomlr2:coms:50:0.2] [--seeds 0,1] [--model PATH] [--n-candidates 8]

For each compound (``csp26``: the paper's 26; the two tuning sets, so that the benchmark is never tuned on:
``val``, 20 binaries outside the default dataset, and ``train-ab``, the 1:1 binaries of the model's seed bank other
than the 26, which like the 26 have seed latents of their own), each variant ``name:surrogate:steps[:step_lr]``
and each decoder seed, all candidates are scored with CHGNet against the compound's relaxed reference
polymorphs. Prints, per variant and seed, the paper's 20% criterion for the surrogate's pick, strict matches, the
oracle (any candidate passes) and the mean Spearman correlation between surrogate energy and validated gap within
a compound. Rows (with every candidate's structure, for re-ranking offline) are appended as they finish (a rerun
resumes); references are cached next to ``--out``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

VALIDATION = ["AlN", "AlP", "BAs", "BaSe", "CaSe", "CdSe", "CdTe", "CsBr", "GaN", "InN", "KBr", "LiI", "MgSe", "NaI", "ScN", "SnTe", "YAs", "ZnSe", "AgBr", "CrN"]
"""AB compounds absent from the default dataset (no seed latents of their own)."""


def train_ab(model_path: str | None) -> list[str]:
    """1:1 binary compositions in the model's seed bank, other than the CSP26 compounds."""
    from pymatgen.core import Composition

    from ase_lcom.data.compositions import CSP26
    from ase_lcom.models.bundle import cached_model

    return sorted({f for f in cached_model(model_path).seeds.formulas
                   if len(Composition(f)) == 2 and set(Composition(f).values()) == {1.0}} - set(CSP26))


def summarize(rows: list[dict]) -> None:
    groups: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["variant"], row["seed"]), []).append(row)
    for (variant, seed), group in groups.items():
        picked = sum(r["candidates"][0]["criterion"] for r in group)
        strict = sum(r["candidates"][0]["strict"] is not None for r in group)
        oracle = sum(any(c["criterion"] for c in r["candidates"]) for r in group)
        rho = np.nanmean([spearmanr([c["surrogate"] for c in r["candidates"]],
                                    [c["gap"] for c in r["candidates"]])[0] for r in group])
        print(f"{variant:<14} seed {seed}: criterion {picked}/{len(group)}  strict {strict}  oracle {oracle}  "
              f"spearman {rho:.2f}  median {np.median([r['seconds'] for r in group]):.1f} s")


def main() -> None:
    from ase_lcom.benchmarks.csp import Validator, compute_references, evaluate, ground_state_units
    from ase_lcom.data.compositions import CSP26
    from ase_lcom.lcom.predictor import LatentPredictor
    from ase_lcom.store import ResultsStore

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--set", choices=("csp26", "val", "train-ab"), default="csp26")
    parser.add_argument("--variants", default="cdvae:coms:0,lcom:coms:50,sl:sl:50")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--model", default=None)
    parser.add_argument("--n-candidates", type=int, default=8)
    args = parser.parse_args()
    formulas = {"csp26": CSP26, "val": VALIDATION}.get(args.set) or train_ab(args.model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    validator = Validator("chgnet")
    refs = compute_references(formulas, validator, args.out.parent / f"references-{args.set}.json")
    store = ResultsStore(args.out, key=("variant", "formula", "seed"))
    rows = store.rows()
    done = store.stored_keys()
    for variant in args.variants.split(","):
        _, surrogate, steps, *step_lr = variant.split(":")
        predictor = LatentPredictor(args.model, surrogate=surrogate, steps=int(steps),
                                    step_lr=float(step_lr[0]) if step_lr else None, n_candidates=args.n_candidates)
        for seed in map(int, args.seeds.split(",")):
            for formula in formulas:
                if (variant, formula, seed) in done:
                    continue
                start = time.perf_counter()
                units = ground_state_units(formula, refs[formula])
                candidates = predictor.predict_candidates(formula, formula_units=units, seed=seed)
                seconds = time.perf_counter() - start
                scored = []
                for c in candidates:
                    metrics = evaluate(c.structure, formula, refs[formula], validator, relax=False)["predicted"]
                    scored.append({"surrogate": c.energy_per_atom, "gap": metrics["relative_gap"],
                                   "criterion": metrics["criterion"], "strict": metrics["strict"],
                                   "seed": c.info["seed"], "spacegroup": c.info["spacegroup"],
                                   "structure": c.structure.as_dict()})
                row = {"variant": variant, "formula": formula, "seed": seed, "candidates": scored,
                       "seconds": seconds}
                store.append(row)
                rows.append(row)
    summarize(rows)


if __name__ == "__main__":
    main()
