"""A training run killed with SIGKILL and rerun ends where an uninterrupted run ends, bit for bit.

With one thread: torch's multi-threaded CPU reductions (the graph networks' scatter sums) are not bit-reproducible,
so two uninterrupted two-thread runs already differ in the last bits (their losses agree to 6 digits).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from ase_lcom.models.checkpoints import load_cdvae


@pytest.mark.slow
def test_train_cdvae_killed_and_rerun_equals_an_uninterrupted_run(small_perovskite_csv, tmp_path):
    small = small_perovskite_csv(40)

    def command(out):
        return [sys.executable, "-m", "ase_lcom.cli", "train", "cdvae", "--data", str(small), "--out", str(out),
                "--epochs", "6", "--hidden", "8", "--latent-dim", "4", "--batch-size", "4", "-q"]

    killed = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if (killed / "last.pt").is_file() and load_cdvae(killed / "last.pt")[1]["epoch"] >= 2:
            break
        time.sleep(0.2)
    assert process.poll() is None, "training finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    stopped_at = load_cdvae(killed / "last.pt")[1]["epoch"]
    assert 2 <= stopped_at < 6

    for out in (killed, tmp_path / "straight"):
        result = subprocess.run(command(out), capture_output=True, text=True, timeout=600, env=env)
        assert result.returncode == 0, result.stderr
    resumed, resumed_content = load_cdvae(killed / "last.pt")
    straight, straight_content = load_cdvae(tmp_path / "straight" / "last.pt")
    assert resumed_content["epoch"] == straight_content["epoch"] == 6
    for (name, a), b in zip(resumed.state_dict().items(), straight.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in resumed_content["history"]]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in straight_content["history"]]
