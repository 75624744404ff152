"""Splits of a training run by composition and the split.json recorded beside its checkpoints."""

from __future__ import annotations

import json

import pytest
from pymatgen.core import Lattice, Structure

from ase_lcom.data.records import CrystalRecord
from ase_lcom.errors import LCOMError
from ase_lcom.training.splits import SPLIT_FILE, training_splits, validation_compositions, write_split


def _records(formulas: list[str]) -> list[CrystalRecord]:
    def cell(formula: str) -> Structure:
        species = {"NaCl": ["Na", "Cl"], "MgO": ["Mg", "O"], "KBr": ["K", "Br"], "CaS": ["Ca", "S"]}[formula]
        return Structure(Lattice.cubic(4.0), species, [[0, 0, 0], [0.5, 0.5, 0.5]])

    return [CrystalRecord(cell(f)) for f in formulas]


def test_split_file_round_trip_and_fine_tuning_keeps_the_validation_compositions(tmp_path):
    records = _records(["NaCl", "NaCl", "MgO", "KBr", "CaS"])
    splits = training_splits(records, (0.5, 0.5, 0.0), seed=1)
    assert {r.formula for r in splits["train"]}.isdisjoint({r.formula for r in splits["val"]})
    path = write_split(splits, tmp_path / "run")
    assert path == tmp_path / "run" / SPLIT_FILE
    recorded = json.loads(path.read_text())
    assert recorded["val"] == sorted({r.formula for r in splits["val"]}) and recorded["test"] == []
    assert validation_compositions(tmp_path / "run" / "best.pt") == set(recorded["val"])

    tuned = training_splits(_records(["NaCl", "MgO", "KBr", "CaS"]), init=tmp_path / "run" / "best.pt")
    assert {r.formula for r in tuned["val"]} == set(recorded["val"]) and tuned["test"] == []
    assert {r.formula for r in tuned["train"]} == {"NaCl", "MgO", "KBr", "CaS"} - set(recorded["val"])


def test_a_checkpoint_without_a_split_file_is_a_one_line_error(tmp_path):
    with pytest.raises(LCOMError, match=f"no readable split.json beside the checkpoint {tmp_path / 'best.pt'}"):
        validation_compositions(tmp_path / "best.pt")
    (tmp_path / SPLIT_FILE).write_text('{"train": []}')
    with pytest.raises(LCOMError, match="no readable split.json"):
        training_splits(_records(["NaCl"]), init=tmp_path / "best.pt")
