"""A toy predictor and a toy generator installed as a real distribution on ``sys.path`` for CLI tests."""

from __future__ import annotations

import textwrap

import pytest

TOY_PLUGINS = '''
from dataclasses import dataclass

from pymatgen.core import Lattice, Structure

from ase_lcom.generators import StructureGenerator
from ase_lcom.predictors import Candidate, StructurePredictor
from ase_lcom.structure import cell_composition


@dataclass
class ToyOptions:
    model: str | None = None
    rank_by: str | None = None


class ToyPredictor(StructurePredictor):
    """All atoms of the cell on a line of a cubic cell; records what it was asked in ``info``."""

    name = "toy"
    Options = ToyOptions

    def predict_candidates(self, formula, formula_units=None, n_candidates=8, seed=0, **options):
        composition = cell_composition(formula, formula_units or 1)
        species = [el.symbol for el, n in composition.items() for _ in range(int(n))]
        coords = [[i / len(species), 0, 0] for i in range(len(species))]
        structure = Structure(Lattice.cubic(3.0 * len(species)), species, coords)
        info = {"model": self.model or "toy-v1", "formula_units": formula_units, "options": options,
                "spacegroup": "P1"}
        return [Candidate(structure, info=dict(info)) for _ in range(n_candidates)]


class ToyGenerator(StructureGenerator):
    """Registered only to be listed."""

    name = "toygen"

    def fit(self, dataset, out_dir, progress=True, callback=None):
        return []

    def sample(self, n, seed=0):
        return []

    def save(self, path):
        return path

    @classmethod
    def load(cls, path, device="cpu"):
        return cls()
'''


@pytest.fixture
def toy_plugins(tmp_path, monkeypatch):
    """``toy`` (predictor, options ``model`` and ``rank_by``) and ``toygen`` (generator) entry points."""
    (tmp_path / "toy_plugins.py").write_text(textwrap.dedent(TOY_PLUGINS))
    dist = tmp_path / "toy_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ase_lcom.predictors]\ntoy = toy_plugins:ToyPredictor\n\n"
                                           "[ase_lcom.generators]\ntoygen = toy_plugins:ToyGenerator\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path
