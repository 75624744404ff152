"""Choosing compositions and records: the csp26 keyword, held-out records, benchmark subsets."""

from __future__ import annotations

import pytest
from ase.build import bulk
from ase.io import write

from ase_lcom.data.compositions import CSP26
from ase_lcom.data.records import DataError
from ase_lcom.data.selection import benchmark_compounds, expand_compositions, training_records


def test_the_csp26_keyword_expands_to_the_26_compounds_in_any_case():
    assert expand_compositions(["CSP26"]) == list(CSP26)
    assert expand_compositions([" ZnO", "", "csp26", "CuAu "]) == ["ZnO", *CSP26, "CuAu"]
    assert expand_compositions([]) == []


def test_training_records_leave_out_excluded_compositions(tmp_path):
    path = tmp_path / "mixed.extxyz"
    write(path, [bulk("NaCl", "rocksalt", a=5.64), bulk("Cu", "fcc", a=3.6), bulk("MgO", "rocksalt", a=4.2)])
    assert sorted(r.formula for r in training_records(path)) == ["Cu", "MgO", "NaCl"]
    assert [r.formula for r in training_records(path, ["MgO"])] == ["NaCl", "Cu"]
    assert [r.formula for r in training_records(path, ["csp26"])] == ["Cu"]


def test_training_records_drop_implausible_relaxations(tmp_path):
    """Rows far above their elements (a compressed cell "converged" by symmetry) are no training data."""
    from ase_lcom.data.records import CrystalDatabase, CrystalRecord
    from ase_lcom.structure import to_structure

    database = CrystalDatabase(tmp_path / "mixed.db")
    for uid, a, e_form, source in [("ok", 5.64, -2.1, "generated:chgnet"), ("squeezed", 3.9, 3.9, "generated:chgnet"),
                                   ("unknown", 5.7, None, "generated:chgnet"), ("dft", 5.0, 2.5, "perov_5")]:
        database.add(CrystalRecord(to_structure(bulk("NaCl", "rocksalt", a=a)), formation_energy_per_atom=e_form,
                                   id=uid, source=source))
    assert sorted(r.id for r in training_records(database.path)) == ["dft", "ok", "unknown"]
    assert len(training_records(database.path, plausible_only=False)) == 4


def test_benchmark_compounds_checks_the_subset():
    assert benchmark_compounds() == list(CSP26) == benchmark_compounds([])
    assert benchmark_compounds(["NaCl", " Si"]) == ["NaCl", "Si"]
    with pytest.raises(DataError, match="not a benchmark compound: CuAu, Fe .choose from LiF"):
        benchmark_compounds(["NaCl", "CuAu", "Fe"])
