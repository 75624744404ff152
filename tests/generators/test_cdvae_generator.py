"""The CD-VAE as a fixed-lattice generator: tiny training run, template kept, checkpoints, resume."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from ase_lcom.generators.cdvae import CDVAEGenerator, CDVAETrainConfig, LangevinSettings, fixed_lattice_loss
from ase_lcom.models.cdvae import CDVAEConfig
from ase_lcom.models.checkpoints import CheckpointError
from ase_lcom.models.decoder import DecoderConfig
from ase_lcom.models.encoder import EncoderConfig
from ase_lcom.structure import CrystalBatch
from ase_lcom.training.generator_loop import GeneratorTrainingError

TINY = dict(hidden=16, int_emb=8, basis_emb=4, out_emb=16, num_radial=4, num_spherical=3, cutoff=4.0, latent_dim=8)


def _cdvae(epochs: int) -> CDVAEGenerator:
    config = CDVAEConfig(encoder=EncoderConfig(num_blocks=1, max_neighbors=8, **TINY),
                         decoder=DecoderConfig(num_blocks=1, max_neighbors=8, sigma_begin=3.0, num_noise_levels=10,
                                               **TINY), lattice_hidden=8)
    return CDVAEGenerator(config, CDVAETrainConfig(epochs=epochs, batch_size=4, seed=4),
                          LangevinSettings(num_levels=4, steps_per_level=2, batch_size=3))


def test_tiny_training_run_and_checkpoint_round_trip(toy_dataset, tmp_path, assert_template):
    gen = _cdvae(2)
    history = gen.fit(toy_dataset, tmp_path, progress=False)
    assert [r["epoch"] for r in history] == [1, 2]
    assert all(np.isfinite(r[k]) for r in history for k in ("loss_total", "coord", "kl"))
    assert all(p.grad is None or not p.grad.any() for p in gen.model.lattice_head.parameters())
    samples = gen.sample(4, seed=1)
    assert_template(samples, toy_dataset, 4)
    reloaded = CDVAEGenerator.load(tmp_path / "generator.pt")
    assert reloaded.sampling == gen.sampling and reloaded.history == history
    for a, b in zip(samples, reloaded.sample(4, seed=1), strict=True):
        np.testing.assert_allclose(a.frac_coords, b.frac_coords, atol=1e-6)
    assert not np.allclose(reloaded.sample(1, seed=2)[0].frac_coords, samples[0].frac_coords)


def test_resume_continues_exactly_from_last_checkpoint(toy_dataset, tmp_path):
    straight = _cdvae(2)
    straight.fit(toy_dataset, tmp_path / "straight", progress=False)
    _cdvae(1).fit(toy_dataset, tmp_path / "resumed", progress=False)
    resumed = _cdvae(2)
    history = resumed.fit(toy_dataset, tmp_path / "resumed", progress=False)
    assert len(history) == 2
    assert history[1]["loss_total"] == pytest.approx(straight.history[1]["loss_total"], rel=1e-5)
    for key, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value, rtol=1e-5, atol=1e-6)


def test_resume_with_changed_settings_is_refused(toy_dataset, tmp_path):
    _cdvae(1).fit(toy_dataset, tmp_path, progress=False)
    changed = _cdvae(2)
    changed.train_config = replace(changed.train_config, seed=5)
    with pytest.raises(GeneratorTrainingError, match=r"training setting seed is 4 in .*last\.pt but 5 now"):
        changed.fit(toy_dataset, tmp_path, progress=False)


def test_loss_has_no_lattice_term(toy_dataset):
    gen = _cdvae(1)
    from ase_lcom.models.cdvae import CDVAE

    model = CDVAE(gen.config)
    crystals = CrystalBatch.from_structures(toy_dataset.structures[:2], niggli=False, dtype=torch.float32)
    losses = fixed_lattice_loss(model, crystals, torch.Generator().manual_seed(0))
    assert set(losses) == {"total", "coord", "kl"}
    losses["total"].backward()
    assert all(p.grad is None for p in model.lattice_head.parameters())


def test_wrong_kind_of_checkpoint(toy_dataset, tmp_path):
    from ase_lcom.generators.diffusion import CoordinateDiffusion
    from ase_lcom.models.coordinate_diffusion import DiffusionConfig
    from ase_lcom.training.coordinate_diffusion import DiffusionTrainConfig

    CoordinateDiffusion(DiffusionConfig(hidden=8, num_layers=1, num_radial=4, cutoff=3.0),
                        DiffusionTrainConfig(epochs=1)).fit(toy_dataset, tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="holds a 'diffusion' generator"):
        CDVAEGenerator.load(tmp_path / "generator.pt")


def test_one_process_ddp_reproduces_plain_training(toy_dataset, tmp_path):
    plain, ddp = _cdvae(epochs=2), _cdvae(epochs=2)
    plain.fit(toy_dataset, tmp_path / "plain", progress=False)
    ddp.fit(toy_dataset, tmp_path / "ddp", progress=False, ddp=True)
    assert not torch.distributed.is_initialized()
    for a, b in zip(plain.model.state_dict().values(), ddp.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
