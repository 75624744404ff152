"""The trace plot of a prediction."""

from __future__ import annotations

import matplotlib
import pytest
from pymatgen.core import Lattice, Structure

from ase_lcom.lcom.plots import draw_traces, plot_traces
from ase_lcom.predictors import Candidate


@pytest.fixture
def candidates() -> list[Candidate]:
    cell = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return [Candidate(cell, -1.0, info={"trace": [-0.2, -0.6, -1.0]}),
            Candidate(cell, -0.8, info={"trace": [-0.1, -0.5, -0.8]}), Candidate(cell, -0.5)]


def test_draw_traces_draws_one_line_per_candidate_and_labels_the_best(candidates):
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    draw_traces(ax, candidates, "NaCl")
    lines = ax.get_lines()
    assert len(lines) == 3 and list(lines[0].get_ydata()) == [-0.2, -0.6, -1.0] and len(lines[2].get_ydata()) == 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["best"] and ax.get_title() == "NaCl"


def test_plot_traces_writes_a_png_and_leaves_the_backend_alone(tmp_path, candidates, monkeypatch):
    def no_backend_switch(*args, **kwargs):
        raise AssertionError("a library plot chose the matplotlib backend")

    monkeypatch.setattr(matplotlib, "use", no_backend_switch)
    out = plot_traces(candidates, tmp_path / "trace.png", "NaCl")
    assert out == tmp_path / "trace.png" and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
