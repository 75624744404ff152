"""Generated-against-reference plots of the Dismai-Bench metrics.

Each function draws on a given matplotlib ``Axes`` (``ax``) or, with ``path``, on a new figure saved there;
pyplot is imported only when a figure has to be created.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ase_lcom.errors import MetricError
from ase_lcom.metrics.alloy import DEFAULT_SPECIES
from ase_lcom.metrics.distributions import RDF_BIN_WIDTH, angle_bin_edges, rdf_bin_centres


def _target(ax, path: str | os.PathLike | None, figsize: tuple[float, float]):
    """The Axes to draw on and the figure to save (``None`` when the caller passed ``ax``)."""
    if (ax is None) == (path is None):
        raise MetricError("pass exactly one of ax (to draw on) or path (to save a new figure)")
    if ax is not None:
        return ax, None
    import matplotlib.pyplot as plt

    fig, new_ax = plt.subplots(figsize=figsize)
    return new_ax, fig


def _finish(fig, path: str | os.PathLike | None) -> None:
    if fig is None:
        return
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def _mean_curve(values: np.ndarray, n: int, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    arr = arr[None, :] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != n:
        raise MetricError(f"{name} must have {n} values per structure, got shape {np.shape(values)}")
    return arr.mean(axis=0)


def plot_rdf(reference: np.ndarray, generated: np.ndarray, ax=None, path: str | os.PathLike | None = None,
             labels: tuple[str, str] = ("reference", "generated"), bin_width: float = RDF_BIN_WIDTH):
    """Set-averaged g(r) of the reference and generated sets (rows of :func:`radial_distribution` values)."""
    n = np.shape(reference)[-1]
    r = rdf_bin_centres(r_max=n * bin_width, bin_width=bin_width)
    ax, fig = _target(ax, path, (5.0, 3.5))
    ax.plot(r, _mean_curve(reference, n, "reference"), label=labels[0], color="k")
    ax.plot(r, _mean_curve(generated, n, "generated"), label=labels[1], color="C1", linestyle="--")
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("g(r)")
    ax.legend()
    _finish(fig, path)
    return ax


def plot_bond_angles(reference: np.ndarray, generated: np.ndarray, ax=None, path: str | os.PathLike | None = None,
                     labels: tuple[str, str] = ("reference", "generated")):
    """Set-averaged bond-angle distributions (rows of :func:`bond_angle_distribution` fractions)."""
    n = np.shape(reference)[-1]
    edges = angle_bin_edges(180.0 / n)
    centres = 0.5 * (edges[1:] + edges[:-1])
    ax, fig = _target(ax, path, (5.0, 3.5))
    ax.plot(centres, _mean_curve(reference, n, "reference"), label=labels[0], color="k")
    ax.plot(centres, _mean_curve(generated, n, "generated"), label=labels[1], color="C1", linestyle="--")
    ax.set_xlabel("bond angle (degrees)")
    ax.set_ylabel("fraction per bin")
    ax.set_xlim(0, 180)
    ax.legend()
    _finish(fig, path)
    return ax


def pair_labels(species: Sequence[str] = DEFAULT_SPECIES) -> list[str]:
    """Labels of the unordered species pairs in fingerprint / Warren-Cowley order (``Cr-Cr, Cr-Fe, ...``)."""
    return [f"{a}-{b}" for i, a in enumerate(species) for b in species[i:]]


def plot_sro(reference: np.ndarray, generated: np.ndarray, shell: int = 1, species: Sequence[str] = DEFAULT_SPECIES,
             ax=None, path: str | os.PathLike | None = None, labels: tuple[str, str] = ("reference", "generated")):
    """Distributions of the Warren-Cowley parameters of one shell, one box pair per species pair.

    ``reference`` and ``generated`` are ``(n_structures, n_shells, n_pairs)`` arrays of :func:`warren_cowley`
    results; ``shell`` counts from 1 in that array's shell axis.
    """
    ref, gen = np.asarray(reference, dtype=float), np.asarray(generated, dtype=float)
    names = pair_labels(species)
    for arr, what in ((ref, "reference"), (gen, "generated")):
        if arr.ndim != 3 or arr.shape[2] != len(names) or not 1 <= shell <= arr.shape[1]:
            raise MetricError(f"{what} SRO must be (n_structures, n_shells >= {shell}, {len(names)}), got {arr.shape}")
    ax, fig = _target(ax, path, (6.0, 3.5))
    pos = np.arange(len(names))
    for offset, arr, colour, label in ((-0.18, ref, "0.4", labels[0]), (0.18, gen, "C1", labels[1])):
        parts = ax.boxplot(arr[:, shell - 1, :], positions=pos + offset, widths=0.3, patch_artist=True,
                           showfliers=False)
        for box in parts["boxes"]:
            box.set_facecolor(colour)
        parts["boxes"][0].set_label(label)
    ax.axhline(0.0, color="k", linewidth=0.5)
    ax.set_xticks(pos, names)
    ax.set_ylabel(f"Warren-Cowley α, shell {shell}")
    ax.legend()
    _finish(fig, path)
    return ax
