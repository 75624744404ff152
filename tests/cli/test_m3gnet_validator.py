"""The shipped M3GNet wherever a validating calculator is chosen: relax, predict --rank-by / --relax, csp26."""

from __future__ import annotations

from ase.build import bulk

from ase_lcom.cli import main


def test_relax_with_the_shipped_m3gnet(tmp_path, capsys):
    bulk("NaCl", "rocksalt", a=5.4).write(tmp_path / "nacl.cif")
    assert main(["relax", str(tmp_path / "nacl.cif"), "-c", "m3gnet", "--fmax", "0.05", "-q",
                 "-o", str(tmp_path / "out.cif")]) == 0
    assert "NaCl: E = " in capsys.readouterr().out and (tmp_path / "out.cif").is_file()


def test_predict_ranks_by_the_shipped_m3gnet(tmp_path, capsys):
    assert main(["predict", "NaCl", "--formula-units", "1", "-k", "2", "--rank-by", "m3gnet",
                 "-o", str(tmp_path / "nacl.cif")]) == 0
    assert "E_f  m3gnet" in capsys.readouterr().out


def test_predict_calculator_needs_relax(capsys):
    assert main(["predict", "NaCl", "-c", "m3gnet"]) == 2
    assert "--calculator chooses the calculator of --relax" in capsys.readouterr().err


def test_csp26_validated_by_the_shipped_m3gnet(tmp_path):
    assert main(["benchmark", "csp26", "--predictors", "ras", "--budget", "4", "--compounds", "NaCl",
                 "-c", "m3gnet", "--no-relax", "--out", str(tmp_path), "-q"]) == 0
    assert (tmp_path / "references-m3gnet.json").is_file() and (tmp_path / "rows.jsonl").is_file()
