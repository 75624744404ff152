"""``ase-lcom predict`` in-process with a toy predictor: options from flags, the formula-units flag, output."""

from __future__ import annotations

import pytest

from ase_lcom.cli import build_parser, main
from ase_lcom.structure import read_structure


def test_formula_units_flag_and_its_z_alias():
    for flag in ("--formula-units", "--z"):
        assert build_parser().parse_args(["predict", "ZnO", flag, "2"]).formula_units == 2
    assert build_parser().parse_args(["predict", "ZnO"]).formula_units is None


@pytest.mark.parametrize("flag", ["--formula-units", "--z"])
def test_predict_passes_options_and_formula_units_and_prints_the_model(toy_plugins, tmp_path, capsys, flag):
    out = tmp_path / "best.cif"
    assert main(["predict", "ZnO", "-p", "toy", "--model", "my-model-v2", flag, "2", "-k", "3",
                 "-o", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith("toy prediction for ZnO with model my-model-v2: 3 candidates")
    rows = [line for line in stdout.splitlines() if line.strip().startswith(("1 ", "2 ", "3 "))]
    assert len(rows) == 3 and rows[0].split()[1:5] == ["ZnO", "4", "P1", "-"]  # no energy: a dash
    assert read_structure(out).composition.reduced_formula == "ZnO" and len(read_structure(out)) == 4


def test_predict_calls_with_relax_only_when_asked(toy_plugins, tmp_path, capsys, monkeypatch):
    from ase_lcom.predictors import predictor_class

    seen = []
    cls = predictor_class("toy")
    original = cls.predict_candidates

    def recording(self, *args, **kwargs):
        candidates = original(self, *args, **kwargs)
        seen.append(candidates[0].info)
        return candidates

    monkeypatch.setattr(cls, "predict_candidates", recording)
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "ZnO", "-p", "toy", "-k", "1"]) == 0
    assert main(["predict", "ZnO", "-p", "toy", "-k", "1", "--relax"]) == 0
    assert [info["options"] for info in seen] == [{}, {"relax": True}]
    assert seen[0]["model"] == "toy-v1" and seen[0]["formula_units"] is None
    assert (tmp_path / "ZnO_toy.cif").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "NaCl", "--predictor", "ras", "--model", "X"], "--model is not an option of predictor 'ras'"),
        (["predict", "ZnO", "-p", "toy", "--steps", "5"],
         "--steps is not an option of predictor 'toy' (it takes: model, rank_by)"),
        (["predict", "ZnO", "-p", "nope"], "unknown predictor 'nope'"),
        (["predict", "Qq2", "-p", "toy"], "Qq"),
    ],
)
def test_a_flag_the_predictor_does_not_take_is_a_one_line_error(toy_plugins, capsys, args, message):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("ase-lcom: error: ") and message in captured.err
