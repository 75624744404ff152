"""Summary statistics of a dataset and a plot of them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ase_lcom.data.records import CrystalRecord, DataError


def summarize(records: Iterable[CrystalRecord]) -> dict[str, Any]:
    """Counts and distributions: structures per composition, energy spread per composition, cell sizes."""
    by_formula: dict[str, list[CrystalRecord]] = defaultdict(list)
    for record in records:
        by_formula[record.formula].append(record)
    if not by_formula:
        raise DataError("the dataset is empty")
    per_formula = np.array([len(v) for v in by_formula.values()])
    spreads = {
        f: float(np.ptp(e)) for f, v in by_formula.items()
        if len(e := [r.formation_energy_per_atom for r in v if r.formation_energy_per_atom is not None]) > 1
    }
    every = [r for v in by_formula.values() for r in v]
    sizes = Counter(len(r.structure) for r in every)
    e_form = [r.formation_energy_per_atom for r in every if r.formation_energy_per_atom is not None]
    return {
        "structures": len(every),
        "compositions": len(by_formula),
        "structures_per_composition": {"min": int(per_formula.min()), "median": float(np.median(per_formula)),
                                       "max": int(per_formula.max())},
        "energy_spread_per_composition_eV": {"median": float(np.median(list(spreads.values()))) if spreads else None,
                                             "max": max(spreads.values(), default=None)},
        "atoms_per_cell": dict(sorted(sizes.items())),
        "formation_energy_eV_per_atom": {"min": min(e_form, default=None), "max": max(e_form, default=None)},
        "methods": dict(Counter(str(r.info.get("method", "unknown")) for r in every)),
        "spacegroups": len({r.info.get("spacegroup") for r in every if "spacegroup" in r.info}),
        "_per_formula": {f: len(v) for f, v in by_formula.items()},
        "_spreads": spreads,
        "_e_form": e_form,
    }


def plot_summary(summary: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Four panels: structures per composition, energy spread per composition, atoms per cell, E_f histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    counts = list(summary["_per_formula"].values())
    axes[0, 0].hist(counts, bins=range(1, max(counts) + 2), color="tab:blue", align="left")
    axes[0, 0].set(xlabel="structures per composition", ylabel="compositions")
    axes[0, 1].hist(list(summary["_spreads"].values()), bins=30, color="tab:orange")
    axes[0, 1].set(xlabel="formation-energy spread within a composition (eV/atom)", ylabel="compositions")
    sizes = summary["atoms_per_cell"]
    axes[1, 0].bar(list(sizes), list(sizes.values()), color="tab:green")
    axes[1, 0].set(xlabel="atoms per cell", ylabel="structures")
    axes[1, 1].hist(summary["_e_form"], bins=40, color="tab:red")
    axes[1, 1].set(xlabel="formation energy (eV/atom)", ylabel="structures")
    fig.suptitle(title or f"{summary['structures']} structures, {summary['compositions']} compositions")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def public(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without its raw per-item arrays (for JSON and printing)."""
    return {k: v for k, v in summary.items() if not k.startswith("_")}
