"""Training M3GNet potentials with matgl on labelled frames: conventions, save/load/relax, resume, fine-tuning."""

from __future__ import annotations

import json

import ase.db
import matgl
import numpy as np
import pytest
import torch
from ase.build import bulk

from ase_lcom.calculators import get_calculator, load_matgl_potential, relax
from ase_lcom.data.perturbed_frames import framed_crystals, labelled, write_perturbed_frames
from ase_lcom.errors import CalculatorError, ElementCoverageError
from ase_lcom.structure import to_structure
from ase_lcom.training.m3gnet import (
    M3GNetConfig,
    M3GNetTrainConfig,
    M3GNetTrainingError,
    _dataset,
    evaluate,
    frame_splits,
    read_frames,
    read_history,
    shifted_element_refs,
    train_m3gnet,
)

TINY = M3GNetConfig(units=8, nblocks=1, cutoff=4.0, threebody_cutoff=3.0)
FEW = M3GNetTrainConfig(epochs=2, batch_size=4, val_fraction=0.34)
CELLS = {"NaCl/rocksalt": bulk("NaCl", "rocksalt", a=5.64), "KCl/rocksalt": bulk("KCl", "rocksalt", a=6.29),
         "NaF/rocksalt": bulk("NaF", "rocksalt", a=4.63)}


@pytest.fixture(scope="module")
def frames_db(tmp_path_factory):
    """Three rocksalt halides, four perturbed copies each, labelled with CHGNet, in the frame format."""
    path = tmp_path_factory.mktemp("frames") / "frames.db"
    write_perturbed_frames(CELLS.items(), path, get_calculator("chgnet"), "chgnet", n_per_crystal=4, seed=0)
    return path


def test_frames_are_written_once_per_crystal_and_read_back(frames_db):
    assert framed_crystals(frames_db) == set(CELLS)
    assert write_perturbed_frames(CELLS.items(), frames_db, get_calculator("emt"), "emt") == 0  # resumed: done
    frames = read_frames(frames_db, label_calculator="chgnet")
    assert len(frames) == 12
    row = next(ase.db.connect(str(frames_db)).select("frame_of"))
    assert {"frame_of", "frame_index", "label_calculator", "source"} <= set(row.key_value_pairs)
    with pytest.raises(M3GNetTrainingError, match="no frames labelled by gpaw"):
        read_frames(frames_db, label_calculator="gpaw")


def test_stress_labels_follow_matgl_units_and_sign(tmp_path):
    """Frames labelled by a potential through ASE (eV/A^3, ASE sign) are what that potential predicts in
    training (GPa): energies, forces and stresses agree to rounding, so the labels' sign and unit are matgl's."""
    from matgl.apps.pes import Potential
    from matgl.models import M3GNet

    model = M3GNet(element_types=("Na", "Cl"), is_intensive=False, units=8, nblocks=1)
    Potential(model=model, calc_stresses=True, data_std=1000.0).save(tmp_path / "p")  # stresses of some GPa
    calculator = get_calculator("m3gnet", model=tmp_path / "p")
    frames = []
    for scale in (0.92, 1.0, 1.08):
        atoms = bulk("NaCl", "rocksalt", a=5.64 * scale)
        atoms.rattle(0.05, seed=1)
        frames.append(labelled(atoms, calculator))
    stresses = np.array([a.calc.results["stress"] for a in frames])
    assert np.abs(stresses).mean() > 1e-3  # eV/A^3
    dataset = _dataset([to_structure(a) for a in frames], frames, ("Na", "Cl"), 5.0, str(tmp_path / "graphs"))
    errors = evaluate(load_matgl_potential(tmp_path / "p"), dataset)
    assert errors["val_energy_mae"] < 1e-3 and errors["val_force_mae"] < 1e-3
    assert errors["val_stress_mae"] < 1e-4 * np.abs(stresses).mean() * 160.2  # GPa; a flipped sign errs by 2x


def test_a_fine_tune_shifts_the_start_element_offsets_to_the_new_energy_zero(tmp_path):
    """Labels = the start's own energies + a constant per element (another calculator's zero): the shifted
    offsets reproduce them, and an element without frames (Li) keeps the start's offset."""
    from matgl.apps.pes import Potential
    from matgl.models import M3GNet

    torch.manual_seed(0)
    elements = ("Li", "F", "Na", "Cl", "K")
    start = Potential(model=M3GNet(element_types=elements, is_intensive=False, units=8, nblocks=1),
                      element_refs=np.array([-1.0, -2.0, -3.0, -4.0, -5.0]))
    start.save(tmp_path / "start")
    calculator = get_calculator("m3gnet", model=tmp_path / "start")
    shift = {"F": 0.3, "Na": -0.7, "Cl": 0.2, "K": 1.1}
    frames = []
    for name, atoms in CELLS.items():
        for scale in (0.97, 1.03):
            cell = atoms.copy()
            cell.set_cell(cell.cell * scale, scale_atoms=True)
            labelled_cell = labelled(cell, calculator)
            labelled_cell.calc.results["energy"] += sum(shift[el] for el in cell.get_chemical_symbols())
            frames.append(labelled_cell)
    dataset = _dataset([to_structure(a) for a in frames], frames, elements, 5.0, str(tmp_path / "graphs"))
    refs = shifted_element_refs(load_matgl_potential(tmp_path / "start"), dataset, batch_size=4)
    change = refs - np.array([-1.0, -2.0, -3.0, -4.0, -5.0])
    assert change[0] == pytest.approx(0.0)  # Li: no frame
    for atoms in frames:  # the offsets' change makes up each frame's shift
        symbols = atoms.get_chemical_symbols()
        assert np.array([symbols.count(el) for el in elements]) @ change == pytest.approx(
            sum(shift[el] for el in symbols), abs=1e-4)


def test_train_save_load_and_relax_with_a_tiny_potential(frames_db, tmp_path):
    out = tmp_path / "m3gnet"
    metrics = train_m3gnet(read_frames(frames_db), out, TINY, FEW, progress=False, threads=1)
    assert metrics["epochs"] == 2 and metrics["elements"] == ["F", "Na", "Cl", "K"]
    assert metrics["train_frames"] + metrics["val_frames"] == 12
    split = json.loads((out / "split.json").read_text())
    assert split["train"] and split["val"] and not set(split["train"]) & set(split["val"])
    assert [row["epoch"] for row in read_history(out)] == [1, 2]
    assert (out / "checkpoints" / "last.ckpt").is_file()
    assert type(matgl.load_model(out)).__name__ == "Potential"
    result = relax(bulk("NaCl", "rocksalt", a=5.5), get_calculator("m3gnet", model=out), steps=5)
    assert np.isfinite(result.energy) and result.steps <= 5


def test_training_resumes_and_refuses_other_settings(frames_db, tmp_path):
    out = tmp_path / "m3gnet"
    frames = read_frames(frames_db)
    train_m3gnet(frames, out, TINY, M3GNetTrainConfig(**{**vars(FEW), "max_seconds": 1e-3}), progress=False)
    assert len(read_history(out)) == 1  # the time cap stopped it after one epoch
    metrics = train_m3gnet(frames, out, TINY, FEW, progress=False)  # resumed from last.ckpt
    assert [row["epoch"] for row in read_history(out)] == [1, 2] and metrics["epochs"] == 2
    with pytest.raises(M3GNetTrainingError, match="other settings"):
        train_m3gnet(frames, out, TINY, M3GNetTrainConfig(**{**vars(FEW), "lr": 0.1}), progress=False)


def test_fine_tuning_keeps_elements_and_held_out_compositions(frames_db, tmp_path):
    frames = read_frames(frames_db)
    train_m3gnet(frames, tmp_path / "base", TINY, FEW, progress=False)
    base = json.loads((tmp_path / "base" / "split.json").read_text())
    metrics = train_m3gnet(frames, tmp_path / "tuned", config=FEW, init=tmp_path / "base", progress=False)
    assert metrics["init"] == str(tmp_path / "base")
    tuned = json.loads((tmp_path / "tuned" / "split.json").read_text())
    assert tuned["val"] == base["val"] and tuned["train"] == base["train"]  # no new composition to draw from
    assert load_matgl_potential(tmp_path / "tuned").model.element_types == ("F", "Na", "Cl", "K")
    mgo = [labelled(bulk("MgO", "rocksalt", a=4.21), get_calculator("chgnet"))]
    with pytest.raises(M3GNetTrainingError, match="hold Mg, O, outside the elements"):
        train_m3gnet(frames + mgo * 2, tmp_path / "other", config=FEW, init=tmp_path / "base", progress=False)


def test_hold_out_overrides_the_split_of_the_start(frames_db, tmp_path):
    frames = read_frames(frames_db)
    train_m3gnet(frames, tmp_path / "base", TINY, FEW, progress=False)
    base = json.loads((tmp_path / "base" / "split.json").read_text())
    moved = base["train"][0]
    structures = [to_structure(a) for a in frames]
    splits = frame_splits(structures, 0.34, 0, init=tmp_path / "base", hold_out=(moved,))
    formulas = {name: {r.formula for r in part} for name, part in splits.items()}
    assert formulas["val"] == {moved, *base["val"]} and formulas["train"] == set(base["train"]) - {moved}


def test_a_potential_answers_only_for_the_elements_it_trained_on(frames_db, tmp_path):
    """LiCl held out has Li, which no training frame has: it is not validated on, and the potential refuses it
    although its network has a Li embedding."""
    licl = {"LiCl/rocksalt": bulk("LiCl", "rocksalt", a=5.13)}
    write_perturbed_frames(licl.items(), tmp_path / "licl.db", get_calculator("chgnet"), "chgnet", n_per_crystal=4)
    frames = read_frames(frames_db) + read_frames(tmp_path / "licl.db")
    config = M3GNetTrainConfig(epochs=1, batch_size=4, val_fraction=0.01, hold_out=("NaCl", "LiCl"))
    metrics = train_m3gnet(frames, tmp_path / "p", TINY, config, progress=False)
    assert json.loads((tmp_path / "p" / "split.json").read_text())["val"] == ["NaCl"]
    assert metrics["unused_compositions"] == ["LiCl"] and metrics["val_frames"] == 4
    assert metrics["trained_elements"] == ["F", "Na", "Cl", "K"] and "Li" in metrics["elements"]
    calculator = get_calculator("m3gnet", model=tmp_path / "p")
    for name, atoms in (("NaCl", CELLS["NaCl/rocksalt"]), ("LiCl", licl["LiCl/rocksalt"])):
        atoms = atoms.copy()
        atoms.calc = calculator
        if name == "NaCl":
            assert np.isfinite(atoms.get_potential_energy())
        else:
            with pytest.raises(ElementCoverageError, match="was not trained on Li; it covers 4 elements"):
                atoms.get_potential_energy()
    (tmp_path / "p" / "coverage.json").write_text("{broken")
    with pytest.raises(CalculatorError, match=r"cannot read .*coverage.json: JSONDecodeError"):
        get_calculator("m3gnet", model=tmp_path / "p")


def test_the_train_m3gnet_command_reports_held_out_errors_and_plots(frames_db, tmp_path, capsys):
    from ase_lcom.cli import main

    out = tmp_path / "cli"
    assert main(["train", "m3gnet", "--data", str(frames_db), "--out", str(out), "--epochs", "1", "--units", "8",
                 "--nblocks", "1", "--cutoff", "4", "--threebody-cutoff", "3", "--batch-size", "4",
                 "--val-fraction", "0.34", "--label-calculator", "chgnet", "--threads", "1", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "held out 4 frames (1 compositions): energy" in printed and (out / "loss_curves.png").is_file()
    assert json.loads((out / "metrics.json").read_text())["val_frames"] == 4


def test_a_database_without_frames_is_a_one_line_error(tmp_path, capsys):
    from ase_lcom.cli import main

    ase.db.connect(str(tmp_path / "plain.db")).write(bulk("Cu", "fcc", a=3.6), uid="Cu")
    assert main(["train", "m3gnet", "--data", str(tmp_path / "plain.db"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (f"ase-lcom: error: {tmp_path / 'plain.db'} holds no frames (rows with a "
                                       "frame_of key)\n")
