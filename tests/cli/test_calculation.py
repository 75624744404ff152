"""``ase-lcom relax`` and ``ase-lcom energy``, run in-process through ``main``; errors and usage."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from ase.build import bulk
from ase.io import write

from ase_lcom import __version__
from ase_lcom.cli import main
from ase_lcom.structure import read_structure, write_structure


def test_version_through_the_console_script():
    script = shutil.which("ase-lcom")
    assert script, "the ase-lcom console script is not installed"
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stdout.strip() == f"ase-lcom {__version__}"


def test_relax_writes_a_relaxed_cif_and_prints_the_energy(tmp_path, nacl, capsys):
    distorted = nacl.copy()
    distorted.apply_strain(0.05)
    cif = write_structure(distorted, tmp_path / "nacl.cif")
    assert main(["relax", str(cif), "--calculator", "chgnet", "--fmax", "0.02"]) == 0
    stdout = capsys.readouterr().out
    out = tmp_path / "nacl_relaxed.cif"
    assert f"-> {out}" in stdout
    energy = float(stdout.split("E = ")[1].split()[0])
    assert -4.0 < energy < -3.3  # CHGNet NaCl: about -3.67 eV/atom
    relaxed = read_structure(out)
    assert relaxed.volume < distorted.volume  # the 5% strain is relaxed away
    assert relaxed.volume ** (1 / 3) == pytest.approx(nacl.volume ** (1 / 3) * 0.99, rel=0.02)


def test_relax_to_poscar_with_emt_and_a_trajectory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write("cu.xyz", bulk("Cu", "fcc", a=3.5), format="extxyz")
    assert main(["relax", "cu.xyz", "-c", "emt", "-o", "CONTCAR", "-q", "--trajectory", "cu.traj"]) == 0
    assert "converged" in capsys.readouterr().out
    assert read_structure(tmp_path / "CONTCAR", format="vasp").volume > bulk("Cu", "fcc", a=3.5).get_volume()
    assert (tmp_path / "cu.traj").stat().st_size > 0


def test_energy_of_every_frame_with_formation_energy(tmp_path, capsys):
    write(tmp_path / "cu.extxyz", [bulk("Cu", "fcc", a=3.6), bulk("Cu", "bcc", a=2.87)])
    assert main(["energy", str(tmp_path / "cu.extxyz"), "-c", "emt", "--formation", "-q"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("[0] Cu: E = ")
    e_form = [float(line.split("E_f = ")[1].split()[0]) for line in lines]
    assert abs(e_form[0]) < 0.02  # fcc Cu against EMT's own Cu reference
    assert e_form[1] > e_form[0]  # bcc above fcc


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("relax", "missing.cif"), "structure file not found: missing.cif"),
        (("energy", "bad.cif"), "cannot read bad.cif as a crystal structure"),
        (("energy", "cu.cif", "-c", "vasp"), "unknown calculator 'vasp'"),
        (("energy", "cu.cif", "-c", "emt", "--option", "nonsense"), "not of the form KEY=VALUE"),
        (("relax", "cu.cif", "-c", "emt", "--optimizer", "SD"), "unknown optimizer 'SD'"),
    ],
)
def test_errors_are_one_line_with_status_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.cif").write_text("this is not a CIF file\n")
    write(tmp_path / "cu.cif", bulk("Cu", "fcc", a=3.6))
    assert main(list(args)) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("ase-lcom: error: ") and message in stderr


def test_an_unexpected_exception_names_its_type_and_debug_shows_it(tmp_path, monkeypatch, capsys):
    import ase_lcom.calculators

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug\nwith a second line")

    monkeypatch.setattr(ase_lcom.calculators, "get_calculator", broken)
    write(tmp_path / "cu.cif", bulk("Cu", "fcc", a=3.6))
    assert main(["energy", str(tmp_path / "cu.cif")]) == 2
    assert capsys.readouterr().err == ("ase-lcom: error: ZeroDivisionError: a bug (rerun with --debug for the "
                                       "traceback)\n")
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "energy", str(tmp_path / "cu.cif")])


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["relax"])
    assert exit_info.value.code == 2
    assert "the following arguments are required: file" in capsys.readouterr().err


def test_python_dash_m_runs_the_command():
    result = subprocess.run([sys.executable, "-m", "ase_lcom.cli", "relax"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "the following arguments are required: file" in result.stderr
