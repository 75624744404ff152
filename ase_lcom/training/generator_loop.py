"""What the fixed-lattice generators' training loops share: the template record stored in checkpoints,
translation augmentation, the resumable epoch loop, the history file and loss-curve plots.

A training directory holds ``last.pt`` (rewritten atomically after every epoch: weights, optimizer states,
history) and ``history.json``; rerunning the same training with the same directory continues from ``last.pt``
(:func:`check_resume`: same template and settings, more epochs or time allowed). Every random draw of epoch
``e`` comes from generators seeded by ``(seed, e)``, so a resumed run repeats exactly what an uninterrupted one
would have done.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pymatgen.core import Lattice, Structure

from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.errors import LCOMError
from ase_lcom.models.checkpoints import save_checkpoint
from ase_lcom.store import check_unchanged

CHECKPOINT_FORMAT = "ase_lcom.generator"
"""The ``format`` of every generator checkpoint; its ``generator`` entry names the generator."""


class GeneratorTrainingError(LCOMError, ValueError):
    """A dataset or setting cannot be used to train a generator."""


def template_record(dataset: FixedLatticeDataset) -> dict[str, Any]:
    """The dataset's template as plain values (lattice, per-site species, species blocks, name)."""
    return {"lattice": dataset.lattice.matrix.tolist(), "species": [site.specie.symbol for site in dataset.template],
            "species_order": list(dataset.species_order), "species_counts": dataset.species_counts(),
            "name": dataset.name}


RESUMABLE_SETTINGS = ("epochs", "max_seconds", "device")
"""Training settings a resumed run may change."""


def check_resume(path: Path, content: dict[str, Any], dataset: FixedLatticeDataset,
                 train_config: dict[str, Any] | None, model_config: dict[str, Any] | None) -> None:
    """Refuse to resume the checkpoint ``path`` (its ``content``) on another template than ``dataset``'s or with
    other training or model settings than it holds (only :data:`RESUMABLE_SETTINGS` may change; settings not
    given, ``None``, are the checkpoint's).

    Raises
    ------
    GeneratorTrainingError
        One line naming the template or the first setting that differs.
    """
    ours, stored = template_record(dataset), content["template"]
    if ours["species"] != stored["species"] or not np.allclose(ours["lattice"], stored["lattice"], atol=1e-3):
        raise GeneratorTrainingError(f"{path} was trained on another template than dataset {dataset.name!r}")
    if train_config is not None:
        check_unchanged("training setting", content["train_config"], train_config, path,
                        may_change=RESUMABLE_SETTINGS, error=GeneratorTrainingError)
    if model_config is not None:
        check_unchanged("model setting", content["config"], model_config, path, error=GeneratorTrainingError)


def structures_from_frac(template: dict[str, Any], frac: np.ndarray) -> list[Structure]:
    """Structures of ``template`` (from :func:`template_record`) from ``(n, atoms, 3)`` fractional coordinates."""
    lattice = Lattice(template["lattice"])
    return [Structure(lattice, template["species"], np.mod(f, 1.0)) for f in np.asarray(frac, dtype=float)]


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The CPU generator behind every random draw of one epoch."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def translation_shifts(translations: int) -> torch.Tensor:
    """``(translations**3, 3)`` fractional shifts by whole unit cells of a ``translations``-fold supercell
    (the zero shift first)."""
    if translations < 1:
        raise GeneratorTrainingError(f"translations must be a positive integer, got {translations}")
    steps = torch.arange(translations, dtype=torch.float64) / translations
    return torch.cartesian_prod(steps, steps, steps).reshape(-1, 3)


def supercell_translations(lattice: Lattice, unit_length: float, tol: float = 1e-3) -> int:
    """Repeats of a cubic unit cell of edge ``unit_length`` along each axis of a supercell ``lattice``.

    Used for the ``translations`` setting: a 4 x 4 x 4 supercell of a 3.6 Angstrom FCC cell gives 4, i.e. 64
    shifted copies of every structure (the identity and 63 translations by whole cells).
    """
    repeats = np.array(lattice.abc) / unit_length
    count = int(round(repeats[0]))
    if count < 1 or np.abs(repeats - count).max() > tol * count:
        raise GeneratorTrainingError(f"lattice lengths {lattice.abc} are not one common multiple of {unit_length} A")
    return count


def augmented_order(num_structures: int, num_shifts: int, generator: torch.Generator,
                    per_structure: int = 0) -> torch.Tensor:
    """A random order of (structure, shift) pairs, as ``(count, 2)`` indices.

    ``per_structure`` 0 (or at least ``num_shifts``) takes every pair; ``k`` draws ``k`` distinct shifts of
    each structure, so an epoch passes ``k`` times over the structures instead of ``num_shifts`` times.
    """
    if per_structure < 0:
        raise GeneratorTrainingError(f"shifts per structure must be 0 (all) or positive, got {per_structure}")
    if per_structure == 0 or per_structure >= num_shifts:
        flat = torch.randperm(num_structures * num_shifts, generator=generator)
        return torch.stack([flat // num_shifts, flat % num_shifts], dim=1)
    shifts = torch.rand((num_structures, num_shifts), generator=generator).argsort(dim=1)[:, :per_structure]
    pairs = torch.stack([torch.arange(num_structures).repeat_interleave(per_structure), shifts.reshape(-1)], dim=1)
    return pairs[torch.randperm(len(pairs), generator=generator)]


def batch_slices(count: int, batch_size: int, drop_last: bool) -> list[slice]:
    """Batch boundaries; with ``drop_last`` a short last batch is dropped unless it is the only one."""
    ends = list(range(batch_size, count + 1, batch_size))
    if not drop_last and (not ends or ends[-1] < count):
        ends.append(count)
    if not ends:
        ends = [count]
    starts = [0, *ends[:-1]]
    return [slice(s, e) for s, e in zip(starts, ends, strict=True)]


def write_json(data: Any, path: Path) -> None:
    """Write JSON atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as handle:
        json.dump(data, handle, indent=1)
    os.replace(handle.name, path)


def run_epochs(
    out_dir: Path,
    epochs: int,
    history: list[dict[str, Any]],
    epoch_fn: Callable[[int, bool], dict[str, float]],
    checkpoint_fn: Callable[[list[dict[str, Any]]], dict[str, Any]],
    desc: str,
    progress: bool = True,
    callback: Callable[[dict[str, Any]], None] | None = None,
    max_seconds: float | None = None,
    write: bool = True,
) -> list[dict[str, Any]]:
    """Run epochs ``len(history) .. epochs - 1``, checkpointing each one.

    Parameters
    ----------
    epoch_fn
        ``epoch_fn(epoch, progress)`` trains one epoch and returns its mean losses.
    checkpoint_fn
        ``checkpoint_fn(history)`` returns the checkpoint content after the last epoch of ``history``.
    max_seconds
        Stop before an epoch once the recorded epochs (of this and earlier, interrupted runs) took this long.
    write
        Write checkpoints and the history (``False`` on the ranks of a distributed run other than 0).
    """
    from tqdm.auto import tqdm

    bar = tqdm(range(len(history), epochs), desc=desc, unit="epoch", disable=not progress or not write)
    for epoch in bar:
        if max_seconds is not None and sum(r["seconds"] for r in history) >= max_seconds:
            break
        start = time.perf_counter()
        losses = epoch_fn(epoch, progress)
        record = {"epoch": epoch + 1, **losses, "seconds": time.perf_counter() - start}
        history.append(record)
        if write:
            save_checkpoint(checkpoint_fn(history), out_dir / "last.pt")
            write_json(history, out_dir / "history.json")
        bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()})
        if callback is not None:
            callback(record)
    return history


def plot_loss_curves(history: Sequence[dict[str, Any]], keys: Sequence[str] | None = None,
                     ax: Any = None, path: str | os.PathLike | None = None) -> Any:
    """Plot per-epoch losses from a training history; returns the Axes.

    Parameters
    ----------
    history
        Records with an ``epoch`` entry (``history.json`` or a generator's ``history``).
    keys
        Entries to plot (every numeric entry but ``epoch``, ``seconds`` and ``lr`` by default).
    ax
        Matplotlib Axes to draw on (a new figure when omitted).
    path
        Save the figure there as well.
    """
    if not history:
        raise GeneratorTrainingError("no training history to plot")
    if keys is None:
        keys = [k for k, v in history[0].items() if k not in ("epoch", "seconds", "lr") and isinstance(v, int | float)]
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=(6, 4)).add_subplot()
    epochs = [r["epoch"] for r in history]
    for key in keys:
        ax.plot(epochs, [r.get(key, np.nan) for r in history], label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    if path is not None:
        ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    return ax
