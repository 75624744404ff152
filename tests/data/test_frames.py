"""Training frames: ``generate(frames=...)`` stores labelled frames beside the structures, resumes without
duplicates, and every structure reader skips them; GPAW labels a small cell."""

from __future__ import annotations

import json
from collections import Counter

import ase.db
import numpy as np
import pytest
from ase.calculators.emt import EMT

from ase_lcom.cli import main
from ase_lcom.data.frames import FrameSettings, read_frames
from ase_lcom.data.generator import GenerationSettings, generate, plan_tasks, task_log
from ase_lcom.data.readers import read_records
from ase_lcom.data.records import CrystalDatabase, DataError
from ase_lcom.data.summary import summarize
from ase_lcom.errors import InvalidValueError

SETTINGS = GenerationSettings(calculator="emt", n_random=1, max_atoms=2, steps=60)
FRAMES = FrameSettings(every=3, strains=(-0.02, 0.02), rattles=1)
ALLOYS = ["CuNi"]


def _frames(path) -> list:
    return list(read_frames(path))


def test_keep_frames_stores_labelled_frames_and_a_resume_stores_none_twice(tmp_path):
    reference = generate(tmp_path / "ref.db", ALLOYS, SETTINGS, workers=1, progress=False, frames=FRAMES)
    expected = Counter((f.info["frame_of"], f.info["frame_index"]) for f in _frames(tmp_path / "ref.db"))
    assert reference.counts["frames"] == sum(expected.values()) > 0 and max(expected.values()) == 1

    path = tmp_path / "run.db"
    generate(path, ALLOYS, SETTINGS, workers=1, progress=False, frames=FRAMES, max_tasks=2)
    done = CrystalDatabase(path).ids() | {uid for (uid,) in task_log(path).stored_keys()}
    pending = next(t.uid for t in plan_tasks(ALLOYS, SETTINGS) if t.uid not in done)
    # a kill after a task's frames were written but before its row: the frames are there, the row is not
    orphan = next(f for f in _frames(path))
    database = ase.db.connect(str(path))
    database.write(orphan, key_value_pairs={**orphan.info, "frame_of": pending})
    generate(path, ALLOYS, SETTINGS, workers=1, progress=False, frames=FRAMES)
    frames = _frames(path)
    assert Counter((f.info["frame_of"], f.info["frame_index"]) for f in frames) == expected

    owners = CrystalDatabase(path).ids() | {uid for (uid,) in task_log(path).stored_keys()}
    configs = Counter(f.info["config"] for f in frames)
    assert configs["strain"] == 2 * configs["rattle"] == 2 * len(owners)
    for atoms in frames:
        assert atoms.info["frame_of"] in owners and atoms.info["label_calculator"] == "emt"
        assert atoms.info["source"] == "generated:emt" and isinstance(atoms.info["frame_index"], int)
        forces, stress = atoms.get_forces(), atoms.get_stress()
        assert forces.shape == (len(atoms), 3) and stress.shape == (6,) and np.isfinite(atoms.get_potential_energy())
        fresh = atoms.copy()
        fresh.calc = EMT()  # the stored labels are the calculator's own, not constraint-projected ones
        assert fresh.get_potential_energy() == pytest.approx(atoms.get_potential_energy(), abs=1e-8)
        np.testing.assert_allclose(fresh.get_forces(), forces, atol=1e-8)
        np.testing.assert_allclose(fresh.get_stress(), stress, atol=1e-8)
    rattled = [f for f in frames if f.info["config"] == "rattle" and len(f) == 2]
    assert rattled and all(np.abs(f.get_forces()).max() > 0.01 for f in rattled)

    with pytest.raises(DataError, match="frames setting every is 3 in .* but 1 now"):
        generate(path, ALLOYS, SETTINGS, workers=1, progress=False, frames=FrameSettings(every=1))
    with pytest.raises(DataError, match="holds training frames"):
        generate(path, ALLOYS, SETTINGS, workers=1, progress=False)


def test_structure_readers_skip_frame_rows(tmp_path, capsys):
    path = tmp_path / "f.db"
    generate(path, ["Cu"], SETTINGS, workers=1, progress=False, frames=FrameSettings(strains=(0.01,)))
    rows = list(ase.db.connect(str(path)).select())
    structures = [row for row in rows if "frame_of" not in row.key_value_pairs]
    assert len(rows) > len(structures) > 0
    database = CrystalDatabase(path)
    uids = {row.uid for row in structures}
    assert len(database) == len(structures) and database.ids() == uids
    assert {r.id for r in database} == {r.id for r in database.select(reduced_formula="Cu")} == uids
    assert {r.id for r in read_records(path)} == uids
    assert summarize(read_records(path))["structures"] == len(structures)
    assert main(["data", "summary", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["structures"] == len(structures)
    assert printed["frames"]["emt"]["frames"] == len(rows) - len(structures)
    assert printed["frames"]["emt"]["tasks"] == len(structures) + len(task_log(path).stored_keys())


def test_frame_options_are_checked(tmp_path, capsys):
    with pytest.raises(InvalidValueError, match="frames calculator 'chgnet'"):
        FrameSettings(calculator="chgnet")
    with pytest.raises(InvalidValueError, match="between -0.5 and 0.5"):
        FrameSettings(strains=(0.7,))
    assert main(["data", "generate", "--out", str(tmp_path / "x.db"), "-c", "emt", "--compositions", "Cu",
                 "--frame-rattles", "2"]) == 2
    assert "need --keep-frames K" in capsys.readouterr().err


def test_gpaw_labels_the_frames_of_a_two_atom_cell(tmp_path):
    pytest.importorskip("gpaw")
    path = tmp_path / "g.db"
    frames = FrameSettings(every=100, strains=(0.02,), rattles=1, calculator="gpaw", label_steps=1, ecut=200.0,
                           kpt_density=1.0)
    skip = {"Al": ("fcc", "bcc", "diamond", "graphite")}  # leaves the 2-atom hcp cell first
    report = generate(path, ["Al"], GenerationSettings(calculator="emt", n_random=0, max_atoms=2), workers=1,
                      progress=False, frames=frames, skip_prototypes=skip, max_tasks=1)
    assert report.counts["relaxed"] == 1 and not report.counts["frame_failures"]
    by_label: dict[str, dict[int, object]] = {"emt": {}, "gpaw": {}}
    for atoms in read_frames(path):
        by_label[atoms.info["label_calculator"]][atoms.info["frame_index"]] = atoms
    assert len(by_label["gpaw"]) == 3 and set(by_label["gpaw"]) <= set(by_label["emt"])  # last step, strain, rattle
    for index, dft in by_label["gpaw"].items():
        assert len(dft) == 2 and "PBE, plane waves 200 eV, k-point density 1/A^-1" in dft.info["label_settings"]
        np.testing.assert_allclose(dft.positions, by_label["emt"][index].positions)
        assert abs(dft.get_potential_energy() - by_label["emt"][index].get_potential_energy()) > 1.0  # its own
        assert np.abs(dft.get_forces().sum(axis=0)).max() < 1e-3 and np.all(np.isfinite(dft.get_stress()))
    rattled = next(a for a in by_label["gpaw"].values() if a.info["config"] == "rattle")
    assert np.abs(rattled.get_forces()).max() > 0.01
    stored = ase.db.connect(str(path)).metadata["frames"]
    assert stored["calculator"] == "gpaw" and stored["ecut"] == 200.0 and stored["kpt_density"] == 1.0
