"""Fixed-lattice structure generators: the common interface and the ``ase_lcom.generators`` entry points.

A :class:`StructureGenerator` learns from a :class:`~ase_lcom.data.fixed_lattice.FixedLatticeDataset` (one
composition on one lattice, as in Dismai-Bench) and samples new structures of that template. Predictors map a
formula to ranked candidates; generators map a trained template to samples. Other packages add generators with::

    [options.entry_points]
    ase_lcom.generators =
        mygan = mypackage.module:MyGenerator   # a subclass of ase_lcom.generators.StructureGenerator
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.plugins import installed, load_plugin

ENTRY_POINT_GROUP = "ase_lcom.generators"


class StructureGenerator(ABC):
    """Samples structures of one template (composition, site order, lattice) after :meth:`fit`.

    Subclasses implement :meth:`fit`, :meth:`sample`, :meth:`save` and the classmethod :meth:`load`; a saved
    generator reloads and samples the same structures for the same seed.
    """

    name: str = ""
    template: dict[str, Any] | None = None
    """The trained template as plain values (lattice, per-site species, species blocks); None before training."""

    @abstractmethod
    def fit(self, dataset: FixedLatticeDataset, out_dir: str | os.PathLike, progress: bool = True,
            callback: Callable[[dict[str, Any]], None] | None = None, ddp: bool = False) -> list[dict[str, Any]]:
        """Train on ``dataset``, checkpointing into ``out_dir`` (rerun with the same ``out_dir`` to resume);
        returns the training history (one dict per epoch). ``ddp``: data-parallel over the processes of a
        ``torchrun`` launch (:mod:`ase_lcom.training.distributed`; one process gives the plain result)."""

    @abstractmethod
    def sample(self, n: int, seed: int = 0) -> list[Structure]:
        """``n`` structures of the trained template (its lattice, species and atom count)."""

    @abstractmethod
    def save(self, path: str | os.PathLike) -> Path:
        """Write a self-contained, weights-only checkpoint."""

    @classmethod
    @abstractmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> StructureGenerator:
        """Read a checkpoint written by :meth:`save`."""


def available_generators() -> dict[str, Any]:
    """Installed generators by name (entry points of the ``ase_lcom.generators`` group)."""
    return installed(ENTRY_POINT_GROUP)


def generator_class(name: str) -> type[StructureGenerator]:
    """The installed generator class ``name`` (a :class:`~ase_lcom.errors.PluginError` if unknown)."""
    return load_plugin(ENTRY_POINT_GROUP, name, StructureGenerator, "generator")
