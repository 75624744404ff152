"""CryinGAN as a :class:`~ase_lcom.generators.StructureGenerator`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from pymatgen.core import Structure

from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.generators import StructureGenerator
from ase_lcom.models.checkpoints import save_checkpoint
from ase_lcom.models.cryingan import CryinGANConfig
from ase_lcom.training.cryingan import CryinGANModels, CryinGANTrainConfig, load_cryingan, train_cryingan
from ase_lcom.training.distributed import is_main_process
from ase_lcom.training.generator_loop import GeneratorTrainingError, structures_from_frac


class CryinGAN(StructureGenerator):
    """Point-cloud WGAN-GP with coordinate and bond-distance critics (Yong et al. 2024).

    Parameters
    ----------
    config
        Architecture (published defaults).
    train_config
        Optimisation, augmentation (``translations``), ``device`` and seed.
    sample_batch_size
        Structures generated per forward pass by :meth:`sample` (does not change the samples).

    Examples
    --------
    >>> gan = CryinGAN(train_config=CryinGANTrainConfig(epochs=1500, translations=4))  # doctest: +SKIP
    >>> gan.fit(FixedLatticeDataset.read("alloy.extxyz"), "runs/gan")                 # doctest: +SKIP
    >>> structures = gan.sample(1000, seed=0)                                          # doctest: +SKIP
    """

    name = "cryingan"

    def __init__(self, config: CryinGANConfig | None = None, train_config: CryinGANTrainConfig | None = None,
                 sample_batch_size: int = 256) -> None:
        self.config = config or CryinGANConfig()
        self.train_config = train_config or CryinGANTrainConfig()
        self.sample_batch_size = sample_batch_size
        self.models: CryinGANModels | None = None

    @property
    def device(self) -> str:
        return self.train_config.device

    @property
    def template(self) -> dict[str, Any] | None:
        """The training template (lattice, per-site species, species blocks) once trained or loaded."""
        return None if self.models is None else self.models.template

    @property
    def history(self) -> list[dict[str, Any]]:
        return [] if self.models is None else self.models.history

    def _trained(self) -> CryinGANModels:
        if self.models is None:
            raise GeneratorTrainingError("the CryinGAN generator is not trained: call fit() or load a checkpoint")
        return self.models

    def fit(self, dataset: FixedLatticeDataset, out_dir: str | os.PathLike, progress: bool = True,
            callback: Callable[[dict[str, Any]], None] | None = None, ddp: bool = False) -> list[dict[str, Any]]:
        """Train into ``out_dir`` (resuming ``out_dir/last.pt``); writes ``out_dir/generator.pt`` at the end."""
        self.models = train_cryingan(dataset, out_dir, self.config, self.train_config, progress, callback, ddp)
        self.config, self.train_config = self.models.config, self.models.train_config
        if not ddp or is_main_process():
            self.save(Path(out_dir) / "generator.pt")
        return self.models.history

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> list[Structure]:
        models = self._trained()
        models.generator.eval()
        z = torch.randn(n, self.config.latent_dim, generator=torch.Generator().manual_seed(seed))
        frac = [models.generator(part.to(self.device)).cpu().double()
                for part in z.split(self.sample_batch_size)]
        return structures_from_frac(models.template, torch.cat(frac).numpy()) if frac else []

    def save(self, path: str | os.PathLike) -> Path:
        return save_checkpoint(self._trained().state(), path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> CryinGAN:
        models, _ = load_cryingan(path)
        generator = cls(models.config, replace(models.train_config, device=device))
        models.train_config = generator.train_config
        generator.models = models.to(device)
        return generator
