"""CryinGAN (Yong, Su and Ertekin, Digital Discovery 2024): a point-cloud WGAN-GP for structures of one
composition on one lattice.

The generator maps 64-dimensional Gaussian noise to the fractional coordinates of every atom (atoms in fixed
rows, grouped by species). Two critics of the same architecture score a structure: one reads the fractional
coordinates, the other the sorted Cartesian distances from every atom to its ``n_neighbors`` nearest periodic
neighbours (:func:`periodic_knn_distances`, differentiable, so the generator learns from bond lengths). Each
critic is a per-atom shared MLP (the paper's 1 x k convolutions), an average over each species block, and an
MLP to 10 outputs whose mean is the score; it is invariant to permutations of atoms within a species.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn


@dataclass
class CryinGANConfig:
    """Architecture of the generator and the critics (stored inside checkpoints)."""

    latent_dim: int = 64
    gen_channels: int = 128
    """Channels per atom after the generator's first linear layer."""
    batchnorm_eps: float = 0.8
    """The published generator's BatchNorm epsilon (``BatchNorm2d(C, 0.8)``)."""
    critic_channels: tuple[int, int, int] = (512, 512, 256)
    critic_hidden: tuple[int, int, int] = (1000, 200, 10)
    n_neighbors: int = 6

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CryinGANConfig:
        values = dict(data)
        for key in ("critic_channels", "critic_hidden"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


class CryinGANGenerator(nn.Module):
    """Noise ``(B, latent_dim)`` -> fractional coordinates ``(B, num_atoms, 3)`` in (0, 1).

    Linear to ``gen_channels`` per atom, then transposed convolutions over (atoms, xyz): kernel 1 x 3 to 256
    channels (width 1 -> 3), 1 x 1 to 512, 256 and 1 channels, BatchNorm and ReLU between, sigmoid at the end.
    """

    def __init__(self, num_atoms: int, cfg: CryinGANConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or CryinGANConfig()
        self.num_atoms = num_atoms
        eps = cfg.batchnorm_eps
        self.linear = nn.Sequential(nn.Linear(cfg.latent_dim, cfg.gen_channels * num_atoms), nn.ReLU())
        self.convs = nn.Sequential(
            nn.ConvTranspose2d(cfg.gen_channels, 256, (1, 3)), nn.BatchNorm2d(256, eps), nn.ReLU(),
            nn.ConvTranspose2d(256, 512, 1), nn.BatchNorm2d(512, eps), nn.ReLU(),
            nn.ConvTranspose2d(512, 256, 1), nn.BatchNorm2d(256, eps), nn.ReLU(),
            nn.ConvTranspose2d(256, 1, 1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.linear(z).view(z.shape[0], self.cfg.gen_channels, self.num_atoms, 1)
        return torch.sigmoid(self.convs(h)).squeeze(1)


def species_pooling_matrix(species_counts: Sequence[int]) -> torch.Tensor:
    """``(atoms, species)`` matrix whose product with per-atom features averages each species block."""
    if not species_counts or min(species_counts) < 1:
        raise ValueError(f"species counts must be positive, got {list(species_counts)}")
    blocks = torch.repeat_interleave(torch.arange(len(species_counts)), torch.tensor(list(species_counts)))
    one_hot = nn.functional.one_hot(blocks, len(species_counts)).float()
    return one_hot / one_hot.sum(0, keepdim=True)


class CryinGANCritic(nn.Module):
    """Per-atom features ``(B, atoms, in_features)`` -> Wasserstein score ``(B,)``.

    A shared per-atom MLP (``critic_channels``, LeakyReLU 0.2), the mean within each species block, then
    ``critic_hidden`` units (LeakyReLU between) and the mean of the last layer's outputs.
    """

    def __init__(self, in_features: int, species_counts: Sequence[int], cfg: CryinGANConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or CryinGANConfig()
        layers: list[nn.Module] = []
        width = in_features
        for channels in cfg.critic_channels:
            layers += [nn.Linear(width, channels), nn.LeakyReLU(0.2)]
            width = channels
        self.atom_mlp = nn.Sequential(*layers)
        self.register_buffer("pooling", species_pooling_matrix(species_counts))
        head: list[nn.Module] = []
        width = width * len(species_counts)
        for k, units in enumerate(cfg.critic_hidden):
            head.append(nn.Linear(width, units))
            if k < len(cfg.critic_hidden) - 1:
                head.append(nn.LeakyReLU(0.2))
            width = units
        self.head = nn.Sequential(*head)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        h = self.atom_mlp(features)  # (B, atoms, C)
        pooled = torch.einsum("bnc,ns->bsc", h, self.pooling.to(h.dtype)).flatten(1)
        return self.head(pooled).mean(-1)


def xavier_init(module: nn.Module, generator: torch.Generator) -> None:
    """Xavier-uniform weights and zero biases for every linear and (transposed) convolution layer."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
            nn.init.xavier_uniform_(layer.weight, generator=generator)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


_IMAGES = torch.cartesian_prod(*(torch.arange(-1.0, 2.0),) * 3)  # (27, 3)


def periodic_knn_distances(frac: torch.Tensor, lattice: torch.Tensor, k: int = 6,
                           chunk_elements: int = 8_000_000) -> torch.Tensor:
    """Sorted distances (Angstrom) from every atom to its ``k`` nearest neighbours under periodic boundaries.

    Neighbours are all periodic images of all atoms (the atom's own images included, itself excluded). When
    the ``k`` nearest wrapped displacements (fractional differences in [-0.5, 0.5]) are all shorter than half
    the smallest interplanar spacing they are the answer (any other image is farther); otherwise the 27 images
    around each wrapped displacement are searched. The search runs without gradients in chunks; the selected
    distances are recomputed differentiably, so gradients flow to ``frac`` (and ``lattice``).

    Parameters
    ----------
    frac
        ``(B, atoms, 3)`` fractional coordinates.
    lattice
        ``(3, 3)`` lattice vectors as rows, Angstrom (shared by the batch).
    k
        Number of neighbours.
    chunk_elements
        Upper bound on pair-image distances held at once during the search.

    Returns
    -------
    torch.Tensor
        ``(B, atoms, k)`` distances, ascending.
    """
    batch, atoms, _ = frac.shape
    if k > 27 * atoms - 1:
        raise ValueError(f"{k} neighbours requested but only {27 * atoms - 1} images are searched")
    images = _IMAGES.to(device=frac.device, dtype=frac.dtype)
    lattice = lattice.to(frac.dtype)
    with torch.no_grad():
        image_cart = images @ lattice  # (27, 3)
        image_norm2 = (image_cart**2).sum(-1)
        areas = torch.linalg.cross(lattice[[1, 2, 0]], lattice[[2, 0, 1]]).norm(dim=-1)
        spacing = torch.linalg.det(lattice).abs() / areas
        safe2 = float((0.5 * spacing.min()) ** 2)  # every image but the wrapped one is at least this far
        diagonal = torch.eye(atoms, dtype=torch.bool, device=frac.device)
        self_image = torch.zeros(atoms, atoms, 27, dtype=torch.bool, device=frac.device)
        self_image[diagonal, 13] = True  # image 13 is the zero shift
        step = max(1, chunk_elements // (atoms * atoms * 27))
        found_j, found_image, found_shift = [], [], []
        for start in range(0, batch, step):
            f = frac[start:start + step].detach()
            delta = f[:, None, :, :] - f[:, :, None, :]  # (b, i, j, 3): j minus i
            shift = torch.round(delta)
            cart = (delta - shift) @ lattice
            norm2 = (cart**2).sum(-1)
            wrapped = None
            if atoms > k:
                wrapped = norm2.masked_fill(diagonal, float("inf")).topk(k, dim=-1, largest=False, sorted=True)
            if wrapped is not None and float(wrapped.values[..., -1].max()) < safe2:  # all k are wrapped images
                j, image = wrapped.indices, torch.full_like(wrapped.indices, 13)
            else:
                dist2 = norm2[..., None] + 2 * cart @ image_cart.T + image_norm2  # (b, i, j, 27)
                index = dist2.masked_fill(self_image, float("inf")).flatten(2).topk(
                    k, dim=-1, largest=False, sorted=True).indices
                j, image = index // 27, index % 27
            found_j.append(j)
            found_image.append(image)
            found_shift.append(torch.gather(shift, 2, j[..., None].expand(-1, -1, -1, 3)))
        j, image, shift = torch.cat(found_j), torch.cat(found_image), torch.cat(found_shift)
    neighbour = torch.gather(frac, 1, j.flatten(1)[..., None].expand(-1, -1, 3)).view(batch, atoms, k, 3)
    vectors = (neighbour - frac[:, :, None, :] - shift + images[image]) @ lattice
    return vectors.norm(dim=-1)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP penalty ``mean((|grad critic(x_hat)|_2 - 1)^2)`` at ``x_hat = a real + (1 - a) fake``.

    One ``a ~ U[0, 1)`` per sample (drawn with ``generator`` on the CPU); the norm is over all of a sample's
    input features. The result keeps its graph so that the critic can be trained on it.
    """
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), generator=generator, dtype=real.dtype)
    alpha = alpha.to(real.device)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    score = critic(mixed)
    grad, = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
