"""``ase-lcom train``: arguments and their errors (training itself is tested in tests/training)."""

from __future__ import annotations

import pytest
from ase.build import bulk
from ase.io import write

from ase_lcom.cli import build_parser, main


def test_train_lcom_whitens_latents_unless_told_not_to():
    base = ["train", "lcom", "--cdvae", "c.pt", "--data", "d.db", "--out", "m.pt"]
    assert build_parser().parse_args(base).whiten_latents is True
    assert build_parser().parse_args([*base, "--no-whiten-latents"]).whiten_latents is False


@pytest.mark.parametrize(("split", "message"), [
    ("0.8,0.2", "split fractions must be three non-negative numbers summing to 1, got (0.8, 0.2)"),
    ("0.8,a,0.1", "--split takes comma-separated numbers (got '0.8,a,0.1')"),
])
def test_a_malformed_split_is_a_one_line_error(tmp_path, capsys, split, message):
    data = tmp_path / "d.extxyz"
    write(data, [bulk("Cu", "fcc", a=3.6)])
    assert main(["train", "cdvae", "--data", str(data), "--out", str(tmp_path / "run"), "--split", split]) == 2
    assert capsys.readouterr().err == f"ase-lcom: error: {message}\n"
    assert not (tmp_path / "run").exists()


def test_fine_tuning_without_a_split_file_beside_the_checkpoint_is_a_one_line_error(tmp_path, capsys):
    data = tmp_path / "d.extxyz"
    write(data, [bulk("Cu", "fcc", a=3.6)])
    assert main(["train", "cdvae", "--data", str(data), "--out", str(tmp_path / "run"),
                 "--init", str(tmp_path / "best.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"no readable split.json beside the checkpoint {tmp_path / 'best.pt'}" in err


@pytest.mark.parametrize(("factors", "message"), [
    ("0.8,x", "--volume-factors takes comma-separated numbers (got '0.8,x')"),
    ("0.8,1", "volume factor 1 must lie between 0.333 and 3 and differ from 1"),
])
def test_unusable_volume_factors_are_a_one_line_error(tmp_path, capsys, factors, message):
    data = tmp_path / "d.extxyz"
    write(data, [bulk("Cu", "fcc", a=3.6)])
    assert main(["train", "lcom", "--cdvae", str(tmp_path / "c.pt"), "--data", str(data),
                 "--out", str(tmp_path / "m.pt"), "--volume-factors", factors]) == 2
    assert capsys.readouterr().err == f"ase-lcom: error: {message}\n"
    assert not (tmp_path / "m.work").exists()
