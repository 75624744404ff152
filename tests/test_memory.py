"""Memory estimates of the real calculators, and the refusal of a cell that would not fit, before it is computed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ase.build import bulk

from ase_lcom.calculators import get_calculator
from ase_lcom.cli import main
from ase_lcom.errors import InvalidValueError
from ase_lcom.memory import (
    CHGNET_BYTES_PER_ATOM,
    GPAW_BASE_BYTES,
    M3GNET_BYTES_PER_ATOM,
    check_calculator_memory,
    gpaw_estimate,
    graph_bytes_per_atom,
)
from ase_lcom.structure import write_structure

SILICON = bulk("Si", "diamond", a=5.43, cubic=True)  # 8 atoms


@pytest.fixture
def one_gigabyte(monkeypatch):
    monkeypatch.setenv("ASE_LCOM_MEMORY_GB", "1")


def test_chgnet_is_refused_past_its_per_atom_limit(one_gigabyte):
    calculator = get_calculator("chgnet")
    assert graph_bytes_per_atom(calculator) == CHGNET_BYTES_PER_ATOM
    check_calculator_memory(SILICON, calculator)
    with pytest.raises(InvalidValueError, match=r"chgnet \(\w+\) on 64 atoms needs about 1\.1 GB.*limit 59 atoms"):
        check_calculator_memory(SILICON.repeat(2), calculator)


def test_m3gnet_is_estimated_as_measured_for_its_architecture(one_gigabyte):
    """A matgl M3GNet potential of the default architecture (the pretrained one's), with untrained weights: the
    estimate depends on the architecture only."""
    import torch
    from matgl.apps.pes import Potential
    from matgl.ext.ase import PESCalculator
    from matgl.models import M3GNet

    torch.manual_seed(0)
    calculator = PESCalculator(Potential(model=M3GNet(element_types=("Si",), is_intensive=False)))
    assert graph_bytes_per_atom(calculator) == M3GNET_BYTES_PER_ATOM
    check_calculator_memory(SILICON.repeat((2, 2, 2)), calculator)  # 64 atoms: 0.4 GB
    with pytest.raises(InvalidValueError, match=r"matgl \(PESCalculator\) on 216 atoms.*limit 178 atoms"):
        check_calculator_memory(SILICON.repeat(3), calculator)


def test_gpaw_grows_with_plane_waves_bands_and_k_points(one_gigabyte):
    calculator = get_calculator("gpaw")
    small, counted = gpaw_estimate(SILICON, calculator)
    assert counted == "2,908 plane waves x 28 bands x 10 k-points x 1 spin(s)"  # GPAW counts 2,945 x 24 x 10
    large, _ = gpaw_estimate(SILICON.repeat(2), calculator)
    assert 0.4e9 < small < 0.6e9  # measured 377 MB (test below)
    assert large - GPAW_BASE_BYTES > 10 * (small - GPAW_BASE_BYTES)  # 8 x the atoms: 8 x plane waves, 7 x bands
    lower, _ = gpaw_estimate(SILICON.repeat(2), get_calculator("gpaw", ecut=200, kpt_density=1.0))
    assert lower < large / 2
    check_calculator_memory(SILICON, calculator)
    with pytest.raises(InvalidValueError, match=r"GPAW on 64 atoms \(23,267 plane waves x 196 bands x 4 k-points"):
        check_calculator_memory(SILICON.repeat(2), calculator)
    assert gpaw_estimate(SILICON, get_calculator("emt")) is None


def test_cli_energy_with_gpaw_refuses_a_cell_too_large_before_any_scf(one_gigabyte, tmp_path, capsys):
    big = write_structure(SILICON.repeat(2), tmp_path / "si64.cif")
    assert main(["energy", str(big), "-c", "gpaw", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GB available" in err and "lower ecut or fewer k-points" in err


# the peak of this process's own memory (VmHWM; ru_maxrss would include the forked parent's, the test runner's)
MEASURE = """
import json, re
from pathlib import Path
from ase.build import bulk
from ase_lcom.calculators import get_calculator
from ase_lcom.memory import gpaw_estimate
atoms = bulk("Si", "diamond", a=5.43, cubic=True)
atoms.calc = get_calculator("gpaw")
atoms.get_potential_energy()
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) * 1024
print(json.dumps([peak, gpaw_estimate(atoms, atoms.calc)[0]]))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_gpaw_peak_memory_of_a_real_scf_lies_below_the_estimate():
    result = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    peak, estimate = json.loads(result.stdout.splitlines()[-1])
    assert peak < estimate < 2 * peak  # measured 377 MB against 478 MB
