"""The CSP benchmark's report: Table 1 (per compound and predictor), the totals over seeds, Table 2 (times)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ase_lcom.data.compositions import CSP26

COUNTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "criterion": lambda r: r["predicted"]["criterion"],
    "strict": lambda r: r["predicted"]["strict"] is not None,
    "loose": lambda r: r["predicted"]["loose"] is not None,
    "criterion_relaxed": lambda r: "relaxed" in r and r["relaxed"]["criterion"],
    "strict_relaxed": lambda r: "relaxed" in r and r["relaxed"]["strict"] is not None,
}
"""What ``summarize`` counts per seed, each a test of one row."""


def summarize(rows: Sequence[dict[str, Any]], refs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Totals per predictor and protocol. Counts (criterion, strict, loose, after relaxation) are per seed in
    ``*_per_seed`` and their mean over seeds without the suffix; medians of times and energies over all rows."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(f"{row['predictor']}/{row['protocol']}", []).append(row)
    totals = {}
    for key, group in groups.items():
        seeds = sorted({r["seed"] for r in group})
        counts = {name: {seed: sum(bool(test(r)) for r in group if r["seed"] == seed) for seed in seeds}
                  for name, test in COUNTS.items()}
        relaxed = [r["relaxed"] for r in group if "relaxed" in r]
        totals[key] = {
            "seeds": seeds,
            "compounds": len({r["formula"] for r in group}),
            **{name: float(np.mean(list(per_seed.values()))) for name, per_seed in counts.items()},
            **{f"{name}_per_seed": per_seed for name, per_seed in counts.items()},
            "median_above_gs_mev": float(np.median([r["predicted"]["above_gs_mev"] for r in group])),
            "median_above_gs_mev_relaxed": float(np.median([r["above_gs_mev"] for r in relaxed])) if relaxed else None,
            "median_predict_seconds": float(np.median([r["predict_seconds"] for r in group])),
            "median_with_relax_seconds": float(np.median([r["predict_seconds"] + r["relaxed"]["seconds"]
                                                          for r in group if "relaxed" in r])) if relaxed else None,
            "load_seconds": float(group[0]["load_seconds"]),
        }
    disagreements = {f: {"calculator": r["ground_state"], "experimental": r["experimental"]}
                     for f, r in refs.items() if r["ground_state"] != r["experimental"]}
    return {"totals": totals, "ground_state_disagreements": disagreements}


def count_text(total: dict[str, Any], name: str, of: bool = True) -> str:
    """``17/26`` for one seed; ``18.5/26 (17-21)`` (mean and range over seeds) for several."""
    per_seed = list(total[f"{name}_per_seed"].values())
    text = f"{total[name]:g}" + (f"/{total['compounds']}" if of else "")
    return text if len(per_seed) == 1 else f"{text} ({min(per_seed)}-{max(per_seed)})"


def markdown_report(rows: Sequence[dict[str, Any]], refs: dict[str, dict[str, Any]]) -> str:
    """Table 1 (a row per compound, a column per predictor: criterion / strict, as predicted -> relaxed; with
    several seeds, how many seeds pass), the totals (mean and range over seeds), Table 2 (times), and where the
    calculator's ground state differs from experiment."""
    summary = summarize(rows, refs)
    keys = list(summary["totals"])
    formulas = [f for f in CSP26 if any(r["formula"] == f for r in rows)]
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault((r["formula"], f"{r['predictor']}/{r['protocol']}"), []).append(r)
    lines = ["| compound | gs (calc / expt) | " + " | ".join(keys) + " |",
             "| --- | --- | " + " | ".join("---" for _ in keys) + " |"]
    for formula in formulas:
        ref = refs[formula]
        cells = [compound_cell(by.get((formula, key), [])) for key in keys]
        lines.append(f"| {formula} | {ref['ground_state']} / {ref['experimental']} | " + " | ".join(cells) + " |")
    t = summary["totals"]
    lines.append("| **criterion (20%)** | | " + " | ".join(f"**{count_text(t[k], 'criterion')}**" for k in keys) + " |")
    lines.append("| **strict match** | | " + " | ".join(f"**{count_text(t[k], 'strict')}**" for k in keys) + " |")
    lines.append("| loose match (CDVAE tol.) | | " + " | ".join(count_text(t[k], "loose", False) for k in keys) + " |")
    lines.append("| after relaxation: criterion / strict | | " + " | ".join(
        f"{count_text(t[k], 'criterion_relaxed', False)} / {count_text(t[k], 'strict_relaxed', False)}"
        for k in keys) + " |")
    lines.append("| seeds | | " + " | ".join(",".join(map(str, t[k]["seeds"])) for k in keys) + " |")
    lines += ["", "Cells: ✓/✗ energy criterion, `s` strict structure match, then energy above the calculator's "
              "ground state (meV/atom); `→` the same after relaxing the prediction with the validator. With several "
              "seeds: seeds passing the criterion, `s` seeds matching strictly, and the median energy above the ground "
              "state. Totals with several seeds: mean over seeds (range).", "",
              "| predictor | model load (s) | median prediction (s) | median prediction + relaxation (s) | "
              "median above gs (meV/atom), predicted / relaxed |", "| --- | --- | --- | --- | --- |"]
    for key in keys:
        s = t[key]
        relaxed = "" if s["median_above_gs_mev_relaxed"] is None else f"{s['median_above_gs_mev_relaxed']:.0f}"
        with_relax = "" if s["median_with_relax_seconds"] is None else f"{s['median_with_relax_seconds']:.1f}"
        lines.append(f"| {key} | {s['load_seconds']:.1f} | {s['median_predict_seconds']:.2f} | {with_relax} | "
                     f"{s['median_above_gs_mev']:.0f} / {relaxed} |")
    if summary["ground_state_disagreements"]:
        lines += ["", "Calculator ground state differs from experiment: " + ", ".join(
            f"{f} ({d['calculator']} vs {d['experimental']})"
            for f, d in summary["ground_state_disagreements"].items()) + "."]
    return "\n".join(lines) + "\n"


def compound_cell(rows: Sequence[dict[str, Any]]) -> str:
    """One compound and predictor in Table 1: its row, or the pass counts over its seeds' rows."""
    if not rows:
        return ""
    if len(rows) > 1:
        passed = sum(bool(COUNTS["criterion"](r)) for r in rows)
        strict = sum(bool(COUNTS["strict"](r)) for r in rows)
        gap = np.median([r["predicted"]["above_gs_mev"] for r in rows])
        return f"{passed}/{len(rows)}, s {strict}/{len(rows)}, {gap:.0f}"

    def mark(m: dict[str, Any]) -> str:
        return f"{'✓' if m['criterion'] else '✗'}{'s' if m['strict'] else ''} {m['above_gs_mev']:.0f}"

    return " → ".join(mark(rows[0][stage]) for stage in ("predicted", "relaxed") if stage in rows[0])
