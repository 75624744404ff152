"""The CD-VAE decoder: a lattice head and a GemNet-style direct-force coordinate denoiser sampled by annealed
Langevin dynamics.

Atom types and counts are fixed by the composition (as in the LCOM paper); the latent vector sets the lattice
(through :class:`LatticeHead`) and conditions the denoiser. The denoiser reuses the encoder's directional
interaction blocks on the noisy crystal and predicts, per edge, a scalar that multiplies the unit edge vector;
summing over a receiving atom's edges gives a Cartesian vector field that rotates with the crystal
(equivariant "direct force" output, as in GemNet).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ase_lcom.graph import edge_vectors, radius_graph_pbc, triplet_angles, triplets
from ase_lcom.models.basis import AngularBasis, BesselBasis
from ase_lcom.models.encoder import EncoderConfig, InteractionBlock, composition_vector, scatter_sum
from ase_lcom.structure import MAX_ATOMIC_NUMBER, CrystalBatch, lattice_matrix_from_params


@dataclass
class DecoderConfig(EncoderConfig):
    """Denoiser sizes (shared field names with the encoder) and the noise schedule."""

    num_blocks: int = 3
    max_neighbors: int = 12
    """Fewer than the encoder's 20: triplets grow with its square and the denoiser runs at every Langevin step
    (benchmarks/decode_speed.py: 16 x 12-atom candidates, 0.73 s per call with 20, 0.26 s with 12, loaded CPU)."""
    sigma_begin: float = 5.0
    """Largest coordinate noise, Angstrom."""
    sigma_end: float = 0.01
    num_noise_levels: int = 50
    """Training noise levels (geometric from ``sigma_begin`` to ``sigma_end``)."""


def noise_levels(cfg: DecoderConfig, count: int | None = None) -> torch.Tensor:
    """Geometric noise schedule, largest first."""
    return torch.exp(torch.linspace(math.log(cfg.sigma_begin), math.log(cfg.sigma_end), count or cfg.num_noise_levels))


class LatticeHead(nn.Module):
    """MLP from latent and composition to six standardised lattice parameters (lengths / N^(1/3), angles)."""

    def __init__(self, latent_dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim + MAX_ATOMIC_NUMBER, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 6))
        self.register_buffer("mean", torch.tensor([1.0, 1.0, 1.0, 90.0, 90.0, 90.0]))
        self.register_buffer("std", torch.tensor([1.0, 1.0, 1.0, 10.0, 10.0, 10.0]))

    @staticmethod
    def parameters_of(lengths: torch.Tensor, angles: torch.Tensor, num_atoms: torch.Tensor) -> torch.Tensor:
        """``(B, 6)`` raw targets: lengths divided by N^(1/3), angles in degrees."""
        return torch.cat([lengths / num_atoms[:, None].to(lengths.dtype) ** (1 / 3), angles], dim=-1)

    def fit_scaler(self, params: torch.Tensor) -> None:
        """Standardise on training-set parameters from :meth:`parameters_of`."""
        self.mean.copy_(params.mean(0))
        self.std.copy_(params.std(0).clamp(min=1e-3))

    def forward(self, latent: torch.Tensor, composition: torch.Tensor) -> torch.Tensor:
        """Standardised parameters ``(B, 6)``."""
        return self.net(torch.cat([latent, composition.to(latent.dtype)], dim=-1))

    def lattice(self, standardised: torch.Tensor, num_atoms: torch.Tensor) -> torch.Tensor:
        """``(B, 3, 3)`` lattice matrices; angles are clamped to 30-150 degrees so the cell always exists."""
        params = standardised * self.std + self.mean
        lengths = params[:, :3].clamp(min=0.5) * num_atoms[:, None].to(params.dtype) ** (1 / 3)
        return lattice_matrix_from_params(lengths, params[:, 3:].clamp(30.0, 150.0))


class CoordinateDenoiser(nn.Module):
    """Predicts the noise ``eps`` (Cartesian, per atom) of ``x_noisy = x + sigma * eps`` given latent and ``sigma``."""

    def __init__(self, cfg: DecoderConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or DecoderConfig()
        h = cfg.hidden
        self.atom_embedding = nn.Embedding(MAX_ATOMIC_NUMBER + 1, h)
        self.latent = nn.Linear(cfg.latent_dim, h)
        self.sigma = nn.Sequential(nn.Linear(1, h), nn.SiLU(), nn.Linear(h, h))
        self.rbf = BesselBasis(cfg.num_radial, cfg.cutoff)
        self.sbf = AngularBasis(cfg.num_spherical, cfg.num_radial, cfg.cutoff)
        self.edge_embedding = nn.Sequential(nn.Linear(2 * h + cfg.num_radial, h), nn.SiLU())
        self.interactions = nn.ModuleList(InteractionBlock(cfg) for _ in range(cfg.num_blocks))
        self.edge_out = nn.Sequential(nn.Linear(h, h), nn.SiLU(), nn.Linear(h, 1, bias=False))

    def forward(self, crystals: CrystalBatch, latent: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """``(N, 3)`` predicted noise for each atom; ``latent`` is ``(B, latent_dim)``, ``sigma`` is ``(B,)``."""
        cfg = self.cfg
        frac, lattice, batch = crystals.frac_coords, crystals.lattice, crystals.batch
        graph = radius_graph_pbc(frac, lattice, crystals.num_atoms, cfg.cutoff, cfg.max_neighbors)
        src, dst = graph.edge_index
        vectors = edge_vectors(frac, lattice, batch, graph).to(latent.dtype)
        distances = vectors.norm(dim=-1).clamp(min=1e-6)
        idx_kj, idx_ji = triplets(graph)
        rbf = self.rbf(distances)
        sbf = self.sbf(distances, triplet_angles(vectors, idx_kj, idx_ji), idx_kj)
        h = (self.atom_embedding(crystals.atomic_numbers) + self.latent(latent)[batch]
             + self.sigma(torch.log(sigma.to(latent.dtype))[:, None])[batch])
        m = self.edge_embedding(torch.cat([h[src], h[dst], rbf], dim=-1))
        for interaction in self.interactions:
            m = interaction(m, rbf, sbf, idx_kj, idx_ji)
        weights = self.edge_out(m)  # (E, 1): along the unit vector from the atom to its neighbour
        return scatter_sum(weights * vectors / distances[:, None], dst, frac.shape[0])


@torch.no_grad()
def langevin_sample(
    denoiser: CoordinateDenoiser,
    latent: torch.Tensor,
    lattice: torch.Tensor,
    atomic_numbers: torch.Tensor,
    num_atoms: torch.Tensor,
    num_levels: int = 20,
    steps_per_level: int = 2,
    step_lr: float = 1e-4,
    generator: torch.Generator | None = None,
) -> CrystalBatch:
    """Annealed Langevin dynamics on fractional coordinates (Song and Ermon 2019, as in CD-VAE).

    Starts from uniformly random positions in the given lattices and, for each of ``num_levels`` noise
    levels from ``sigma_begin`` to ``sigma_end``, takes ``steps_per_level`` steps
    ``x <- x + a s(x) + sqrt(2 a) n`` with score ``s = -eps / sigma`` and ``a = step_lr (sigma / sigma_end)^2``.
    Fewer levels and steps decode faster at some cost in quality (see BENCHMARKS.md).
    """
    dtype = latent.dtype
    frac = torch.rand((int(num_atoms.sum()), 3), generator=generator, dtype=dtype, device=latent.device)
    crystals = CrystalBatch(lattice.to(dtype), frac, atomic_numbers, num_atoms)
    batch = crystals.batch
    inverse = torch.linalg.inv(crystals.lattice)
    cfg = denoiser.cfg
    for sigma in noise_levels(cfg, num_levels).to(dtype):
        step = step_lr * (sigma / cfg.sigma_end) ** 2
        sigmas = sigma.expand(crystals.num_crystals)
        for _ in range(steps_per_level):
            score = -denoiser(crystals, latent, sigmas) / sigma
            noise = torch.randn(frac.shape, generator=generator, dtype=dtype, device=latent.device)
            cart_step = step * score + torch.sqrt(2 * step) * noise
            frac = torch.remainder(crystals.frac_coords + torch.einsum("nc,ncd->nd", cart_step, inverse[batch]), 1.0)
            crystals = CrystalBatch(crystals.lattice, frac, atomic_numbers, num_atoms)
    return crystals


def composition_of(crystals: CrystalBatch) -> torch.Tensor:
    """``(B, 94)`` fractional compositions (the lattice head's conditioning)."""
    return composition_vector(crystals.atomic_numbers, crystals.batch, crystals.num_crystals)
