"""The ``ase-lcom`` command, run as a user would (subprocess of the installed console script)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from ase.build import bulk
from ase.io import write

from ase_lcom import __version__
from ase_lcom.structure import read_structure, write_structure


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ase_lcom.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def test_version_through_the_console_script():
    script = shutil.which("ase-lcom")
    assert script, "the ase-lcom console script is not installed"
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stdout.strip() == f"ase-lcom {__version__}"


def test_relax_writes_a_relaxed_cif_and_prints_the_energy(tmp_path, nacl):
    distorted = nacl.copy()
    distorted.apply_strain(0.05)
    cif = write_structure(distorted, tmp_path / "nacl.cif")
    result = run("relax", str(cif), "--calculator", "chgnet", "--fmax", "0.02")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "nacl_relaxed.cif"
    assert f"-> {out}" in result.stdout
    energy = float(result.stdout.split("E = ")[1].split()[0])
    assert -4.0 < energy < -3.3  # CHGNet NaCl: about -3.67 eV/atom
    relaxed = read_structure(out)
    assert relaxed.volume < distorted.volume  # the 5% strain is relaxed away
    assert relaxed.volume ** (1 / 3) == pytest.approx(nacl.volume ** (1 / 3) * 0.99, rel=0.02)


def test_relax_to_poscar_with_emt_and_a_trajectory(tmp_path):
    write(tmp_path / "cu.xyz", bulk("Cu", "fcc", a=3.5), format="extxyz")
    result = run("relax", "cu.xyz", "-c", "emt", "-o", "CONTCAR", "-q",
                 "--trajectory", "cu.traj", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "converged" in result.stdout
    assert read_structure(tmp_path / "CONTCAR", format="vasp").volume > bulk("Cu", "fcc", a=3.5).get_volume()
    assert (tmp_path / "cu.traj").stat().st_size > 0


def test_energy_of_every_frame_with_formation_energy(tmp_path):
    frames = [bulk("Cu", "fcc", a=3.6), bulk("Cu", "bcc", a=2.87)]
    write(tmp_path / "cu.extxyz", frames)
    result = run("energy", str(tmp_path / "cu.extxyz"), "-c", "emt", "--formation", "-q")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
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
def test_errors_are_one_line_with_status_2(tmp_path, args, message):
    (tmp_path / "bad.cif").write_text("this is not a CIF file\n")
    write(tmp_path / "cu.cif", bulk("Cu", "fcc", a=3.6))
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("ase-lcom: error: ") and message in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2():
    result = run("relax")
    assert result.returncode == 2
    assert "the following arguments are required: file" in result.stderr


def test_list_shows_calculators_with_versions():
    result = run("list")
    assert result.returncode == 0
    for name in ("chgnet", "m3gnet", "gpaw", "emt"):
        assert f"  {name} " in result.stdout
    assert "predictors" in result.stdout


def test_train_lcom_whitens_latents_unless_told_not_to():
    from ase_lcom.cli import build_parser

    base = ["train", "lcom", "--cdvae", "c.pt", "--data", "d.db", "--out", "m.pt"]
    assert build_parser().parse_args(base).whiten_latents is True
    assert build_parser().parse_args([*base, "--no-whiten-latents"]).whiten_latents is False
