"""Entry points: calculators announced to ASE, predictors discovered from installed distributions."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap

import pytest

from ase_lcom.errors import PluginError
from ase_lcom.predictors import ENTRY_POINT_GROUP, StructurePredictor, available_predictors, load_predictor


def test_calculators_are_registered_as_ase_plugins():
    plugins = importlib.import_module("ase._4.plugins").plugins
    ours = {p.name: p for p in plugins.calculators if p.package == "ase_lcom"}
    assert set(ours) >= {"chgnet", "m3gnet", "gpaw"}
    from chgnet.model.dynamics import CHGNetCalculator

    assert ours["chgnet"].implementation is CHGNetCalculator
    result = subprocess.run([sys.executable, "-m", "ase", "info", "--plugins"], capture_output=True, text=True)
    assert "ase_lcom" in result.stdout and "chgnet" in result.stdout


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A real distribution on sys.path that declares one predictor through the entry-point group."""
    package = tmp_path / "toy_predictor.py"
    package.write_text(textwrap.dedent('''
        from pymatgen.core import Lattice, Structure
        from ase_lcom.predictors import Candidate, StructurePredictor
        from ase_lcom.structure import cell_composition

        class ToyPredictor(StructurePredictor):
            """Puts all atoms of the cell on a simple-cubic grid (a plugin example, not a method)."""
            name = "toy"

            def predict_candidates(self, formula, formula_units=None, n_candidates=1, seed=0, **options):
                composition = cell_composition(formula, formula_units)
                species = [el.symbol for el, n in composition.items() for _ in range(int(n))]
                coords = [[i / len(species), 0, 0] for i in range(len(species))]
                structure = Structure(Lattice.cubic(3.0 * len(species)), species, coords)
                return [Candidate(structure, energy_per_atom=0.0)]

        NotAPredictor = dict
    '''))
    dist = tmp_path / "toy_predictor-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-predictor\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ntoy = toy_predictor:ToyPredictor\nbroken = toy_predictor:Missing\n"
        "notone = toy_predictor:NotAPredictor\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_predictor_registry_discovers_and_loads_entry_points(installed_plugin):
    assert {"toy", "broken", "notone"} <= set(available_predictors())
    predictor = load_predictor("toy")
    assert isinstance(predictor, StructurePredictor)
    structure = predictor.predict("ZnO", formula_units=2)
    assert structure.composition.reduced_formula == "ZnO" and len(structure) == 4


def test_predictor_registry_errors(installed_plugin):
    with pytest.raises(PluginError, match="unknown predictor 'nope'"):
        load_predictor("nope")
    with pytest.raises(PluginError, match="failed to load"):
        load_predictor("broken")
    with pytest.raises(PluginError, match="not a StructurePredictor subclass"):
        load_predictor("notone")


def test_cli_list_shows_installed_predictors(installed_plugin):
    result = subprocess.run(
        [sys.executable, "-m", "ase_lcom.cli", "list"], capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(installed_plugin)},
    )
    assert result.returncode == 0, result.stderr
    assert "toy" in result.stdout and "toy_predictor:ToyPredictor" in result.stdout
