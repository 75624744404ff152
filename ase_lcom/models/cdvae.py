"""The crystal diffusion VAE (Xie et al. 2021) as used by LCOM: encoder, lattice head, coordinate denoiser.

Loss (paper): lattice MSE + denoising score matching over noise levels + beta * KL. Atom types and counts are
given by the composition, so they are not reconstructed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from ase_lcom.models.decoder import (
    CoordinateDenoiser,
    DecoderConfig,
    LatticeHead,
    composition_of,
    langevin_sample,
    noise_levels,
)
from ase_lcom.models.encoder import CrystalEncoder, EncoderConfig, composition_vector
from ase_lcom.structure import CrystalBatch


@dataclass
class CDVAEConfig:
    """All hyperparameters of a CD-VAE (stored inside checkpoints as plain values)."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    lattice_hidden: int = 256
    beta: float = 0.01
    lattice_weight: float = 10.0
    coord_weight: float = 10.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CDVAEConfig:
        values = dict(data)
        return cls(encoder=EncoderConfig(**values.pop("encoder")), decoder=DecoderConfig(**values.pop("decoder")),
                   **values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CDVAE(nn.Module):
    """Encoder, lattice head and denoiser with the training loss and the sampler."""

    def __init__(self, cfg: CDVAEConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or CDVAEConfig()
        if cfg.encoder.latent_dim != cfg.decoder.latent_dim:
            raise ValueError("encoder and decoder latent_dim differ")
        self.encoder = CrystalEncoder(cfg.encoder)
        self.lattice_head = LatticeHead(cfg.encoder.latent_dim, cfg.lattice_hidden)
        self.denoiser = CoordinateDenoiser(cfg.decoder)

    def encode(self, crystals: CrystalBatch) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(crystals)

    def decode_lattice(self, latent: torch.Tensor, composition: torch.Tensor, num_atoms: torch.Tensor) -> torch.Tensor:
        return self.lattice_head.lattice(self.lattice_head(latent, composition), num_atoms)

    def loss(self, crystals: CrystalBatch, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Loss terms for a batch: ``lattice``, ``coord``, ``kl`` and their weighted ``total``."""
        cfg = self.cfg
        mu, log_var = self.encode(crystals)
        latent = mu + torch.exp(0.5 * log_var) * torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        kl = -0.5 * torch.mean(torch.sum(1 + log_var - mu**2 - log_var.exp(), dim=-1))

        lengths, angles = crystals.lattice_params()
        target = (LatticeHead.parameters_of(lengths, angles, crystals.num_atoms).to(latent.dtype)
                  - self.lattice_head.mean) / self.lattice_head.std
        lattice_loss = torch.mean((self.lattice_head(latent, composition_of(crystals)) - target) ** 2)

        levels = noise_levels(cfg.decoder).to(latent.dtype)
        sigma = levels[torch.randint(len(levels), (crystals.num_crystals,), generator=generator)]
        batch = crystals.batch
        lattice = crystals.lattice.to(latent.dtype)
        noise = torch.randn(crystals.frac_coords.shape, generator=generator, dtype=latent.dtype) * sigma[batch, None]
        inverse = torch.linalg.inv(lattice)
        frac = crystals.frac_coords.to(latent.dtype)
        noisy = torch.remainder(frac + torch.einsum("nc,ncd->nd", noise, inverse[batch]), 1.0)
        shift = noisy - frac
        shift = shift - torch.round(shift)  # minimum-image displacement: what the denoiser can know
        target_eps = torch.einsum("nc,ncd->nd", shift, lattice[batch]) / sigma[batch, None]
        noisy_crystals = CrystalBatch(lattice, noisy, crystals.atomic_numbers, crystals.num_atoms)
        coord_loss = torch.mean(torch.sum((self.denoiser(noisy_crystals, latent, sigma) - target_eps) ** 2, dim=-1))

        total = cfg.lattice_weight * lattice_loss + cfg.coord_weight * coord_loss + cfg.beta * kl
        return {"total": total, "lattice": lattice_loss, "coord": coord_loss, "kl": kl}

    @torch.no_grad()
    def decode(
        self,
        latent: torch.Tensor,
        atomic_numbers: torch.Tensor,
        num_atoms: torch.Tensor,
        num_levels: int = 20,
        steps_per_level: int = 2,
        generator: torch.Generator | None = None,
    ) -> CrystalBatch:
        """Crystals for these ``(B, latent_dim)`` latents with the given atoms: lattice from the head, positions by
        Langevin sampling."""
        batch = torch.repeat_interleave(torch.arange(num_atoms.shape[0], device=num_atoms.device), num_atoms)
        composition = composition_vector(atomic_numbers, batch, num_atoms.shape[0]).to(latent.dtype)
        lattice = self.decode_lattice(latent, composition, num_atoms)
        return langevin_sample(self.denoiser, latent, lattice, atomic_numbers, num_atoms, num_levels, steps_per_level,
                               generator=generator)
