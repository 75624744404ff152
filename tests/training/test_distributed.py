"""Data-parallel (DDP) training: one process reproduces plain training exactly; two torchrun processes train
together and agree."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from ase_lcom.models.checkpoints import load_cdvae
from ase_lcom.training.cdvae import TrainConfig, train_cdvae
from ase_lcom.training.distributed import DistributedSetup

from .test_training import TINY


@pytest.fixture(scope="module")
def perovskites(perovskite_structures):
    return perovskite_structures[:10], perovskite_structures[10:14]


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


def test_one_process_ddp_reproduces_plain_surrogate_training():
    from pymatgen.core import Composition

    from ase_lcom.models.bundle import composition_tensor
    from ase_lcom.training.surrogate import SurrogateTrainConfig, train_surrogate

    latents = torch.randn(24, 4, generator=torch.Generator().manual_seed(0))
    energies = latents[:, 0] - 1.0
    compositions = composition_tensor([Composition("NaCl")] * 24)
    cfg = SurrogateTrainConfig(epochs=2, batch_size=8, steps=2, seed=3)
    plain, plain_record = train_surrogate(latents, compositions, energies, cfg, progress=False)
    ddp, ddp_record = train_surrogate(latents, compositions, energies, cfg, progress=False, ddp=True)
    assert not torch.distributed.is_initialized()
    for a, b in zip(plain.state_dict().values(), ddp.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert plain_record["history"] == ddp_record["history"]


RANK_SCRIPT = '''
import os, sys, torch
from pymatgen.core import Composition
from ase_lcom.models.bundle import composition_tensor
from ase_lcom.training.surrogate import SurrogateTrainConfig, train_surrogate
latents = torch.randn(40, 4, generator=torch.Generator().manual_seed(0))
model, record = train_surrogate(latents, composition_tensor([Composition("NaCl")] * 40), latents[:, 0] - 1.0,
                                SurrogateTrainConfig(epochs=2, batch_size=8, steps=2, seed=3), progress=False,
                                ddp=True)
torch.save(model.state_dict(), os.path.join(sys.argv[1], f"rank{os.environ['RANK']}.pt"))
'''


@pytest.mark.slow
def test_two_ranks_average_gradients_into_one_surrogate(tmp_path):
    (tmp_path / "rank.py").write_text(RANK_SCRIPT)
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29518",
               str(tmp_path / "rank.py"), str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    for a, b in zip(ranks[0].values(), ranks[1].values(), strict=True):
        assert torch.equal(a, b), "the ranks' weights diverged"
