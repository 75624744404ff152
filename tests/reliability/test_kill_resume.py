"""Every long command, killed with SIGKILL and rerun, ends where an uninterrupted run ends: nothing lost, nothing
twice, results bit for bit (or, for calculator energies, to 1e-6 eV/atom); a rerun with other settings is refused.

With one thread: torch's multi-threaded CPU reductions (the graph networks' scatter sums) are not bit-reproducible,
so two uninterrupted two-thread runs already differ in the last bits (their losses agree to 6 digits). The
uninterrupted reference run starts beside the run that is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from ase_lcom.cli import main
from ase_lcom.models.checkpoints import load_cdvae

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
CLI = [sys.executable, "-m", "ase_lcom.cli"]


def kill_when(command: list[str], ready: Callable[[], bool], limit: float = 300) -> None:
    """Start ``command`` and SIGKILL it once ``ready()`` holds (failing if it finished first)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    deadline = time.time() + limit
    while time.time() < deadline and process.poll() is None and not ready():
        time.sleep(0.1)
    assert process.poll() is None, "the command finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()


def start(command: list[str]) -> subprocess.Popen:
    """``command`` running in the background (the uninterrupted reference run, beside the killed one)."""
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


def finish(*processes: subprocess.Popen) -> None:
    """Wait for the processes; each must succeed."""
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err


def refused(command: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``command``, run in this process, fails with status 2 and one line containing ``says``."""
    capsys.readouterr()
    assert main(command[len(CLI):]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err


def _epoch(path: Path) -> int:
    return load_cdvae(path)[1]["epoch"] if path.is_file() else 0


@pytest.mark.slow
def test_train_cdvae_killed_and_rerun_equals_an_uninterrupted_run(small_perovskite_csv, tmp_path):
    small = small_perovskite_csv(40)

    def command(out):
        return [*CLI, "train", "cdvae", "--data", str(small), "--out", str(out), "--epochs", "4", "--hidden", "8",
                "--latent-dim", "4", "--batch-size", "4", "-q"]

    killed, straight_run = tmp_path / "killed", start(command(tmp_path / "straight"))
    kill_when(command(killed), lambda: _epoch(killed / "last.pt") >= 2)
    assert 2 <= _epoch(killed / "last.pt") < 4

    finish(start(command(killed)), straight_run)
    resumed, resumed_content = load_cdvae(killed / "last.pt")
    straight, straight_content = load_cdvae(tmp_path / "straight" / "last.pt")
    assert resumed_content["epoch"] == straight_content["epoch"] == 4
    for (name, a), b in zip(resumed.state_dict().items(), straight.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in resumed_content["history"]]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in straight_content["history"]]


def _rows(path: Path) -> list[dict]:
    """The complete rows of a results file (a line cut by the kill is skipped, as the store does)."""
    rows = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


@pytest.mark.slow
def test_benchmark_csp26_killed_and_rerun_has_every_row_once(tmp_path, capsys):
    seeds = ["0", "1", "2", "3"]

    def command(out, budget="12"):
        return [*CLI, "benchmark", "csp26", "--compounds", "NaCl,KF", "--predictors", "ras", "--budget", budget,
                "--seeds", ",".join(seeds), "--no-relax", "--out", str(out), "-q"]

    killed, straight_run = tmp_path / "killed", start(command(tmp_path / "straight"))
    kill_when(command(killed), lambda: len(_rows(killed / "rows.jsonl")) >= 2)
    before = {(r["formula"], r["seed"]): r for r in _rows(killed / "rows.jsonl")}
    assert 2 <= len(before) < 8

    finish(start(command(killed)), straight_run)
    rows = _rows(killed / "rows.jsonl")
    keys = [(r["formula"], r["seed"]) for r in rows]
    assert len(keys) == len(set(keys)) == 8, "a row was lost or stored twice"
    assert all(rows[keys.index(k)] == row for k, row in before.items()), "a finished row was redone"
    straight = {(r["formula"], r["seed"]): r for r in _rows(tmp_path / "straight" / "rows.jsonl")}
    assert set(straight) == set(keys)
    for key, row in zip(keys, rows, strict=True):  # seeded: the same best candidate as the uninterrupted run
        assert row["predicted"]["energy_per_atom"] == pytest.approx(straight[key]["predicted"]["energy_per_atom"],
                                                                    abs=1e-6), key
        assert row["spacegroup"] == straight[key]["spacegroup"], key
    refused(command(killed, budget="20"), "benchmark setting budget (predictors.ras.options.budget) is 12", capsys)


def _chains(root: Path) -> list[Path]:
    return sorted((root / "_work").glob("alloy-*/chain-??.npz"))


@pytest.mark.slow
def test_data_dismai_killed_and_rerun_equals_an_uninterrupted_run(tmp_path, capsys):
    def command(out, seed="0"):
        return [*CLI, "data", "dismai", "alloy-1500K-wide", "--out", str(out), "--n-passes", "3000",
                "--n-structures", "20", "--seed", seed, "-q"]

    killed, straight_run = tmp_path / "killed", start(command(tmp_path / "straight"))
    kill_when(command(killed), lambda: len(_chains(killed)) >= 2)
    before = {p.name: p.read_bytes() for p in _chains(killed)}
    assert 2 <= len(before) < 10

    finish(start(command(killed)), straight_run)
    assert [p.name for p in _chains(killed)] == [f"chain-{c:02d}.npz" for c in range(10)]
    assert all(p.read_bytes() == before[p.name] for p in _chains(killed) if p.name in before), \
        "a finished chain was redone"
    assert not list(killed.rglob("*.tmp.npz"))
    name = Path("alloy-1500K-wide") / "alloy-1500K-wide.npz"
    with np.load(killed / name) as resumed, np.load(tmp_path / "straight" / name) as straight:
        for key in ("occupations", "chain", "passes", "energy_per_atom", "sro"):
            assert np.array_equal(resumed[key], straight[key]), key
    refused(command(killed, seed="1"), "alloy-1500K-wide setting seed is 0", capsys)


def _history(path: Path) -> list[dict]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return []


@pytest.mark.slow
def test_train_generator_killed_and_rerun_equals_an_uninterrupted_run(toy_alloy, tmp_path, capsys):
    from ase_lcom.generators.predictor import load_generator

    def command(out, seed="0"):
        return [*CLI, "train", "generator", "--kind", "cryingan", "--dataset", str(toy_alloy), "--out", str(out),
                "--epochs", "3", "--seed", seed, "-q"]

    killed, straight_run = tmp_path / "killed", start(command(tmp_path / "straight"))
    kill_when(command(killed), lambda: len(_history(killed / "history.json")) >= 1)
    assert 1 <= len(_history(killed / "history.json")) < 3

    finish(start(command(killed)), straight_run)
    resumed, straight = (load_generator(out / "generator.pt") for out in (killed, tmp_path / "straight"))
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3]
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in resumed.history]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in straight.history]
    for part in ("generator", "coord_critic", "dist_critic"):
        ours, theirs = getattr(resumed.models, part).state_dict(), getattr(straight.models, part).state_dict()
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), part
    refused(command(killed, seed="1"), "training setting seed is 0", capsys)


@pytest.mark.slow
def test_train_lcom_killed_and_rerun_equals_an_uninterrupted_run(small_perovskite_csv, tmp_path, capsys):
    from ase_lcom.data.readers import read_records
    from ase_lcom.models.bundle import LCOMModel
    from ase_lcom.models.cdvae import CDVAEConfig
    from ase_lcom.models.decoder import DecoderConfig
    from ase_lcom.models.encoder import EncoderConfig
    from ase_lcom.training.cdvae import TrainConfig, train_cdvae

    data = small_perovskite_csv(24)
    structures = [r.structure for r in read_records(data)]
    sizes = {"hidden": 8, "latent_dim": 4}
    config = CDVAEConfig(encoder=EncoderConfig(**sizes), decoder=DecoderConfig(**sizes))
    cdvae = train_cdvae(structures[:20], structures[20:], tmp_path / "cdvae", config,
                        TrainConfig(epochs=1, batch_size=8), progress=False)

    def command(out, epochs="3"):
        return [*CLI, "train", "lcom", "--cdvae", str(cdvae), "--data", str(data), "--out", str(out),
                "--hidden", "16", "--epochs", epochs, "--steps", "5", "-q"]

    killed, straight_run = tmp_path / "killed.pt", start(command(tmp_path / "straight.pt"))
    kill_when(command(killed), lambda: (tmp_path / "killed.work" / "latents.pt").is_file())
    assert not killed.exists()

    finish(start(command(killed)), straight_run)
    resumed, straight = LCOMModel.load(killed), LCOMModel.load(tmp_path / "straight.pt")
    assert torch.equal(resumed.seeds.latents, straight.seeds.latents)
    assert resumed.seeds.formulas == straight.seeds.formulas
    assert resumed.card["decoded_rows"] == straight.card["decoded_rows"] == 24
    for which in ("coms", "sl"):
        ours, theirs = resumed.surrogates[which].model.state_dict(), straight.surrogates[which].model.state_dict()
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), which
    refused(command(killed, epochs="4"), "train lcom setting epochs (surrogate.epochs) is 3", capsys)


@pytest.mark.slow
def test_train_m3gnet_killed_and_rerun_equals_an_uninterrupted_run(tmp_path, capsys):
    from ase.build import bulk

    from ase_lcom.calculators import get_calculator, load_matgl_potential
    from ase_lcom.data.perturbed_frames import write_perturbed_frames
    from ase_lcom.training.m3gnet import read_history

    frames = tmp_path / "frames.db"
    cells = {"NaCl/rocksalt": bulk("NaCl", "rocksalt", a=5.64), "KCl/rocksalt": bulk("KCl", "rocksalt", a=6.29),
             "NaF/rocksalt": bulk("NaF", "rocksalt", a=4.63)}
    write_perturbed_frames(cells.items(), frames, get_calculator("chgnet"), "chgnet", n_per_crystal=4, seed=0)

    def command(out, lr="1e-3"):
        return [*CLI, "train", "m3gnet", "--data", str(frames), "--out", str(out), "--epochs", "40", "--units", "8",
                "--nblocks", "1", "--cutoff", "4", "--threebody-cutoff", "3", "--batch-size", "4",
                "--val-fraction", "0.34", "--lr", lr, "--threads", "1", "-q"]

    killed, straight_run = tmp_path / "killed", start(command(tmp_path / "straight"))
    kill_when(command(killed), lambda: len(read_history(killed)) >= 2)
    assert 2 <= len(read_history(killed)) < 40
    finish(start(command(killed)), straight_run)
    assert [row["epoch"] for row in read_history(killed)] == list(range(1, 41))
    strip = [{k: v for k, v in row.items() if "time" not in k and "second" not in k} for row in read_history(killed)]
    assert strip == [{k: v for k, v in row.items() if "time" not in k and "second" not in k}
                     for row in read_history(tmp_path / "straight")]
    assert load_matgl_potential(killed).model.element_types  # the finished directory loads
    refused(command(killed, lr="0.1"), "other settings", capsys)
