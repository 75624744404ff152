"""Figure 3 of the LCOM paper: how much latent optimisation improves on its seed, per compound, COMs vs SL.

For each compound and each seed latent, the seed is decoded as it is and after ``steps`` gradient steps on each
surrogate, with the same decoder noise, and both crystals are scored by a validating calculator. Seeds
(``start``): ``relaxed-random``, the paper's protocol (random symmetric cells of the compound's cell size,
relaxed by the validating calculator to their nearest local minimum, then encoded; the paper relaxed with GPAW),
or ``predictor``, the seeds the predictor itself uses (data of the composition, prototypes, random cells). The
paper's measure per seed is the relative improvement ``(E(seed) - E(optimised)) / |E(seed)|``; positive means
the optimisation found a better structure. ``E`` is the formation energy per atom, or for an element (C, Si,
whose formation energies are near zero) the total energy per atom, as in the CSP benchmark's criterion.

Each row also records the energy drop each surrogate predicts along its own optimisation (eV/atom,
``<surrogate>_predicted_drop``), to set against the drop the calculator sees: an over-optimistic surrogate
promises drops the decoded crystals do not deliver, which is what conservative training is meant to prevent;
and how far the latent moved (``<surrogate>_distance``, Euclidean, raw latent units).

The relaxed seeds depend only on the compound, its cell size, the run and the calculator, not on the model:
``seed_cache`` (a JSON file, rewritten atomically as seeds are added) keeps them, so other models are compared
on the very same seeds without relaxing them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ase_lcom.models.bundle import LCOMModel, composition_tensor
from ase_lcom.models.surrogate import descend
from ase_lcom.store import read_json, write_json

SURROGATES = ("coms", "sl")
STARTS = ("relaxed-random", "predictor")


def seed_improvements(
    formulas: Sequence[str],
    model: LCOMModel,
    units: dict[str, int],
    calculator: str = "chgnet",
    n_seeds: int = 8,
    seed: int | Sequence[int] = 0,
    start: str = "relaxed-random",
    steps: int | None = None,
    step_lr: float | None = None,
    progress: bool = True,
    seed_cache: str | Path | None = None,
) -> list[dict[str, Any]]:
    """One row per compound: energies (eV/atom, see the module docstring) of the decoded seeds and of the
    decoded optimised latents per surrogate, seed by seed. ``seed`` (one or several runs) draws the seeds and the
    decoder noise; each run adds ``n_seeds`` seeds per compound (``run`` says which). ``steps`` and ``step_lr``
    set the optimisation budget for both surrogates (default: each surrogate's training settings). ``seed_cache``:
    JSON file of relaxed seeds (``relaxed-random`` start) read and extended here."""
    from pymatgen.core import Structure
    from tqdm.auto import tqdm

    from ase_lcom.benchmarks.csp.references import Validator
    from ase_lcom.data.prototypes import random_structure
    from ase_lcom.lcom.predictor import LCOMPredictor
    from ase_lcom.structure import cell_composition

    if start not in STARTS:
        raise ValueError(f"unknown start {start!r}: choose from {', '.join(STARTS)}")
    if (steps is not None and steps < 1) or (step_lr is not None and step_lr <= 0):
        raise ValueError(f"the optimisation budget needs steps >= 1 and step_lr > 0, got {steps} and {step_lr}")

    predictor = LCOMPredictor(model) if start == "predictor" else None
    validator = Validator(calculator)
    surrogates = {name: model.surrogate(name) for name in SURROGATES}

    def score(structures: Sequence[Any]) -> list[float]:
        energies = [validator.energy_per_atom(s) for s in structures]
        if len(structures[0].composition.elements) == 1:
            return energies
        return [validator.formation(s, e) for s, e in zip(structures, energies, strict=True)]

    runs = [seed] if isinstance(seed, int) else list(seed)
    cache_path = Path(seed_cache) if seed_cache is not None else None
    cached = read_json(cache_path, default={}) if cache_path is not None else {}

    def relaxed_seeds(formula: str, run: int) -> list[Any]:
        key = f"{calculator}/{formula}/{units[formula]}/{run}/{n_seeds}"
        if key not in cached:
            rng = np.random.default_rng(run)
            cell = cell_composition(formula, units[formula])
            cached[key] = [validator.relax(random_structure(cell, rng))[0].as_dict() for _ in range(n_seeds)]
            if cache_path is not None:
                write_json(cache_path, cached)
        return [Structure.from_dict(d) for d in cached[key]]

    rows = []
    for formula in tqdm(formulas, desc="seed improvement", disable=not progress):
        row: dict[str, Any] = {"formula": formula, "z": units[formula], "start": start, "steps": steps,
                               "step_lr": step_lr, "run": [], "seeds": [], "seed_energy": [],
                               **{key: [] for name in SURROGATES
                                  for key in (name, f"{name}_predicted_drop", f"{name}_distance")}}
        for run in runs:
            if predictor is not None:
                latents, cells, labels, _ = predictor.seeds(formula, units[formula], n_seeds,
                                                            np.random.default_rng(run))
                latents, cells, labels = latents[:n_seeds], cells[:n_seeds], labels[:n_seeds]
            else:
                relaxed = relaxed_seeds(formula, run)
                latents, cells, labels = model.encode(relaxed), [s.composition for s in relaxed], [start] * n_seeds
                row.setdefault("relaxed_seed_energy", []).extend(score(relaxed))
            row["run"] += [run] * len(labels)
            row["seeds"] += labels
            row["seed_energy"] += score(model.decode(latents, cells, seed=run))
            for name, (surrogate, settings) in surrogates.items():
                final, trace = descend(surrogate, latents, composition_tensor(cells),
                                       settings.steps if steps is None else steps,
                                       settings.step_lr if step_lr is None else step_lr)
                row[name] += score(model.decode(final, cells, seed=run))
                row[f"{name}_predicted_drop"] += ((trace[0] - trace[-1]) * surrogate.energy_std).tolist()
                row[f"{name}_distance"] += (final - latents).norm(dim=1).tolist()
        rows.append(row)
    return rows


def relative_improvement(row: dict[str, Any], surrogate: str) -> np.ndarray:
    """Per-seed ``(E_seed - E_opt) / |E_seed|`` of one compound's row."""
    before, after = np.asarray(row["seed_energy"]), np.asarray(row[surrogate])
    return (before - after) / np.abs(before)


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per surrogate: median and mean over compounds of the per-compound median improvement, how many compounds
    improved (median > 0), the mean and share improved over all seeds of all compounds, and the median energy drop
    over all seeds as realised (calculator) and as predicted by the surrogate (eV/atom)."""
    out = {}
    for name in SURROGATES:
        per_row = [relative_improvement(r, name) for r in rows]
        medians = [float(np.median(values)) for values in per_row]
        every = np.concatenate(per_row)
        realised = np.concatenate([np.subtract(r["seed_energy"], r[name]) for r in rows])
        predicted = np.concatenate([r.get(f"{name}_predicted_drop", []) for r in rows])
        out[name] = {"median_improvement": float(np.median(medians)), "mean_improvement": float(np.mean(medians)),
                     "median_realised_drop": float(np.median(realised)),
                     "median_predicted_drop": float(np.median(predicted)) if len(predicted) else None,
                     "compounds_improved": sum(m > 0 for m in medians), "compounds": len(rows),
                     "mean_over_seeds": float(np.mean(every)), "seeds_improved": float(np.mean(every > 0)),
                     "per_compound": dict(zip([r["formula"] for r in rows], medians, strict=True))}
    return out


def plot_improvements(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    """Bars of the per-compound median improvement, COMs next to SL (the paper's Figure 3), and the mean over
    compounds in the legend."""
    import matplotlib.pyplot as plt

    from ase_lcom.benchmarks.csp.plots import grouped_bars

    fig, ax = plt.subplots(figsize=(10, 3.8))
    series = {}
    for name, label in (("coms", "LCOM (conservative)"), ("sl", "SL")):
        values = [100 * float(np.median(relative_improvement(r, name))) for r in rows]
        series[f"{label}: mean {np.mean(values):+.1f}%"] = values
    grouped_bars(ax, [r["formula"] for r in rows], series, "energy improvement over the seed (%)",
                 f"validated energy, median over seeds ({rows[0].get('start', 'predictor')}), after vs before "
                 "latent optimisation")
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def write_report(rows: Sequence[dict[str, Any]], out_dir: str | Path) -> dict[str, Any]:
    """``improvement.json`` (rows and summary) and ``improvement.png`` in ``out_dir``; returns the summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(rows)
    write_json(out / "improvement.json", {"summary": summary, "rows": list(rows)}, indent=1)
    plot_improvements(rows, out / "improvement.png")
    return summary
