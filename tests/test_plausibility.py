"""Relaxations that "converge" far above their elements are refused, one structure at a time, with real calculators:
a compressed symmetric cell (forces zero by symmetry: converged at step 0) and an isolated atom in a box. The
issue's CHGNet case (compressed rocksalt through ``ase-lcom relax``) is in tests/reliability/test_bad_inputs.py."""

from __future__ import annotations

import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import read, write

from ase_lcom.calculators import ReferenceEnergies, relax
from ase_lcom.cli import main
from ase_lcom.plausibility import MAX_FORMATION_ENERGY, ImplausibleResultError, relaxed_formation_energy
from ase_lcom.predictors import Candidate
from ase_lcom.predictors.ranking import relax_and_rerank
from ase_lcom.structure import to_structure

COMPRESSED_CU = bulk("Cu", "fcc", a=2.6)  # 4.4 A^3/atom instead of 11.6
ISOLATED_CU = Atoms("Cu", cell=[12.0, 12.0, 12.0], pbc=True)  # no neighbour within EMT's cutoff


@pytest.fixture(scope="module")
def emt_references() -> ReferenceEnergies:
    return ReferenceEnergies("emt")


def test_a_compressed_cell_that_converges_at_step_0_is_refused(emt_references):
    result = relax(COMPRESSED_CU, "emt", relax_cell=False)
    assert result.converged and result.steps == 0  # what the relaxation alone reports: success
    with pytest.raises(ImplausibleResultError, match=r"Cu ended \+8\.1\d eV/atom above its elements") as info:
        relaxed_formation_energy(result, emt_references)
    assert "\n" not in str(info.value) and f"+{MAX_FORMATION_ENERGY:g} eV/atom" in str(info.value)
    relaxed = relax(COMPRESSED_CU, "emt")  # with its cell free it expands to fcc Cu, at its reference
    assert relaxed_formation_energy(relaxed, emt_references) == pytest.approx(0.0, abs=0.01)


def test_a_batch_marks_the_implausible_candidate_and_ranks_the_others(emt_references):
    cells = (ISOLATED_CU, bulk("Cu", "fcc", a=3.55), bulk("Cu", "bcc", a=2.9))
    candidates = [Candidate(to_structure(cell)) for cell in cells]
    relax_and_rerank(candidates, emt_references, symprec=None)
    assert [c.validated_energy_per_atom is not None for c in candidates] == [True, True, False]
    failed = candidates[-1]
    assert len(failed.structure) == 1 and "above its elements" in failed.info["error"]
    assert all(abs(c.validated_energy_per_atom) < 0.1 for c in candidates[:2])


def test_data_generate_logs_an_implausible_relaxation_and_stores_the_rest(tmp_path):
    from ase_lcom.data.generator import GenerationSettings, generate, import_tasks, task_log
    from ase_lcom.data.records import CrystalDatabase

    write(tmp_path / "source.extxyz", [ISOLATED_CU, bulk("Cu", "fcc", a=3.7)])
    settings = GenerationSettings(calculator="emt", n_random=0, max_atoms=4)
    report = generate(tmp_path / "gen.db", [], settings, workers=1, progress=False,
                      imports=import_tasks([tmp_path / "source.extxyz"], settings, per_file=2))
    assert report.counts == {"relaxed": 1, "implausible": 1}
    assert [len(r.structure) for r in CrystalDatabase(tmp_path / "gen.db")] == [1]
    (logged,) = task_log(tmp_path / "gen.db").rows()
    assert logged["status"] == "implausible" and "+3.52 eV/atom above its elements" in logged["reason"]


def test_cli_relax_refuses_a_converged_compressed_cell_and_writes_nothing(tmp_path, capsys):
    source, out = tmp_path / "Cu.cif", tmp_path / "relaxed.cif"
    write(source, COMPRESSED_CU)
    command = ["relax", str(source), "-c", "emt", "--fixed-cell", "-o", str(out), "-q"]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "over the plausible +2 eV/atom" in err and "nothing written" in err
    assert not out.exists()
    assert main([*command, "--no-energy-check", "--formation"]) == 0  # asked for: written, E_f printed
    assert "E_f = 8.1" in capsys.readouterr().out and len(read(out)) == 1
