"""``ase-lcom data dismai``, ``train generator``, ``sample`` and ``benchmark dismai`` on tiny inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import read, write

from ase_lcom.cli import main


@pytest.fixture(scope="module")
def trained(toy_alloy, tmp_path_factory):
    """A CryinGAN trained for one epoch on the toy set (the command's output and its directory)."""
    out = tmp_path_factory.mktemp("run") / "gan"
    args = ["train", "generator", "--kind", "cryingan", "--dataset", str(toy_alloy), "--out", str(out),
            "--epochs", "1", "-q"]
    assert main(args) == 0
    return out


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ase-lcom: error: ")
    return err


def test_data_dismai_generates_a_small_set_and_rejects_unknown_names(tmp_path, capsys):
    assert main(["data", "dismai", "alloy-1500K-wide", "--out", str(tmp_path), "--n-passes", "40",
                 "--n-structures", "10", "-q"]) == 0
    assert f"{tmp_path / 'alloy-1500K-wide' / 'DATACARD.md'}" in capsys.readouterr().out
    assert (tmp_path / "alloy-1500K-wide" / "alloy-1500K-wide.npz").is_file()
    rerun = ["data", "dismai", "alloy-1500K-wide", "--out", str(tmp_path), "--n-passes", "40", "-q"]
    assert main([*rerun, "--seed", "1"]) == 2  # another seed into the same root: refused, nothing made
    assert "alloy-1500K-wide setting seed is 0 in" in one_line_error(capsys)
    assert not list((tmp_path / "_work").glob("*seed1*"))
    assert main([*rerun, "--n-structures", "20"]) == 0  # more structures from the same chains
    assert main(["data", "dismai", "alloy-900K-wide", "--out", str(tmp_path)]) == 2
    assert "unknown Dismai dataset 'alloy-900K-wide'" in one_line_error(capsys)


def test_train_generator_writes_a_checkpoint_and_curves_and_resumes(trained, toy_alloy, capsys):
    assert (trained / "generator.pt").is_file() and (trained / "loss_curves.png").is_file()
    assert len(json.loads((trained / "history.json").read_text())) == 1
    args = ["train", "generator", "--kind", "cryingan", "--dataset", str(toy_alloy), "--out", str(trained),
            "--epochs", "1", "-q"]
    assert main(args) == 0  # nothing left to do: one epoch already trained
    out = capsys.readouterr().out
    assert "1 epochs" in out and f"checkpoint: {trained / 'generator.pt'}" in out
    assert f"loss curves: {trained / 'loss_curves.png'}" in out


def test_train_generator_resumed_with_another_seed_is_a_one_line_error(trained, toy_alloy, capsys):
    args = ["train", "generator", "--kind", "cryingan", "--dataset", str(toy_alloy), "--out", str(trained),
            "--epochs", "2", "--seed", "1", "-q"]
    assert main(args) == 2
    assert "training setting seed is 0 in" in one_line_error(capsys)
    assert len(json.loads((trained / "history.json").read_text())) == 1  # nothing trained


def test_train_generator_rejects_an_unknown_kind(toy_alloy, tmp_path, capsys):
    assert main(["train", "generator", "--kind", "gan", "--dataset", str(toy_alloy), "--out", str(tmp_path)]) == 2
    assert "unknown generator kind 'gan'" in one_line_error(capsys)


def test_sample_writes_structures_of_the_template(trained, toy_alloy, tmp_path, capsys):
    out = tmp_path / "gen.extxyz"
    assert main(["sample", str(trained), "-n", "3", "-o", str(out), "--seed", "1"]) == 0
    images = read(out, index=":")
    assert len(images) == 3
    species = sorted(read(toy_alloy).get_chemical_symbols())
    assert all(sorted(a.get_chemical_symbols()) == species for a in images)
    assert np.allclose(images[0].cell.array, np.eye(3) * 7.2)
    assert "3 structures of" in capsys.readouterr().out


def test_benchmark_dismai_scores_a_generator_and_names_it(trained, toy_alloy, tmp_path, capsys):
    out = tmp_path / "bench"
    args = ["benchmark", "dismai", "--dataset", str(toy_alloy), "--generator", "cryingan", "--model", str(trained),
            "--n", "4", "--out", str(out), "-q"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| Set | Model | d_cluster [95% CI] | % with vacancies | % failed |" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["source"] == {"generator": "cryingan", "checkpoint": str(trained), "n": 4, "seed": 0}
    assert report["dataset"]["file"] == str(toy_alloy) and report["settings"] == {"align": "fixed"}
    assert len(read(out / "generated.extxyz", index=":")) == 4
    lines = (out / "generated.jsonl").read_text()
    assert main(args) == 0  # resumed: nothing recomputed, same report
    assert (out / "generated.jsonl").read_text() == lines
    assert json.loads((out / "report.json").read_text())["metrics"] == report["metrics"]


def test_benchmark_dismai_bad_inputs_are_one_line_errors(toy_alloy, tmp_path, capsys):
    other = bulk("Fe", "fcc", a=3.6, cubic=True).repeat((2, 2, 2))
    write(tmp_path / "fe.extxyz", [other])
    base = ["benchmark", "dismai", "--out", str(tmp_path / "b")]
    assert main([*base, "--dataset", str(toy_alloy), "--structures", str(tmp_path / "fe.extxyz")]) == 2
    assert "structure 0 is Fe32, but dataset toy.extxyz is Cr6Fe20Ni6" in one_line_error(capsys)
    assert main([*base, "--dataset", "alloy-900K-wide", "--structures", str(tmp_path / "fe.extxyz")]) == 2
    assert "neither a Dismai dataset name" in one_line_error(capsys)
    assert main([*base, "--dataset", str(toy_alloy), "--generator", "cryingan"]) == 2
    assert "--generator needs --model" in one_line_error(capsys)
