"""Data-parallel (DDP) training: one process reproduces plain training exactly; two torchrun processes train
together and agree."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
import torch

from ase_lcom.data.readers import read_records
from ase_lcom.models.checkpoints import load_cdvae
from ase_lcom.training.cdvae import TrainConfig, train_cdvae
from ase_lcom.training.distributed import DistributedSetup

from .test_training import TINY


@pytest.fixture(scope="module")
def perovskites(shared_data):
    records = list(itertools.islice(read_records(shared_data / "cdvae" / "perov_5" / "val.csv"), 14))
    return [r.structure for r in records[:10]], [r.structure for r in records[10:]]


def test_one_process_ddp_reproduces_plain_training(perovskites, tmp_path):
    train, val = perovskites
    config = TrainConfig(epochs=2, batch_size=4, lr=3e-3)
    plain, _ = load_cdvae(train_cdvae(train, val, tmp_path / "plain", TINY, config, progress=False))
    ddp, content = load_cdvae(train_cdvae(train, val, tmp_path / "ddp", TINY, config, progress=False, ddp=True))
    assert not torch.distributed.is_initialized(), "the process group was left behind"
    assert content["epoch"] == 2
    for (name, a), b in zip(plain.state_dict().items(), ddp.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_ranks_take_disjoint_equal_shares_of_the_batches():
    batches = list(range(7))
    shares = [DistributedSetup(rank, 3, True).shard(batches) for rank in range(3)]
    assert shares == [[0, 3], [1, 4], [2, 5]]
    assert DistributedSetup().shard(batches) == batches


@pytest.mark.slow
def test_two_torchrun_processes_train_one_model(shared_data, tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29517",
               "-m", "ase_lcom.cli", "train", "cdvae", "--data", str(shared_data / "cdvae" / "perov_5" / "val.csv"),
               "--out", str(tmp_path / "run"), "--epochs", "1", "--batch-size", "8", "--hidden", "16",
               "--latent-dim", "8", "--ddp", "-q"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    model, content = load_cdvae(tmp_path / "run" / "last.pt")
    assert content["epoch"] == 1 and all(torch.isfinite(p).all() for p in model.parameters())
