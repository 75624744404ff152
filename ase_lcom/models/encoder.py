"""The CD-VAE encoder: DimeNet++-style directional message passing to a latent mean and log-variance.

Atoms are embedded by element; edge messages are updated in interaction blocks from the messages of
incoming edges, weighted by a radial basis of the distance and an angular basis of the triplet angle; output
blocks gather messages onto atoms; atom features are averaged per crystal, joined with an embedding of the
composition (the encoder is conditioned on it) and mapped to ``mu`` and ``log_var``. Everything is invariant
to rotations, translations and atom permutations, which the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ase_lcom.graph import edge_vectors, radius_graph_pbc, triplet_angles, triplets
from ase_lcom.models.basis import AngularBasis, BesselBasis
from ase_lcom.structure import MAX_ATOMIC_NUMBER, CrystalBatch


@dataclass
class EncoderConfig:
    """Hyperparameters of :class:`CrystalEncoder` (stored in checkpoints)."""

    hidden: int = 128
    num_blocks: int = 4
    int_emb: int = 64
    basis_emb: int = 8
    out_emb: int = 256
    num_radial: int = 6
    num_spherical: int = 7
    cutoff: float = 7.0
    max_neighbors: int = 20
    latent_dim: int = 256


def scatter_sum(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """Sum rows of ``src`` into ``size`` bins given by ``index``."""
    return torch.zeros((size, *src.shape[1:]), dtype=src.dtype, device=src.device).index_add_(0, index, src)


def scatter_mean(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    counts = torch.bincount(index, minlength=size).clamp(min=1).to(src.dtype)
    return scatter_sum(src, index, size) / counts.view(-1, *([1] * (src.dim() - 1)))


def composition_vector(atomic_numbers: torch.Tensor, batch: torch.Tensor, size: int) -> torch.Tensor:
    """``(B, 94)`` fractional composition of each crystal."""
    one_hot = nn.functional.one_hot(atomic_numbers - 1, MAX_ATOMIC_NUMBER).float()
    return scatter_mean(one_hot, batch, size)


class Residual(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class InteractionBlock(nn.Module):
    """DimeNet++ interaction: messages of edges k->j, modulated by the triplet basis, update edge j->i."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        h = cfg.hidden
        self.rbf = nn.Sequential(nn.Linear(cfg.num_radial, cfg.basis_emb, bias=False),
                                 nn.Linear(cfg.basis_emb, h, bias=False))
        self.sbf = nn.Sequential(nn.Linear(cfg.num_spherical * cfg.num_radial, cfg.basis_emb, bias=False),
                                 nn.Linear(cfg.basis_emb, cfg.int_emb, bias=False))
        self.ji = nn.Sequential(nn.Linear(h, h), nn.SiLU())
        self.kj = nn.Sequential(nn.Linear(h, h), nn.SiLU())
        self.down = nn.Sequential(nn.Linear(h, cfg.int_emb, bias=False), nn.SiLU())
        self.up = nn.Sequential(nn.Linear(cfg.int_emb, h, bias=False), nn.SiLU())
        self.before = Residual(h)
        self.mix = nn.Sequential(nn.Linear(h, h), nn.SiLU())
        self.after = nn.Sequential(Residual(h), Residual(h))

    def forward(self, m: torch.Tensor, rbf: torch.Tensor, sbf: torch.Tensor, idx_kj: torch.Tensor,
                idx_ji: torch.Tensor) -> torch.Tensor:
        x_ji = self.ji(m)
        x_kj = self.down(self.kj(m) * self.rbf(rbf))
        x_kj = scatter_sum(x_kj[idx_kj] * self.sbf(sbf), idx_ji, m.shape[0])
        h = self.before(x_ji + self.up(x_kj))
        return self.after(self.mix(h) + m)


class OutputBlock(nn.Module):
    """Gather edge messages (weighted by the radial basis) onto their receiving atoms."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.rbf = nn.Linear(cfg.num_radial, cfg.hidden, bias=False)
        self.up = nn.Linear(cfg.hidden, cfg.out_emb, bias=False)
        self.mlp = nn.Sequential(nn.Linear(cfg.out_emb, cfg.out_emb), nn.SiLU(),
                                 nn.Linear(cfg.out_emb, cfg.out_emb), nn.SiLU())

    def forward(self, m: torch.Tensor, rbf: torch.Tensor, dst: torch.Tensor, num_nodes: int) -> torch.Tensor:
        return self.mlp(self.up(scatter_sum(self.rbf(rbf) * m, dst, num_nodes)))


class CrystalEncoder(nn.Module):
    """Crystal -> latent ``(mu, log_var)``, each ``(B, latent_dim)``."""

    def __init__(self, cfg: EncoderConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or EncoderConfig()
        h = cfg.hidden
        self.atom_embedding = nn.Embedding(MAX_ATOMIC_NUMBER + 1, h)
        self.rbf = BesselBasis(cfg.num_radial, cfg.cutoff)
        self.sbf = AngularBasis(cfg.num_spherical, cfg.num_radial, cfg.cutoff)
        self.edge_embedding = nn.Sequential(nn.Linear(3 * h, h), nn.SiLU())
        self.edge_rbf = nn.Sequential(nn.Linear(cfg.num_radial, h), nn.SiLU())
        self.interactions = nn.ModuleList(InteractionBlock(cfg) for _ in range(cfg.num_blocks))
        self.outputs = nn.ModuleList(OutputBlock(cfg) for _ in range(cfg.num_blocks + 1))
        self.composition = nn.Sequential(nn.Linear(MAX_ATOMIC_NUMBER, h), nn.SiLU())
        self.head = nn.Sequential(nn.Linear(cfg.out_emb + h, cfg.out_emb), nn.SiLU())
        self.mu = nn.Linear(cfg.out_emb, cfg.latent_dim)
        self.log_var = nn.Linear(cfg.out_emb, cfg.latent_dim)

    def forward(self, crystals: CrystalBatch) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        frac, lattice = crystals.frac_coords, crystals.lattice
        batch, numbers = crystals.batch, crystals.atomic_numbers
        graph = radius_graph_pbc(frac, lattice, crystals.num_atoms, cfg.cutoff, cfg.max_neighbors)
        src, dst = graph.edge_index
        vectors = edge_vectors(frac, lattice, batch, graph).to(self.mu.weight.dtype)
        distances = vectors.norm(dim=-1)
        idx_kj, idx_ji = triplets(graph)
        rbf = self.rbf(distances)
        sbf = self.sbf(distances, triplet_angles(vectors, idx_kj, idx_ji), idx_kj)

        n_atoms, n_crystals = numbers.shape[0], crystals.num_crystals
        h = self.atom_embedding(numbers)
        m = self.edge_embedding(torch.cat([h[src], h[dst], self.edge_rbf(rbf)], dim=-1))
        atoms = self.outputs[0](m, rbf, dst, n_atoms)
        for interaction, output in zip(self.interactions, self.outputs[1:]):
            m = interaction(m, rbf, sbf, idx_kj, idx_ji)
            atoms = atoms + output(m, rbf, dst, n_atoms)
        pooled = scatter_mean(atoms, batch, n_crystals)
        composition = self.composition(composition_vector(numbers, batch, n_crystals).to(pooled.dtype))
        hidden = self.head(torch.cat([pooled, composition], dim=-1))
        return self.mu(hidden), self.log_var(hidden)
