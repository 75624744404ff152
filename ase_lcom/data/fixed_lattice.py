"""Datasets of one composition on one lattice: the training sets of fixed-lattice generators (Dismai-Bench).

Every structure of a :class:`FixedLatticeDataset` has the template's lattice (within ``lattice_tol``) and the
same species; atoms are stored grouped by species in the template's order (``species_order``), so that a model
sees the same atom index carrying the same element in every structure (CryinGAN pools over these blocks).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure

from ase_lcom.data.records import DataError


def grouped_by_species(structure: Structure, order: Sequence[str]) -> Structure:
    """``structure`` with its sites sorted by species in ``order`` (stable within a species)."""
    rank = {symbol: k for k, symbol in enumerate(order)}
    sites = sorted(range(len(structure)), key=lambda i: (rank[structure[i].specie.symbol], i))
    return Structure(structure.lattice, [structure[i].specie for i in sites],
                     structure.frac_coords[sites] % 1.0, coords_are_cartesian=False)


@dataclass
class FixedLatticeDataset:
    """Structures of one composition on one lattice.

    Attributes
    ----------
    structures
        The structures, each with sites grouped by species in ``species_order``.
    lattice
        The shared lattice (the first structure's).
    species_order
        Element symbols in block order (the template's first-appearance order).
    name
        A label for reports (a dataset name or a file name).
    """

    structures: list[Structure]
    lattice: Lattice
    species_order: list[str]
    name: str = ""

    @classmethod
    def from_structures(cls, structures: Iterable[Structure], name: str = "",
                        lattice_tol: float = 1e-3) -> FixedLatticeDataset:
        """Check one composition and one lattice (relative tolerance ``lattice_tol`` on the matrix) and group
        sites by species; a :class:`DataError` names the first structure that differs."""
        structures = list(structures)
        if not structures:
            raise DataError(f"dataset {name or '(unnamed)'} holds no structure")
        first = structures[0]
        order = list(dict.fromkeys(site.specie.symbol for site in first))
        matrix = first.lattice.matrix
        scale = np.abs(matrix).max()
        grouped = []
        for k, s in enumerate(structures):
            if s.composition != first.composition:
                raise DataError(f"dataset {name or '(unnamed)'}: structure {k} is {s.composition.formula}, "
                                f"structure 0 is {first.composition.formula} (one composition per dataset)")
            if np.abs(s.lattice.matrix - matrix).max() > lattice_tol * scale:
                raise DataError(f"dataset {name or '(unnamed)'}: structure {k} has another lattice than structure 0 "
                                f"(abc {s.lattice.abc} vs {first.lattice.abc}; one lattice per dataset)")
            grouped.append(grouped_by_species(s, order))
        return cls(grouped, first.lattice, order, name)

    @classmethod
    def read(cls, path: str | Path, lattice_tol: float = 1e-3) -> FixedLatticeDataset:
        """Read an extxyz file or an ASE database (any format ``ase.io`` reads)."""
        from ase_lcom.data.readers import read_records

        path = Path(path)
        if not path.is_file():
            raise DataError(f"dataset file not found: {path}")
        return cls.from_structures((r.structure for r in read_records(path)), path.name, lattice_tol)

    def __len__(self) -> int:
        return len(self.structures)

    @property
    def template(self) -> Structure:
        """The first structure: composition, site order and lattice that generated structures share."""
        return self.structures[0]

    @property
    def num_atoms(self) -> int:
        return len(self.template)

    def frac_coords(self) -> np.ndarray:
        """``(N, atoms, 3)`` fractional coordinates in [0, 1)."""
        return np.stack([s.frac_coords % 1.0 for s in self.structures])

    def species_counts(self) -> list[int]:
        """Atoms per species block, in ``species_order``."""
        counts = self.template.composition.get_el_amt_dict()
        return [int(round(counts[symbol])) for symbol in self.species_order]

    def structure_from_frac(self, frac: np.ndarray) -> Structure:
        """A structure of this dataset's lattice and species from ``(atoms, 3)`` fractional coordinates."""
        return Structure(self.lattice, self.template.species, np.asarray(frac) % 1.0)
