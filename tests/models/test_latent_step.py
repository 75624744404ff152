"""The one latent step shared by predictors (``descend``) and the ASE optimizer."""

from __future__ import annotations

import torch
from pymatgen.core import Composition

from ase_lcom.models.bundle import composition_tensor
from ase_lcom.models.surrogate import descend, latent_gradient, latent_step
from tests.models.tiny_bundle import random_model


def test_descend_is_repeated_latent_steps_in_whitened_units():
    surrogate, settings = random_model().surrogate("coms")
    latents = torch.randn(3, 8, generator=torch.Generator().manual_seed(1))
    composition = composition_tensor([Composition("NaCl")] * 3)
    final, trace = descend(surrogate, latents, composition, 4, settings.step_lr)
    latent, energies = latents, []
    for _ in range(4):
        energy, gradient = latent_gradient(surrogate, latent, composition)
        energies.append(energy)
        step = latent_step(surrogate, latent, gradient, settings.step_lr)
        # a step of step_lr along the gradient of the whitened coordinates (latent - mean) / std
        whitened_move = (step - latent) / surrogate.latent_std
        assert torch.allclose(whitened_move, -settings.step_lr * surrogate.latent_std * gradient, atol=1e-6)
        latent = step
    assert torch.equal(final, latent) and torch.equal(trace[:-1], torch.stack(energies))
    assert trace.shape == (5, 3) and torch.equal(trace[-1], surrogate.standardized(latent, composition).detach())
    assert not torch.equal(final, latents)


def test_latent_gradient_is_the_autograd_gradient_and_leaves_inputs_alone():
    surrogate, _ = random_model().surrogate("sl")
    latents = torch.randn(2, 8, generator=torch.Generator().manual_seed(2))
    composition = composition_tensor([Composition("NaCl")] * 2)
    energy, gradient = latent_gradient(surrogate, latents, composition)
    probe = latents.clone().requires_grad_(True)
    surrogate.standardized(probe, composition).sum().backward()
    assert torch.allclose(gradient, probe.grad) and not latents.requires_grad and not energy.requires_grad
