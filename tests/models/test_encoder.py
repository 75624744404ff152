"""The CD-VAE encoder: invariances, gradients, composition conditioning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk
from pymatgen.core import Lattice, Structure
from scipy.spatial.transform import Rotation

from ase_lcom.models.basis import BesselBasis, legendre
from ase_lcom.models.encoder import CrystalEncoder, EncoderConfig
from ase_lcom.structure import CrystalBatch, to_structure

TINY = EncoderConfig(hidden=16, num_blocks=2, int_emb=8, basis_emb=4, out_emb=16, cutoff=5.0, max_neighbors=12,
                     latent_dim=8)


@pytest.fixture(scope="module")
def encoder() -> CrystalEncoder:
    torch.manual_seed(0)
    return CrystalEncoder(TINY).double().eval()


@pytest.fixture(scope="module")
def crystals() -> list[Structure]:
    rng = np.random.default_rng(0)
    wurtzite = to_structure(bulk("ZnO", "wurtzite", a=3.25, c=5.2))
    triclinic = Structure(Lattice.from_parameters(4.1, 4.6, 5.2, 80, 95, 104), ["Sr", "Ti", "O", "O", "O"],
                          rng.random((5, 3)))
    rocksalt = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5] * 3])
    return [triclinic, rocksalt.get_primitive_structure(), wurtzite]


def encode(encoder, structures, niggli=False):
    with torch.no_grad():
        return encoder(CrystalBatch.from_structures(structures, niggli=niggli))[0]


def test_rotation_translation_and_permutation_invariance(encoder, crystals):
    reference = encode(encoder, crystals)
    rotation = Rotation.from_euler("xyz", [33, -71, 12], degrees=True).as_matrix()
    moved = []
    for s in crystals:
        lattice = Lattice(s.lattice.matrix @ rotation.T)
        order = np.random.default_rng(1).permutation(len(s))
        frac = (s.frac_coords[order] + np.array([0.37, -0.21, 0.55])) % 1.0
        moved.append(Structure(lattice, [s.species[i] for i in order], frac))
    torch.testing.assert_close(encode(encoder, moved), reference, atol=1e-8, rtol=1e-6)


def test_cell_choice_does_not_change_the_latent(encoder, crystals):
    # the Niggli-reduced cell of the same crystal (a different basis) encodes to the same latent
    torch.testing.assert_close(encode(encoder, crystals, niggli=True), encode(encoder, crystals), atol=1e-8, rtol=1e-6)


def test_different_crystals_differ_and_batches_are_independent(encoder, crystals):
    latents = encode(encoder, crystals)
    assert torch.cdist(latents, latents)[0, 1:].min() > 1e-4
    alone = encode(encoder, crystals[:1])
    torch.testing.assert_close(alone[0], latents[0], atol=1e-8, rtol=1e-6)


def test_composition_conditioning_and_gradients(crystals):
    torch.manual_seed(1)
    encoder = CrystalEncoder(TINY).double()
    swapped = crystals[1].copy()
    swapped.replace_species({"Na": "K"})
    mu, log_var = encoder(CrystalBatch.from_structures([crystals[1], swapped]))
    assert (mu[0] - mu[1]).abs().max() > 1e-4
    (mu.square().sum() + log_var.sum()).backward()
    grads = [p.grad for p in encoder.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert encoder.composition[0].weight.grad.abs().sum() > 0


def test_bases_are_smooth_at_the_cutoff():
    basis = BesselBasis(6, cutoff=5.0)
    values = basis(torch.tensor([4.999, 5.0, 6.0]))
    assert values[0].abs().max() < 1e-6 and (values[1:] == 0).all()
    x = torch.linspace(-1, 1, 11, dtype=torch.float64)
    np.testing.assert_allclose(legendre(x, 4)[:, 3].numpy(), (0.5 * (5 * x**3 - 3 * x)).numpy(), atol=1e-12)
