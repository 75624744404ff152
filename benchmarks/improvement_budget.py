"""Figure 3 at several optimisation budgets: does the conservative surrogate still beat the plain one?

Run: python benchmarks/improvement_budget.py --out benchmarks/results/improvement-budget \
         50x0.05=benchmarks/results/improvement/improvement.json 200x0.05=runs/fig3-200/improvement.json ...

Each argument is ``label=path`` of an ``ase-lcom benchmark improvement`` result (``--steps``/``--step-lr`` set
the budget). Per budget and surrogate, over all seeds of all compounds: the median relative improvement, the
share of seeds improved, the 10th percentile (how bad the bad moves are), compounds improved (median > 0), and
the share of seeds where the COMs-optimised crystal is lower in energy than the SL-optimised one (same seed, same
decoder noise), and the median energy drop the calculator sees against the one the surrogate predicted. Writes
``budget.md``, ``budget.json`` and ``budget.png`` to ``--out``.
"""

import argparse
import json
from pathlib import Path

import numpy as np


def budget_rows(results: dict[str, list[dict]]) -> list[dict]:
    """One row per budget label with the figures listed in the module docstring."""
    from ase_lcom.benchmarks.improvement import SURROGATES, relative_improvement, summarize

    out = []
    for label, rows in results.items():
        summary = summarize(rows)
        row = {"budget": label, "seeds": int(sum(len(r["seed_energy"]) for r in rows))}
        every = {name: np.concatenate([relative_improvement(r, name) for r in rows]) for name in SURROGATES}
        for name in SURROGATES:
            row[name] = {"median": float(np.median(every[name])), "p10": float(np.percentile(every[name], 10)),
                         "improved": summary[name]["seeds_improved"],
                         "realised_drop": summary[name]["median_realised_drop"],
                         "predicted_drop": summary[name]["median_predicted_drop"],
                         "compounds_improved": summary[name]["compounds_improved"], "compounds": len(rows)}
        row["coms_below_sl"] = float(np.mean(every["coms"] > every["sl"]))
        out.append(row)
    return out


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ase_lcom.store import write_json, write_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="label=path/to/improvement.json")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    results = {}
    for item in args.results:
        label, _, path = item.partition("=")
        results[label] = json.loads(Path(path).read_text())["rows"]
    rows = budget_rows(results)
    lines = ["| budget (steps x step size) | seeds | surrogate | median improvement | seeds improved | 10th percentile "
             "| compounds improved | COMs below SL (per seed) | median drop, eV/atom: realised / predicted |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        for name in ("coms", "sl"):
            s = row[name]
            lines.append(f"| {row['budget']} | {row['seeds']} | {name} | {100 * s['median']:+.1f}% | "
                         f"{100 * s['improved']:.0f}% | {100 * s['p10']:+.0f}% | {s['compounds_improved']}/"
                         f"{s['compounds']} | {100 * row['coms_below_sl']:.0f}% | {s['realised_drop']:+.3f} / "
                         + ("-" if s["predicted_drop"] is None else f"{s['predicted_drop']:+.3f}") + " |")
    args.out.mkdir(parents=True, exist_ok=True)
    write_text(args.out / "budget.md", "\n".join(lines) + "\n")
    write_json(args.out / "budget.json", rows, indent=1)
    print("\n".join(lines))

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    x = np.arange(len(rows))
    for k, (key, title) in enumerate((("median", "median improvement (%)"), ("improved", "seeds improved (%)"),
                                      ("p10", "10th percentile (%)"))):
        for shift, name, label in ((-0.2, "coms", "COMs"), (0.2, "sl", "SL")):
            axes[k].bar(x + shift, [100 * r[name][key] for r in rows], width=0.4, label=label)
        axes[k].set_xticks(x, [r["budget"] for r in rows])
        axes[k].set_title(title)
        axes[k].axhline(50 if key == "improved" else 0, color="k", lw=0.6)
    axes[0].set_xlabel("latent steps x step size")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(args.out / "budget.png", dpi=150)
    print(f"written: {args.out / 'budget.md'}, {args.out / 'budget.png'}")


if __name__ == "__main__":
    main()
