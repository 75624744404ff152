"""Training the CD-VAE: Adam, gradient clipping, learning rate halved on validation plateaus, per-epoch
validation, resumable checkpoints.

``out_dir/last.pt`` is written after every epoch (atomically) and ``out_dir/best.pt`` whenever the validation
loss improves; rerunning with the same ``out_dir`` continues from ``last.pt``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from pymatgen.core import Structure

from ase_lcom import limits
from ase_lcom.models.cdvae import CDVAE, CDVAEConfig
from ase_lcom.models.checkpoints import CDVAE_KIND, CheckpointError, load_cdvae, save_checkpoint
from ase_lcom.models.decoder import LatticeHead
from ase_lcom.store import check_unchanged
from ase_lcom.structure import CrystalBatch
from ase_lcom.training.distributed import LossModule
from ase_lcom.training.distributed import start as start_distributed


@dataclass
class TrainConfig:
    """Optimisation settings (stored in the checkpoint next to the model's)."""

    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    grad_clip: float = 1.0
    lr_patience: int = 4
    """Epochs without a better validation loss before the learning rate is multiplied by ``lr_factor``."""
    lr_factor: float = 0.5
    min_lr: float = 1e-5
    seed: int = 0
    device: str = "cpu"


def _batches(structures: Sequence[Structure], size: int, rng: np.random.Generator | None) -> list[CrystalBatch]:
    order = rng.permutation(len(structures)) if rng is not None else np.arange(len(structures))
    return [CrystalBatch.from_structures([structures[i] for i in order[k:k + size]], niggli=False,
                                         dtype=torch.float32) for k in range(0, len(order), size)]


def _mean_losses(model: CDVAE, batches: list[CrystalBatch], device: str, seed: int) -> dict[str, float]:
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    totals: dict[str, float] = {}
    with torch.no_grad():
        for batch in batches:
            for key, value in model.loss(batch.to(device), generator).items():
                totals[key] = totals.get(key, 0.0) + float(value) * batch.num_crystals
    count = sum(b.num_crystals for b in batches)
    return {key: value / count for key, value in totals.items()}


def _epoch_rng(seed: int, epoch: int, n: int) -> np.random.Generator:
    """The batch-order generator of ``epoch``, from ``(seed, epoch)`` alone: the stream of ``default_rng(seed)``
    after the permutations of the epochs before (what an uninterrupted run draws), so a resumed run repeats it."""
    rng = np.random.default_rng(seed)
    for _ in range(epoch):
        rng.permutation(n)
    return rng


def train_cdvae(
    train: Sequence[Structure],
    val: Sequence[Structure],
    out_dir: str | os.PathLike,
    model_config: CDVAEConfig | None = None,
    train_config: TrainConfig | None = None,
    progress: bool = True,
    init: str | os.PathLike | None = None,
    ddp: bool = False,
) -> Path:
    """Train (or continue training) a CD-VAE; returns the path of the best checkpoint.

    Parameters
    ----------
    train, val
        Structures (Niggli-reduced here); a split by composition is the caller's job.
    out_dir
        Checkpoint directory; an existing ``last.pt`` there is resumed (its configs win).
    init
        Fine-tune: start from this checkpoint's weights (its model config and lattice scaler; ``model_config``
        is ignored) with a fresh optimizer at ``train_config.lr``.
    ddp
        Data-parallel training over the processes ``torchrun`` started (:mod:`ase_lcom.training.distributed`);
        one process reproduces plain training.
    """
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    last = out_dir / "last.pt"
    tcfg = train_config or TrainConfig()
    limits.positive_int(tcfg.epochs, "epochs")
    limits.positive_int(tcfg.batch_size, "batch_size")
    limits.positive_float(tcfg.lr, "lr")
    limits.random_seed(tcfg.seed, "seed")
    if last.exists():
        model, state = load_cdvae(last)
        if train_config is not None:
            check_unchanged("training setting", state["train_config"], asdict(train_config), last,
                            may_change=("epochs", "device"), error=CheckpointError)
        if model_config is not None and init is None:
            check_unchanged("model setting", model.cfg.to_dict(), model_config.to_dict(), last,
                            error=CheckpointError)
        tcfg = TrainConfig(**{**state["train_config"], "epochs": tcfg.epochs, "device": tcfg.device})
    else:
        with torch.random.fork_rng(devices=[]):  # initial weights follow the seed; the caller's RNG is kept
            torch.manual_seed(tcfg.seed)
            model = load_cdvae(init)[0] if init is not None else CDVAE(model_config or CDVAEConfig())
        state = {"epoch": 0, "history": [], "best": float("inf"), "init": None if init is None else str(init)}
    if not train or not val:
        raise CheckpointError("training needs at least one training and one validation structure")
    train = [s.get_reduced_structure() for s in train]
    val = [s.get_reduced_structure() for s in val]
    if state["epoch"] == 0 and init is None:  # a fine-tuned model keeps the scaler its weights were trained with
        full = CrystalBatch.from_structures(train, niggli=False)
        model.lattice_head.fit_scaler(LatticeHead.parameters_of(*full.lattice_params(), full.num_atoms).float())
    setup = start_distributed(ddp, tcfg.device)
    device = setup.device(tcfg.device)
    model.to(device)
    trainer = setup.wrap(LossModule(model), device)
    optimizer = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=tcfg.lr_factor,
                                                           patience=tcfg.lr_patience, min_lr=tcfg.min_lr)
    if "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
    if "scheduler" in state:
        scheduler.load_state_dict(state["scheduler"])
    val_batches = _batches(val, tcfg.batch_size, None)
    bar = tqdm(range(state["epoch"], tcfg.epochs), desc="train cdvae", unit="epoch",
               disable=not progress or not setup.is_main)
    for epoch in bar:
        start = time.perf_counter()
        model.train()
        generator = torch.Generator().manual_seed(tcfg.seed * 100_003 + epoch + 7919 * setup.rank)
        train_losses = []
        for batch in setup.shard(_batches(train, tcfg.batch_size, _epoch_rng(tcfg.seed, epoch, len(train)))):
            losses = trainer(batch.to(device), generator)
            optimizer.zero_grad()
            losses["total"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
            optimizer.step()
            train_losses.append(float(losses["total"].detach()))
        val_losses = _mean_losses(model, val_batches, device, tcfg.seed)
        record = {"epoch": epoch + 1, "train_total": setup.mean(float(np.mean(train_losses))),
                  "seconds": time.perf_counter() - start, "lr": optimizer.param_groups[0]["lr"],
                  **{f"val_{k}": v for k, v in val_losses.items()}}
        scheduler.step(val_losses["total"])
        state["history"].append(record)
        state["epoch"] = epoch + 1
        content = {"format": CDVAE_KIND, "config": model.cfg.to_dict(), "train_config": asdict(tcfg),
                   "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                   "scheduler": scheduler.state_dict(), "epoch": state["epoch"],
                   "history": state["history"], "best": min(state["best"], val_losses["total"]),
                   "init": state.get("init")}
        if val_losses["total"] < state["best"]:
            state["best"] = val_losses["total"]
            if setup.is_main:
                save_checkpoint(content, out_dir / "best.pt")
        if setup.is_main:
            save_checkpoint(content, last)
        bar.set_postfix(train=f"{record['train_total']:.3f}", val=f"{val_losses['total']:.3f}")
    setup.finish()
    return out_dir / "best.pt"
