"""The figure of a model card: how the CD-VAE and the two surrogates of an LCOM bundle trained."""

from __future__ import annotations

import os
from pathlib import Path

from ase_lcom.models.bundle import LCOMModel


def plot_training(model: LCOMModel, path: str | os.PathLike) -> Path:
    """Three panels: CD-VAE losses per epoch; surrogate validation MAE (COMs vs SL); the COMs gap and alpha.

    Draws with pyplot's current backend (the caller chooses it; ``ase-lcom`` uses Agg) and saves to ``path``.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    history = model.card.get("cdvae_history", [])
    epochs = [h["epoch"] for h in history]
    for key in ("train_total", "val_total", "val_lattice", "val_coord", "val_kl"):
        if history and key in history[0]:
            axes[0].plot(epochs, [h[key] for h in history], label=key)
    axes[0].set(xlabel="epoch", ylabel="loss", yscale="log", title="CD-VAE")
    surrogates = model.card.get("surrogates", {})
    for name, part in surrogates.items():
        runs = part.get("history", [])
        if runs and "val_mae" in runs[0]:
            axes[1].plot([h["epoch"] for h in runs], [h["val_mae"] for h in runs], label=name)
    axes[1].set(xlabel="epoch", ylabel="validation MAE (eV/atom)", title="surrogates")
    coms = surrogates.get("coms", {}).get("history", [])
    if coms:
        axes[2].plot([h["epoch"] for h in coms], [h["gap"] for h in coms],
                     label="gap E(data) - E(adversarial) (std. units)")
        axes[2].plot([h["epoch"] for h in coms], [h["alpha"] for h in coms], label="alpha")
    axes[2].set(xlabel="epoch", title="conservative term")
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
