"""The latent energy surrogate of LCOM: an MLP from (latent vector, composition) to formation energy per atom.

The network works on standardised energies (``energy_mean``/``energy_std`` are buffers fitted on the
training set); :meth:`EnergySurrogate.forward` returns eV/atom, :meth:`EnergySurrogate.standardized` the
network's own scale, on which the conservative regulariser and its limit ``tau`` are defined. With
``whiten_latents`` each latent dimension is also standardised on the training latents (as the COMs reference
normalises its inputs), and latent gradient steps are taken in those units.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ase_lcom.structure import MAX_ATOMIC_NUMBER


@dataclass
class SurrogateConfig:
    """Hyperparameters of :class:`EnergySurrogate` (stored in checkpoints).

    The paper uses two hidden layers of 2048; 512 is our CPU default: each conservative epoch runs 50
    adversarial gradient steps per batch, and the cost grows with the square of the width.
    """

    latent_dim: int = 256
    hidden: int = 512
    num_layers: int = 2
    negative_slope: float = 0.2
    whiten_latents: bool = True
    """Standardise each latent dimension (``latent_mean``/``latent_std`` buffers fitted on the training latents);
    :func:`descend` then steps in these units. Surrogates of bundles before ``lcom-default-v4`` have it off."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LatentSearchSettings:
    """How a surrogate's latents are optimised at prediction time: ``steps`` gradient steps of ``step_lr``.

    ``whitened`` says the step size is in whitened latent units (the surrogate standardises each latent
    dimension, see :attr:`EnergySurrogate.latent_scale`) rather than raw latent units. The values are the ones
    the surrogate was trained with (its conservative term mines adversarial latents with the same search).
    """

    steps: int
    step_lr: float
    whitened: bool


class EnergySurrogate(nn.Module):
    """``E(latent, c)``: hidden leaky-ReLU layers over the latent concatenated with the composition ``c``."""

    def __init__(self, cfg: SurrogateConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or SurrogateConfig()
        layers: list[nn.Module] = []
        width = cfg.latent_dim + MAX_ATOMIC_NUMBER
        for _ in range(cfg.num_layers):
            layers += [nn.Linear(width, cfg.hidden), nn.LeakyReLU(cfg.negative_slope)]
            width = cfg.hidden
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)
        self.register_buffer("energy_mean", torch.zeros(()))
        self.register_buffer("energy_std", torch.ones(()))
        if cfg.whiten_latents:
            self.register_buffer("latent_mean", torch.zeros(cfg.latent_dim))
            self.register_buffer("latent_std", torch.ones(cfg.latent_dim))

    def fit_scaler(self, energies: torch.Tensor, latents: torch.Tensor | None = None) -> None:
        """Standardise on these training energies (eV/atom) and, with ``whiten_latents``, latents."""
        self.energy_mean.fill_(float(energies.mean()))
        self.energy_std.fill_(float(energies.std().clamp(min=1e-3)) if energies.numel() > 1 else 1.0)
        if self.cfg.whiten_latents:
            if latents is None or len(latents) < 2:
                raise ValueError("whitening the latents needs at least two training latents")
            self.latent_mean.copy_(latents.mean(0))
            self.latent_std.copy_(latents.std(0).clamp(min=1e-3))

    @property
    def latent_scale(self) -> torch.Tensor | float:
        """Latent units per network input unit, per dimension (``latent_std`` when whitened, else 1). A gradient
        step ``lr`` in the network's input units moves the latent by ``lr * latent_scale**2 * dE/dlatent``, and
        ``latent_scale * dE/dlatent`` is the gradient in those units."""
        return self.latent_std if self.cfg.whiten_latents else 1.0

    def standardized(self, latent: torch.Tensor, composition: torch.Tensor) -> torch.Tensor:
        """``(B,)`` energies in units of the training set's standard deviation, centred on its mean."""
        if self.cfg.whiten_latents:
            latent = (latent - self.latent_mean) / self.latent_std
        return self.mlp(torch.cat([latent, composition.to(latent.dtype)], dim=-1)).squeeze(-1)

    def forward(self, latent: torch.Tensor, composition: torch.Tensor) -> torch.Tensor:
        """``(B,)`` formation energies per atom (eV/atom)."""
        return self.standardized(latent, composition) * self.energy_std + self.energy_mean


def latent_gradient(
    surrogate: EnergySurrogate, latent: torch.Tensor, composition: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B,)`` standardised surrogate energies of ``latent`` and their gradient ``(B, D)`` with respect to the
    raw latent coordinates (both detached)."""
    latent = latent.detach().clone().requires_grad_(True)
    energy = surrogate.standardized(latent, composition)
    (gradient,) = torch.autograd.grad(energy.sum(), latent)
    return energy.detach(), gradient


def latent_step(
    surrogate: EnergySurrogate, latent: torch.Tensor, gradient: torch.Tensor, step_lr: float
) -> torch.Tensor:
    """One gradient-descent step from ``latent`` given its :func:`latent_gradient`.

    The step is ``step_lr`` along the gradient in the surrogate's whitened latent coordinates (raw coordinates
    for a surrogate without ``whiten_latents``): ``latent - step_lr * latent_scale**2 * gradient``. The latent
    optimisation of predictors (:func:`descend`) and the ASE optimizer ``LCOM`` both move by this step.
    """
    return (latent - step_lr * surrogate.latent_scale**2 * gradient).detach()


def descend(
    surrogate: EnergySurrogate, latent: torch.Tensor, composition: torch.Tensor, steps: int, step_lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``steps`` plain gradient-descent steps (:func:`latent_step`) on the standardised surrogate energy.

    The optimiser of LCOM (paper eq. 5): the same routine mines adversarial latents during conservative
    training and optimises latents at prediction time. Returns the final latents (detached) and the
    ``(steps + 1, B)`` standardised energies along the way.
    """
    latent = latent.detach()
    trace = []
    for _ in range(steps):
        energy, gradient = latent_gradient(surrogate, latent, composition)
        trace.append(energy)
        latent = latent_step(surrogate, latent, gradient, step_lr)
    with torch.no_grad():
        trace.append(surrogate.standardized(latent, composition))
    return latent, torch.stack(trace)
