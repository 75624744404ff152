"""CryinGAN: periodic k-NN distances, gradient penalty, tiny training runs, checkpoints and resume."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.generators.cryingan import CryinGAN
from ase_lcom.models.checkpoints import CheckpointError
from ase_lcom.models.cryingan import (
    CryinGANConfig,
    CryinGANCritic,
    CryinGANGenerator,
    gradient_penalty,
    periodic_knn_distances,
    xavier_init,
)
from ase_lcom.training.cryingan import CryinGANTrainConfig
from ase_lcom.training.generator_loop import GeneratorTrainingError, augmented_order

SMALL = CryinGANConfig(gen_channels=8, critic_channels=(16, 16, 8), critic_hidden=(16, 8, 4))


def brute_force_knn(frac: np.ndarray, lattice: np.ndarray, k: int) -> np.ndarray:
    """Distances to the k nearest images of every atom, over a 7 x 7 x 7 block of images."""
    images = np.array(list(itertools.product(range(-3, 4), repeat=3)))
    out = np.empty(frac.shape[:2] + (k,))
    for b, i in itertools.product(range(frac.shape[0]), range(frac.shape[1])):
        vec = (frac[b][:, None, :] + images[None] - frac[b, i]) @ lattice  # (atoms, images, 3)
        dist = np.linalg.norm(vec, axis=-1)
        dist[i, images.tolist().index([0, 0, 0])] = np.inf
        out[b, i] = np.sort(dist.ravel())[:k]
    return out


@pytest.mark.parametrize(("lattice", "atoms"), [
    (np.diag([4.0, 5.0, 6.0]), 7),
    (np.array([[5.0, 0, 0], [1.5, 4.5, 0], [0.5, 0.7, 6.0]]), 7),
    (np.diag([2.0, 9.0, 9.0]), 7),  # own images among the nearest
    (np.diag([9.0, 10.0, 11.0]), 60),  # dense and large: the wrapped displacements suffice
])
def test_periodic_knn_matches_brute_force(lattice, atoms):
    rng = np.random.default_rng(1)
    frac = rng.random((3, atoms, 3))
    got = periodic_knn_distances(torch.tensor(frac), torch.tensor(lattice), 6, chunk_elements=500).numpy()
    np.testing.assert_allclose(got, brute_force_knn(frac, lattice, 6), rtol=1e-10)
    assert (np.diff(got, axis=-1) >= 0).all()


def test_periodic_knn_is_differentiable():
    rng = np.random.default_rng(2)
    frac = torch.tensor(rng.random((2, 5, 3)), requires_grad=True)
    lattice = torch.tensor([[5.0, 0, 0], [1.0, 4.5, 0], [0.5, 0.7, 6.0]])
    assert torch.autograd.gradcheck(lambda x: periodic_knn_distances(x, lattice.double(), 6), (frac,))


def test_gradient_penalty_matches_brute_force():
    critic = CryinGANCritic(3, [3, 2], SMALL).double()
    xavier_init(critic, torch.Generator().manual_seed(0))
    real, fake = torch.rand(4, 5, 3, dtype=torch.float64), torch.rand(4, 5, 3, dtype=torch.float64)
    got = gradient_penalty(critic, real, fake, torch.Generator().manual_seed(3))
    alpha = torch.rand(4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    expected = []
    for b in range(4):  # one sample at a time, the norm written out
        x = (alpha[b] * real[b] + (1 - alpha[b]) * fake[b]).requires_grad_(True)
        grad, = torch.autograd.grad(critic(x[None])[0], x)
        expected.append((torch.sqrt((grad**2).sum()) - 1) ** 2)
    torch.testing.assert_close(got, torch.stack(expected).mean())
    got.backward()  # the penalty trains the critic
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for n, p in critic.named_parameters() if "weight" in n)


def test_gradient_penalty_of_a_linear_critic():
    weight = torch.tensor([[0.3, -0.4, 1.2]])
    linear = lambda x: (x @ weight.T).sum(dim=(1, 2))  # noqa: E731 - gradient is weight at every atom
    penalty = gradient_penalty(linear, torch.rand(3, 4, 3), torch.rand(3, 4, 3))
    expected = (np.sqrt(4 * (0.3**2 + 0.4**2 + 1.2**2)) - 1) ** 2
    assert float(penalty) == pytest.approx(expected, rel=1e-5)


def test_generator_and_critic_shapes():
    gen = CryinGANGenerator(10)
    frac = gen(torch.randn(3, 64))
    assert frac.shape == (3, 10, 3) and (frac > 0).all() and (frac < 1).all()
    critic = CryinGANCritic(6, [6, 4])
    assert critic(torch.rand(3, 10, 6)).shape == (3,)
    permuted = critic(torch.rand(1, 10, 6).repeat(2, 1, 1)[:, torch.tensor([5, 2, 1, 0, 4, 3, 9, 8, 7, 6])])
    assert torch.allclose(permuted[0], permuted[1])


def _gan(epochs: int, **overrides) -> CryinGAN:
    settings = dict(epochs=epochs, batch_size=8, generator_interval=2, translations=2, dist_weight=0.1, seed=5)
    return CryinGAN(SMALL, CryinGANTrainConfig(**{**settings, **overrides}))


def test_tiny_training_run_and_checkpoint_round_trip(toy_dataset, tmp_path, assert_template):
    gan = _gan(2)
    seen = []
    history = gan.fit(toy_dataset, tmp_path, progress=False, callback=seen.append)
    assert [r["epoch"] for r in history] == [1, 2] and seen == history
    for record in history:  # 12 structures x 8 translations / 8 = 12 critic steps per epoch
        assert all(np.isfinite(v) for v in record.values())
        assert {"loss_critic", "loss_generator", "wasserstein_dist", "gp_coord"} <= set(record)
    assert json.loads((tmp_path / "history.json").read_text()) == history
    samples = gan.sample(5, seed=11)
    assert_template(samples, toy_dataset, 5)
    assert not np.allclose(samples[0].frac_coords, samples[1].frac_coords)

    reloaded = CryinGAN.load(tmp_path / "generator.pt")
    again = reloaded.sample(5, seed=11)
    for a, b in zip(samples, again, strict=True):
        np.testing.assert_allclose(a.frac_coords, b.frac_coords, atol=1e-6)
    assert not np.allclose(reloaded.sample(1, seed=12)[0].frac_coords, again[0].frac_coords)
    assert reloaded.history == history


def test_resume_continues_exactly_from_last_checkpoint(toy_dataset, tmp_path):
    straight = _gan(2)
    straight.fit(toy_dataset, tmp_path / "straight", progress=False)
    interrupted = _gan(1)
    interrupted.fit(toy_dataset, tmp_path / "resumed", progress=False)
    resumed = _gan(2)
    history = resumed.fit(toy_dataset, tmp_path / "resumed", progress=False)
    assert [r["epoch"] for r in history] == [1, 2]
    assert history[1]["loss_critic"] == pytest.approx(straight.history[1]["loss_critic"], rel=1e-5)
    for key, value in straight.models.generator.state_dict().items():
        torch.testing.assert_close(resumed.models.generator.state_dict()[key], value, rtol=1e-5, atol=1e-6)


def test_resume_rejects_another_template(toy_dataset, tmp_path, make_toy):
    _gan(1).fit(toy_dataset, tmp_path, progress=False)
    other = FixedLatticeDataset.from_structures(make_toy(4, repeats=1))
    with pytest.raises(GeneratorTrainingError, match="another template"):
        _gan(2).fit(other, tmp_path, progress=False)


def test_resume_with_changed_settings_is_refused(toy_dataset, tmp_path):
    _gan(1).fit(toy_dataset, tmp_path, progress=False)
    for change, says in (({"lr": 1e-3}, "training setting lr is 5e-05"), ({"seed": 6}, "training setting seed is 5")):
        with pytest.raises(GeneratorTrainingError, match=says) as info:
            _gan(2, **change).fit(toy_dataset, tmp_path, progress=False)
        assert "\n" not in str(info.value)
    with pytest.raises(GeneratorTrainingError, match=r"model setting latent_dim"):
        CryinGAN(replace(SMALL, latent_dim=SMALL.latent_dim + 1), _gan(2).train_config).fit(toy_dataset, tmp_path,
                                                                                             progress=False)
    assert len(_gan(2, max_seconds=1e6).fit(toy_dataset, tmp_path, progress=False)) == 2  # more epochs and time


def test_untrained_and_foreign_checkpoints(tmp_path):
    with pytest.raises(GeneratorTrainingError, match="not trained"):
        CryinGAN().sample(1)
    torch.save({"format": "cdvae"}, tmp_path / "x.pt")
    with pytest.raises(CheckpointError):
        CryinGAN.load(tmp_path / "x.pt")


def test_one_process_ddp_reproduces_plain_training(toy_dataset, tmp_path):
    plain, ddp = _gan(epochs=2), _gan(epochs=2)
    plain.fit(toy_dataset, tmp_path / "plain", progress=False)
    ddp.fit(toy_dataset, tmp_path / "ddp", progress=False, ddp=True)
    assert not torch.distributed.is_initialized()
    for name in ("generator", "coord_critic", "dist_critic"):
        for a, b in zip(getattr(plain.models, name).state_dict().values(),
                        getattr(ddp.models, name).state_dict().values(), strict=True):
            assert torch.equal(a, b), name


def test_sampled_shifts_make_an_epoch_one_pass_over_the_structures():
    rng = torch.Generator().manual_seed(0)
    every = augmented_order(5, 8, rng)
    assert sorted(map(tuple, every.tolist())) == [(s, k) for s in range(5) for k in range(8)]
    for per in (1, 3):
        drawn = augmented_order(5, 8, torch.Generator().manual_seed(1), per_structure=per)
        assert sorted(drawn[:, 0].tolist()) == sorted(list(range(5)) * per)
        for structure in range(5):  # distinct shifts of each structure, within range
            shifts = drawn[drawn[:, 0] == structure, 1].tolist()
            assert len(set(shifts)) == per and all(0 <= k < 8 for k in shifts)
    assert not torch.equal(augmented_order(50, 8, torch.Generator().manual_seed(1), 1)[:, 1],
                           augmented_order(50, 8, torch.Generator().manual_seed(2), 1)[:, 1])
    with pytest.raises(GeneratorTrainingError, match="shifts per structure"):
        augmented_order(5, 8, rng, per_structure=-1)


def test_one_shift_per_epoch_trains_one_pass_and_resumes(toy_dataset, tmp_path):
    gan = _gan(1, shifts_per_epoch=1, batch_size=4)
    gan.fit(toy_dataset, tmp_path, progress=False)
    assert gan.train_config.shifts_per_epoch == 1
    content = torch.load(tmp_path / "last.pt", weights_only=False)
    assert content["train_config"]["shifts_per_epoch"] == 1
    # 12 structures, one shift each, batches of 4: 3 critic steps and 2 generator steps (interval 2)
    opt_state = content["optimizers"]["critics"]["state"]
    assert int(next(iter(opt_state.values()))["step"]) == 3
    assert int(next(iter(content["optimizers"]["generator"]["state"].values()))["step"]) == 2
    with pytest.raises(GeneratorTrainingError, match="shifts_per_epoch"):
        _gan(2, shifts_per_epoch=2, batch_size=4).fit(toy_dataset, tmp_path, progress=False)
