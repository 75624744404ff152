"""The CD-VAE as a fixed-lattice generator (the Dismai-Bench CDVAE setting).

Our CD-VAE encoder and coordinate denoiser (:class:`ase_lcom.models.cdvae.CDVAE`) are trained on one dataset
with the coordinate denoising and KL terms only: atom types are the template's (no type denoising) and the
lattice is the template's (the lattice head is not trained and never used). Sampling draws latents from the
prior ``N(0, I)`` and runs annealed Langevin dynamics in the template lattice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from pymatgen.core import Element, Structure

from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.generators import StructureGenerator
from ase_lcom.models.cdvae import CDVAE, CDVAEConfig
from ase_lcom.models.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from ase_lcom.models.decoder import DecoderConfig, langevin_sample, noise_levels
from ase_lcom.structure import CrystalBatch
from ase_lcom.training.distributed import start as start_distributed
from ase_lcom.training.generator_loop import (
    CHECKPOINT_FORMAT,
    GeneratorTrainingError,
    batch_slices,
    check_resume,
    epoch_generator,
    run_epochs,
    structures_from_frac,
    template_record,
)


def _benchmark_model() -> CDVAEConfig:
    return CDVAEConfig(decoder=DecoderConfig(sigma_begin=10.0, sigma_end=0.01, num_noise_levels=50))


@dataclass
class CDVAETrainConfig:
    """Optimisation settings (Dismai-Bench CDVAE: batch 8, 1000 epochs, Adam 1e-3, plateau factor 0.6 after 30
    epochs, floor 1e-4)."""

    epochs: int = 1000
    batch_size: int = 8
    lr: float = 1e-3
    lr_factor: float = 0.6
    lr_patience: int = 30
    min_lr: float = 1e-4
    grad_clip: float | None = None
    seed: int = 0
    device: str = "cpu"
    max_seconds: float | None = None
    """Stop before an epoch once training has taken this long (summed over resumed runs)."""


@dataclass
class LangevinSettings:
    """Annealed Langevin sampling (Dismai-Bench CDVAE: 50 levels, 100 steps per level)."""

    num_levels: int = 50
    steps_per_level: int = 10
    step_lr: float = 1e-4
    batch_size: int = 25
    """Structures sampled together; samples for a seed depend on it."""


def fixed_lattice_loss(model: CDVAE, crystals: CrystalBatch, generator: torch.Generator | None = None
                       ) -> dict[str, torch.Tensor]:
    """Coordinate denoising and KL terms of the CD-VAE loss, and their weighted ``total`` (no lattice term)."""
    cfg = model.cfg
    device = crystals.frac_coords.device
    mu, log_var = model.encode(crystals)
    dtype = mu.dtype
    latent = mu + torch.exp(0.5 * log_var) * torch.randn(mu.shape, generator=generator, dtype=dtype).to(device)
    kl = -0.5 * torch.mean(torch.sum(1 + log_var - mu**2 - log_var.exp(), dim=-1))
    levels = noise_levels(cfg.decoder).to(dtype)
    sigma = levels[torch.randint(len(levels), (crystals.num_crystals,), generator=generator)].to(device)
    batch, lattice = crystals.batch, crystals.lattice.to(dtype)
    noise = torch.randn(crystals.frac_coords.shape, generator=generator, dtype=dtype).to(device) * sigma[batch, None]
    frac = crystals.frac_coords.to(dtype)
    noisy = torch.remainder(frac + torch.einsum("nc,ncd->nd", noise, torch.linalg.inv(lattice)[batch]), 1.0)
    shift = noisy - frac
    shift = shift - torch.round(shift)
    target = torch.einsum("nc,ncd->nd", shift, lattice[batch]) / sigma[batch, None]
    noisy_crystals = CrystalBatch(lattice, noisy, crystals.atomic_numbers, crystals.num_atoms)
    coord = torch.mean(torch.sum((model.denoiser(noisy_crystals, latent, sigma) - target) ** 2, dim=-1))
    return {"total": cfg.coord_weight * coord + cfg.beta * kl, "coord": coord, "kl": kl}


def _batch(frac: torch.Tensor, lattice: torch.Tensor, numbers: torch.Tensor) -> CrystalBatch:
    count, atoms, _ = frac.shape
    return CrystalBatch(lattice.expand(count, 3, 3), frac.reshape(-1, 3), numbers.repeat(count),
                        torch.full((count,), atoms, dtype=torch.long, device=frac.device))


class CDVAEGenerator(StructureGenerator):
    """CD-VAE encoder and denoiser trained on one template, sampled from the prior in the template lattice.

    Parameters
    ----------
    config
        CD-VAE architecture and noise schedule (default: ours with the Dismai-Bench schedule, 10 to 0.01 A
        in 50 levels).
    train_config
        Optimisation, ``device`` and seed.
    sampling
        Langevin settings used by :meth:`sample` (stored in checkpoints).
    """

    name = "cdvae"

    def __init__(self, config: CDVAEConfig | None = None, train_config: CDVAETrainConfig | None = None,
                 sampling: LangevinSettings | None = None) -> None:
        self.config = config or _benchmark_model()
        self.train_config = train_config or CDVAETrainConfig()
        self.sampling = sampling or LangevinSettings()
        self.model: CDVAE | None = None
        self.template: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []

    @property
    def device(self) -> str:
        return self.train_config.device

    def _content(self) -> dict[str, Any]:
        if self.model is None or self.template is None:
            raise GeneratorTrainingError("the CD-VAE generator is not trained: call fit() or load a checkpoint")
        return {"format": CHECKPOINT_FORMAT, "generator": self.name, "config": self.model.cfg.to_dict(),
                "train_config": asdict(self.train_config), "sampler": asdict(self.sampling),
                "template": self.template, "model": self.model.state_dict(), "history": list(self.history)}

    def fit(self, dataset: FixedLatticeDataset, out_dir: str | os.PathLike, progress: bool = True,
            callback: Callable[[dict[str, Any]], None] | None = None, ddp: bool = False) -> list[dict[str, Any]]:
        """Train into ``out_dir`` (resuming ``out_dir/last.pt`` with its template and settings; ``epochs``,
        ``max_seconds`` and ``device`` may change); writes ``out_dir/generator.pt`` at the end."""
        out_dir = Path(out_dir)
        last = out_dir / "last.pt"
        template = template_record(dataset)
        content: dict[str, Any] = {}
        if last.exists():
            resumed = self.load(last, self.device)
            content = load_checkpoint(last, CHECKPOINT_FORMAT)
            check_resume(last, content, dataset, asdict(self.train_config), self.config.to_dict())
            self.config, self.sampling, self.model = resumed.config, resumed.sampling, resumed.model
            self.train_config = replace(resumed.train_config, epochs=self.train_config.epochs,
                                        max_seconds=self.train_config.max_seconds, device=self.device)
            self.history = resumed.history
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.train_config.seed)
                self.model = CDVAE(self.config)
            self.history = []
        self.template = template
        setup = start_distributed(ddp, self.device)
        tcfg, device = self.train_config, setup.device(self.device)
        model = self.model.to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=tcfg.lr_factor,
                                                               patience=tcfg.lr_patience, min_lr=tcfg.min_lr)
        if "optimizer" in content:
            optimizer.load_state_dict(content["optimizer"])
            scheduler.load_state_dict(content["scheduler"])
        frac = torch.tensor(dataset.frac_coords(), dtype=torch.float32)
        lattice = torch.tensor(template["lattice"], dtype=torch.float32, device=device)
        numbers = torch.tensor([site.specie.Z for site in dataset.template], dtype=torch.long, device=device)

        def epoch_fn(epoch: int, show: bool) -> dict[str, float]:
            from tqdm.auto import tqdm

            model.train()
            rng = epoch_generator(tcfg.seed, epoch)
            order = torch.randperm(len(frac), generator=rng)
            rng = setup.epoch_rng(rng, tcfg.seed, epoch)
            sums = {"total": 0.0, "coord": 0.0, "kl": 0.0}
            slices = setup.shard(batch_slices(len(order), tcfg.batch_size, drop_last=False))
            for part in tqdm(slices, desc=f"epoch {epoch + 1}", unit="batch", leave=False, disable=not show):
                losses = fixed_lattice_loss(model, _batch(frac[order[part]].to(device), lattice, numbers), rng)
                optimizer.zero_grad()
                losses["total"].backward()
                setup.average_gradients(model.parameters())
                if tcfg.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
                optimizer.step()
                for key in sums:
                    sums[key] += float(losses[key].detach())
            mean = {f"loss_{key}" if key == "total" else key: setup.mean(value / len(slices))
                    for key, value in sums.items()}
            scheduler.step(mean["loss_total"])
            return {**mean, "lr": optimizer.param_groups[0]["lr"]}

        def checkpoint_fn(records: list[dict[str, Any]]) -> dict[str, Any]:
            self.history = records
            return {**self._content(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}

        run_epochs(out_dir, tcfg.epochs, self.history, epoch_fn, checkpoint_fn, "train cdvae", progress, callback,
                   tcfg.max_seconds, write=setup.is_main)
        setup.finish()
        model.eval()
        if setup.is_main:
            self.save(out_dir / "generator.pt")
        return self.history

    def sample(self, n: int, seed: int = 0) -> list[Structure]:
        self._content()
        model, settings, device = self.model.eval(), self.sampling, self.device
        generator = torch.Generator(device=device).manual_seed(seed)
        lattice = torch.tensor(self.template["lattice"], dtype=torch.float32, device=device)
        numbers = torch.tensor([Element(s).Z for s in self.template["species"]], dtype=torch.long, device=device)
        out = []
        for start in range(0, n, settings.batch_size):
            count = min(settings.batch_size, n - start)
            latent = torch.randn((count, model.cfg.encoder.latent_dim), generator=generator, device=device)
            num_atoms = torch.full((count,), len(numbers), dtype=torch.long, device=device)
            crystals = langevin_sample(model.denoiser, latent, lattice.expand(count, 3, 3), numbers.repeat(count),
                                       num_atoms,
                                       num_levels=settings.num_levels, steps_per_level=settings.steps_per_level,
                                       step_lr=settings.step_lr, generator=generator)
            out.append(crystals.frac_coords.view(count, -1, 3).cpu().double())
        return structures_from_frac(self.template, torch.cat(out).numpy()) if out else []

    def save(self, path: str | os.PathLike) -> Path:
        return save_checkpoint(self._content(), path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> CDVAEGenerator:
        content = load_checkpoint(path, CHECKPOINT_FORMAT)
        if content.get("generator") != cls.name:
            raise CheckpointError(f"{path} holds a {content.get('generator')!r} generator, not {cls.name!r}")
        try:
            config = CDVAEConfig.from_dict(content["config"])
            generator = cls(config, replace(CDVAETrainConfig(**content["train_config"]), device=device),
                            LangevinSettings(**content["sampler"]))
            generator.model = CDVAE(config)
            generator.model.load_state_dict(content["model"])
            generator.template, generator.history = content["template"], list(content["history"])
        except (KeyError, TypeError, RuntimeError) as exc:
            raise CheckpointError(f"{path} does not hold a CD-VAE generator: {exc}") from exc
        generator.model.to(device).eval()
        return generator
