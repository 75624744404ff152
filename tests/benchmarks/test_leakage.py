"""Energy ceilings that keep polymorphs degenerate with a benchmark ground state out of generated data."""

from __future__ import annotations

import json

import pytest

from ase_lcom.benchmarks.csp import DEGENERACY_MEV
from ase_lcom.benchmarks.leakage import benchmark_energy_ceilings, default_dataset_run, references_path


def test_ceiling_is_the_ground_state_plus_the_degeneracy_window_and_is_cached(tmp_path):
    database = tmp_path / "data" / "mine.db"
    database.parent.mkdir()
    assert references_path(database, "emt") == tmp_path / "data" / "benchmark-references-emt.json"
    ceilings = benchmark_energy_ceilings("emt", database, ["C"], progress=False)
    refs = json.loads(references_path(database, "emt").read_text())
    lowest = min(p["energy_per_atom"] for p in refs["C"]["polymorphs"].values())
    assert set(refs["C"]["polymorphs"]) == {"diamond", "graphite"}
    assert ceilings == {"C": pytest.approx(lowest + DEGENERACY_MEV / 1000)}
    assert benchmark_energy_ceilings("emt", database, ["C"], progress=False) == ceilings


def test_the_default_preset_carries_the_ceilings(tmp_path, monkeypatch):
    import ase_lcom.benchmarks.leakage as leakage
    import ase_lcom.data.generator as generator

    monkeypatch.setattr(generator, "default_run", lambda: {"compositions": ["ZnO"], "skip_prototypes": {}})
    monkeypatch.setattr(leakage, "benchmark_energy_ceilings", lambda calculator, database, progress: {calculator: -1.0})
    run = default_dataset_run("emt", tmp_path / "mine.db", progress=False)
    assert run == {"compositions": ["ZnO"], "skip_prototypes": {}, "exclude_energies": {"emt": -1.0}}
