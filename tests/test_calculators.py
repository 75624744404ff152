"""Calculators for validation, exercised for real on tiny cells."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import Trajectory

from ase_lcom.calculators import (
    ReferenceEnergies,
    energy_per_atom,
    find_m3gnet_model,
    get_calculator,
    relax,
)
from ase_lcom.errors import CalculatorError


def test_chgnet_relaxes_distorted_rocksalt_back(nacl):
    reference = relax(nacl, "chgnet", fmax=0.01)
    distorted = nacl.copy()
    distorted.apply_strain([0.06, -0.03, 0.04])
    distorted.perturb(0.1, min_distance=0.05)
    result = relax(distorted, "chgnet", fmax=0.01, steps=400)
    assert result.converged
    a_ref = reference.structure.volume ** (1 / 3)
    assert result.structure.volume ** (1 / 3) == pytest.approx(a_ref, rel=0.02)
    assert np.allclose(result.structure.lattice.abc, reference.structure.lattice.abc, rtol=0.02)
    assert result.energy_per_atom == pytest.approx(reference.energy_per_atom, abs=0.01)
    energies = [atoms.get_potential_energy() for atoms in result.trajectory]
    assert len(energies) == result.steps + 1
    assert energies[-1] < energies[0]


def test_emt_relaxes_copper_and_writes_trajectory(tmp_path, copper):
    path = tmp_path / "cu.traj"
    result = relax(copper, "emt", fmax=0.005, optimizer="BFGS", trajectory=path)
    assert result.converged
    a = 2**0.5 * result.structure.lattice.abc[0]  # primitive fcc vector length -> cubic constant
    assert a == pytest.approx(3.59, abs=0.02)  # EMT's Cu lattice constant
    assert len(Trajectory(path)) == len(result.trajectory)


def test_relax_fixed_cell_keeps_the_cell_and_relaxes_positions():
    cell = bulk("Cu", "fcc", a=3.6, cubic=True)
    cell.rattle(0.1, seed=3)
    result = relax(cell, get_calculator("emt"), relax_cell=False, fmax=0.01)
    np.testing.assert_allclose(result.structure.lattice.matrix, cell.cell[:], atol=1e-12)
    assert result.converged and result.steps > 0
    first, last = result.trajectory[0], result.trajectory[-1]
    assert np.abs(first.get_forces()).max() > 0.2 and np.abs(last.get_forces()).max() < 0.01


@pytest.mark.slow
def test_gpaw_energy_of_two_atom_cell(tmp_path):
    calc = get_calculator("gpaw", ecut=200, kpt_density=1.5, txt=str(tmp_path / "gpaw.txt"))
    energy = energy_per_atom(bulk("NaCl", "rocksalt", a=5.64), calc)  # 2-atom primitive cell
    assert np.isfinite(energy)
    assert -10.0 < energy < 0.0  # GPAW energies are relative to isolated PAW atoms
    assert (tmp_path / "gpaw.txt").read_text().count("Free energy") >= 1


def test_m3gnet_from_a_locally_saved_matgl_model(tmp_path, nacl):
    from matgl.apps.pes import Potential
    from matgl.models import M3GNet

    model = M3GNet(element_types=("Na", "Cl"), is_intensive=False, nblocks=1, dim_node_embedding=8,
                   dim_edge_embedding=8, units=8)
    Potential(model=model, calc_stresses=True).save(tmp_path / "tiny-m3gnet")
    calc = get_calculator("m3gnet", model=tmp_path / "tiny-m3gnet")
    atoms = nacl.to_ase_atoms()
    atoms.calc = calc
    assert np.isfinite(atoms.get_potential_energy())
    assert atoms.get_forces().shape == (2, 3)
    assert np.all(np.isfinite(atoms.get_stress()))


def test_m3gnet_without_weights_says_how_to_provide_them(tmp_path, monkeypatch):
    monkeypatch.delenv("ASE_LCOM_M3GNET_MODEL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(CalculatorError, match="not found locally.*model='/path/to/dir'"):
        find_m3gnet_model("M3GNet-MP-2021.2.8-PES")
    with pytest.raises(CalculatorError, match="not found locally"):
        get_calculator("m3gnet", model=tmp_path / "nothing-here")


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("vasp", {}, "unknown calculator 'vasp'"),
        ("emt", {"cutoff": 3}, "bad option for calculator 'emt'"),
        ("chgnet", {"model_path": "/no/such/file.pth"}, "CHGNet model file not found"),
    ],
)
def test_get_calculator_errors(name, options, message):
    with pytest.raises(CalculatorError, match=message):
        get_calculator(name, **options)


def test_relax_rejects_unknown_optimizer(copper):
    with pytest.raises(CalculatorError, match="unknown optimizer"):
        relax(copper, "emt", optimizer="SD")


def test_reference_energies_are_computed_once_and_cached(tmp_path, copper):
    refs = ReferenceEnergies("emt", cache_dir=tmp_path)
    entry = refs.entry("Cu")
    assert entry["candidates"]["fcc"] == pytest.approx(0.0, abs=0.01)  # EMT energies are relative to fcc
    assert entry["candidates"]["sc"] > entry["candidates"]["fcc"] + 0.1
    assert entry["energy_per_atom"] == min(entry["candidates"].values())
    assert entry["phase"] in ("fcc", "hcp")  # EMT puts hcp Cu 1 meV/atom below fcc
    stored = json.loads(refs.path.read_text())
    assert stored["Cu"]["energy_per_atom"] == entry["energy_per_atom"]
    # a new instance reads the cache instead of recomputing: poison the file and observe the value
    stored["Cu"]["energy_per_atom"] = 123.0
    refs.path.write_text(json.dumps(stored))
    assert ReferenceEnergies("emt", cache_dir=tmp_path)["Cu"] == 123.0
    # options change the cache file
    assert ReferenceEnergies("emt", cache_dir=tmp_path, fmax=0.1).path != refs.path


def test_formation_energy_with_emt_references(tmp_path):
    refs = ReferenceEnergies("emt", cache_dir=tmp_path)
    alloy = bulk("Cu", "fcc", a=3.7, cubic=True)
    alloy.symbols[[0, 1]] = "Ni"
    result = relax(alloy, "emt")
    e_form = refs.formation_energy_per_atom(result.structure, result.energy_per_atom)
    expected = result.energy_per_atom - (refs["Cu"] + refs["Ni"]) / 2
    assert e_form == pytest.approx(expected)
    assert abs(e_form) < 0.2  # Cu-Ni mixes with a small formation energy


def test_chgnet_formation_energy_of_nacl_is_close_to_experiment(nacl):
    refs = ReferenceEnergies("chgnet")
    result = relax(nacl, "chgnet")
    e_form = refs.formation_energy_per_atom(result.structure, result.energy_per_atom)
    assert e_form == pytest.approx(-2.13, abs=0.25)  # experiment: -4.26 eV per formula unit


def test_reference_energies_of_a_calculator_instance(tmp_path):
    from ase.calculators.emt import EMT

    in_memory = ReferenceEnergies(EMT(), cache_dir=tmp_path)
    assert in_memory.path is None and in_memory.name == "emt"
    assert in_memory["Cu"] == pytest.approx(ReferenceEnergies("emt", cache_dir=tmp_path)["Cu"])
    assert [f.name.split("-")[1] for f in tmp_path.glob("references-*.json")] == ["emt"]  # the named one only
    keyed = ReferenceEnergies(EMT(), cache_dir=tmp_path, cache_key="my-emt")
    keyed["Cu"]
    assert keyed.path.name.startswith("references-my-emt-") and "Cu" in json.loads(keyed.path.read_text())
    assert ReferenceEnergies(EMT(), cache_dir=tmp_path, cache_key="my-emt").missing(["Cu", "Ni"]) == ["Ni"]


@pytest.mark.parametrize(
    ("calculator", "options", "message"),
    [
        ("emt", {"cache_key": "x"}, "cache_key is for calculator instances"),
        ("instance", {"cutoff": 3.0}, "apply to a calculator name"),
        ("instance", {"cache_key": "../x"}, "letters, digits"),
        (42, {}, "expected a calculator name or an ASE calculator"),
    ],
)
def test_reference_energies_errors(calculator, options, message):
    from ase.calculators.emt import EMT

    with pytest.raises(CalculatorError, match=message):
        ReferenceEnergies(EMT() if calculator == "instance" else calculator, **options)


def test_chgnet_calculator_quiet_without_a_global_warning_filter(nacl, recwarn):
    import warnings

    before = list(warnings.filters)
    calculator = get_calculator("chgnet")
    assert np.isfinite(energy_per_atom(nacl, calculator))
    assert warnings.filters == before
    assert not [w for w in recwarn if "requires_grad" in str(w.message)]


def test_shipped_chgnet_references_cost_no_relaxation(tmp_path, monkeypatch):
    """The first formation energy for an element not used before reads the shipped references: no first-use
    relaxation; a different setting (another cache key) does not reuse them."""
    from ase_lcom.calculators import ReferenceEnergies

    def refuse(self, symbol):
        raise AssertionError(f"relaxed the elemental phases of {symbol}")

    monkeypatch.setattr(ReferenceEnergies, "compute", refuse)
    references = ReferenceEnergies("chgnet", cache_dir=tmp_path)
    assert references["U"] < references["Zn"] < 0 and references.entry("O")["phase"] == "dimer"
    other = ReferenceEnergies("chgnet", cache_dir=tmp_path, fmax=0.03)
    with pytest.raises(AssertionError, match="relaxed the elemental phases of Zn"):
        other["Zn"]


def test_shipped_references_are_not_missing_from_an_empty_cache(tmp_path):
    """A fresh machine (empty cache) computes no CHGNet reference the package ships; other settings do."""
    assert ReferenceEnergies("chgnet", cache_dir=tmp_path).missing(["Na", "Cl", "Zn"]) == []
    assert ReferenceEnergies("chgnet", cache_dir=tmp_path, steps=7).missing(["Na", "Cl"]) == ["Cl", "Na"]


def test_relaxation_whose_cell_volume_runs_away_is_stopped_in_one_line():
    """Cu squeezed to a = 2.0 A expands past four times its volume under EMT: stopped, not followed."""
    with pytest.raises(CalculatorError, match="cell volume changed .*-fold, beyond the bound of 4") as error:
        relax(bulk("Cu", "fcc", a=2.0), "emt", steps=300)
    assert "\n" not in str(error.value)
    assert relax(bulk("Cu", "fcc", a=3.3), "emt", steps=300).converged  # an ordinary start relaxes as before
    with pytest.raises(CalculatorError, match="beyond the bound of 1.2"):  # a tighter bound, as asked
        relax(bulk("Cu", "fcc", a=3.0), "emt", steps=300, max_volume_ratio=1.2)
