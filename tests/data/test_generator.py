"""Dataset generation: settings checks, resuming after a kill, leakage controls, imported structures."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time

import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from pymatgen.analysis.structure_matcher import StructureMatcher

from ase_lcom.data.generator import GenerationSettings, generate, import_tasks, plan_tasks, task_log
from ase_lcom.data.prototypes import decorate
from ase_lcom.data.records import CrystalDatabase, DataError


def test_generator_refuses_other_settings_and_survives_a_cut_log_line(tmp_path):
    generate(tmp_path / "s.db", ["Cu"], GenerationSettings(calculator="emt", n_random=1, max_atoms=2),
             workers=1, progress=False)
    with pytest.raises(DataError, match=r"generation setting fmax is 0\.05 in .*s\.db but 0\.01 now"):
        generate(tmp_path / "s.db", ["Cu"], GenerationSettings(calculator="emt", n_random=1, max_atoms=2, fmax=0.01),
                 workers=1, progress=False)
    more = generate(tmp_path / "s.db", ["Cu"], GenerationSettings(calculator="emt", n_random=2, max_atoms=2),
                    workers=1, progress=False)  # more random cells: only new tasks run
    assert more.already_done == more.planned - 1 and sum(more.counts.values()) == 1
    log = task_log(tmp_path / "cut.db")
    log.path.write_text('{"uid": "a", "status": "duplicate"}\n{"uid": "b", "sta')  # killed mid-write
    log.append({"uid": "c", "status": "failed", "reason": ""})
    assert log.stored_keys() == {("a",), ("c",)}


# ------------------------------------------------------------------------------------------- generator
SETTINGS = GenerationSettings(calculator="emt", n_random=4, max_atoms=6, steps=100)
ALLOYS = ["CuNi", "Cu", "NiAl"]


@pytest.mark.slow
def test_generator_resumes_after_being_killed(tmp_path):
    db_path = tmp_path / "gen.db"
    command = [sys.executable, "-m", "ase_lcom.cli", "data", "generate", "--out", str(db_path), "-c", "emt",
               "--compositions", ",".join(ALLOYS), "--n-random", "4", "--max-atoms", "6", "--steps", "100",
               "--workers", "1", "-q"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None and len(CrystalDatabase(db_path)) < 4:
        time.sleep(0.2)
    assert process.poll() is None, "the run finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait()
    first = CrystalDatabase(db_path).ids()
    assert len(first) >= 4
    planned = {t.uid for t in plan_tasks(ALLOYS, SETTINGS)}
    assert len(first) < len(planned)

    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    records = list(CrystalDatabase(db_path))
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)), "a task was stored twice"
    assert first <= set(ids), "finished work was lost"
    logged = {uid for (uid,) in task_log(db_path).stored_keys()}
    assert set(ids) | logged == planned and not set(ids) & logged
    matcher = StructureMatcher()
    for a, b in itertools.combinations(records, 2):
        assert a.formula != b.formula or not matcher.fit(a.structure, b.structure), (a.id, b.id)

    # the same run uninterrupted gives the same rows (workers=1 is deterministic)
    reference = generate(tmp_path / "ref.db", ALLOYS, SETTINGS, workers=1, progress=False)
    assert CrystalDatabase(tmp_path / "ref.db").ids() == set(ids)
    assert reference.counts["relaxed"] == len(ids)
    # and a third call has nothing left to do
    again = generate(db_path, ALLOYS, SETTINGS, workers=1, progress=False)
    assert again.already_done == len(planned) and not again.counts


def test_generator_leakage_controls(tmp_path):
    rocksalt = dict(decorate("CuNi"))["rocksalt"]
    report = generate(tmp_path / "leak.db", ["CuNi", "Cu"], GenerationSettings(calculator="emt", n_random=1,
                      max_atoms=4), workers=1, exclude_compositions=["Cu"], exclude_structures=[rocksalt],
                      progress=False)
    records = list(CrystalDatabase(tmp_path / "leak.db"))
    assert {r.formula for r in records} == {"CuNi"}
    assert not any(StructureMatcher().fit(r.structure, rocksalt) for r in records)
    assert report.counts["excluded"] >= 1
    assert all(r.formation_energy_per_atom is not None and r.info["relaxed_with"] == "emt" for r in records)

    # an energy ceiling (a ground state plus its degeneracy window) also removes rows stored before it was set
    lowest = min(records, key=lambda r: r.energy_per_atom)
    again = generate(tmp_path / "leak.db", ["CuNi", "Cu"], GenerationSettings(calculator="emt", n_random=1,
                     max_atoms=4), workers=1, exclude_compositions=["Cu"], exclude_structures=[rocksalt],
                     exclude_energies={"NiCu": lowest.energy_per_atom + 1e-6}, progress=False)
    kept = CrystalDatabase(tmp_path / "leak.db").ids()
    assert lowest.id not in kept and kept == {r.id for r in records} - {lowest.id} and not again.counts
    assert "exclusion ceiling" in (tmp_path / "leak.db.tasks.jsonl").read_text().splitlines()[-1]


def test_generator_imports_structures_from_other_datasets(tmp_path):
    """--add: structures of another dataset are drawn, relaxed with the run's settings (their energies
    recomputed), deduplicated and leakage-checked like generated ones; a rerun has nothing left to do."""
    fcc = bulk("Cu", "fcc", a=3.7)
    rocksalt = dict(decorate("CuNi"))["rocksalt"]
    frames = []
    for k, atoms in enumerate([fcc, fcc.repeat((2, 1, 1)), bulk("Cu", "bcc", a=2.9), fcc.repeat((3, 3, 3))]):
        atoms = atoms.copy()
        atoms.calc = SinglePointCalculator(atoms, energy=123.0 * (k + 1))
        frames.append(atoms)
    from pymatgen.io.ase import AseAtomsAdaptor
    frames.append(AseAtomsAdaptor.get_atoms(rocksalt))
    frames[-1].calc = SinglePointCalculator(frames[-1], energy=-1.0)
    source = tmp_path / "other.extxyz"
    write(source, frames)
    settings = GenerationSettings(calculator="emt", n_random=0, max_atoms=8)
    tasks = import_tasks([source], settings, per_file=10)
    assert len(tasks) == 4 and {t.method for t in tasks} == {"import"}  # the 27-atom cell is too large
    assert import_tasks([source], settings, per_file=2) == import_tasks([source], settings, per_file=2)
    assert len(import_tasks([source], settings, per_file=2)) == 2
    with pytest.raises(DataError, match="at least 1"):
        import_tasks([source], settings, per_file=0)
    with pytest.raises(DataError, match="not found"):
        import_tasks([tmp_path / "missing.extxyz"], settings, per_file=2)

    report = generate(tmp_path / "imp.db", [], settings, workers=1, exclude_structures=[rocksalt],
                      imports=tasks, progress=False)
    records = list(CrystalDatabase(tmp_path / "imp.db"))
    # fcc and its doubled cell are one structure; the rocksalt CuNi is an excluded reference
    assert report.counts == {"relaxed": 2, "duplicate": 1, "excluded": 1}
    assert sorted(r.info["method"] for r in records) == ["import", "import"]
    assert all(r.id.startswith("Cu/import/other.extxyz:") and abs(r.energy_per_atom) < 1.0 for r in records)
    again = generate(tmp_path / "imp.db", [], settings, workers=1, imports=tasks, progress=False)
    assert again.already_done == 4 and not again.counts


@pytest.mark.slow  # workers import torch and pymatgen: tens of seconds on a busy machine
def test_generator_in_worker_processes_computes_what_a_serial_run_does(tmp_path):
    settings = GenerationSettings(calculator="emt", n_random=2, max_atoms=2, steps=60)
    parallel = generate(tmp_path / "p.db", ["Cu"], settings, workers=2, progress=False)
    serial = generate(tmp_path / "s.db", ["Cu"], settings, workers=1, progress=False)
    planned = {t.uid for t in plan_tasks(["Cu"], settings)}
    assert sum(parallel.counts.values()) == sum(serial.counts.values()) == len(planned)
    energies = {}
    for name in ("p", "s"):
        records = {r.id: r.energy_per_atom for r in CrystalDatabase(tmp_path / f"{name}.db")}
        logged = {uid for (uid,) in task_log(tmp_path / f"{name}.db").stored_keys()}
        assert set(records) | logged == planned and not set(records) & logged
        energies[name] = records
    for uid in set(energies["p"]) & set(energies["s"]):  # the same task relaxes to the same energy anywhere
        assert energies["p"][uid] == pytest.approx(energies["s"][uid], abs=1e-8)
    assert len(set(energies["p"]) & set(energies["s"])) >= 1

