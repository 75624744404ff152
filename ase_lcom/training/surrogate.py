"""Training the latent energy surrogate: plain supervised (SL) or conservative (COMs, Trabucco et al. 2021).

Conservative training interleaves two steps per batch:

1. mine adversarial latents by running the prediction-time optimiser (:func:`descend`, the same number of
   steps and step size) on the current model, starting from the batch's data latents;
2. minimise ``MSE(E(data), y) + alpha * (mean E(data) - mean E(adversarial))``: the regulariser pushes the
   energy of the adversarial latents up and that of the data down (energies are standardised, so the gap is in
   training-set std units).

``alpha`` is a Lagrange multiplier, ``alpha = exp(log_alpha)``, updated by gradient descent on
``alpha * (tau - gap)``: it grows while the adversarial latents are predicted more than ``tau`` below the data
(the overestimation limit) and shrinks otherwise. ``conservative=False`` gives the SL baseline (alpha = 0).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch

from ase_lcom.models.checkpoints import CheckpointError
from ase_lcom.models.surrogate import EnergySurrogate, SurrogateConfig, descend
from ase_lcom.training.distributed import start as start_distributed


@dataclass
class SurrogateTrainConfig:
    """Surrogate training settings, conservative (COMs) or plain supervised (SL, ``conservative=False``).

    ``steps``/``step_lr`` configure the latent search that mines adversarial latents; they are stored with the
    surrogate and become its prediction-time :class:`~ase_lcom.models.surrogate.LatentSearchSettings`.

    Paper (appendix C): 50 epochs, batch 128, Adam lr 3e-5, tau 1.0, 50 steps. We keep the epochs, batch, tau
    and steps, and use lr 3e-4: at 3e-5 the MLP was still far from fitting the data after 50 epochs. The latent
    step is the COMs reference's: 0.05 * sqrt(latent_dim) in whitened latent units (0.8 for 256 dimensions);
    ``step_lr=None`` resolves to it when training starts (to 0.05 for a surrogate on raw latents, as before
    model v4) and the resolved value is stored.
    """

    conservative: bool = True
    epochs: int = 50
    batch_size: int = 128
    lr: float = 3e-4
    tau: float = 1.0
    alpha_init: float = 1.0
    alpha_lr: float = 0.01
    steps: int = 50
    step_lr: float | None = None
    val_fraction: float = 0.1
    seed: int = 0


def coms_losses(
    model: EnergySurrogate,
    latents: torch.Tensor,
    composition: torch.Tensor,
    target: torch.Tensor,
    cfg: SurrogateTrainConfig,
    log_alpha: torch.Tensor | None,
) -> dict[str, torch.Tensor]:
    """Loss terms for one batch; ``target`` is standardised. ``total`` trains the model, ``alpha_loss`` alpha."""
    prediction = model.standardized(latents, composition)
    mse = torch.mean((prediction - target) ** 2)
    if not cfg.conservative or log_alpha is None:
        zero = torch.zeros((), dtype=latents.dtype)
        return {"total": mse, "mse": mse, "gap": zero, "alpha": zero, "alpha_loss": zero}
    adversarial, _ = descend(model, latents, composition, cfg.steps, cfg.step_lr)
    gap = prediction.mean() - model.standardized(adversarial, composition).mean()
    alpha = log_alpha.exp()
    return {"total": mse + alpha.detach() * gap, "mse": mse, "gap": gap.detach(), "alpha": alpha.detach(),
            "alpha_loss": alpha * (cfg.tau - gap.detach())}


def train_surrogate(
    latents: torch.Tensor,
    compositions: torch.Tensor,
    energies: torch.Tensor,
    config: SurrogateTrainConfig | None = None,
    model_config: SurrogateConfig | None = None,
    progress: bool = True,
    desc: str = "train surrogate",
    ddp: bool = False,
) -> tuple[EnergySurrogate, dict[str, Any]]:
    """Fit a surrogate on data latents; returns the model (eval mode) and a record of the run.

    A random ``val_fraction`` of the rows is held out to report the validation MAE (eV/atom) per epoch; the
    returned model is the one after the last epoch (the paper's recipe has no early stopping). ``ddp``: each
    process of a ``torchrun`` launch trains on its share of the batches, gradients (and the dual variable's)
    averaged over them (:mod:`.distributed`); one process gives the plain result.
    """
    from tqdm.auto import tqdm

    cfg = config or SurrogateTrainConfig()
    if len(latents) < 2:
        raise CheckpointError("surrogate training needs at least two latent vectors")
    architecture = model_config or SurrogateConfig(latent_dim=latents.shape[1])
    if cfg.step_lr is None:
        cfg = replace(cfg, step_lr=0.05 * math.sqrt(latents.shape[1]) if architecture.whiten_latents else 0.05)
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(latents))
    n_val = int(round(cfg.val_fraction * len(latents)))
    val, train = order[:n_val], order[n_val:]
    with torch.random.fork_rng(devices=[]):  # initial weights follow the seed; the caller's RNG is kept
        torch.manual_seed(cfg.seed)
        model = EnergySurrogate(architecture)
    model.fit_scaler(energies[train], latents[train])
    target = (energies - model.energy_mean) / model.energy_std
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    log_alpha = torch.tensor(math.log(cfg.alpha_init), requires_grad=True)
    alpha_optimizer = torch.optim.Adam([log_alpha], lr=cfg.alpha_lr)
    history: list[dict[str, float]] = []
    setup = start_distributed(ddp)
    bar = tqdm(range(cfg.epochs), desc=desc, unit="epoch", disable=not progress or not setup.is_main)
    for epoch in bar:
        model.train()
        sums: dict[str, float] = {}
        batches = np.array_split(rng.permutation(train), max(1, math.ceil(len(train) / cfg.batch_size)))
        shard = setup.shard(batches)
        for rows in shard:
            losses = coms_losses(model, latents[rows], compositions[rows], target[rows], cfg,
                                 log_alpha if cfg.conservative else None)
            optimizer.zero_grad()
            losses["total"].backward()
            setup.average_gradients(model.parameters())
            optimizer.step()
            if cfg.conservative:
                alpha_optimizer.zero_grad()
                losses["alpha_loss"].backward()
                setup.average_gradients([log_alpha])
                alpha_optimizer.step()
            for key in ("mse", "gap", "alpha"):
                sums[key] = sums.get(key, 0.0) + float(losses[key].detach()) * len(rows)
        seen = sum(len(rows) for rows in shard)
        record = {"epoch": epoch + 1, **{k: setup.mean(v / seen) for k, v in sums.items()}}
        if n_val:
            model.eval()
            with torch.no_grad():
                record["val_mae"] = float(torch.mean(torch.abs(model(latents[val], compositions[val]) - energies[val])))
        history.append(record)
        bar.set_postfix(mse=f"{record['mse']:.3f}", gap=f"{record['gap']:.2f}", alpha=f"{record['alpha']:.2f}")
    setup.finish()
    return model.eval(), {"config": asdict(cfg), "model_config": model.cfg.to_dict(), "history": history,
                          "train_rows": int(len(train)), "val_rows": int(n_val)}
