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


@pytest.fixture
def nacl_cif(tmp_path: Path) -> Path:
    """A valid rocksalt NaCl CIF."""
    structure = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5] * 3])
    return write_structure(structure.get_primitive_structure(), tmp_path / "NaCl.cif")


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
