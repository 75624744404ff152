"""Score-based diffusion on fractional coordinates with the lattice fixed (DiffCSP without lattice diffusion,
the Dismai-Bench setting).

Forward process: ``x_sigma = (x_0 + sigma eps) mod 1`` with ``eps ~ N(0, I)`` in fractional units and sigma on a
geometric schedule from ``sigma_min`` to ``sigma_max``; the transition density is a wrapped normal. The denoiser
learns the wrapped normal's score, divided by its root mean square so the target is of order one. Sampling runs
a predictor-corrector scheme from uniform positions: a Langevin corrector step and a reverse-diffusion
(ancestral) predictor step per noise level.

The denoiser is a message-passing network on a periodic radius graph (:mod:`ase_lcom.graph`): messages from
species, time and radial features of interatomic distances; the output is a sum over edges of learned weights
times edge vectors, i.e. a Cartesian vector field that rotates with the crystal, is invariant to translations
and periodic images, and is mapped to fractional components with the lattice.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ase_lcom.graph import edge_vectors, radius_graph_pbc


@dataclass
class DiffusionConfig:
    """Denoiser sizes and noise schedule (stored inside checkpoints)."""

    num_species: int = 1
    hidden: int = 256
    num_layers: int = 4
    cutoff: float = 6.0
    """Radius of the graph, Angstrom."""
    max_neighbors: int = 24
    num_radial: int = 32
    sigma_min: float = 0.005
    sigma_max: float = 0.1
    """Largest fractional noise (Dismai-Bench DiffCSP: 0.1 for alloys and interfaces, 0.05 for a-Si)."""
    num_levels: int = 1000
    """Training noise levels (DiffCSP: 1000 time steps)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sigma_schedule(cfg: DiffusionConfig, count: int | None = None) -> torch.Tensor:
    """Geometric noise levels from ``sigma_min`` to ``sigma_max`` (ascending), float64."""
    return torch.exp(torch.linspace(math.log(cfg.sigma_min), math.log(cfg.sigma_max), count or cfg.num_levels,
                                    dtype=torch.float64))


def wrapped_normal_score(x: torch.Tensor, sigma: torch.Tensor, images: int = 3) -> torch.Tensor:
    """``d/dx log p(x)`` of the wrapped normal of width ``sigma`` (period 1, centred at 0), summed over
    ``2 images + 1`` periods; ``sigma`` broadcasts against ``x``."""
    shifts = torch.arange(-images, images + 1, dtype=x.dtype, device=x.device)
    y = x[..., None] + shifts
    sigma = sigma[..., None]
    weights = torch.softmax(-(y**2) / (2 * sigma**2), dim=-1)
    return -(weights * y).sum(-1) / sigma[..., 0] ** 2


def score_norm(sigma: torch.Tensor, points: int = 4000) -> torch.Tensor:
    """``E[score^2]`` of the wrapped normal for each ``sigma`` (quadrature over one period)."""
    x = (torch.arange(points, dtype=torch.float64, device=sigma.device) + 0.5) / points - 0.5
    s = sigma.to(torch.float64)[:, None]
    shifts = torch.arange(-3, 4, dtype=torch.float64, device=sigma.device)
    density = torch.exp(-((x[:, None] + shifts) ** 2)[None] / (2 * s[..., None] ** 2)).sum(-1)
    score = wrapped_normal_score(x.expand(len(sigma), -1), s.expand(-1, points))
    return ((density * score**2).sum(-1) / density.sum(-1)).to(sigma.dtype)


def _scatter_sum(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    return torch.zeros((size, *src.shape[1:]), dtype=src.dtype, device=src.device).index_add_(0, index, src)


class _PairLinear(nn.Module):
    """``Linear(cat[h[src], h[dst], e])`` computed as node projections gathered onto edges (same function,
    far fewer multiplications when edges outnumber atoms)."""

    def __init__(self, hidden: int, edge_features: int, out: int) -> None:
        super().__init__()
        self.src = nn.Linear(hidden, out)
        self.dst = nn.Linear(hidden, out, bias=False)
        self.edge = nn.Linear(edge_features, out, bias=False)

    def forward(self, h: torch.Tensor, edge: torch.Tensor, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
        return self.src(h)[src] + self.dst(h)[dst] + self.edge(edge)


class _Layer(nn.Module):
    def __init__(self, hidden: int, num_radial: int) -> None:
        super().__init__()
        self.pair = _PairLinear(hidden, num_radial, hidden)
        self.message = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.update = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.norm = nn.LayerNorm(hidden)

    def forward(self, h: torch.Tensor, radial: torch.Tensor, envelope: torch.Tensor, src: torch.Tensor,
                dst: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.message(self.pair(h, radial, src, dst)) * envelope[:, None]
        aggregated = _scatter_sum(m, dst, h.shape[0]) / scale
        return self.norm(h + self.update(torch.cat([h, aggregated], dim=-1))), m


class PeriodicScoreNetwork(nn.Module):
    """Normalised fractional score ``(B, atoms, 3)`` of noisy fractional coordinates at noise ``sigma``."""

    def __init__(self, cfg: DiffusionConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or DiffusionConfig()
        h = cfg.hidden
        self.species = nn.Embedding(cfg.num_species, h)
        self.time = nn.Sequential(nn.Linear(h, h), nn.SiLU(), nn.Linear(h, h))
        self.register_buffer("centres", torch.linspace(0.0, cfg.cutoff, cfg.num_radial))
        self.layers = nn.ModuleList(_Layer(h, cfg.num_radial) for _ in range(cfg.num_layers))
        self.edge_pair = _PairLinear(h, h, h)
        self.edge_out = nn.Sequential(nn.SiLU(), nn.Linear(h, 1, bias=False))

    def _time_features(self, sigma: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        t = (torch.log(sigma) - math.log(cfg.sigma_min)) / (math.log(cfg.sigma_max) - math.log(cfg.sigma_min))
        half = cfg.hidden // 2
        freqs = torch.exp(torch.arange(half, device=sigma.device, dtype=sigma.dtype) * (-math.log(1e4) / half))
        angles = 1000.0 * t[:, None] * freqs
        features = torch.cat([angles.sin(), angles.cos()], dim=-1)
        return nn.functional.pad(features, (0, cfg.hidden - 2 * half))

    def forward(self, frac: torch.Tensor, species: torch.Tensor, lattice: torch.Tensor,
                sigma: torch.Tensor) -> torch.Tensor:
        """``frac`` ``(B, atoms, 3)``, ``species`` ``(atoms,)`` block indices, ``lattice`` ``(3, 3)`` rows,
        ``sigma`` ``(B,)`` fractional noise levels."""
        cfg = self.cfg
        batch, atoms, _ = frac.shape
        flat = frac.reshape(-1, 3)
        lattices = lattice.to(frac.dtype).expand(batch, 3, 3)
        num_atoms = torch.full((batch,), atoms, dtype=torch.long, device=frac.device)
        graph = radius_graph_pbc(flat, lattices, num_atoms, cfg.cutoff, cfg.max_neighbors)
        src, dst = graph.edge_index
        crystal = torch.repeat_interleave(torch.arange(batch, device=frac.device), atoms)
        vectors = edge_vectors(flat, lattices, crystal, graph)
        distance = vectors.norm(dim=-1).clamp(min=1e-6)
        width = cfg.cutoff / cfg.num_radial
        radial = torch.exp(-((distance[:, None] - self.centres) ** 2) / (2 * width**2))
        envelope = 0.5 * (torch.cos(math.pi * distance / cfg.cutoff) + 1.0) * (distance < cfg.cutoff)

        h = self.species(species).repeat(batch, 1) + self.time(self._time_features(sigma))[crystal]
        scale = float(cfg.max_neighbors) ** 0.5
        for layer in self.layers:
            h, m = layer(h, radial, envelope, src, dst, scale)
        weights = self.edge_out(self.edge_pair(h, m, src, dst)) * envelope[:, None]
        cartesian = _scatter_sum(weights * vectors / distance[:, None], dst, flat.shape[0]) / scale
        # d/dfrac = L d/dcart: fractional components of the Cartesian field, made dimensionless
        volume_scale = torch.linalg.det(lattice.to(frac.dtype)).abs() ** (1 / 3)
        return (cartesian @ lattice.to(frac.dtype).T / volume_scale).view(batch, atoms, 3)


def denoising_loss(model: PeriodicScoreNetwork, frac: torch.Tensor, species: torch.Tensor, lattice: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Score-matching loss for a batch of clean fractional coordinates ``(B, atoms, 3)``.

    One noise level per structure, drawn uniformly from the training schedule; the target is the wrapped
    normal score of the displacement divided by its root mean square at that level.
    """
    cfg, device, dtype = model.cfg, frac.device, frac.dtype
    levels = sigma_schedule(cfg)
    sigma = levels[torch.randint(len(levels), (frac.shape[0],), generator=generator)]
    eps = torch.randn(frac.shape, generator=generator, dtype=torch.float64)
    displacement = sigma[:, None, None] * eps
    target = wrapped_normal_score(displacement, sigma[:, None, None].expand_as(displacement))
    target = target / score_norm(sigma).sqrt()[:, None, None]
    noisy = torch.remainder(frac + displacement.to(device, dtype), 1.0)
    prediction = model(noisy, species, lattice, sigma.to(device, dtype))
    return torch.mean((prediction - target.to(device, dtype)) ** 2)


@torch.no_grad()
def predictor_corrector_sample(
    model: PeriodicScoreNetwork,
    num_samples: int,
    species: torch.Tensor,
    lattice: torch.Tensor,
    steps: int | None = None,
    corrector_lr: float = 1e-5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fractional coordinates ``(num_samples, atoms, 3)`` by predictor-corrector sampling.

    Starts from uniform positions and walks ``steps`` geometric noise levels down from ``sigma_max``. At each
    level ``sigma`` (next level ``s``, 0 after the last): a Langevin corrector step of size
    ``corrector_lr (sigma / sigma_min)^2``, then the predictor ``x + (sigma^2 - s^2) score`` plus Gaussian
    noise of variance ``s^2 (sigma^2 - s^2) / sigma^2``. Random draws come from ``generator`` on the CPU.
    """
    cfg = model.cfg
    device = model.centres.device
    dtype = model.centres.dtype
    atoms = species.shape[0]
    sigmas = sigma_schedule(cfg, steps or cfg.num_levels).flip(0)
    norms = score_norm(sigmas).sqrt()
    nexts = torch.cat([sigmas[1:], sigmas.new_zeros(1)])
    species, lattice = species.to(device), lattice.to(device, dtype)

    def noise() -> torch.Tensor:
        return torch.randn((num_samples, atoms, 3), generator=generator, dtype=torch.float64).to(device, dtype)

    def score(x: torch.Tensor, sigma: torch.Tensor, norm: torch.Tensor) -> torch.Tensor:
        level = torch.full((num_samples,), float(sigma), device=device, dtype=dtype)
        return model(x, species, lattice, level) * float(norm)

    x = torch.rand((num_samples, atoms, 3), generator=generator, dtype=torch.float64).to(device, dtype)
    for sigma, following, norm in zip(sigmas, nexts, norms, strict=True):
        step = corrector_lr * float(sigma / cfg.sigma_min) ** 2
        x = torch.remainder(x + step * score(x, sigma, norm) + math.sqrt(2 * step) * noise(), 1.0)
        drift = float(sigma**2 - following**2)
        spread = math.sqrt(float(following**2) * drift / float(sigma**2))
        x = torch.remainder(x + drift * score(x, sigma, norm) + spread * noise(), 1.0)
    return x
