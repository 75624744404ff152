"""Shared fixtures: small real crystals, the shared benchmark data, an isolated cache directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from ase.build import bulk
from pymatgen.core import Lattice, Structure

# Reference-energy caches written by tests (and CLI subprocesses) go to a private directory.
os.environ.setdefault("ASE_LCOM_CACHE", tempfile.mkdtemp(prefix="ase_lcom_test_cache_"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` next to the repository (present in CI; absent on users' machines)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared benchmark data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def small_perovskite_csv(shared_data, tmp_path):
    """A factory: ``small_perovskite_csv(n)`` writes the first ``n`` rows of perov_5's val.csv to a temporary CSV
    and returns its path (a tiny real dataset for CLI training runs)."""
    import csv
    import itertools

    def write(n: int) -> Path:
        with (shared_data / "cdvae" / "perov_5" / "val.csv").open() as handle:
            rows = list(itertools.islice(csv.DictReader(handle), n))
        path = tmp_path / f"perov-{n}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return path

    return write


@pytest.fixture(scope="module")
def toy_alloy(tmp_path_factory) -> Path:
    """Eight random Fe20Ni6Cr6 decorations of a 32-site FCC cell, as an extxyz file (a tiny generator dataset)."""
    import numpy as np
    from ase.io import write

    rng = np.random.default_rng(0)
    species = ["Fe"] * 20 + ["Ni"] * 6 + ["Cr"] * 6
    images = []
    for _ in range(8):
        atoms = bulk("Fe", "fcc", a=3.6, cubic=True).repeat((2, 2, 2))
        atoms.set_chemical_symbols(list(rng.permutation(species)))
        images.append(atoms)
    path = tmp_path_factory.mktemp("toy") / "toy.extxyz"
    write(path, images, format="extxyz")
    return path


@pytest.fixture
def nacl() -> Structure:
    """Rocksalt NaCl, primitive cell (2 atoms, a = 5.64 A)."""
    conventional = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5] * 3])
    return conventional.get_primitive_structure()


@pytest.fixture
def copper():
    """fcc Cu, slightly compressed (a = 3.55 A) so a relaxation has work to do."""
    return bulk("Cu", "fcc", a=3.55)
