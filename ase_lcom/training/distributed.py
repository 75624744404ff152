"""Data-parallel training with ``torch.distributed`` (DDP): one process per GPU or CPU slot, launched by
``torchrun``, the same loop as single-process training.

Each process computes the gradients of its share of every epoch's batches (rank ``r`` of ``w`` takes batches
``r, r + w, ...`` of the epoch's shuffled list, which every rank draws from the same seed); DDP averages them
before the optimizer step (the CD-VAE under ``DistributedDataParallel``; the surrogates and the generators,
whose losses differentiate twice or step several optimizers per batch, by an all-reduce of the gradients), so
all ranks hold the same weights. Rank 0 alone writes checkpoints and shows progress.
One process with ``ddp=True`` reproduces plain training exactly for a fixed seed (averaging over one rank is the
identity), which the tests check. Launch several with, e.g.::

    torchrun --nproc-per-node 4 -m ase_lcom.cli train cdvae --ddp --device cuda ...

(``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address; several nodes take its
``--nnodes`` and ``--rdzv-endpoint`` options.)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

Item = TypeVar("Item")


@dataclass(frozen=True)
class DistributedSetup:
    """This process's place in a training run: rank, number of processes and whether DDP is on."""

    rank: int = 0
    world_size: int = 1
    enabled: bool = False
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        """Whether this process writes checkpoints and shows progress (rank 0)."""
        return self.rank == 0

    def device(self, device: str) -> str:
        """The device of this rank: ``cuda`` becomes ``cuda:LOCAL_RANK`` under DDP."""
        if self.enabled and device == "cuda":
            return f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
        return device

    def shard(self, items: Sequence[Item]) -> list[Item]:
        """This rank's share of an epoch's batches (every rank gets the same number: DDP steps together)."""
        if not self.enabled or self.world_size == 1:
            return list(items)
        usable = len(items) - len(items) % self.world_size
        return list(items[self.rank:usable:self.world_size])

    def wrap(self, module: torch.nn.Module, device: str) -> torch.nn.Module:
        """``module`` under DDP when enabled (itself otherwise)."""
        if not self.enabled:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [torch.device(device).index] if device.startswith("cuda") else None
        return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)

    def average_gradients(self, parameters: Any) -> None:
        """Average the gradients of ``parameters`` over the ranks after ``backward`` (the loops that cannot run
        under the DDP wrapper: gradient penalties differentiate twice, several optimizers step in one batch)."""
        if not self.enabled or self.world_size == 1:
            return
        import torch.distributed as dist

        for parameter in parameters:
            if parameter.grad is not None:
                dist.all_reduce(parameter.grad)
                parameter.grad /= self.world_size

    def broadcast_buffers(self, module: torch.nn.Module) -> None:
        """Give every rank rank 0's buffers (BatchNorm statistics), so the ranks' models stay identical."""
        if not self.enabled or self.world_size == 1:
            return
        import torch.distributed as dist

        for buffer in module.buffers():
            dist.broadcast(buffer, 0)

    def epoch_rng(self, rng: torch.Generator, seed: int, epoch: int) -> torch.Generator:
        """The generator for this rank's draws after the epoch's shared ones (batch order): rank 0 keeps ``rng``
        (so one process draws what plain training does), other ranks get their own stream."""
        if not self.enabled or self.rank == 0:
            return rng
        return torch.Generator().manual_seed(seed * 1_000_003 + epoch + 7919 * self.rank)

    def mean(self, value: float) -> float:
        """A per-rank number averaged over the ranks (itself on one)."""
        if not self.enabled or self.world_size == 1:
            return value
        import torch.distributed as dist

        tensor = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(tensor)
        return float(tensor.item()) / self.world_size

    def finish(self) -> None:
        """Leave the process group if this setup created it."""
        if self.owns_group:
            import torch.distributed as dist

            dist.destroy_process_group()


def start(enabled: bool, device: str = "cpu") -> DistributedSetup:
    """Join (or create) the process group when ``enabled``: NCCL on CUDA, Gloo on CPU. Without ``torchrun``'s
    environment it is a group of one process (an in-memory store, no network)."""
    if not enabled:
        return DistributedSetup()
    import torch.distributed as dist

    owns = False
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if "WORLD_SIZE" in os.environ:  # launched by torchrun: its rendezvous
            dist.init_process_group(backend)
        else:
            dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
        owns = True
    return DistributedSetup(dist.get_rank(), dist.get_world_size(), True, owns)


class LossModule(torch.nn.Module):
    """A model's ``loss(*args)`` as its ``forward``: DDP synchronises gradients only through ``forward``."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *args: Any) -> Any:
        return self.model.loss(*args)


def is_main_process() -> bool:
    """Whether this process is rank 0 of its launch (every process not started by ``torchrun`` is)."""
    return int(os.environ.get("RANK", "0")) == 0
