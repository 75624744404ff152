"""Radial and angular bases for directional message passing (DimeNet/DimeNet++ style), in plain torch."""

from __future__ import annotations

import math

import torch
from torch import nn


class Envelope(nn.Module):
    """Smooth polynomial cutoff u(d) (DimeNet, eq. 8): 1 at d = 0, zero value and slope at d = 1."""

    def __init__(self, exponent: int = 5) -> None:
        super().__init__()
        self.p = exponent + 1
        self.a = -(self.p + 1) * (self.p + 2) / 2
        self.b = self.p * (self.p + 2)
        self.c = -self.p * (self.p + 1) / 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.p
        value = 1 / x + self.a * x ** (p - 1) + self.b * x**p + self.c * x ** (p + 1)
        return torch.where(x < 1, value, torch.zeros_like(x))


class BesselBasis(nn.Module):
    """``sqrt(2/c) sin(n pi d / c) / d`` times the envelope, n = 1..num_radial (frequencies trainable)."""

    def __init__(self, num_radial: int, cutoff: float, envelope_exponent: int = 5) -> None:
        super().__init__()
        self.cutoff = cutoff
        self.envelope = Envelope(envelope_exponent)
        self.freq = nn.Parameter(torch.arange(1, num_radial + 1, dtype=torch.float32) * math.pi)

    def forward(self, distances: torch.Tensor) -> torch.Tensor:
        x = (distances / self.cutoff).clamp(min=1e-6)[:, None]
        return self.envelope(x) * torch.sin(self.freq * x) * math.sqrt(2 / self.cutoff)


def legendre(cos_theta: torch.Tensor, degree: int) -> torch.Tensor:
    """Legendre polynomials P_0..P_{degree-1} of ``cos_theta`` by the three-term recurrence: ``(T, degree)``."""
    values = [torch.ones_like(cos_theta), cos_theta]
    for n in range(1, degree - 1):
        values.append(((2 * n + 1) * cos_theta * values[n] - n * values[n - 1]) / (n + 1))
    return torch.stack(values[:degree], dim=-1)


class AngularBasis(nn.Module):
    """Triplet basis: radial Bessel functions of d_kj times Legendre polynomials of the angle at j.

    A separable stand-in for DimeNet's spherical Bessel x spherical harmonic basis (m = 0 terms): the same
    information (distance and angle, rotation invariant, smooth at the cutoff) with stable numerics.
    """

    def __init__(self, num_spherical: int, num_radial: int, cutoff: float, envelope_exponent: int = 5) -> None:
        super().__init__()
        self.num_spherical = num_spherical
        self.radial = BesselBasis(num_radial, cutoff, envelope_exponent)

    def forward(self, distances: torch.Tensor, angles: torch.Tensor, idx_kj: torch.Tensor) -> torch.Tensor:
        radial = self.radial(distances)[idx_kj]  # (T, R)
        angular = legendre(torch.cos(angles), self.num_spherical)  # (T, S)
        return (angular[:, :, None] * radial[:, None, :]).flatten(1)  # (T, S * R)
