"""Plots of a prediction: the surrogate energy of each candidate's latent along the optimisation."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ase_lcom.predictors import Candidate


def draw_traces(ax: Any, candidates: Sequence[Candidate], title: str = "") -> None:
    """Draw each candidate's ``info["trace"]`` (surrogate E_f per latent step) on a matplotlib Axes; the best
    (first) candidate is drawn bold and labelled."""
    for rank, candidate in enumerate(candidates, 1):
        trace = candidate.info.get("trace") or []
        ax.plot(range(len(trace)), trace, lw=1.5 if rank == 1 else 0.8, alpha=1.0 if rank == 1 else 0.5,
                label="best" if rank == 1 else None)
    ax.set_xlabel("latent gradient step")
    ax.set_ylabel("surrogate E_f (eV/atom)")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()


def plot_traces(candidates: Sequence[Candidate], path: str | os.PathLike, title: str = "") -> Path:
    """Write :func:`draw_traces` as a PNG (or any format matplotlib infers from ``path``); returns the path."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    draw_traces(ax, candidates, title)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=150)
    plt.close(fig)
    return out
