"""Training CryinGAN: WGAN-GP with a coordinate critic and a bond-distance critic.

Critic loss ``L_D = [D_c(fake) - D_c(real) + w GP_c] + lambda [D_d(fake) - D_d(real) + w GP_d]``, generator loss
``L_G = -D_c(fake) - lambda D_d(fake)``; both critics step on every batch, the generator on every
``generator_interval``-th. Adam at 5e-5, betas (0.5, 0.999), batch 32 (the published settings). With
``translations`` > 1 every training structure is also used shifted by each whole unit cell of its supercell
(the published alloy models: 4 x 4 x 4 FCC cells, 64 copies); an epoch passes over all copies, or over
``shifts_per_epoch`` randomly drawn copies of each structure.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.models.checkpoints import CheckpointError, load_checkpoint
from ase_lcom.models.cryingan import (
    CryinGANConfig,
    CryinGANCritic,
    CryinGANGenerator,
    gradient_penalty,
    periodic_knn_distances,
    xavier_init,
)
from ase_lcom.training.distributed import start as start_distributed
from ase_lcom.training.generator_loop import (
    CHECKPOINT_FORMAT,
    RESUMABLE_SETTINGS,
    GeneratorTrainingError,
    augmented_order,
    batch_slices,
    check_resume,
    epoch_generator,
    run_epochs,
    template_record,
    translation_shifts,
)

NAME = "cryingan"


@dataclass
class CryinGANTrainConfig:
    """Optimisation settings (stored in the checkpoint next to the architecture)."""

    epochs: int = 1500
    batch_size: int = 32
    lr: float = 5e-5
    betas: tuple[float, float] = (0.5, 0.999)
    gp_weight: float = 10.0
    dist_weight: float = 0.1
    """lambda: weight of the distance critic (published: 0.1 for alloys, 0.05 for interfaces; 0 disables it)."""
    generator_interval: int = 5
    translations: int = 1
    """Unit-cell repeats of the supercell along each axis; ``translations**3`` shifted copies are trained on
    (see :func:`~ase_lcom.training.generator_loop.supercell_translations`)."""
    shifts_per_epoch: int = 0
    """Shifted copies of each structure an epoch draws at random: 0 passes over all ``translations**3`` (the
    published epoch, 64 passes over an alloy set); 1 makes an epoch one pass, each structure shifted at random."""
    seed: int = 0
    device: str = "cpu"
    max_seconds: float | None = None
    """Stop before an epoch once training has taken this long (summed over resumed runs)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CryinGANTrainConfig:
        values = dict(data)
        values["betas"] = tuple(values.get("betas", cls.betas))
        return cls(**values)


@dataclass
class CryinGANModels:
    """A generator and its two critics with the template they were trained on."""

    generator: CryinGANGenerator
    coord_critic: CryinGANCritic
    dist_critic: CryinGANCritic
    template: dict[str, Any]
    train_config: CryinGANTrainConfig
    history: list[dict[str, Any]]

    @property
    def config(self) -> CryinGANConfig:
        return self.generator.cfg

    def to(self, device: str) -> CryinGANModels:
        for module in (self.generator, self.coord_critic, self.dist_critic):
            module.to(device)
        return self

    def state(self) -> dict[str, Any]:
        """Checkpoint content without optimizer states."""
        return {"format": CHECKPOINT_FORMAT, "generator": NAME, "config": self.config.to_dict(),
                "train_config": asdict(self.train_config), "template": self.template,
                "models": {"generator": self.generator.state_dict(), "coord_critic": self.coord_critic.state_dict(),
                           "dist_critic": self.dist_critic.state_dict()},
                "history": list(self.history)}


def build_cryingan(template: dict[str, Any], cfg: CryinGANConfig, train_config: CryinGANTrainConfig) -> CryinGANModels:
    """Freshly initialised networks (Xavier-uniform, zero biases; drawn from ``train_config.seed``)."""
    atoms, counts = len(template["species"]), template["species_counts"]
    models = CryinGANModels(CryinGANGenerator(atoms, cfg), CryinGANCritic(3, counts, cfg),
                            CryinGANCritic(cfg.n_neighbors, counts, cfg), template, train_config, [])
    init = torch.Generator().manual_seed(train_config.seed)
    for module in (models.generator, models.coord_critic, models.dist_critic):
        xavier_init(module, init)
    return models


def load_cryingan(path: str | os.PathLike) -> tuple[CryinGANModels, dict[str, Any]]:
    """Networks (on the CPU, generator in eval mode) and the raw checkpoint content."""
    content = load_checkpoint(path, CHECKPOINT_FORMAT)
    if content.get("generator") != NAME:
        raise CheckpointError(f"{path} holds a {content.get('generator')!r} generator, not {NAME!r}")
    try:
        models = build_cryingan(content["template"], CryinGANConfig.from_dict(content["config"]),
                                CryinGANTrainConfig.from_dict(content["train_config"]))
        for key in ("generator", "coord_critic", "dist_critic"):
            getattr(models, key).load_state_dict(content["models"][key])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path} does not match the CryinGAN architecture: {exc}") from exc
    models.history = list(content.get("history", []))
    models.generator.eval()
    return models, content


def train_cryingan(
    dataset: FixedLatticeDataset,
    out_dir: str | os.PathLike,
    model_config: CryinGANConfig | None = None,
    train_config: CryinGANTrainConfig | None = None,
    progress: bool = True,
    callback: Callable[[dict[str, Any]], None] | None = None,
    ddp: bool = False,
) -> CryinGANModels:
    """Train (or continue training from ``out_dir/last.pt``) a CryinGAN on ``dataset``.

    Resuming needs the checkpoint's template and settings; ``epochs``, ``max_seconds`` and ``device`` may change
    (:func:`~ase_lcom.training.generator_loop.check_resume`). Returns the networks (generator in eval mode) with
    the full history. ``ddp`` trains data-parallel over the processes of a ``torchrun`` launch
    (:mod:`.distributed`).
    """
    out_dir = Path(out_dir)
    last = out_dir / "last.pt"
    tcfg = train_config or CryinGANTrainConfig()
    if last.exists():
        models, content = load_cryingan(last)
        check_resume(last, content, dataset, None if train_config is None else asdict(train_config),
                     None if model_config is None else model_config.to_dict())
        models.train_config = tcfg = CryinGANTrainConfig.from_dict(
            {**content["train_config"], **{k: getattr(tcfg, k) for k in RESUMABLE_SETTINGS}})
    else:
        models, content = build_cryingan(template_record(dataset), model_config or CryinGANConfig(), tcfg), {}
    if tcfg.batch_size < 2:
        raise GeneratorTrainingError("CryinGAN needs batches of at least 2 structures (BatchNorm)")
    setup = start_distributed(ddp, tcfg.device)
    device = setup.device(tcfg.device)
    models.to(device)
    gen, critic_c, critic_d = models.generator, models.coord_critic, models.dist_critic
    opt_g = torch.optim.Adam(gen.parameters(), lr=tcfg.lr, betas=tcfg.betas)
    opt_d = torch.optim.Adam([*critic_c.parameters(), *critic_d.parameters()], lr=tcfg.lr, betas=tcfg.betas)
    if "optimizers" in content:
        opt_g.load_state_dict(content["optimizers"]["generator"])
        opt_d.load_state_dict(content["optimizers"]["critics"])

    lattice = torch.tensor(models.template["lattice"], dtype=torch.float32)
    frac = torch.tensor(dataset.frac_coords(), dtype=torch.float32)
    shifts = translation_shifts(tcfg.translations).float()
    k, lam, latent = models.config.n_neighbors, tcfg.dist_weight, models.config.latent_dim
    with torch.no_grad():
        real_dist = periodic_knn_distances(frac, lattice, k) if lam > 0 else None  # translation-invariant
    lattice_dev = lattice.to(device)

    def epoch_fn(epoch: int, show: bool) -> dict[str, float]:
        from tqdm.auto import tqdm

        gen.train()
        rng = epoch_generator(tcfg.seed, epoch)
        order = augmented_order(len(frac), len(shifts), rng, tcfg.shifts_per_epoch)
        rng = setup.epoch_rng(rng, tcfg.seed, epoch)
        sums: dict[str, float] = {}
        counts = {"critic": 0, "generator": 0}
        slices = setup.shard(batch_slices(len(order), tcfg.batch_size, drop_last=True))
        for step, part in enumerate(tqdm(slices, desc=f"epoch {epoch + 1}", unit="batch", leave=False,
                                         disable=not show)):
            index = order[part]
            real = torch.remainder(frac[index[:, 0]] + shifts[index[:, 1]][:, None, :], 1.0).to(device)
            with torch.no_grad():
                fake = gen(torch.randn(len(index), latent, generator=rng).to(device))
            w_c = critic_c(real).mean() - critic_c(fake).mean()
            gp_c = gradient_penalty(critic_c, real, fake, rng)
            loss_d = -w_c + tcfg.gp_weight * gp_c
            terms = {"wasserstein_coord": float(w_c.detach()), "gp_coord": float(gp_c.detach())}
            if lam > 0:
                real_d = real_dist[index[:, 0]].to(device)
                fake_d = periodic_knn_distances(fake, lattice_dev, k)
                w_d = critic_d(real_d).mean() - critic_d(fake_d).mean()
                gp_d = gradient_penalty(critic_d, real_d, fake_d, rng)
                loss_d = loss_d + lam * (-w_d + tcfg.gp_weight * gp_d)
                terms.update(wasserstein_dist=float(w_d.detach()), gp_dist=float(gp_d.detach()))
            opt_d.zero_grad()
            loss_d.backward()
            setup.average_gradients([*critic_c.parameters(), *critic_d.parameters()])
            opt_d.step()
            terms["loss_critic"] = float(loss_d.detach())
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value
            counts["critic"] += 1
            if step % tcfg.generator_interval == 0:
                fake = gen(torch.randn(len(index), latent, generator=rng).to(device))
                loss_g = -critic_c(fake).mean()
                if lam > 0:
                    loss_g = loss_g - lam * critic_d(periodic_knn_distances(fake, lattice_dev, k)).mean()
                opt_g.zero_grad()
                loss_g.backward()
                setup.average_gradients(gen.parameters())
                opt_g.step()
                sums["loss_generator"] = sums.get("loss_generator", 0.0) + float(loss_g.detach())
                counts["generator"] += 1
        setup.broadcast_buffers(gen)
        return {key: setup.mean(value / counts["generator" if key == "loss_generator" else "critic"])
                for key, value in sums.items()}

    def checkpoint_fn(history: list[dict[str, Any]]) -> dict[str, Any]:
        models.history = history
        return {**models.state(), "optimizers": {"generator": opt_g.state_dict(), "critics": opt_d.state_dict()}}

    run_epochs(out_dir, tcfg.epochs, models.history, epoch_fn, checkpoint_fn, "train cryingan", progress, callback,
               tcfg.max_seconds, write=setup.is_main)
    setup.finish()
    gen.eval()
    return models
