"""Dismai-Bench datasets: Fe60Ni20Cr20 alloys from a cluster expansion, amorphous silicon, user sets.

``generate_dataset(name, out_dir)`` makes a named set (resumable) and ``load_dataset(name_or_path)`` returns it,
or any extxyz / ASE database of one composition and lattice, as a
:class:`~ase_lcom.data.fixed_lattice.FixedLatticeDataset`.
"""

from ase_lcom.data.dismai.alloys import AlloyOccupations, AlloyProtocol
from ase_lcom.data.dismai.amorphous_silicon import MeltQuenchProtocol
from ase_lcom.data.dismai.cluster_expansion import ClusterExpansion, NeighbourTable
from ase_lcom.data.dismai.datasets import DATASET_NAMES, dataset_path, generate_dataset, load_dataset

__all__ = ["DATASET_NAMES", "AlloyOccupations", "AlloyProtocol", "ClusterExpansion", "MeltQuenchProtocol",
           "NeighbourTable", "dataset_path", "generate_dataset", "load_dataset"]
