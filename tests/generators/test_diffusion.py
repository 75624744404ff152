"""Coordinate diffusion: wrapped-normal score, denoiser symmetries, tiny training runs, checkpoints, resume."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from ase_lcom.generators.diffusion import CoordinateDiffusion
from ase_lcom.models.coordinate_diffusion import (
    DiffusionConfig,
    PeriodicScoreNetwork,
    score_norm,
    wrapped_normal_score,
)
from ase_lcom.training.coordinate_diffusion import DiffusionTrainConfig, build_model
from ase_lcom.training.generator_loop import GeneratorTrainingError

SMALL = DiffusionConfig(num_species=2, hidden=16, num_layers=2, cutoff=4.0, max_neighbors=12, num_radial=8,
                        num_levels=50)


def test_wrapped_normal_score_is_the_derivative_of_the_log_density():
    x = torch.linspace(-0.7, 0.9, 41, dtype=torch.float64)
    for sigma in (0.05, 0.3, 0.5):
        def log_p(v, s=sigma):
            k = torch.arange(-20, 21, dtype=torch.float64)
            return torch.logsumexp(-((v[:, None] + k) ** 2) / (2 * s**2), dim=-1)
        h = 1e-5
        numeric = (log_p(x + h) - log_p(x - h)) / (2 * h)
        torch.testing.assert_close(wrapped_normal_score(x, torch.full_like(x, sigma)), numeric, rtol=1e-6, atol=1e-6)


def test_score_norm_limits():
    norms = score_norm(torch.tensor([0.005, 0.01, 2.0], dtype=torch.float64))
    assert norms[0] == pytest.approx(1 / 0.005**2, rel=1e-6)  # small sigma: a plain normal
    assert norms[1] == pytest.approx(1 / 0.01**2, rel=1e-6)
    assert norms[2] < 1e-3  # wide: nearly uniform, almost no score


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    lattice = torch.tensor([[5.0, 0.0, 0.0], [0.8, 4.6, 0.0], [0.3, 0.4, 5.5]], dtype=torch.float64)
    frac = torch.tensor(rng.random((2, 9, 3)))
    species = torch.tensor([0] * 6 + [1] * 3)
    return frac, species, lattice, torch.tensor([0.01, 0.08], dtype=torch.float64)


def test_denoiser_symmetries():
    model = build_model(SMALL, seed=1).double()
    frac, species, lattice, sigma = _inputs()
    out = model(frac, species, lattice, sigma)
    assert out.shape == frac.shape and torch.isfinite(out).all() and out.abs().sum() > 0
    shifted = model(torch.remainder(frac + torch.tensor([0.31, -0.2, 0.77], dtype=torch.float64), 1.0),
                    species, lattice, sigma)
    torch.testing.assert_close(shifted, out)  # translations
    torch.testing.assert_close(model(frac + torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64), species,
                                     lattice, sigma), out)  # periodic images
    perm = torch.tensor([3, 0, 5, 1, 4, 2, 8, 6, 7])
    torch.testing.assert_close(model(frac[:, perm], species, lattice, sigma), out[:, perm])  # same-species swaps
    angle = 0.7
    rotation = torch.tensor([[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0],
                             [0, 0, 1.0]], dtype=torch.float64)
    # a rotated crystal has the same fractional coordinates and the same fractional score
    torch.testing.assert_close(model(frac, species, lattice @ rotation.T, sigma), out)


def _diffusion(epochs: int) -> CoordinateDiffusion:
    return CoordinateDiffusion(SMALL, DiffusionTrainConfig(epochs=epochs, batch_size=4, seed=3), sample_steps=6,
                               sample_batch_size=3)


def test_tiny_training_run_and_checkpoint_round_trip(toy_dataset, tmp_path, assert_template):
    model = _diffusion(3)
    history = model.fit(toy_dataset, tmp_path, progress=False)
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert all(np.isfinite(r["loss"]) and r["loss"] > 0 for r in history)
    assert json.loads((tmp_path / "history.json").read_text()) == history
    samples = model.sample(4, seed=2)
    assert_template(samples, toy_dataset, 4)
    reloaded = CoordinateDiffusion.load(tmp_path / "generator.pt")
    assert reloaded.sample_steps == 6 and reloaded.history == history
    for a, b in zip(samples, reloaded.sample(4, seed=2), strict=True):
        np.testing.assert_allclose(a.frac_coords, b.frac_coords, atol=1e-6)
    assert not np.allclose(reloaded.sample(1, seed=3)[0].frac_coords, samples[0].frac_coords)


def test_resume_with_changed_settings_is_refused(toy_dataset, tmp_path):
    _diffusion(1).fit(toy_dataset, tmp_path, progress=False)
    changed = _diffusion(2)
    changed.train_config = replace(changed.train_config, batch_size=2)
    with pytest.raises(GeneratorTrainingError, match=r"training setting batch_size is 4 in .*last\.pt but 2 now"):
        changed.fit(toy_dataset, tmp_path, progress=False)
    assert len(_diffusion(2).fit(toy_dataset, tmp_path, progress=False)) == 2  # more epochs


def test_resume_continues_exactly_from_last_checkpoint(toy_dataset, tmp_path):
    straight = _diffusion(2)
    straight.fit(toy_dataset, tmp_path / "straight", progress=False)
    _diffusion(1).fit(toy_dataset, tmp_path / "resumed", progress=False)
    resumed = _diffusion(2)
    history = resumed.fit(toy_dataset, tmp_path / "resumed", progress=False)
    assert len(history) == 2
    assert history[1]["loss"] == pytest.approx(straight.history[1]["loss"], rel=1e-5)
    for key, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value, rtol=1e-5, atol=1e-6)


def test_learns_a_single_structure(make_toy, tmp_path):
    """Trained on one structure, the score points the noisy atoms back to it."""
    from ase_lcom.data.fixed_lattice import FixedLatticeDataset
    from ase_lcom.models.coordinate_diffusion import denoising_loss

    dataset = FixedLatticeDataset.from_structures(make_toy(1, repeats=1, noise=0.0))
    cfg = DiffusionConfig(hidden=32, num_layers=2, cutoff=4.0, max_neighbors=12, num_radial=16, num_levels=20)
    model = CoordinateDiffusion(cfg, DiffusionTrainConfig(epochs=150, batch_size=1, lr=3e-3))
    history = model.fit(dataset, tmp_path, progress=False)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    frac = torch.tensor(dataset.frac_coords(), dtype=torch.float32).repeat(8, 1, 1)
    species = torch.zeros(4, dtype=torch.long)
    lattice = torch.tensor(dataset.lattice.matrix, dtype=torch.float32)
    with torch.no_grad():
        loss = denoising_loss(model.model, frac, species, lattice, torch.Generator().manual_seed(0))
    assert float(loss) < 0.6
    assert isinstance(model.model, PeriodicScoreNetwork)


def test_one_process_ddp_reproduces_plain_training(toy_dataset, tmp_path):
    plain, ddp = _diffusion(epochs=2), _diffusion(epochs=2)
    plain.fit(toy_dataset, tmp_path / "plain", progress=False)
    ddp.fit(toy_dataset, tmp_path / "ddp", progress=False, ddp=True)
    assert not torch.distributed.is_initialized()
    for a, b in zip(plain.model.state_dict().values(), ddp.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
