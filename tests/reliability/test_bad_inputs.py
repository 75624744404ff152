"""Hostile and nonsensical inputs at the boundary of the CLI and the Python API (issue #23).

Every case asserts a refusal: a non-zero exit with exactly one line on stderr and no traceback (CLI) or the
documented :class:`~ase_lcom.errors.LCOMError` (API), within a time limit, with no output file written and no
payload executed. The CLI runs in-process through :func:`ase_lcom.cli.main`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure

from ase_lcom.cli import main
from ase_lcom.errors import LCOMError
from ase_lcom.structure import write_structure

LIMIT_S = 30.0
"""Seconds a refusal may take (model loading and imports included; most take well under one)."""


class Payload:
    """Something that, when unpickled, creates ``marker``: the proof that a file's code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def run_cli(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, float]:
    """``ase-lcom ARGV`` in this process: exit status, stdout, stderr, seconds."""
    start = time.perf_counter()
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        status = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return status, captured.out, captured.err, time.perf_counter() - start


def assert_refused(argv: Sequence[str], capsys: pytest.CaptureFixture[str], *, says: str = "",
                   not_written: Sequence[Path] = ()) -> str:
    """Run the CLI and check the refusal: status 2, one line on stderr, no traceback, in time, no file written."""
    status, _, err, seconds = run_cli(argv, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, (status, err)
    assert len(lines) == 1, err
    assert "Traceback" not in err and "rerun with --debug" not in err, err  # an LCOMError, not a leak
    assert says.lower() in lines[0].lower(), lines[0]
    assert seconds < LIMIT_S, seconds
    for path in not_written:
        assert not Path(path).exists(), path
    return lines[0]


def assert_api_refused(call, error: type[Exception] = LCOMError, says: str = "") -> str:
    """Call and check the refusal: ``error`` raised with a one-line message, in time."""
    start = time.perf_counter()
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert "\n" not in message.strip(), message
    assert says.lower() in message.lower(), message
    assert time.perf_counter() - start < LIMIT_S
    return message


@pytest.fixture(scope="module")
def nacl() -> Structure:
    """Rocksalt NaCl, primitive cell."""
    structure = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5] * 3])
    return structure.get_primitive_structure()


@pytest.fixture
def nacl_cif(tmp_path: Path, nacl: Structure) -> Path:
    """A valid rocksalt NaCl CIF."""
    return write_structure(nacl, tmp_path / "NaCl.cif")


# --------------------------------------------------------------------------------------- code execution
def test_chgnet_model_path_pickle_is_not_executed(tmp_path, nacl_cif, capsys):
    marker = tmp_path / "pwned"
    evil = tmp_path / "EVIL.pt"
    torch.save({"model": Payload(marker)}, evil)
    assert_refused(["energy", nacl_cif, "--option", f"model_path={evil}"], capsys, says="refused")
    assert not marker.exists()


def _matgl_dir(root: Path, header: dict, arguments: object = None) -> Path:
    directory = root / "EVIL_DIR"
    directory.mkdir()
    (directory / "model.json").write_text(json.dumps(header))
    torch.save(arguments if arguments is not None else {"element_types": ["H"]}, directory / "model.pt")
    torch.save({"w": torch.zeros(1)}, directory / "state.pt")
    return directory


MATGL_PAYLOADS = {
    "popen-class": lambda m: ({"@module": "subprocess", "@class": "Popen"}, None),
    "module-not-class": lambda m: ({"@module": "matgl.utils.io", "@class": "json"}, None),
    "foreign-class-in-matgl": lambda m: ({"@module": "matgl.ext.ase", "@class": "Atoms"}, None),
    "nested-popen": lambda m: ({"@module": "matgl.apps.pes", "@class": "Potential"},
                               {"model": {"@module": "subprocess", "@class": "Popen",
                                          "init_args": {"args": ["touch", str(m)]}}}),
    "pickled-args": lambda m: ({"@module": "matgl.apps.pes", "@class": "Potential"}, {"model": Payload(m)}),
}


@pytest.mark.parametrize("kind", sorted(MATGL_PAYLOADS))
@pytest.mark.parametrize("via", ["option", "env"])
def test_matgl_model_directory_names_no_foreign_class(kind, via, tmp_path, nacl_cif, capsys, monkeypatch):
    marker = tmp_path / "pwned"
    header, arguments = MATGL_PAYLOADS[kind](marker)
    directory = _matgl_dir(tmp_path, header, arguments)
    argv = ["energy", nacl_cif, "-c", "m3gnet"]
    if via == "option":
        argv += ["--option", f"model={directory}"]
    else:
        monkeypatch.setenv("ASE_LCOM_M3GNET_MODEL", str(directory))
    assert_refused(argv, capsys, says="refused")
    time.sleep(0.05)
    assert not marker.exists()


def _matbench(path: Path, structure: dict) -> Path:
    path.write_text(json.dumps({"columns": ["structure", "e_form"], "index": [0], "data": [[structure, -1.0]]}))
    return path


@pytest.mark.parametrize("where", ["site-property", "top-level", "lattice", "callable"])
def test_data_summary_imports_no_module_named_in_the_file(where, tmp_path, capsys, monkeypatch):
    marker = tmp_path / "pwned"
    (tmp_path / "evil_module_23.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Evil: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    evil = {"@module": "evil_module_23", "@class": "Evil"}
    structure = Structure(Lattice.cubic(4.2), ["Na", "Cl"], [[0, 0, 0], [0.5] * 3]).as_dict()
    if where == "site-property":
        structure["sites"][0]["properties"] = {"x": evil}
    elif where == "top-level":
        structure.update(evil)
    elif where == "lattice":
        structure["lattice"].update(evil)
    else:
        structure["sites"][0]["properties"] = {"x": {"@module": "evil_module_23", "@callable": "Evil"}}
    out = tmp_path / "summary.json"
    assert_refused(["data", "summary", _matbench(tmp_path / "FILE.json", structure), "--json", out], capsys,
                   says="refused", not_written=[out])
    assert not marker.exists()


# ------------------------------------------------------------------------------------ nonsense on the CLI
DEEP = "(" * 1500 + "H" + ")" * 1500
NESTED = "(" * 20 + "H" + ")" * 20
CLI_BAD = {
    # predict: counts, budgets, seeds, formulas, paths and combinations, all refused before any work
    "k-zero": (["predict", "ZnO", "--pure", "-k", "0"], "at least 1"),
    "k-negative": (["predict", "ZnO", "--pure", "-k", "-3"], "at least 1"),
    "k-huge": (["predict", "ZnO", "--pure", "-k", "1000000"], "at most"),
    "k-text": (["predict", "ZnO", "--pure", "-k", "many"], "expected"),
    "steps-negative": (["predict", "ZnO", "--pure", "--steps", "-5"], "0 or more"),
    "steps-minus-one": (["predict", "ZnO", "--pure", "--steps", "-1"], "0 or more"),
    "steps-unbounded": (["predict", "ZnO", "--pure", "--steps", "100000000"], "ceiling"),
    "z-zero": (["predict", "ZnO", "--pure", "--formula-units", "0"], "at least 1"),
    "z-negative": (["predict", "ZnO", "--pure", "--z", "-2"], "at least 1"),
    "seed-negative": (["predict", "ZnO", "--pure", "--seed", "-1"], "2**32"),
    "seed-huge": (["predict", "ZnO", "--pure", "--seed", str(2**32)], "2**32"),
    "seed-float": (["predict", "ZnO", "--pure", "--seed", "1e3"], "expected"),
    "relax-and-rank-by": (["predict", "ZnO", "--relax", "--rank-by", "emt"], "--rank-by"),
    "ras-with-model": (["predict", "ZnO", "--predictor", "ras", "--model", "X"], "--model"),
    "unknown-predictor": (["predict", "ZnO", "--predictor", "nosuch"], "nosuch"),
    "output-missing-folder": (["predict", "ZnO", "--pure", "-o", "{tmp}/missing/out.cif"], "does not exist"),
    "plot-missing-folder": (["predict", "ZnO", "--pure", "--plot", "{tmp}/missing/p.png"], "does not exist"),
    "output-is-folder": (["predict", "ZnO", "--pure", "-o", "{tmp}"], "is a folder"),
    "cyrillic-letter": (["predict", "НCl", "--pure"], "U+041D"),
    "zero-width-space": (["predict", "Zn\u200bO", "--pure"], "U+200B"),
    "1500-brackets": (["predict", DEEP, "--pure"], "longer than"),
    "20-nested-brackets": (["predict", NESTED, "--pure"], "nested deeper"),
    "unbalanced": (["predict", "Ca(OH", "--pure"], "unbalanced"),
    "unknown-element": (["predict", "Xx2O", "--pure"], "unknown element"),
    "empty-formula": (["predict", " ", "--pure"], "empty formula"),
    "negative-amount": (["predict", "Zn-1O", "--pure"], "negative"),
    "fractional-amount": (["predict", "FeO1.5", "--pure"], "fractional"),
    "superheavy": (["predict", "OgO", "--pure"], "not supported"),
    "too-many-atoms": (["predict", "H100", "--pure"], "limit"),
    "lowercase": (["predict", "zno", "--pure"], "capital"),
    "symbol-junk": (["predict", "Zn$O", "--pure"], "invalid character"),
    # relax and energy
    "fmax-negative": (["relax", "{cif}", "--fmax", "-1"], "greater than 0"),
    "fmax-zero": (["relax", "{cif}", "--fmax", "0"], "greater than 0"),
    "fmax-nan": (["relax", "{cif}", "--fmax", "nan"], "finite"),
    "fmax-inf": (["relax", "{cif}", "--fmax", "inf"], "finite"),
    "relax-steps-negative": (["relax", "{cif}", "--steps", "-5"], "at least 1"),
    "relax-steps-zero": (["relax", "{cif}", "--steps", "0"], "at least 1"),
    "relax-steps-unbounded": (["relax", "{cif}", "--steps", "100000000"], "ceiling"),
    "relax-output-missing-folder": (["relax", "{cif}", "-c", "emt", "-o", "{tmp}/no/x.cif"], "does not exist"),
    "relax-trajectory-missing-folder": (["relax", "{cif}", "-c", "emt", "--trajectory", "{tmp}/no/t.traj"],
                                        "does not exist"),
    "relax-missing-file": (["relax", "{tmp}/nothing.cif"], "not found"),
    "relax-unknown-calculator": (["relax", "{cif}", "-c", "nosuch"], "unknown calculator"),
    "relax-unknown-optimizer": (["relax", "{cif}", "-c", "emt", "--optimizer", "SD"], "unknown optimizer"),
    "gpaw-negative-ecut": (["relax", "{cif}", "-c", "gpaw", "--option", "ecut=-50"], "ecut"),
    "gpaw-zero-kpts": (["energy", "{cif}", "-c", "gpaw", "--option", "kpt_density=0"], "kpt_density"),
    "option-not-key-value": (["energy", "{cif}", "-c", "emt", "--option", "ecut"], "KEY=VALUE"),
    "emt-unknown-option": (["energy", "{cif}", "-c", "emt", "--option", "foo=1"], "bad option"),
    "energy-garbage-file": (["energy", "{garbage}"], "cannot read"),
    "energy-close-atoms": (["energy", "{close}", "-c", "emt"], "apart"),
    "m3gnet-missing-model": (["energy", "{cif}", "-c", "m3gnet", "--option", "model={tmp}/none"], "not found"),
    "chgnet-missing-model": (["energy", "{cif}", "--option", "model_path={tmp}/none.pt"], "not found"),
    "m3gnet-hold-out-not-a-formula": (["train", "m3gnet", "--data", "{tmp}/none.db", "--out", "{tmp}/m",
                                       "--hold-out", "NaCl,Qq"], "--hold-out"),
    # data generate, dismai and summary
    "n-random-negative": (["data", "generate", "--out", "{tmp}/d.db", "--compositions", "ZnO", "--n-random", "-1"],
                          "0 or more"),
    "workers-negative": (["data", "generate", "--out", "{tmp}/d.db", "--compositions", "ZnO", "--workers", "-3"],
                         "at least 1"),
    "workers-zero": (["data", "generate", "--out", "{tmp}/d.db", "--compositions", "ZnO", "--workers", "0"],
                     "at least 1"),
    "generate-steps-negative": (["data", "generate", "--out", "{tmp}/d.db", "--compositions", "ZnO", "--steps",
                                 "-1"], "at least 1"),
    "generate-fmax-negative": (["data", "generate", "--out", "{tmp}/d.db", "--compositions", "ZnO", "--fmax", "-1"],
                               "greater than 0"),
    "generate-seed-negative": (["data", "generate", "--out", "{tmp}/d.db", "--compositions", "ZnO", "--seed", "-1"],
                               "2**32"),
    "generate-max-atoms-zero": (["data", "generate", "--out", "{tmp}/d.db", "--compositions", "ZnO",
                                 "--max-atoms", "0"], "at least 1"),
    "generate-max-tasks-zero": (["data", "generate", "--out", "{tmp}/d.db", "--compositions", "ZnO",
                                 "--max-tasks", "0"], "at least 1"),
    "exclude-not-a-formula": (["data", "generate", "--out", "{tmp}/d.db", "--compositions", "ZnO",
                               "--exclude-compositions", "Xx"], "--exclude-compositions"),
    "composition-not-a-formula": (["data", "generate", "--out", "{tmp}/d.db", "--compositions", "ZnO,Qq"],
                                  "--compositions"),
    "generate-no-compositions": (["data", "generate", "--out", "{tmp}/d.db"], "--compositions"),
    "generate-out-is-folder": (["data", "generate", "--out", "{tmp}", "--compositions", "ZnO"], "is a folder"),
    "dismai-seed-negative": (["data", "dismai", "a-Si", "--out", "{tmp}", "--seed", "-1"], "2**32"),
    "dismai-passes-zero": (["data", "dismai", "a-Si", "--out", "{tmp}", "--n-passes", "0"], "at least 1"),
    "dismai-workers-zero": (["data", "dismai", "a-Si", "--out", "{tmp}", "--workers", "0"], "at least 1"),
    "summary-missing-file": (["data", "summary", "{tmp}/none.db"], "not found"),
    "summary-json-missing-folder": (["data", "summary", "{cif}", "--json", "{tmp}/no/s.json"], "does not exist"),
    "summary-plot-missing-folder": (["data", "summary", "{cif}", "--plot", "{tmp}/no/s.png"], "does not exist"),
    "summary-unknown-format": (["data", "summary", "{cif}", "--format", "xyz"], "unknown dataset format"),
    "summary-not-json": (["data", "summary", "{garbage_json}"], "not valid JSON"),
    # train
    "epochs-zero": (["train", "cdvae", "--data", "{cif}", "--out", "{tmp}/t", "--epochs", "0"], "at least 1"),
    "epochs-negative": (["train", "cdvae", "--data", "{cif}", "--out", "{tmp}/t", "--epochs", "-1"], "at least 1"),
    "hidden-zero": (["train", "cdvae", "--data", "{cif}", "--out", "{tmp}/t", "--hidden", "0"], "at least 1"),
    "latent-zero": (["train", "cdvae", "--data", "{cif}", "--out", "{tmp}/t", "--latent-dim", "0"], "at least 1"),
    "batch-zero": (["train", "cdvae", "--data", "{cif}", "--out", "{tmp}/t", "--batch-size", "0"], "at least 1"),
    "lr-zero": (["train", "cdvae", "--data", "{cif}", "--out", "{tmp}/t", "--lr", "0"], "greater than 0"),
    "lr-nan": (["train", "cdvae", "--data", "{cif}", "--out", "{tmp}/t", "--lr", "nan"], "finite"),
    "beta-negative": (["train", "cdvae", "--data", "{cif}", "--out", "{tmp}/t", "--beta", "-1"], "0 or more"),
    "train-seed-negative": (["train", "cdvae", "--data", "{cif}", "--out", "{tmp}/t", "--seed", "-1"], "2**32"),
    "train-exclude-not-a-formula": (["train", "cdvae", "--data", "{cif}", "--out", "{tmp}/t",
                                     "--exclude-compositions", "Xx"], "--exclude-compositions"),
    "train-missing-data": (["train", "cdvae", "--data", "{tmp}/none.db", "--out", "{tmp}/t"], "not found"),
    "lcom-hidden-zero": (["train", "lcom", "--cdvae", "x", "--data", "y", "--out", "z", "--hidden", "0"],
                         "at least 1"),
    "lcom-steps-negative": (["train", "lcom", "--cdvae", "x", "--data", "y", "--out", "z", "--steps", "-1"],
                            "at least 1"),
    "lcom-tau-negative": (["train", "lcom", "--cdvae", "x", "--data", "y", "--out", "z", "--tau", "-1"], "0 or more"),
    "lcom-step-lr-zero": (["train", "lcom", "--cdvae", "x", "--data", "y", "--out", "z", "--step-lr", "0"],
                          "greater than 0"),
    "generator-epochs-zero": (["train", "generator", "--kind", "cryingan", "--dataset", "x", "--out", "y",
                               "--epochs", "0"], "at least 1"),
    "generator-max-seconds-negative": (["train", "generator", "--kind", "cryingan", "--dataset", "x", "--out", "y",
                                        "--max-seconds", "-5"], "greater than 0"),
    # sample, predict-many, benchmark, the parser itself
    "sample-n-zero": (["sample", "{tmp}", "-n", "0"], "at least 1"),
    "sample-seed-negative": (["sample", "{tmp}", "--seed", "-1"], "2**32"),
    "many-k-zero": (["predict-many", "{cif}", "--out", "{tmp}/m.db", "-k", "0"], "at least 1"),
    "many-keep-zero": (["predict-many", "{cif}", "--out", "{tmp}/m.db", "--keep", "0"], "at least 1"),
    "many-seed-negative": (["predict-many", "{cif}", "--out", "{tmp}/m.db", "--seed", "-1"], "2**32"),
    "many-workers-negative": (["predict-many", "{cif}", "--out", "{tmp}/m.db", "--workers", "-3"], "at least 1"),
    "csp26-budget-zero": (["benchmark", "csp26", "--out", "{tmp}/b", "--budget", "0"], "at least 1"),
    "csp26-seed-negative": (["benchmark", "csp26", "--out", "{tmp}/b", "--seeds", "0,-1"], "2**32"),
    "unknown-command": (["frobnicate"], "invalid choice"),
    "no-command": ([], "required"),
    "predict-no-formula": (["predict"], "required"),
    "unknown-flag": (["predict", "ZnO", "--frobnicate"], "unrecognized"),
}


@pytest.fixture
def files(tmp_path: Path, nacl_cif: Path) -> dict[str, str]:
    """Placeholders of :data:`CLI_BAD`: a valid CIF, garbage, a structure with atoms on top of each other."""
    garbage = tmp_path / "garbage.cif"
    garbage.write_text("this is not a crystal\n\x00\x01")
    garbage_json = tmp_path / "garbage.json"
    garbage_json.write_text("{not json")
    close = tmp_path / "close.xyz"
    close.write_text('2\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="T T T"\n'
                     "Cu 0 0 0\nCu 0.1 0 0\n")
    return {"tmp": str(tmp_path), "cif": str(nacl_cif), "garbage": str(garbage), "close": str(close),
            "garbage_json": str(garbage_json)}


@pytest.mark.parametrize("case", sorted(CLI_BAD))
def test_cli_refuses_bad_input(case, files, capsys, monkeypatch, tmp_path):
    argv, says = CLI_BAD[case]
    monkeypatch.chdir(tmp_path)  # default outputs (FORMULA_PREDICTOR.cif, FILE_relaxed.cif) land here
    before = set(tmp_path.rglob("*"))
    assert_refused([a.format(**files) if "{" in a and "(" not in a else a for a in argv], capsys, says=says)
    assert set(tmp_path.rglob("*")) == before  # nothing written on failure


# ------------------------------------------------------------------------ reading never changes a file
CIF_HEAD = """data_x
_cell_length_a 4.0
_cell_length_b 4.0
_cell_length_c 4.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M '{group}'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
"""
BAD_CIFS = {
    "mixed-site": ("P 1", "Cu1 Cu 0 0 0 0.5\nAu1 Au 0 0 0 0.5\nO1 O 0.5 0.5 0.5 1\n", "partially occupied"),
    "half-empty-site": ("P 1", "Cu1 Cu 0 0 0 0.5\nO1 O 0.5 0.5 0.5 1\n", "partially occupied"),
    "coincident-sites": ("P 1", "Cu1 Cu 0 0 0 1\nCu2 Cu 0 0 0 1\nO1 O 0.5 0.5 0.5 1\n", "coincide"),
    "nearly-coincident-sites": ("P 1", "Cu1 Cu 0 0 0 1\nCu2 Cu 0.0001 0 0 1\nO1 O 0.5 0.5 0.5 1\n", "coincide"),
    "symmetry-copies-collide": ("P m -3 m", "Cu1 Cu 0 0 0 1\nCu2 Cu 0.00001 0 0 1\n", "coincide"),
    "close-atoms": ("P 1", "Cu1 Cu 0 0 0 1\nCu2 Cu 0.05 0 0 1\n", "apart"),
}


@pytest.mark.parametrize("case", sorted(BAD_CIFS))
def test_cif_read_unchanged_or_refused(case, tmp_path, capsys):
    group, sites, says = BAD_CIFS[case]
    path = tmp_path / "x.cif"
    path.write_text(CIF_HEAD.format(group=group) + sites)
    assert_refused(["relax", path, "-c", "emt"], capsys, says=says, not_written=[tmp_path / "x_relaxed.cif"])


def test_symmetric_cif_reads_in_full(tmp_path):
    from ase_lcom.structure import read_structure

    path = tmp_path / "NaCl.cif"
    path.write_text(CIF_HEAD.format(group="F m -3 m").replace("4.0", "5.64") + "Na Na 0 0 0 1\nCl Cl 0.5 0.5 0.5 1\n")
    assert len(read_structure(path)) == 8  # the conventional cell: special positions are not duplicate sites


# ------------------------------------------------------------------------------------ nonsense in the API
def _api_cases():
    from ase_lcom import limits
    from ase_lcom.calculators import get_calculator, relax
    from ase_lcom.structure import parse_formula, structure_from_dict, validate_structure

    cu = Structure(Lattice.cubic(3.6), ["Cu"], [[0, 0, 0]])
    deep: dict = {}
    cursor = deep
    for _ in range(2000):
        cursor["x"] = {}
        cursor = cursor["x"]
    return {
        "calculator-none": (lambda: get_calculator(None), "string"),
        "calculator-number": (lambda: get_calculator(3), "string"),
        "calculator-unknown": (lambda: get_calculator("nosuch"), "unknown calculator"),
        "gpaw-negative-ecut": (lambda: get_calculator("gpaw", ecut=-50), "ecut"),
        "gpaw-nan-ecut": (lambda: get_calculator("gpaw", ecut=float("nan")), "ecut"),
        "emt-bad-option": (lambda: get_calculator("emt", foo=1), "bad option"),
        "relax-fmax-negative": (lambda: relax(cu, "emt", fmax=-1), "fmax"),
        "relax-fmax-nan": (lambda: relax(cu, "emt", fmax=float("nan")), "fmax"),
        "relax-steps-negative": (lambda: relax(cu, "emt", steps=-5), "steps"),
        "relax-steps-huge": (lambda: relax(cu, "emt", steps=10**8), "ceiling"),
        "relax-steps-float": (lambda: relax(cu, "emt", steps=1.5), "integer"),
        "relax-steps-bool": (lambda: relax(cu, "emt", steps=True), "integer"),
        "relax-symprec-negative": (lambda: relax(cu, "emt", fix_symmetry=True, symprec=-1), "symprec"),
        "relax-optimizer-none": (lambda: relax(cu, "emt", optimizer=None), "optimizer"),
        "formula-none": (lambda: parse_formula(None), "string"),
        "formula-number": (lambda: parse_formula(3), "string"),
        "formula-cyrillic": (lambda: parse_formula("НCl"), "U+041D"),
        "formula-1500-brackets": (lambda: parse_formula(DEEP, max_atoms=None), "longer than"),
        "formula-deep": (lambda: parse_formula(NESTED, max_atoms=None), "nested deeper"),
        "formula-mapping-negative": (lambda: parse_formula({"Zn": -1}), "negative"),
        "formula-mapping-nan": (lambda: parse_formula({"Zn": float("nan")}), "negative"),
        "formula-mapping-unknown": (lambda: parse_formula({"Xx": 1}), "unknown element"),
        "structure-dict-not-a-dict": (lambda: structure_from_dict([1, 2]), "JSON object"),
        "structure-dict-2000-deep": (lambda: structure_from_dict(deep), "deeper"),
        "structure-dict-popen": (lambda: structure_from_dict({"@module": "subprocess", "@class": "Popen"}),
                                 "refused"),
        "structure-nan-lattice": (lambda: validate_structure(Structure(Lattice(np.full((3, 3), np.nan)), ["Cu"],
                                                                       [[0, 0, 0]])), "non-finite"),
        "structure-close-atoms": (lambda: validate_structure(Structure(Lattice.cubic(4), ["Cu", "Cu"],
                                                                       [[0, 0, 0], [0.02, 0, 0]])), "apart"),
        "seed-negative": (lambda: limits.random_seed(-1), "2**32"),
        "seed-huge": (lambda: limits.random_seed(2**40), "2**32"),
        "max-steps-env-garbage": (lambda: _with_env(limits.MAX_STEPS_ENV, "lots", limits.max_steps), "positive"),
        "memory-guard": (lambda: _with_env(limits.MEMORY_ENV, "1", lambda: limits.check_memory(2048, 18e6, "chgnet")),
                         "limit 59 atoms"),
        "output-missing-folder": (lambda: limits.writable_output("/nonexistent/dir/x.cif"), "does not exist"),
    }


def _with_env(name: str, value: str, call):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        return call()
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


API_CASES = sorted(_api_cases())


@pytest.mark.parametrize("case", API_CASES)
def test_api_refuses_bad_input(case):
    call, says = _api_cases()[case]
    assert_api_refused(call, LCOMError, says)


# ------------------------------------------------------------------------------- predictions are checked
def _predictor(kind: str):
    """A predictor whose candidates are ``kind``: good, close (atoms 0.2 A apart), nan (energy) or other
    (composition)."""
    from ase_lcom.predictors import Candidate, StructurePredictor
    from ase_lcom.structure import cell_composition

    class Scripted(StructurePredictor):
        name = "scripted"
        uses_seed_structures = True

        def predict_candidates(self, formula, formula_units=None, n_candidates=2, seed=0, seed_structures=(),
                               steps=None, **options):
            species = [el.symbol for el, n in cell_composition(formula, formula_units or 1).items()
                       for _ in range(int(n))]
            if kind == "other":
                species = ["Na", "Cl"]
            gap = 0.2 / 6.0 if kind == "close" else 0.5
            coords = [[i * gap, 0, 0] for i in range(len(species))]
            energy = float("nan") if kind == "nan" else -1.0
            return [Candidate(Structure(Lattice.cubic(6.0), species, coords), energy) for _ in range(n_candidates)]

    return Scripted()


PREDICTION_CASES = {
    "k-zero": (lambda p, s: p.predict_candidates("ZnO", n_candidates=0), "n_candidates"),
    "k-negative": (lambda p, s: p.predict_candidates("ZnO", n_candidates=-3), "n_candidates"),
    "k-huge": (lambda p, s: p.predict_candidates("ZnO", n_candidates=10**9), "at most"),
    "k-float": (lambda p, s: p.predict_candidates("ZnO", n_candidates=2.5), "integer"),
    "seed-negative": (lambda p, s: p.predict_candidates("ZnO", seed=-1), "2**32"),
    "seed-huge": (lambda p, s: p.predict_candidates("ZnO", seed=2**32), "2**32"),
    "seed-float": (lambda p, s: p.predict_candidates("ZnO", seed=0.5), "integer"),
    "z-zero": (lambda p, s: p.predict_candidates("ZnO", formula_units=0), "formula_units"),
    "steps-negative": (lambda p, s: p.predict_candidates("ZnO", steps=-1), "steps"),
    "formula-unknown": (lambda p, s: p.predict_candidates("Xx"), "unknown element"),
    "seed-structure-of-another-formula": (lambda p, s: p.predict_candidates("ZnO", seed_structures=[s]),
                                          "seed structure of NaCl"),
    "unknown-argument": (lambda p, s: p.predict_candidates("ZnO", 1, 2, 0, (), None, "extra"), "scripted"),
}


@pytest.mark.parametrize("case", sorted(PREDICTION_CASES))
def test_predictor_arguments_checked(case, nacl):
    call, says = PREDICTION_CASES[case]
    predictor = _predictor("good")
    assert_api_refused(lambda: call(predictor, nacl), LCOMError, says)


@pytest.mark.parametrize("kind, says", [("close", "apart"), ("nan", "nan"), ("other", "composition is NaCl")])
def test_invalid_candidates_never_best(kind, says, tmp_path):
    from ase_lcom.errors import StructureError

    predictor = _predictor(kind)
    candidates = predictor.predict_candidates("ZnO")
    assert all(says in c.info["invalid"] for c in candidates)
    assert_api_refused(lambda: predictor.predict("ZnO"), StructureError, says)


def test_valid_candidates_rank_before_invalid():
    from ase_lcom.predictors import Candidate, best_valid

    good, bad = _predictor("good"), _predictor("close")
    mixed = bad.predict_candidates("ZnO") + good.predict_candidates("ZnO")
    assert hasattr(type(good).predict_candidates, "__wrapped__")  # the check wraps every subclass's method
    from ase_lcom.predictors import _check_results

    _check_results(mixed, "ZnO")
    assert not mixed[0].info.get("invalid") and mixed[-1].info.get("invalid")
    assert isinstance(best_valid(mixed, "x", "ZnO"), Candidate)


# ------------------------------------------------------------------------------ memory and one writer
def test_energy_of_a_cell_too_big_for_memory_is_refused(tmp_path, capsys, monkeypatch):
    from ase.build import bulk

    big = write_structure(bulk("Cu", "fcc", a=3.6, cubic=True).repeat((4, 4, 4)), tmp_path / "big.cif")  # 256 atoms
    monkeypatch.setenv("ASE_LCOM_MEMORY_GB", "1")
    line = assert_refused(["energy", big], capsys, says="GB available")
    assert "limit 59 atoms" in line and "ASE_LCOM_MEMORY_GB" in line


def test_relax_that_converges_at_an_absurd_energy_writes_nothing(tmp_path, capsys):
    from ase.build import bulk

    compressed = write_structure(bulk("NaCl", "rocksalt", a=3.9), tmp_path / "compressed.cif")  # 7.4 A^3/atom
    out = tmp_path / "relaxed.cif"  # CHGNet: "converged" at step 0 (forces zero by symmetry), +2.35 eV/atom
    line = assert_refused(["relax", compressed, "--fixed-cell", "-o", out, "-q"], capsys,
                          says="over the plausible +2 eV/atom", not_written=[out])
    assert "NaCl ended +3.9" in line and "--no-energy-check" in line


def test_second_writer_of_a_database_is_refused(tmp_path, capsys):
    from ase_lcom.store import sole_writer

    db = tmp_path / "d.db"
    with sole_writer(db):
        assert_refused(["data", "generate", "--out", db, "-c", "emt", "--compositions", "CuAu", "-q"], capsys,
                       says="being written by another run", not_written=[db])


def _lock_held(path: Path) -> bool:
    import fcntl

    if not path.exists():
        return False
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@pytest.mark.slow
def test_two_concurrent_generate_runs_leave_one_copy_of_each_record(tmp_path, capsys):
    import subprocess
    import sys

    from ase_lcom.data.records import CrystalDatabase

    db = tmp_path / "d.db"
    argv = ["data", "generate", "--out", str(db), "-c", "emt", "--compositions", "CuAu,Cu3Au,CuAu3,AgAu,CuAg,NiPt",
            "--n-random", "3", "--max-atoms", "6", "--steps", "60", "--workers", "1", "-q"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    first = subprocess.Popen([sys.executable, "-m", "ase_lcom.cli", *argv], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not _lock_held(db.with_name(db.name + ".writer.lock")) and time.time() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.1)
        assert_refused(argv, capsys, says="being written by another run")
        out, err = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 0, err
    records = list(CrystalDatabase(db))
    assert records and len({r.id for r in records}) == len(records)
