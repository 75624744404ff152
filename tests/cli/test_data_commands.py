"""``ase-lcom data generate`` and ``ase-lcom data summary``, in-process."""

from __future__ import annotations

import json

from ase.build import bulk
from ase.io import write

from ase_lcom.cli import main


def test_generate_needs_compositions_or_a_preset(tmp_path, capsys):
    assert main(["data", "generate", "--out", str(tmp_path / "x.db"), "-c", "emt"]) == 2
    assert capsys.readouterr().err == "ase-lcom: error: give --compositions F1,F2,... or --preset default\n"


def test_summary_prints_and_writes_statistics_and_a_plot(tmp_path, capsys):
    path = tmp_path / "mixed.extxyz"
    write(path, [bulk("NaCl", "rocksalt", a=5.64), bulk("Cu", "fcc", a=3.6), bulk("Cu", "bcc", a=2.9)])
    assert main(["data", "summary", str(path), "--json", str(tmp_path / "s.json"),
                 "--plot", str(tmp_path / "s.png")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "s.json").read_text())
    assert printed["structures"] == 3 and printed["compositions"] == 2
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
