"""Generated-against-reference plots of the Dismai-Bench metrics."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from ase_lcom.errors import LCOMError
from ase_lcom.metrics.plots import pair_labels, plot_bond_angles, plot_rdf, plot_sro


def test_plots_on_axes_and_files(tmp_path):
    rng = np.random.default_rng(0)
    ax = Figure().add_subplot()
    assert plot_rdf(rng.random((3, 500)), rng.random((4, 500)), ax=ax) is ax
    assert len(ax.lines) == 2 and len(ax.lines[0].get_xdata()) == 500
    plot_bond_angles(rng.random((3, 360)), rng.random(360), path=tmp_path / "angles.png")
    plot_sro(rng.normal(size=(10, 2, 6)), rng.normal(size=(8, 2, 6)), shell=2, path=tmp_path / "sro.png")
    assert (tmp_path / "angles.png").stat().st_size > 0 and (tmp_path / "sro.png").stat().st_size > 0
    assert pair_labels() == ["Cr-Cr", "Cr-Fe", "Cr-Ni", "Fe-Fe", "Fe-Ni", "Ni-Ni"]


def test_plot_bad_input(tmp_path):
    with pytest.raises(LCOMError):
        plot_rdf(np.ones((2, 500)), np.ones((2, 400)), ax=Figure().add_subplot())
    with pytest.raises(LCOMError):
        plot_rdf(np.ones((2, 500)), np.ones((2, 500)))  # neither ax nor path
    with pytest.raises(LCOMError):
        plot_sro(np.ones((2, 2, 6)), np.ones((2, 2, 6)), shell=3, ax=Figure().add_subplot())
