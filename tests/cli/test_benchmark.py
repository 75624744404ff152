"""``ase-lcom benchmark``: flags mapped to the library calls (the benchmarks themselves are tested elsewhere)."""

from __future__ import annotations

import pytest

from ase_lcom.cli import build_parser, main
from ase_lcom.errors import LCOMError


class Stop(LCOMError):
    """Raised by a stand-in library call once it has seen its arguments."""


def test_csp26_gives_each_predictor_the_options_it_declares(toy_plugins, tmp_path, capsys, monkeypatch):
    from ase_lcom.benchmarks import csp

    seen = {}

    def run(factories, out, formulas, calculator, **kwargs):
        seen.update(factories=factories, formulas=formulas, calculator=calculator, **kwargs)
        raise Stop("stopped")

    monkeypatch.setattr(csp, "run_csp_benchmark", run)
    assert main(["benchmark", "csp26", "--predictors", "toy,ras", "--model", "m.pt", "--rank-by", "emt",
                 "--budget", "5", "--compounds", "NaCl,Si", "--seeds", "0,2", "--out", str(tmp_path), "-c", "emt"]) == 2
    assert capsys.readouterr().err == "ase-lcom: error: stopped\n"
    factories = seen["factories"]
    assert list(factories) == ["toy+emt", "ras"]
    assert factories["toy+emt"].args == ("toy",) and factories["toy+emt"].keywords == {"model": "m.pt",
                                                                                        "rank_by": "emt"}
    assert factories["ras"].keywords == {"budget": 5}
    assert seen["formulas"] == ["NaCl", "Si"] and seen["seeds"] == [0, 2] and seen["calculator"] == "emt"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--predictors", "ras,pso", "--model", "m.pt"], "--model is not an option of predictor 'ras' or 'pso'"),
        (["--seeds", "0,x"], "--seeds takes comma-separated integers, e.g. 0,1,2 (got '0,x')"),
        (["--compounds", "NaCl,CuAu"], "not a benchmark compound: CuAu"),
        (["--protocol", "held-out"], "--protocol held-out needs --model"),
    ],
)
def test_csp26_argument_errors_are_one_line_before_any_work(tmp_path, capsys, extra, message):
    assert main(["benchmark", "csp26", "--out", str(tmp_path / "run"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "run").exists()


def test_improvement_takes_a_count_of_seed_structures_and_a_list_of_seeds(tmp_path, capsys, monkeypatch):
    import ase_lcom.models.bundle
    from ase_lcom.benchmarks import improvement

    seen = {}

    def seed_improvements(formulas, model, units, calculator, **kwargs):
        seen.update(formulas=formulas, model=model, units=units, calculator=calculator, **kwargs)
        return []

    monkeypatch.setattr(improvement, "seed_improvements", seed_improvements)
    monkeypatch.setattr(improvement, "write_report", lambda rows, out: {})
    monkeypatch.setattr(ase_lcom.models.bundle, "cached_model", lambda name_or_path: f"model {name_or_path}")
    assert main(["benchmark", "improvement", "--out", str(tmp_path), "--compounds", "ZnO,NaCl", "--n-seeds", "4",
                 "--seeds", "0,1,2,3", "--model", "m.pt", "-q"]) == 0
    assert seen["n_seeds"] == 4 and seen["seed"] == [0, 1, 2, 3] and seen["model"] == "model m.pt"
    assert seen["formulas"] == ["ZnO", "NaCl"] and seen["units"] == {"ZnO": 2, "NaCl": 1}
    assert build_parser().parse_args(["benchmark", "improvement", "--out", "x"]).n_seeds == 8


def test_improvement_no_longer_takes_seed(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "improvement", "--out", "x", "--seed", "0,1"])
    assert exit_info.value.code == 2 and "ambiguous option: --seed could match --seed-cache, --seeds" in \
        capsys.readouterr().err
