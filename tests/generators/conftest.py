"""A toy fixed-lattice dataset: 32-atom FCC Fe-Ni supercells with random occupations and thermal noise."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ase_lcom.data.fixed_lattice import FixedLatticeDataset

FCC = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def toy_structures(count: int, seed: int = 0, repeats: int = 2, noise: float = 0.02,
                   elements: tuple[str, str] = ("Fe", "Ni")) -> list[Structure]:
    """``count`` FCC supercells (``repeats``**3 cells of 3.6 A), 3:1 ``elements``, sites shuffled, coordinates
    jittered."""
    rng = np.random.default_rng(seed)
    cells = np.array([[i, j, k] for i in range(repeats) for j in range(repeats) for k in range(repeats)])
    sites = ((cells[:, None, :] + FCC[None]) / repeats).reshape(-1, 3)
    lattice = Lattice.cubic(3.6 * repeats)
    species = [elements[0]] * (3 * len(sites) // 4) + [elements[1]] * (len(sites) // 4)
    out = []
    for _ in range(count):
        order = rng.permutation(len(sites))
        frac = sites[order] + rng.normal(0, noise, sites.shape) / repeats
        out.append(Structure(lattice, species, frac % 1.0))
    return out


@pytest.fixture
def toy_dataset() -> FixedLatticeDataset:
    return FixedLatticeDataset.from_structures(toy_structures(12), name="toy-fcc")


def _assert_template(structures: list[Structure], dataset: FixedLatticeDataset, n: int) -> None:
    """Samples keep the template's lattice, species order and atom count, with finite coordinates in [0, 1)."""
    assert len(structures) == n
    for s in structures:
        assert len(s) == dataset.num_atoms
        assert [site.specie.symbol for site in s] == [site.specie.symbol for site in dataset.template]
        assert np.allclose(s.lattice.matrix, dataset.lattice.matrix)
        assert np.isfinite(s.frac_coords).all()
        assert (s.frac_coords >= 0).all() and (s.frac_coords < 1).all()


@pytest.fixture
def make_toy():
    """The toy-structure factory, for tests that need other sizes."""
    return toy_structures


@pytest.fixture
def assert_template():
    """Checks that samples keep the template (lattice, species order, atom count)."""
    return _assert_template
