"""Training the fixed-lattice coordinate diffusion model: Adam, gradient clipping, the learning rate lowered on
plateaus of the training loss (the DiffCSP settings: lr 1e-3, clip 0.5, factor 0.6, patience 30, floor 1e-4;
batch 4 in Dismai-Bench), resumable from ``out_dir/last.pt``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.models.checkpoints import CheckpointError, load_checkpoint
from ase_lcom.models.coordinate_diffusion import DiffusionConfig, PeriodicScoreNetwork, denoising_loss
from ase_lcom.training.distributed import start as start_distributed
from ase_lcom.training.generator_loop import (
    CHECKPOINT_FORMAT,
    RESUMABLE_SETTINGS,
    batch_slices,
    check_resume,
    epoch_generator,
    run_epochs,
    template_record,
)

NAME = "diffusion"


@dataclass
class DiffusionTrainConfig:
    """Optimisation settings (stored in the checkpoint next to the model's)."""

    epochs: int = 1000
    batch_size: int = 4
    lr: float = 1e-3
    grad_clip: float = 0.5
    lr_factor: float = 0.6
    lr_patience: int = 30
    min_lr: float = 1e-4
    seed: int = 0
    device: str = "cpu"
    max_seconds: float | None = None
    """Stop before an epoch once training has taken this long (summed over resumed runs)."""


def species_indices(template: dict[str, Any]) -> torch.Tensor:
    """``(atoms,)`` index of each site's species in the template's ``species_order``."""
    order = {symbol: k for k, symbol in enumerate(template["species_order"])}
    return torch.tensor([order[s] for s in template["species"]], dtype=torch.long)


def build_model(cfg: DiffusionConfig, seed: int) -> PeriodicScoreNetwork:
    """A freshly initialised denoiser (PyTorch default initialisation drawn from ``seed``)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return PeriodicScoreNetwork(cfg)


def load_diffusion(path: str | os.PathLike) -> tuple[PeriodicScoreNetwork, dict[str, Any]]:
    """The denoiser (CPU, eval mode) and the raw checkpoint content (template, configs, history, ...)."""
    content = load_checkpoint(path, CHECKPOINT_FORMAT)
    if content.get("generator") != NAME:
        raise CheckpointError(f"{path} holds a {content.get('generator')!r} generator, not {NAME!r}")
    try:
        model = PeriodicScoreNetwork(DiffusionConfig(**content["config"]))
        model.load_state_dict(content["model"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path} does not match the coordinate diffusion model: {exc}") from exc
    return model.eval(), content


def diffusion_content(model: PeriodicScoreNetwork, template: dict[str, Any], train_config: DiffusionTrainConfig,
                      history: list[dict[str, Any]]) -> dict[str, Any]:
    """Checkpoint content without optimizer states."""
    return {"format": CHECKPOINT_FORMAT, "generator": NAME, "config": model.cfg.to_dict(),
            "train_config": asdict(train_config), "template": template, "model": model.state_dict(),
            "history": list(history)}


def train_diffusion(
    dataset: FixedLatticeDataset,
    out_dir: str | os.PathLike,
    model_config: DiffusionConfig | None = None,
    train_config: DiffusionTrainConfig | None = None,
    progress: bool = True,
    callback: Callable[[dict[str, Any]], None] | None = None,
    ddp: bool = False,
) -> tuple[PeriodicScoreNetwork, dict[str, Any]]:
    """Train (or continue training from ``out_dir/last.pt``) the coordinate diffusion model on ``dataset``.

    ``model_config.num_species`` is set from the dataset. Resuming needs the checkpoint's template and settings;
    ``epochs``, ``max_seconds`` and ``device`` may change (:func:`~ase_lcom.training.generator_loop.check_resume`).
    Returns the model (eval mode) and the content of the final checkpoint. ``ddp`` trains data-parallel over the
    processes of a ``torchrun`` launch (:mod:`.distributed`).
    """
    out_dir = Path(out_dir)
    last = out_dir / "last.pt"
    tcfg = train_config or DiffusionTrainConfig()
    template = template_record(dataset)
    cfg = DiffusionConfig(**{**(model_config or DiffusionConfig()).to_dict(),
                             "num_species": len(dataset.species_order)})
    if last.exists():
        model, content = load_diffusion(last)
        check_resume(last, content, dataset, None if train_config is None else asdict(train_config),
                     None if model_config is None else cfg.to_dict())
        tcfg = DiffusionTrainConfig(**{**content["train_config"], **{k: getattr(tcfg, k) for k in RESUMABLE_SETTINGS}})
        history = list(content["history"])
    else:
        model, content, history = build_model(cfg, tcfg.seed), {}, []
    setup = start_distributed(ddp, tcfg.device)
    device = setup.device(tcfg.device)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=tcfg.lr_factor,
                                                           patience=tcfg.lr_patience, min_lr=tcfg.min_lr)
    if "optimizer" in content:
        optimizer.load_state_dict(content["optimizer"])
        scheduler.load_state_dict(content["scheduler"])

    frac = torch.tensor(dataset.frac_coords(), dtype=torch.float32)
    species = species_indices(template).to(device)
    lattice = torch.tensor(template["lattice"], dtype=torch.float32, device=device)

    def epoch_fn(epoch: int, show: bool) -> dict[str, float]:
        from tqdm.auto import tqdm

        model.train()
        rng = epoch_generator(tcfg.seed, epoch)
        order = torch.randperm(len(frac), generator=rng)
        rng = setup.epoch_rng(rng, tcfg.seed, epoch)
        losses = []
        for part in tqdm(setup.shard(batch_slices(len(order), tcfg.batch_size, drop_last=False)),
                         desc=f"epoch {epoch + 1}", unit="batch", leave=False, disable=not show):
            loss = denoising_loss(model, frac[order[part]].to(device), species, lattice, rng)
            optimizer.zero_grad()
            loss.backward()
            setup.average_gradients(model.parameters())
            torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
            optimizer.step()
            losses.append(float(loss.detach()))
        mean = setup.mean(float(np.mean(losses)))
        scheduler.step(mean)
        return {"loss": mean, "lr": optimizer.param_groups[0]["lr"]}

    def checkpoint_fn(records: list[dict[str, Any]]) -> dict[str, Any]:
        return {**diffusion_content(model, template, tcfg, records), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict()}

    run_epochs(out_dir, tcfg.epochs, history, epoch_fn, checkpoint_fn, "train diffusion", progress, callback,
               tcfg.max_seconds, write=setup.is_main)
    setup.finish()
    return model.eval(), diffusion_content(model, template, tcfg, history)
