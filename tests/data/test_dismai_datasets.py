"""Named Dismai datasets: generation entry point, loading, user files and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from ase_lcom.data.dismai import DATASET_NAMES, dataset_path, generate_dataset, load_dataset
from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.data.records import DataError


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("dismai")
    generate_dataset("alloy-1500K-wide", root, progress=False, n_passes=300, n_structures=20)
    return root


def test_names():
    assert DATASET_NAMES == ("alloy-300K-wide", "alloy-300K-narrow", "alloy-1500K-wide", "alloy-1500K-narrow",
                             "a-Si")


def test_generate_writes_set_and_card_and_loads(tiny_root):
    path = dataset_path("alloy-1500K-wide", tiny_root)
    assert path.is_file()
    card = (path.parent / "DATACARD.md").read_text()
    assert "20, 256 sites" in card and "Warren-Cowley" in card and "300 passes each" in card
    ds = load_dataset("alloy-1500K-wide", root=tiny_root)
    assert isinstance(ds, FixedLatticeDataset)
    assert len(ds) == 20 and ds.num_atoms == 256
    assert ds.template.composition.get_el_amt_dict() == {"Cr": 51, "Fe": 154, "Ni": 51}
    assert np.allclose(ds.lattice.abc, (14.4, 14.4, 14.4))
    assert load_dataset(path).name == path.name
    # a second call finds every chain checkpointed and writes the same set
    before = np.load(path)["occupations"]
    generate_dataset("alloy-1500K-wide", tiny_root, progress=False, n_passes=300, n_structures=20)
    assert np.array_equal(np.load(path)["occupations"], before)


def test_unknown_and_missing_names(tmp_path):
    with pytest.raises(DataError, match="unknown Dismai dataset"):
        generate_dataset("alloy-900K-wide", tmp_path)
    with pytest.raises(DataError, match="ase-lcom data dismai alloy-300K-narrow"):
        load_dataset("alloy-300K-narrow", root=tmp_path)
    with pytest.raises(DataError, match="neither"):
        load_dataset(tmp_path / "nothing.extxyz")


def _si_cell(shift: float = 0.0, length: float = 5.43) -> Atoms:
    atoms = Atoms("Si8", scaled_positions=np.random.default_rng(0).random((8, 3)), cell=[length] * 3, pbc=True)
    atoms.positions += shift
    return atoms


def test_user_extxyz_loads_and_mismatches_are_named(tmp_path):
    good = tmp_path / "good.extxyz"
    write(good, [_si_cell(), _si_cell(0.3)])
    ds = load_dataset(good)
    assert len(ds) == 2 and ds.species_order == ["Si"]
    mixed = tmp_path / "mixed.extxyz"
    other = _si_cell()
    other.symbols[0] = "Ge"
    write(mixed, [_si_cell(), other])
    with pytest.raises(DataError, match="structure 1 is"):
        load_dataset(mixed)
    strained = tmp_path / "strained.extxyz"
    write(strained, [_si_cell(), _si_cell(length=5.6)])
    with pytest.raises(DataError, match="another lattice"):
        load_dataset(strained)


def test_user_ase_db_loads(tmp_path):
    from ase.db import connect

    path = tmp_path / "set.db"
    with connect(path) as db:
        for k in range(3):
            db.write(_si_cell(0.1 * k))
    assert len(load_dataset(path)) == 3


def test_npz_of_unknown_kind_is_refused(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, kind="something")
    with pytest.raises(DataError, match="unknown dataset kind"):
        load_dataset(path)
