"""Amorphous silicon melt-quench (Stillinger-Weber through LAMMPS) on tiny cells."""

from __future__ import annotations

import numpy as np
import pytest

from ase_lcom.data.dismai import dataset_path, generate_dataset, load_dataset
from ase_lcom.data.dismai.amorphous_silicon import (
    SW_SILICON,
    MeltQuenchProtocol,
    coordination_numbers,
    lammps_instance,
    melt_quench,
    write_sw_file,
)
from ase_lcom.data.records import DataError
from ase_lcom.errors import CalculatorError

TINY = MeltQuenchProtocol(n_atoms=64, melt_ps=0.2, quench_rate=20000.0)


@pytest.fixture(scope="module")
def lammps_available():
    try:
        lammps_instance().close()
    except CalculatorError as exc:
        pytest.skip(str(exc))


def test_box_has_the_requested_density():
    p = MeltQuenchProtocol()
    grams = 256 * 28.0855 / 6.02214076e23
    assert grams / (p.box_length * 1e-8) ** 3 == pytest.approx(2.29, rel=1e-9)
    assert p.quench_steps == 44000


def test_sw_file_holds_the_1985_parameters(tmp_path):
    fields = write_sw_file(tmp_path / "Si.sw").read_text().splitlines()[1].split()
    assert fields[:3] == ["Si"] * 3
    assert float(fields[3]) == SW_SILICON["epsilon"] == 2.1683
    assert float(fields[4]) == 2.0951 and float(fields[8]) == pytest.approx(-1 / 3)
    assert len(fields) == 14


def test_diamond_is_fourfold():
    a = 5.431
    base = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    frac = np.concatenate([base, base + 0.25])
    cells = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)])
    pos = ((cells[:, None] + frac[None]).reshape(-1, 3)) * a
    assert np.all(coordination_numbers(pos, 2 * a, 2.85) == 4)


def test_tiny_quench_is_relaxed_and_amorphous(lammps_available):
    result = melt_quench(TINY, np.random.default_rng(0))
    assert result["positions"].shape == (64, 3)
    assert np.all((result["positions"] >= 0) & (result["positions"] < TINY.box_length))
    assert result["fmax"] < 0.05
    assert -4.34 < result["energy_per_atom"] < -3.6          # above diamond (-4.3367 eV/atom), bound
    assert 3.2 < result["coordination"].mean() < 5.0
    again = melt_quench(TINY, np.random.default_rng(0))
    assert np.allclose(again["positions"], result["positions"])


def test_generate_resume_and_load(tmp_path, lammps_available):
    path = generate_dataset("a-Si", tmp_path, progress=False, n_structures=2, melt_quench_protocol=TINY)
    assert path == dataset_path("a-Si", tmp_path)
    card = (path.parent / "DATACARD.md").read_text()
    assert "2 independent quenches" in card and "coordination" in card
    ds = load_dataset(path)
    assert len(ds) == 2 and ds.num_atoms == 64 and ds.species_order == ["Si"]
    with pytest.raises(DataError, match=r"a-Si setting melt_ps \(protocol\.melt_ps\) is 0\.2 in .* but 0\.3 now"):
        generate_dataset("a-Si", tmp_path, progress=False, n_structures=2,
                         melt_quench_protocol=MeltQuenchProtocol(n_atoms=64, melt_ps=0.3, quench_rate=20000.0))
