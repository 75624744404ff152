"""The calculator acceptance check: the shipped M3GNet passes, broken weights fail, in a readable report."""

from __future__ import annotations

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from ase_lcom.benchmarks.calculator_check import check_calculator, lattice_scan, polymorph_gaps
from ase_lcom.calculators import SHIPPED_M3GNET, get_calculator
from ase_lcom.cli import main
from ase_lcom.errors import CalculatorError, ElementCoverageError


@pytest.fixture(scope="module")
def untrained_m3gnet(tmp_path_factory):
    """Broken weights: an M3GNet of the shipped potential's elements that never saw a frame."""
    import torch
    from matgl.apps.pes import Potential
    from matgl.models import M3GNet

    from ase_lcom.calculators import load_matgl_potential

    torch.manual_seed(0)  # random weights: a fixed draw, so the report below is reproducible
    elements = load_matgl_potential().model.element_types
    path = tmp_path_factory.mktemp("broken") / "untrained"
    Potential(model=M3GNet(element_types=elements, is_intensive=False, units=16, nblocks=1)).save(path)
    return path


@pytest.mark.slow
def test_the_shipped_m3gnet_passes_the_acceptance_check():
    check = check_calculator("m3gnet")
    assert check.passed, check.report()
    assert all(abs(r.error) <= 0.03 for r in check.lattice)
    assert "PASSED: 3/3 lattice constants within 3%" in check.report()


def test_untrained_weights_fail_with_a_readable_report(untrained_m3gnet, capsys):
    assert main(["check-calculator", "m3gnet", "--option", f"model={untrained_m3gnet}"]) == 1
    report = capsys.readouterr().out
    # random weights may land one E(V) minimum near a lattice constant by chance; the orderings never agree
    assert "FAILED: " in report and "/3 lattice constants within 3%, 0/10 orderings" in report
    assert "FAIL (degenerate)" in report


def test_a_cell_expanding_without_bound_has_no_minimum():
    """Energy falling as the cell expands (matgl's pre-3.0 weights on NaCl under matgl 4.x) is no minimum."""
    from ase.calculators.emt import EMT

    fitted, note = lattice_scan(bulk("Cu", "fcc", a=2.0), EMT(), 2.0)  # far too dense: E falls all the way
    assert fitted is None and note == "no minimum within +-10%"


def test_the_shipped_m3gnet_is_the_default_and_says_which_elements_it_lacks(capsys, tmp_path):
    calculator = get_calculator("m3gnet")
    assert str(SHIPPED_M3GNET) == calculator.model_name
    atoms = bulk("Xe", "fcc", a=6.2)
    atoms.calc = calculator
    with pytest.raises(CalculatorError, match=r"^the M3GNet potential .* was not trained on Xe; it covers"):
        atoms.get_potential_energy()
    atoms.write(tmp_path / "xe.cif")
    assert main(["energy", str(tmp_path / "xe.cif"), "-c", "m3gnet", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was not trained on Xe" in err


@pytest.mark.parametrize(("a", "sign"), [(5.3, -1), (6.0, 1)])
def test_the_shipped_m3gnet_stress_has_the_sign_of_its_chgnet_labels(a, sign):
    """Compressed NaCl pushes outwards (negative ASE stress), stretched pulls in, as in CHGNet's labels."""
    for name in ("m3gnet", "chgnet"):
        atoms = bulk("NaCl", "rocksalt", a=a)
        atoms.calc = get_calculator(name)
        assert (sign * atoms.get_stress()[:3] > 0).all(), name


class _Refusing(EMT):
    """EMT that refuses every structure with ``error``."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def calculate(self, *args, **kwargs):
        raise self.error


def test_polymorph_gaps_stop_on_uncovered_elements_and_skip_failed_relaxations():
    with pytest.raises(ElementCoverageError, match="^no Zn here$"):
        polymorph_gaps("ZnS", _Refusing(ElementCoverageError("no Zn here")))
    gaps = polymorph_gaps("ZnS", _Refusing(RuntimeError("diverged")))
    assert gaps and all(gap is None for gap in gaps.values())
