"""The paper's pure LCOM method on CSP26 at several latent-optimisation budgets (steps, step size).

    python benchmarks/csp26_pure_budget.py --model runs/lcom-v5-preview.pt --budgets 10,25,50,100,50x0.4 \
        --out benchmarks/results/v5-preview/pure-budget

Each budget ``STEPS`` or ``STEPSxSTEP_LR`` runs ``ase_lcom.benchmarks.csp.run_csp_benchmark`` (four seeds, no
relaxation, CHGNet references computed once) in its own directory under ``--out`` (rerun to resume);
``summary.json`` gives per budget the energy-criterion and strict-match counts and the compounds no seed gets
within the criterion.
"""

from __future__ import annotations

import argparse
import json
import shutil
from functools import partial
from pathlib import Path

from ase_lcom.benchmarks.csp.report import summarize
from ase_lcom.benchmarks.csp.runner import run_csp_benchmark
from ase_lcom.data.compositions import CSP26
from ase_lcom.predictors import load_predictor
from ase_lcom.store import write_json


def budget_options(budget: str) -> dict[str, float | int]:
    """``"50"`` -> steps 50 (the bundle's step size); ``"50x0.4"`` -> steps 50, step_lr 0.4."""
    steps, _, step_lr = budget.partition("x")
    return {"steps": int(steps), **({"step_lr": float(step_lr)} if step_lr else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="LCOM bundle (default: the shipped model)")
    parser.add_argument("--budgets", default="10,25,50", help="comma-separated STEPS or STEPSxSTEP_LR")
    parser.add_argument("--seeds", default="0,1,2,3")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    model = {"model": args.model} if args.model else {}
    shared = args.out / "references-chgnet.json"
    summary = {"model": args.model or "shipped default", "seeds": seeds, "budgets": {}}
    for budget in args.budgets.split(","):
        factory = partial(load_predictor, "lcom", polish="none", **model, **budget_options(budget))
        out = args.out / budget
        out.mkdir(parents=True, exist_ok=True)
        if shared.exists() and not (out / shared.name).exists():
            shutil.copy(shared, out / shared.name)  # the references are the same for every budget
        rows = run_csp_benchmark({"lcom+pure": factory}, out, relax=False, seeds=seeds)
        refs = json.loads((out / shared.name).read_text())
        if not shared.exists():
            shutil.copy(out / shared.name, shared)
        totals = summarize(rows, refs)["totals"]["lcom+pure/paper"]
        solved = {r["formula"] for r in rows if r["predicted"]["criterion"]}
        summary["budgets"][budget] = {
            "criterion": totals["criterion"], "criterion_per_seed": totals["criterion_per_seed"],
            "strict": totals["strict"], "median_above_gs_mev": round(totals["median_above_gs_mev"]),
            "never_within_criterion": sorted(set(CSP26) - solved)}
        print(budget, json.dumps(summary["budgets"][budget]), flush=True)
    write_json(args.out / "summary.json", summary, indent=1)


if __name__ == "__main__":
    main()
