"""The CD-VAE decoder: lattice head, equivariant denoiser, annealed Langevin sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure
from scipy.spatial.transform import Rotation

from ase_lcom.models.decoder import (
    CoordinateDenoiser,
    DecoderConfig,
    LatticeHead,
    composition_of,
    langevin_sample,
    noise_levels,
)
from ase_lcom.structure import CrystalBatch

TINY = DecoderConfig(hidden=16, num_blocks=2, int_emb=8, basis_emb=4, cutoff=5.0, max_neighbors=12, latent_dim=8)


@pytest.fixture(scope="module")
def denoiser() -> CoordinateDenoiser:
    torch.manual_seed(0)
    return CoordinateDenoiser(TINY).double().eval()


def random_crystal(seed: int) -> Structure:
    rng = np.random.default_rng(seed)
    return Structure(Lattice.from_parameters(4.2, 4.7, 5.1, 82, 97, 105), ["Zn", "Zn", "O", "O"], rng.random((4, 3)))


def test_denoiser_is_rotation_equivariant_and_translation_invariant(denoiser):
    crystal = random_crystal(0)
    z = torch.randn(1, TINY.latent_dim, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    sigma = torch.tensor([0.3], dtype=torch.float64)
    with torch.no_grad():
        eps = denoiser(CrystalBatch.from_structures([crystal], niggli=False), z, sigma)
        rotation = Rotation.from_euler("zyx", [40, 15, -60], degrees=True).as_matrix()
        moved = Structure(Lattice(crystal.lattice.matrix @ rotation.T), crystal.species,
                          (crystal.frac_coords + [0.2, 0.45, -0.1]) % 1.0)
        eps_moved = denoiser(CrystalBatch.from_structures([moved], niggli=False), z, sigma)
    torch.testing.assert_close(eps_moved, eps @ torch.tensor(rotation.T), atol=1e-9, rtol=1e-6)
    assert eps.abs().max() > 1e-6  # not trivially zero


def test_denoiser_depends_on_latent_and_noise_level(denoiser):
    batch = CrystalBatch.from_structures([random_crystal(2)], niggli=False)
    z = torch.zeros(1, TINY.latent_dim, dtype=torch.float64)
    with torch.no_grad():
        base = denoiser(batch, z, torch.tensor([0.1], dtype=torch.float64))
        other_z = denoiser(batch, z + 1.0, torch.tensor([0.1], dtype=torch.float64))
        other_sigma = denoiser(batch, z, torch.tensor([2.0], dtype=torch.float64))
    assert (base - other_z).abs().max() > 1e-6 and (base - other_sigma).abs().max() > 1e-6


def test_lattice_head_gives_valid_cells_and_standardises():
    head = LatticeHead(latent_dim=8, hidden=16).double()
    structures = [random_crystal(i) for i in range(3)]
    batch = CrystalBatch.from_structures(structures)
    lengths, angles = batch.lattice_params()
    params = LatticeHead.parameters_of(lengths, angles, batch.num_atoms)
    head.fit_scaler(params)
    standardised = (params - head.mean) / head.std
    torch.testing.assert_close(head.lattice(standardised, batch.num_atoms).det().abs(), batch.lattice.det().abs())
    out = head(torch.randn(3, 8, dtype=torch.float64) * 10, composition_of(batch))
    assert (head.lattice(out * 50, batch.num_atoms).det().abs() > 0).all()  # wild outputs still give cells


def test_langevin_sampling_keeps_composition_and_lattice_and_is_seeded(denoiser):
    structures = [random_crystal(3), random_crystal(4)]
    batch = CrystalBatch.from_structures(structures)
    z = torch.zeros(2, TINY.latent_dim, dtype=torch.float64)
    run = lambda seed: langevin_sample(denoiser, z, batch.lattice, batch.atomic_numbers, batch.num_atoms,  # noqa: E731
                                       num_levels=4, steps_per_level=2,
                                       generator=torch.Generator().manual_seed(seed))
    first, again, other = run(0), run(0), run(1)
    torch.testing.assert_close(first.frac_coords, again.frac_coords)
    assert not torch.allclose(first.frac_coords, other.frac_coords)
    assert ((first.frac_coords >= 0) & (first.frac_coords < 1)).all()
    out = first.to_structures()
    assert [s.composition for s in out] == [s.composition for s in structures]
    torch.testing.assert_close(first.lattice, batch.lattice)


def test_noise_schedule_is_geometric():
    levels = noise_levels(TINY, 5)
    assert levels[0] == pytest.approx(TINY.sigma_begin) and levels[-1] == pytest.approx(TINY.sigma_end)
    ratios = levels[1:] / levels[:-1]
    torch.testing.assert_close(ratios, ratios[0].expand(4))
