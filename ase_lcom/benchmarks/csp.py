"""The CSP benchmark of the LCOM paper (Tables 1-2): 26 binary compounds, every predictor on one footing.

For each compound the reference polymorphs (rocksalt, CsCl, zincblende, wurtzite; diamond and graphite for C;
diamond for Si) are built from prototypes and relaxed with the validating calculator; the lowest is the
calculator's ground state (``gs``), and :data:`EXPERIMENTAL_GROUND_STATES` records the experimental one.

Metrics of a prediction (the predictor's best candidate, in the ground state's cell size):

- ``criterion``: the paper's ``(E_f(pred) - E_f(gs)) / |E_f(gs)| <= 0.2``, validator formation energies
  (for the elements C and Si, whose E_f(gs) is ~0 by construction, total energies per atom instead);
- ``strict``: pymatgen ``StructureMatcher()`` (stol 0.3, ltol 0.2, angle_tol 5) matches the experimental
  ground state or any reference polymorph within 10 meV/atom of the calculator's ground state;
- ``loose``: the same with the CDVAE/DiffCSP tolerances (0.5, 0.3, 10), reported only as an extra column;
- ``above_gs_mev``: energy above the ground state, meV/atom, as predicted and after relaxing the prediction;
- wall times: prediction alone and the relaxation.

Rows are appended to ``rows.jsonl`` as they finish, so an interrupted run resumes without redoing any.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Structure

from ase_lcom.benchmarks.reconstruction import MATCHERS
from ase_lcom.data.compositions import BENCHMARK_POLYMORPHS, CSP26
from ase_lcom.data.prototypes import decorate

EXPERIMENTAL_GROUND_STATES = {
    **{f: "rocksalt" for f in ("LiF", "NaF", "KF", "RbF", "CsF", "LiCl", "NaCl", "KCl", "RbCl", "MgO", "CaO",
                               "SrO", "BaO", "CdO", "MgS", "CaS", "SrS", "BaS")},
    "CsCl": "cscl", "BeO": "wurtzite", "ZnO": "wurtzite", "BeS": "zincblende", "ZnS": "zincblende",
    "CdS": "wurtzite", "C": "graphite", "Si": "diamond",
}
"""Structure type of each benchmark compound's experimental ground state (ambient conditions)."""

DEGENERACY_MEV = 10.0
"""Reference polymorphs this close (meV/atom) to the calculator's ground state also count as correct."""

ELEMENTS = ("C", "Si")


def reference_polymorphs(formula: str) -> dict[str, Structure]:
    """Unrelaxed reference polymorphs of a benchmark compound by structure type."""
    reduced = Composition(formula).reduced_formula
    wanted = {"C": ("diamond", "graphite"), "Si": ("diamond",)}.get(reduced, BENCHMARK_POLYMORPHS)
    return {name: structure for name, structure in decorate(reduced) if name in wanted}


class Validator:
    """The validating calculator: single points, relaxations and formation energies against its elements."""

    def __init__(self, calculator: str = "chgnet") -> None:
        from ase_lcom.calculators import ReferenceEnergies, get_calculator

        self.name = calculator
        self.calculator = get_calculator(calculator)
        self.references = ReferenceEnergies(calculator)

    def energy_per_atom(self, structure: Structure) -> float:
        from ase_lcom.calculators import energy_per_atom

        return energy_per_atom(structure, self.calculator)

    def formation(self, structure: Structure, energy_per_atom: float) -> float:
        return self.references.formation_energy_per_atom(structure.composition, energy_per_atom)

    def relax(self, structure: Structure, fix_symmetry: bool = False) -> tuple[Structure, float, float]:
        """Relaxed structure, its energy per atom, and the seconds taken."""
        from ase_lcom.calculators import relax

        start = time.perf_counter()
        result = relax(structure, self.calculator, fmax=0.05 if not fix_symmetry else 0.02, steps=300,
                       optimizer="BFGS" if fix_symmetry else "FIRE", fix_symmetry=fix_symmetry)
        return result.structure, result.energy_per_atom, time.perf_counter() - start


def compute_references(formulas: Sequence[str], validator: Validator, path: Path,
                       progress: bool = True) -> dict[str, dict[str, Any]]:
    """Relaxed reference polymorphs per compound (cached in ``path``; finished compounds are kept)."""
    from tqdm.auto import tqdm

    refs: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.exists() else {}
    if refs and next(iter(refs.values())).get("calculator") != validator.name:
        raise ValueError(f"{path} holds references of another calculator; use another --out directory")
    for formula in tqdm([f for f in formulas if f not in refs], desc="reference polymorphs", disable=not progress):
        polymorphs = {}
        for name, structure in reference_polymorphs(formula).items():
            relaxed, energy, _ = validator.relax(structure, fix_symmetry=True)
            polymorphs[name] = {"structure": relaxed.as_dict(), "energy_per_atom": energy,
                                "formation_energy_per_atom": validator.formation(relaxed, energy),
                                "num_atoms": len(relaxed)}
        gs = min(polymorphs, key=lambda n: polymorphs[n]["energy_per_atom"])
        refs[formula] = {"calculator": validator.name, "polymorphs": polymorphs, "ground_state": gs,
                         "experimental": EXPERIMENTAL_GROUND_STATES.get(formula)}
        path.write_text(json.dumps(refs))
    return refs


def score(reference: dict[str, Any], formula: str, energy_per_atom: float, formation: float) -> dict[str, Any]:
    """The energy metrics of one structure against a compound's references."""
    gs = reference["polymorphs"][reference["ground_state"]]
    if formula in ELEMENTS:
        ratio = (energy_per_atom - gs["energy_per_atom"]) / abs(gs["energy_per_atom"])
    else:
        ratio = (formation - gs["formation_energy_per_atom"]) / abs(gs["formation_energy_per_atom"])
    return {"formation_energy_per_atom": formation, "energy_per_atom": energy_per_atom,
            "above_gs_mev": 1000.0 * (energy_per_atom - gs["energy_per_atom"]),
            "relative_gap": ratio, "criterion": bool(ratio <= 0.2)}


def accepted_structures(reference: dict[str, Any]) -> dict[str, Structure]:
    """The experimental ground state and every polymorph within :data:`DEGENERACY_MEV` of the calculator's."""
    polymorphs = reference["polymorphs"]
    lowest = polymorphs[reference["ground_state"]]["energy_per_atom"]
    names = {n for n, p in polymorphs.items() if 1000 * (p["energy_per_atom"] - lowest) <= DEGENERACY_MEV}
    if reference.get("experimental") in polymorphs:
        names.add(reference["experimental"])
    return {n: Structure.from_dict(polymorphs[n]["structure"]) for n in sorted(names)}


def matches(structure: Structure, reference: dict[str, Any], setting: str = "strict") -> str | None:
    """Name of the accepted polymorph ``structure`` matches under a matcher setting, or None."""
    matcher = StructureMatcher(**MATCHERS[setting])
    for name, accepted in accepted_structures(reference).items():
        if matcher.fit(structure, accepted):
            return name
    return None


def evaluate(structure: Structure, formula: str, reference: dict[str, Any], validator: Validator,
             relax: bool = True) -> dict[str, Any]:
    """All metrics of one predicted structure, as predicted and (with ``relax``) after relaxation."""
    energy = validator.energy_per_atom(structure)
    row = {"predicted": {**score(reference, formula, energy, validator.formation(structure, energy)),
                         "strict": matches(structure, reference, "strict"),
                         "loose": matches(structure, reference, "cdvae"), "structure": structure.as_dict()}}
    if relax:
        relaxed, relaxed_energy, seconds = validator.relax(structure)
        row["relaxed"] = {**score(reference, formula, relaxed_energy, validator.formation(relaxed, relaxed_energy)),
                          "strict": matches(relaxed, reference, "strict"), "seconds": seconds,
                          "structure": relaxed.as_dict()}
    return row


def experimental_units(formula: str) -> int:
    """Formula units in the primitive cell of the compound's experimental ground-state structure type."""
    cell = reference_polymorphs(formula)[EXPERIMENTAL_GROUND_STATES[formula]]
    return round(len(cell) / Composition(formula).reduced_composition.num_atoms)


def ground_state_units(formula: str, reference: dict[str, Any]) -> int:
    """Formula units per cell of the calculator's ground state (2 atoms, or 4 for wurtzite and graphite)."""
    atoms = reference["polymorphs"][reference["ground_state"]]["num_atoms"]
    return max(1, int(round(atoms / Composition(formula).reduced_composition.num_atoms)))


def run_csp_benchmark(
    predictors: dict[str, Callable[[], Any]],
    out_dir: str | Path,
    formulas: Sequence[str] = CSP26,
    calculator: str = "chgnet",
    relax: bool = True,
    seeds: Sequence[int] = (0,),
    protocol: str = "paper",
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run each predictor (built lazily by its factory) on each compound with each seed (the predictor's random
    state: decoder noise, random cells, search moves); returns all rows of ``rows.jsonl``."""
    from tqdm.auto import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    validator = Validator(calculator)
    refs = compute_references(formulas, validator, out / f"references-{calculator}.json", progress)
    rows_path = out / "rows.jsonl"
    rows = [json.loads(line) for line in rows_path.read_text().splitlines()] if rows_path.exists() else []
    done = {(r["formula"], r["predictor"], r["protocol"], r["seed"]) for r in rows}
    for name, factory in predictors.items():
        todo = [(f, seed) for seed in seeds for f in formulas if (f, name, protocol, seed) not in done]
        if not todo:
            continue
        load_start = time.perf_counter()
        predictor = factory()
        load_seconds = time.perf_counter() - load_start
        for formula, seed in tqdm(todo, desc=f"csp26 {name}", disable=not progress):
            units = ground_state_units(formula, refs[formula])
            start = time.perf_counter()
            candidates = predictor.predict_candidates(formula, z=units, seed=seed)
            seconds = time.perf_counter() - start
            best = candidates[0]
            row = {"formula": formula, "predictor": name, "protocol": protocol, "z": units, "seed": seed,
                   "predict_seconds": seconds, "load_seconds": load_seconds,
                   "predictor_energy": best.energy_per_atom, "spacegroup": best.info.get("spacegroup"),
                   "trace": best.info.get("trace"),
                   **evaluate(best.structure, formula, refs[formula], validator, relax)}
            rows.append(row)
            with rows_path.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
    return rows


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


def grouped_bars(ax: Any, labels: Sequence[str], series: dict[str, Sequence[float]], ylabel: str, title: str) -> None:
    """One group of bars per label, one bar per series, a zero line and a legend."""
    width = 0.8 / len(series)
    for k, (name, values) in enumerate(series.items()):
        ax.bar(np.arange(len(labels)) + (k - (len(series) - 1) / 2) * width, values, width, label=name)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(np.arange(len(labels)), labels, rotation=90)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()


def plot_report(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    """Left: validated energy of the best lcom and sl predictions relative to the best plain CD-VAE decode, per
    compound, from the rows of the lowest seed (the seed-by-seed Figure 3 of the paper is
    :mod:`ase_lcom.benchmarks.improvement`); right: Figure 2, the surrogate energy along the optimisation for the
    best candidate of a few compounds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = min(r["seed"] for r in rows)
    by = {(r["formula"], r["predictor"]): r for r in rows if r["protocol"] == "paper" and r["seed"] == first}
    formulas = [f for f in CSP26 if (f, "cdvae") in by]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    series = {}
    for name in ("lcom", "sl"):
        values = []
        for f in formulas:
            base, row = by[(f, "cdvae")]["predicted"], by.get((f, name))
            values.append(np.nan if row is None else (base["energy_per_atom"] - row["predicted"]["energy_per_atom"])
                          / abs(base["energy_per_atom"]))
        series[name] = values
    grouped_bars(left, formulas, series, "(E_cdvae - E_pred) / |E_cdvae|  (validator)",
                 "best prediction vs the best plain decode")
    for f in formulas[:4]:
        for name, style in (("lcom", "-"), ("sl", "--")):
            trace = (by.get((f, name)) or {}).get("trace")
            if trace:
                right.plot(trace, style, label=f"{f} {name}")
    right.set_xlabel("latent gradient step")
    right.set_ylabel("surrogate E_f (eV/atom)")
    right.set_title("surrogate energy along the optimisation")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def dft_check(rows: Sequence[dict[str, Any]], refs: dict[str, dict[str, Any]], formulas: Sequence[str],
              options: dict[str, Any] | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """GPAW single points of each relaxed prediction and of the calculator's ground state: does DFT order
    them as the MLIP does?"""
    from tqdm.auto import tqdm

    from ase_lcom.calculators import energy_per_atom, get_calculator

    options = {"ecut": 300, "kpt_density": 3.0, **(options or {})}
    out = []
    for formula in tqdm(formulas, desc="GPAW cross-check", unit="compound", disable=not progress):
        reference = refs[formula]
        gs = Structure.from_dict(reference["polymorphs"][reference["ground_state"]]["structure"])
        e_gs = energy_per_atom(gs, get_calculator("gpaw", **options))
        for row in rows:
            if row["formula"] != formula or "relaxed" not in row:
                continue
            predicted = Structure.from_dict(row["relaxed"]["structure"])
            e_pred = energy_per_atom(predicted, get_calculator("gpaw", **options))
            mlip = row["relaxed"]["above_gs_mev"]
            dft = 1000 * (e_pred - e_gs)
            out.append({"formula": formula, "predictor": row["predictor"], "mlip_above_gs_mev": mlip,
                        "dft_above_gs_mev": dft,
                        "agree": bool((mlip > DEGENERACY_MEV) == (dft > DEGENERACY_MEV))})
    return out
