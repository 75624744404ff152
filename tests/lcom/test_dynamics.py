"""``LCOM`` is an ASE optimizer: ``run(fmax, steps)`` through ASE's own machinery, fmax on the latent gradient."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from ase_lcom.lcom.dynamics import LCOM
from ase_lcom.models.surrogate import latent_step
from tests.models.tiny_bundle import SEARCH, random_model

DECODE = {"num_levels": 2, "steps_per_level": 1}
LONG_STEP = 100.0  # the random surrogate is piecewise linear: long steps cross into regions of other gradients


@pytest.fixture(scope="module")
def model():
    return random_model()


def nacl():
    return bulk("NaCl", "rocksalt", a=5.64)


def gradient_norms(model, steps: int) -> list[float]:
    """The latent gradient norm after each of ``steps`` steps (index 0: before the first)."""
    opt = LCOM(nacl(), model, logfile=None, step_lr=LONG_STEP, **DECODE)
    norms: list[float] = []
    opt.attach(lambda: norms.append(opt.optimizable.gradient_norm(opt.optimizable.get_gradient())))
    assert not opt.run(fmax=0.0, steps=steps)
    return norms


def test_run_with_fmax_stops_at_the_first_step_below_the_tolerance(model):
    norms = gradient_norms(model, 4)
    assert len(norms) == 5 and len(set(norms)) == 5  # the latent moves every step
    fmax = min(norms[1:]) * (1 + 1e-9)
    expected = next(k for k, norm in enumerate(norms) if norm < fmax)
    assert expected > 0
    opt = LCOM(nacl(), model, logfile=None, step_lr=LONG_STEP, **DECODE)
    assert opt.run(fmax=fmax, steps=10)
    assert opt.nsteps == expected and opt.fmax == fmax


def test_run_is_converged_at_once_under_a_loose_tolerance_and_budgeted_by_default(model):
    atoms = nacl()
    before = atoms.positions.copy()
    opt = LCOM(atoms, model, logfile=None, **DECODE)
    assert opt.run(fmax=1e9) and opt.nsteps == 0 and np.array_equal(atoms.positions, before)
    opt = LCOM(atoms, model, logfile=None, **DECODE)
    assert not opt.run(fmax=0.0)  # no steps given: the surrogate's latent search budget
    assert opt.nsteps == SEARCH["steps"]
    assert list(atoms.numbers) == [11, 17] and atoms.info["lcom_model"] == "tiny-random"
    assert np.isfinite(atoms.info["lcom_energy_per_atom"])


def test_default_fmax_run_and_irun_work_as_for_ase_optimizers(model, tmp_path):
    atoms = nacl()
    log = tmp_path / "lcom.log"
    opt = LCOM(atoms, model, logfile=str(log), **DECODE)
    converged = opt.run(steps=2)  # fmax=0.05, ASE's default
    assert isinstance(converged, bool) and opt.fmax == 0.05 and 0 <= opt.nsteps <= 2
    lines = log.read_text().splitlines()
    assert lines[0].split()[-2:] == ["Energy", "fmax"] and len(lines) == opt.nsteps + 2
    assert float(lines[-1].split()[-2]) == pytest.approx(atoms.info["lcom_energy_per_atom"], abs=1e-5)
    results = list(LCOM(nacl(), model, logfile=None, **DECODE).irun(fmax=0.0, steps=2))
    assert results == [False, False, False]


def test_a_step_is_the_shared_latent_step_and_decodes_into_atoms(model):
    atoms = nacl()
    opt = LCOM(atoms, model, logfile=None, step_lr=0.3, **DECODE)
    latents = opt.optimizable
    start, cell = latents.latent.clone(), atoms.cell.array.copy()
    expected = latent_step(opt.surrogate, start, latents.raw_gradient, 0.3)
    opt.step()
    assert np.allclose(latents.get_x(), expected[0].numpy()) and not np.allclose(atoms.cell.array, cell)
    decoded = model.decode_crystals(expected, [[11, 17]], seed=0, **DECODE)
    assert np.allclose(atoms.cell.array, decoded.lattice[0].numpy(), atol=1e-5)


def test_the_default_model_runs_with_fmax_like_bfgs(monkeypatch):
    monkeypatch.delenv("ASE_LCOM_MODEL", raising=False)
    atoms = bulk("ZnO", "rocksalt", a=4.3)
    opt = LCOM(atoms, logfile=None)
    assert opt.model.name == "lcom-default-v5"
    assert isinstance(opt.run(fmax=0.05, steps=2), bool) and 1 <= opt.nsteps <= 2
    assert atoms.get_chemical_formula() == "OZn" and np.isfinite(atoms.info["lcom_energy_per_atom"])
