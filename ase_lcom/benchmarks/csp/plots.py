"""The CSP benchmark's figure: predictions against the plain CD-VAE decode, and surrogate energy traces.

Plotting functions import pyplot when called and leave the backend to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ase_lcom.data.compositions import CSP26


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
