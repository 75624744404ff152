"""Training an M3GNet potential with matgl's own API on labelled frames (energies, forces, stresses).

Frames are rows of an ASE database whose atoms carry a ``SinglePointCalculator`` (``energy`` in eV,
``forces`` in eV/A, ``stress`` in eV/A^3 with ASE's sign) and the key ``frame_of``
(:mod:`ase_lcom.data.perturbed_frames`, ``data generate --keep-frames``). matgl wants stresses in GPa with the same
sign as ASE (both are ``(1/V) dE/d(strain)``): labels are ASE stresses times ``EV_PER_ANG3_TO_GPA``.

A training directory holds the potential as matgl saves it (``model.json``, ``model.pt``, ``state.pt``; what
``matgl.load_model`` and ``get_calculator("m3gnet", model=DIR)`` read, rewritten after every epoch),
``train_config.json``, ``split.json`` (compositions per split), ``history.csv`` (per-epoch mean absolute errors),
``metrics.json`` (the held-out errors of the final potential), ``coverage.json`` (the elements of the training
frames: the only ones the calculator answers for, as a fine-tune moves them to its labels' energy zero),
``loss_curves.png`` and Lightning's
``checkpoints/last.ckpt``; rerunning the same training on the same directory resumes from that checkpoint.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ase import Atoms
from lightning.pytorch.callbacks import Callback, TQDMProgressBar
from pymatgen.core import Composition, Element, Structure

from ase_lcom.calculators import M3GNET_COVERAGE_FILE
from ase_lcom.data.records import CrystalRecord
from ase_lcom.data.splits import split_by_composition
from ase_lcom.errors import LCOMError
from ase_lcom.store import read_json, write_json, write_text
from ase_lcom.structure import to_structure
from ase_lcom.training.splits import SPLIT_FILE, validation_compositions, write_split

HISTORY_FIELDS = ("epoch", "seconds", "lr", *(f"{split}_{quantity}_mae" for split in ("train", "val")
                                             for quantity in ("energy", "force", "stress")))
"""Columns of ``history.csv``: energy MAE in eV/atom, force in eV/A, stress in GPa."""
_LOGGED = {"energy": "Energy_MAE", "force": "Force_MAE", "stress": "Stress_MAE"}


class M3GNetTrainingError(LCOMError, ValueError):
    """Frames or settings that cannot train an M3GNet potential."""


@dataclass(frozen=True)
class M3GNetConfig:
    """Size of a new M3GNet (matgl's ``M3GNet`` arguments; the rest keep matgl's defaults)."""

    units: int = 64
    nblocks: int = 3
    cutoff: float = 5.0
    threebody_cutoff: float = 4.0


@dataclass(frozen=True)
class M3GNetTrainConfig:
    """Optimisation settings. ``max_seconds`` caps the training time summed over resumed runs."""

    epochs: int = 20
    batch_size: int = 16
    lr: float = 1e-3
    energy_weight: float = 1.0
    force_weight: float = 1.0
    stress_weight: float = 0.1
    val_fraction: float = 0.1
    hold_out: tuple[str, ...] = ()
    """Compositions validated on whatever the split would do (e.g. ones a fine-tuning start trained on)."""
    seed: int = 0
    max_force: float = 20.0
    """Frames with a larger force component (eV/A) are dropped as unphysical labels."""
    max_seconds: float | None = field(default=None, compare=False)


# ------------------------------------------------------------------------------------------------- frames
def read_frames(path: str | os.PathLike, label_calculator: str | None = None) -> list[Atoms]:
    """The labelled frames (rows with ``frame_of``) of an ASE database, optionally of one labelling calculator.

    Raises
    ------
    M3GNetTrainingError
        When the file is missing, holds no such frames, or a frame lacks energy, forces or stress.
    """
    from ase_lcom.data.frames import read_frames as frame_rows

    if not Path(path).is_file():
        raise M3GNetTrainingError(f"frame database not found: {path}")
    frames = list(frame_rows(path, label_calculator))
    for atoms in frames:
        results = getattr(atoms.calc, "results", {})
        missing = [key for key in ("energy", "forces", "stress") if key not in results]
        if missing:
            raise M3GNetTrainingError(f"frame {atoms.info.get('frame_index')} of {atoms.info['frame_of']} in {path} "
                                      f"has no {', '.join(missing)}")
        atoms.info.setdefault("label_calculator", "")
    if not frames:
        which = f" labelled by {label_calculator}" if label_calculator else ""
        raise M3GNetTrainingError(f"{path} holds no frames{which} (rows with a frame_of key)")
    return frames


def usable_frames(frames: Sequence[Atoms], cutoff: float, max_force: float) -> list[Atoms]:
    """Frames whose every atom has a neighbour within ``cutoff`` and whose forces stay below ``max_force``."""
    from ase.neighborlist import neighbor_list

    kept = []
    for atoms in frames:
        centres = neighbor_list("i", atoms, cutoff)
        if len(set(centres.tolist())) == len(atoms) and np.abs(atoms.calc.results["forces"]).max() <= max_force:
            kept.append(atoms)
    return kept


def stress_label(atoms: Atoms) -> np.ndarray:
    """matgl's stress label (3x3, GPa) of a frame: ASE's stress (eV/A^3, Voigt) in GPa, same sign."""
    from ase.stress import voigt_6_to_full_3x3_stress
    from matgl.utils.constants import EV_PER_ANG3_TO_GPA

    stress = np.asarray(atoms.calc.results["stress"], dtype=float)
    return (voigt_6_to_full_3x3_stress(stress) if stress.shape == (6,) else stress.reshape(3, 3)) * EV_PER_ANG3_TO_GPA


def frame_splits(structures: Sequence[Structure], val_fraction: float, seed: int,
                 init: str | os.PathLike | None = None, hold_out: Sequence[str] = ()) -> dict[str, list[CrystalRecord]]:
    """``train``/``val`` frame indices (as records whose ``id`` is the index), no composition in both.

    When fine-tuning ``init``, the compositions it was validated on stay in validation and those it trained on
    stay in training (held out, they would not be); only the compositions new to it are drawn by ``val_fraction``.
    The compositions in ``hold_out`` (reduced formulas) go to validation in every case.
    """
    records = [CrystalRecord(structure, id=str(k)) for k, structure in enumerate(structures)]
    held = {Composition(f).reduced_formula for f in hold_out}
    seen: set[str] = set()
    if init is not None:
        held |= validation_compositions(Path(init) / "model.json")
        seen = set(read_json(Path(init) / SPLIT_FILE, default={}).get("train", ())) - held
    free = [r for r in records if r.formula not in held | seen]
    new = (split_by_composition(free, (1.0 - val_fraction, val_fraction, 0.0), seed=seed) if free
           else {"train": [], "val": []})
    return {"train": [r for r in records if r.formula in seen] + new["train"],
            "val": [r for r in records if r.formula in held] + new["val"], "test": []}


def _dataset(structures: Sequence[Structure], frames: Sequence[Atoms], element_types: tuple[str, ...],
             cutoff: float, root: str) -> Any:
    from matgl.ext.pymatgen import Structure2Graph
    from matgl.graph.data import MGLDataset

    labels = {"energies": [float(a.calc.results["energy"]) for a in frames],
              "forces": [np.asarray(a.calc.results["forces"], dtype=float).tolist() for a in frames],
              "stresses": [stress_label(a).tolist() for a in frames]}
    with _quiet():
        return MGLDataset(structures=list(structures), labels=labels, root=root, save_cache=False,
                          converter=Structure2Graph(element_types=element_types, cutoff=cutoff))


# --------------------------------------------------------------------------------------------- training
def train_m3gnet(frames: Sequence[Atoms], out: str | os.PathLike, model: M3GNetConfig = M3GNetConfig(),
                 config: M3GNetTrainConfig = M3GNetTrainConfig(), init: str | os.PathLike | None = None,
                 progress: bool = True, threads: int | None = None, data: str = "") -> dict[str, Any]:
    """Train (or resume, or fine-tune from ``init``) an M3GNet potential on ``frames`` into the directory ``out``.

    Parameters
    ----------
    frames
        Labelled frames (:func:`read_frames`).
    out
        Training directory (module docstring); rerun with the same arguments to resume.
    model
        Size of a new potential; ignored with ``init``.
    init
        A matgl potential directory to fine-tune: its weights and elements; its element references are shifted
        to these frames' energies (another calculator's energy zero, :func:`shifted_element_refs`).
    threads
        Torch threads while training (restored afterwards).
    data
        Where the frames came from, recorded in ``train_config.json``.

    Returns
    -------
    dict
        ``metrics.json``: frames and compositions per split, elements (of the network; ``trained_elements``
        those of the training frames), the held-out energy (eV/atom), force (eV/A) and stress (GPa) MAE of the
        final potential, epochs and seconds. Held-out compositions with an element no training frame has are
        left out of validation (``unused_compositions``): their energy zero is not fitted.

    Raises
    ------
    M3GNetTrainingError
        For unusable frames, elements outside ``init``'s, or a directory trained with other settings.
    """
    out = Path(out)
    base = _load_potential(init) if init is not None else None
    cutoff = float(base.model.cutoff) if base is not None else model.cutoff
    frames = usable_frames(frames, cutoff, config.max_force)
    if len(frames) < 2:
        raise M3GNetTrainingError(f"{len(frames)} usable frames: at least two are needed (one to validate on)")
    structures = [to_structure(a) for a in frames]
    present = {el for s in structures for el in s.symbol_set}
    if base is not None:
        elements = tuple(base.model.element_types)
        if present - set(elements):
            raise M3GNetTrainingError(f"frames hold {', '.join(sorted(present - set(elements)))}, outside the "
                                      f"elements of {init} ({', '.join(elements)})")
    else:
        elements = tuple(sorted(present, key=lambda s: Element(s).Z))
    splits = frame_splits(structures, config.val_fraction, config.seed, init, config.hold_out)
    trained = sorted({el for r in splits["train"] for el in r.structure.symbol_set}, key=lambda s: Element(s).Z)
    # a held-out composition with an element no training frame has is unknowable (its energy zero is unfitted)
    uncovered = sorted({r.formula for r in splits["val"] if not set(r.structure.symbol_set) <= set(trained)})
    splits["val"] = [r for r in splits["val"] if r.formula not in uncovered]
    if not splits["train"] or not splits["val"]:
        raise M3GNetTrainingError(f"{len({s.composition.reduced_formula for s in structures})} composition(s) "
                                  "cannot be split into training and validation (a held-out composition needs its "
                                  "elements in training): add frames of other compositions or change --val-fraction")
    settings = {"model": asdict(model) if init is None else {"init": str(init)}, "train": asdict(config) | {
        "max_seconds": None}, "elements": list(elements), "frames": len(frames), "data": data}
    _check_settings(out, settings)
    write_split(splits, out)
    write_json(out / M3GNET_COVERAGE_FILE, {"elements": trained})  # before the first epoch saves the model
    index = {name: [int(r.id) for r in part] for name, part in splits.items()}
    with _threads(threads), torch.random.fork_rng(devices=[]), tempfile.TemporaryDirectory() as root:
        torch.manual_seed(config.seed)
        train_set, val_set = (_dataset([structures[i] for i in index[name]], [frames[i] for i in index[name]],
                                       elements, cutoff, f"{root}/{name}") for name in ("train", "val"))
        network = base.model if base is not None else _new_model(model, elements)
        train_frames = [frames[i] for i in index["train"]]
        forces = np.concatenate([a.calc.results["forces"].ravel() for a in train_frames])
        data_std = float(base.data_std) if base is not None else float(np.sqrt(np.mean(forces**2)) or 1.0)
        if base is not None:
            refs = shifted_element_refs(base, train_set, config.batch_size)
        else:
            from matgl.utils.training import fit_element_refs

            refs = fit_element_refs([structures[i] for i in index["train"]],
                                    [a.calc.results["energy"] for a in train_frames], elements)
        started = time.perf_counter()
        module = _fit(network, train_set, val_set, refs, data_std, config, out, progress)
        potential = module.model
        potential.eval()
        metrics = {"train_frames": len(index["train"]), "val_frames": len(index["val"]),
                   "train_compositions": len({r.formula for r in splits["train"]}),
                   "val_compositions": len({r.formula for r in splits["val"]}), "elements": list(elements),
                   "trained_elements": trained, "unused_compositions": uncovered,
                   **evaluate(potential, val_set, config.batch_size),
                   "epochs": len(read_history(out)), "seconds": round(sum(r["seconds"] for r in read_history(out))),
                   "seconds_this_run": round(time.perf_counter() - started), "init": str(init) if init else None,
                   "data": data}
    potential.save(out)
    write_json(out / "metrics.json", metrics, indent=1)
    return metrics


def _load_potential(directory: str | os.PathLike) -> Any:
    from ase_lcom.calculators import load_matgl_potential

    return load_matgl_potential(directory)


def _new_model(config: M3GNetConfig, elements: tuple[str, ...]) -> torch.nn.Module:
    from matgl.models import M3GNet

    return M3GNet(element_types=elements, is_intensive=False, units=config.units, nblocks=config.nblocks,
                  cutoff=config.cutoff, threebody_cutoff=config.threebody_cutoff)


def shifted_element_refs(potential: Any, dataset: Any, batch_size: int = 16) -> np.ndarray:
    """A fine-tuning start's element offsets plus the least-squares per-element shift of its energies to the
    labels of ``dataset`` (another calculator's energy zero).

    Fitting the offsets afresh (matgl's ``fit_element_refs``) would set to zero their part that no label fixes
    (binary compounds fix sums such as mu_Na + mu_Cl, not each term), an arbitrary choice for compositions outside
    the training set; the minimum-norm shift leaves that part where the start had it.
    """
    from matgl.graph.data import MGLDataLoader

    loader, _ = MGLDataLoader(dataset, dataset, batch_size=batch_size, num_workers=0)
    n_types = len(potential.model.element_types)
    counts, residuals = [], []
    for graph, lattice, state, energy, *_ in loader:
        predicted = potential(g=graph, lat=lattice, state_attr=state)[0].detach()
        n = torch.zeros(len(predicted), n_types)
        n.index_put_((graph.batch, graph.node_type), torch.ones(len(graph.batch)), accumulate=True)
        counts.append(n.numpy())
        residuals.append((energy - predicted).numpy())
    shift = np.linalg.lstsq(np.concatenate(counts), np.concatenate(residuals), rcond=None)[0]
    return potential.element_refs.property_offset.detach().numpy().astype(float) + shift


def _fit(network: torch.nn.Module, train_set: Any, val_set: Any, refs: np.ndarray, data_std: float,
         config: M3GNetTrainConfig, out: Path, progress: bool) -> Any:
    """Lightning fit of matgl's ``PotentialLightningModule``; resumes from ``out/checkpoints/last.ckpt``."""
    import lightning as pl
    from lightning.pytorch.callbacks import ModelCheckpoint
    from matgl.graph.data import MGLDataLoader
    from matgl.utils.training import PotentialLightningModule

    train_loader, val_loader = MGLDataLoader(train_set, val_set, batch_size=config.batch_size, num_workers=0,
                                             generator=torch.Generator().manual_seed(config.seed))
    module = PotentialLightningModule(
        model=network, element_refs=refs, energy_weight=config.energy_weight, force_weight=config.force_weight,
        stress_weight=config.stress_weight, data_std=data_std, loss="huber_loss", lr=config.lr,
        decay_steps=config.epochs, decay_alpha=0.01)  # the scheduler steps once an epoch
    checkpoints = out / "checkpoints"
    last = checkpoints / "last.ckpt"
    with _quiet():
        trainer = pl.Trainer(
            max_epochs=config.epochs, accelerator="cpu", devices=1, logger=False, inference_mode=False,
            enable_model_summary=False, enable_progress_bar=progress, num_sanity_val_steps=0,
            callbacks=[ModelCheckpoint(dirpath=checkpoints, save_last=True, save_top_k=0),
                       _History(out, config.max_seconds), *([_ProgressBar()] if progress else [])])
        trainer.fit(module, train_loader, val_loader, ckpt_path=str(last) if last.is_file() else None)
    return module


class _ProgressBar(TQDMProgressBar):
    """Lightning's bar showing only the energy, force and stress MAE (matgl logs magmoms, charges, RMSEs too)."""

    def get_metrics(self, trainer: Any, module: Any) -> dict[str, Any]:
        shown = {f"{split}_{name}": f"{split}_{quantity[0].upper()}" for split in ("train", "val")
                 for quantity, name in _LOGGED.items()}
        return {label: f"{float(value):.3g}" for key, value in super().get_metrics(trainer, module).items()
                if (label := shown.get(key))}


class _History(Callback):
    """After every epoch: a ``history.csv`` row, the potential saved in ``out``, and the time cap checked."""

    def __init__(self, out: Path, max_seconds: float | None) -> None:
        self.out = out
        self.max_seconds = max_seconds
        self.rows = {row["epoch"]: row for row in read_history(out)}
        self.start = time.perf_counter()

    def _spent(self) -> bool:
        return self.max_seconds is not None and sum(r["seconds"] for r in self.rows.values()) >= self.max_seconds

    def on_train_start(self, trainer: Any, module: Any) -> None:
        trainer.should_stop = self._spent()

    def on_train_epoch_start(self, trainer: Any, module: Any) -> None:
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer: Any, module: Any) -> None:
        logged = trainer.callback_metrics
        row: dict[str, Any] = {"epoch": trainer.current_epoch + 1,
                               "seconds": round(time.perf_counter() - self.start, 2),
                               "lr": trainer.optimizers[0].param_groups[0]["lr"]}
        for split in ("train", "val"):
            for quantity, name in _LOGGED.items():
                value = logged.get(f"{split}_{name}")
                row[f"{split}_{quantity}_mae"] = float(value) if value is not None else float("nan")
        self.rows = {e: r for e, r in self.rows.items() if e < row["epoch"]} | {row["epoch"]: row}
        _write_history(self.out, list(self.rows.values()))
        module.model.save(self.out)
        if self._spent():
            trainer.should_stop = True


def read_history(out: str | os.PathLike) -> list[dict[str, float]]:
    """Rows of ``history.csv`` in a training directory (empty before the first epoch)."""
    path = Path(out) / "history.csv"
    if not path.is_file():
        return []
    with path.open() as handle:
        return [{key: (int(value) if key == "epoch" else float(value)) for key, value in row.items()}
                for row in csv.DictReader(handle)]


def _write_history(out: Path, rows: list[dict[str, Any]]) -> None:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(sorted(rows, key=lambda r: r["epoch"]))
    write_text(out / "history.csv", buffer.getvalue())


def _check_settings(out: Path, settings: dict[str, Any]) -> None:
    path = out / "train_config.json"
    stored = read_json(path)
    if stored is None:
        out.mkdir(parents=True, exist_ok=True)
        write_json(path, settings, indent=1)
    elif json.loads(json.dumps(settings)) != stored:
        changed = ", ".join(key for key in settings if stored.get(key) != json.loads(json.dumps(settings[key])))
        raise M3GNetTrainingError(f"{out} was trained with other settings ({changed} differ): use the original "
                                  "arguments to resume, or another --out")


def evaluate(potential: Any, dataset: Any, batch_size: int = 16) -> dict[str, float]:
    """Energy (eV/atom), force (eV/A) and stress (GPa) mean absolute errors of a matgl potential on a dataset."""
    from matgl.graph.data import MGLDataLoader

    loader, _ = MGLDataLoader(dataset, dataset, batch_size=batch_size, num_workers=0)
    errors: dict[str, list[np.ndarray]] = {"energy": [], "force": [], "stress": []}
    for graph, lattice, state, energy, forces, stress in loader:
        e, f, s, _ = potential(g=graph, lat=lattice, state_attr=state)
        atoms = torch.bincount(graph.batch)
        errors["energy"].append(((e - energy).abs() / atoms).detach().numpy())
        errors["force"].append((f - forces).abs().detach().numpy().ravel())
        errors["stress"].append((s - stress).abs().detach().numpy().ravel())
    return {f"val_{k}_mae": float(np.concatenate(v).mean()) for k, v in errors.items()}


def plot_history(rows: Sequence[dict[str, float]], path: str | os.PathLike) -> Path:
    """Train and validation MAE of energy, forces and stress per epoch, in three panels, written to ``path``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    epochs = [r["epoch"] for r in rows]
    for ax, (quantity, unit) in zip(axes, (("energy", "eV/atom"), ("force", "eV/A"), ("stress", "GPa")),
                                    strict=True):
        for split in ("train", "val"):
            ax.plot(epochs, [r[f"{split}_{quantity}_mae"] for r in rows], marker=".", label=split)
        ax.set(xlabel="epoch", ylabel=f"{quantity} MAE ({unit})", yscale="log")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


@contextlib.contextmanager
def _threads(threads: int | None) -> Iterator[None]:
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence Lightning's and matgl's advice (workers, tips, processing bars) around a call."""
    import logging

    loggers = [logging.getLogger(name) for name in ("lightning", "lightning.pytorch", "matgl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(num_workers|does not have many workers|LeafSpec|"
                                    "isinstance\\(treespec).*")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
