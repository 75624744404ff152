"""Fixed-lattice coordinate diffusion (DiffCSP-style) as a :class:`~ase_lcom.generators.StructureGenerator`."""

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
from ase_lcom.models.checkpoints import CheckpointError, save_checkpoint
from ase_lcom.models.coordinate_diffusion import DiffusionConfig, PeriodicScoreNetwork, predictor_corrector_sample
from ase_lcom.training.coordinate_diffusion import (
    DiffusionTrainConfig,
    diffusion_content,
    load_diffusion,
    species_indices,
    train_diffusion,
)
from ase_lcom.training.distributed import is_main_process
from ase_lcom.training.generator_loop import GeneratorTrainingError, structures_from_frac


class CoordinateDiffusion(StructureGenerator):
    """Wrapped-normal score matching on fractional coordinates with the template's lattice fixed.

    Parameters
    ----------
    config
        Denoiser and noise schedule (``num_species`` is set from the training set).
    train_config
        Optimisation, ``device`` and seed.
    sample_steps
        Noise levels walked by the predictor-corrector sampler (DiffCSP: 1000; two denoiser calls each).
    corrector_lr
        Langevin corrector step at ``sigma_min`` (DiffCSP: 1e-5).
    sample_batch_size
        Structures denoised together by :meth:`sample`; samples for a seed depend on it.
    """

    name = "diffusion"

    def __init__(self, config: DiffusionConfig | None = None, train_config: DiffusionTrainConfig | None = None,
                 sample_steps: int = 1000, corrector_lr: float = 1e-5, sample_batch_size: int = 50) -> None:
        self.config = config or DiffusionConfig()
        self.train_config = train_config or DiffusionTrainConfig()
        self.sample_steps, self.corrector_lr, self.sample_batch_size = sample_steps, corrector_lr, sample_batch_size
        self.model: PeriodicScoreNetwork | None = None
        self.template: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []

    @property
    def device(self) -> str:
        return self.train_config.device

    def fit(self, dataset: FixedLatticeDataset, out_dir: str | os.PathLike, progress: bool = True,
            callback: Callable[[dict[str, Any]], None] | None = None, ddp: bool = False) -> list[dict[str, Any]]:
        """Train into ``out_dir`` (resuming ``out_dir/last.pt``); writes ``out_dir/generator.pt`` at the end."""
        self.model, content = train_diffusion(dataset, out_dir, self.config, self.train_config, progress, callback,
                                              ddp)
        self._adopt(content)
        if not ddp or is_main_process():
            self.save(Path(out_dir) / "generator.pt")
        return self.history

    def _adopt(self, content: dict[str, Any]) -> None:
        self.config = self.model.cfg
        self.train_config = replace(DiffusionTrainConfig(**content["train_config"]), device=self.device)
        self.template, self.history = content["template"], list(content["history"])
        sampler = content.get("sampler", {})
        self.sample_steps = int(sampler.get("sample_steps", self.sample_steps))
        self.corrector_lr = float(sampler.get("corrector_lr", self.corrector_lr))
        self.sample_batch_size = int(sampler.get("sample_batch_size", self.sample_batch_size))

    def sample(self, n: int, seed: int = 0) -> list[Structure]:
        if self.model is None or self.template is None:
            raise GeneratorTrainingError("the diffusion generator is not trained: call fit() or load a checkpoint")
        generator = torch.Generator().manual_seed(seed)
        species = species_indices(self.template)
        lattice = torch.tensor(self.template["lattice"])
        self.model.eval()
        frac = [predictor_corrector_sample(self.model, min(self.sample_batch_size, n - start), species, lattice,
                                           self.sample_steps, self.corrector_lr, generator).cpu().double()
                for start in range(0, n, self.sample_batch_size)]
        return structures_from_frac(self.template, torch.cat(frac).numpy()) if frac else []

    def save(self, path: str | os.PathLike) -> Path:
        if self.model is None or self.template is None:
            raise GeneratorTrainingError("the diffusion generator is not trained: nothing to save")
        content = diffusion_content(self.model, self.template, self.train_config, self.history)
        content["sampler"] = {"sample_steps": self.sample_steps, "corrector_lr": self.corrector_lr,
                              "sample_batch_size": self.sample_batch_size}
        return save_checkpoint(content, path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> CoordinateDiffusion:
        model, content = load_diffusion(path)
        generator = cls(model.cfg, DiffusionTrainConfig(device=device))
        generator.model = model.to(device)
        try:
            generator._adopt(content)
        except (KeyError, TypeError) as exc:
            raise CheckpointError(f"{path} does not hold a complete diffusion generator: {exc}") from exc
        return generator
