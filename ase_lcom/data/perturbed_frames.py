"""Strained and rattled copies of crystals labelled by a calculator: training frames for interatomic potentials.

Frames are rows of an ASE database, the format that ``data generate --keep-frames`` writes for relaxation
frames: the atoms with a ``SinglePointCalculator`` holding ``energy`` (eV, total), ``forces`` (eV/A) and
``stress`` (eV/A^3, Voigt, ASE's sign), and the keys ``frame_of`` (the crystal's id), ``frame_index``,
``label_calculator`` and ``source``. Writing is resumable: crystals with frames already stored are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import BaseCalculator

from ase_lcom.data.frames import labelled


def perturbed_copies(atoms: Atoms, n: int, rng: np.random.Generator, max_strain: float = 0.06,
                     rattle: float = 0.05) -> list[Atoms]:
    """``n`` copies of ``atoms`` with a random symmetric strain (components up to ``max_strain``, the first
    copy isotropic) and Gaussian displacements of standard deviation ``rattle`` (Angstrom)."""
    copies = []
    for k in range(n):
        if k == 0:
            strain = np.eye(3) * rng.uniform(-max_strain, max_strain)
        else:
            strain = rng.uniform(-max_strain, max_strain, (3, 3))
            strain = (strain + strain.T) / 2
        copy = atoms.copy()
        copy.calc = None
        copy.set_cell(copy.cell.array @ (np.eye(3) + strain), scale_atoms=True)
        copy.positions += rng.normal(0.0, rattle, copy.positions.shape)
        copies.append(copy)
    return copies


def framed_crystals(path: str | os.PathLike) -> set[str]:
    """Ids (``frame_of``) of the crystals that have frames in the database ``path``."""
    import ase.db

    if not Path(path).exists():
        return set()
    return {row.frame_of for row in ase.db.connect(str(path), type="db").select("frame_of", include_data=False)}


def write_perturbed_frames(crystals: Iterable[tuple[str, Atoms]], path: str | os.PathLike,
                           calculator: BaseCalculator, label_calculator: str, n_per_crystal: int = 2,
                           seed: int = 0, source: str = "perturbed", max_strain: float = 0.06,
                           rattle: float = 0.05, progress: bool = False) -> int:
    """Label ``n_per_crystal`` perturbed copies of each ``(uid, atoms)`` and append them to the database ``path``.

    Crystals that have frames already are skipped; each crystal's copies come from a generator seeded by
    ``seed`` and its uid, so a resumed run writes what an uninterrupted one would. Returns the number of frames
    written now.
    """
    import zlib

    import ase.db
    from tqdm.auto import tqdm

    done = framed_crystals(path)
    db = ase.db.connect(str(Path(path)), type="db", append=True)
    written = 0
    for uid, atoms in tqdm(crystals, desc="labelled frames", unit="crystal", disable=not progress):
        if uid in done:
            continue
        rng = np.random.default_rng([seed, zlib.crc32(uid.encode())])
        frames = [labelled(copy, calculator) for copy in perturbed_copies(atoms, n_per_crystal, rng, max_strain,
                                                                          rattle)]
        with db:
            for index, frame in enumerate(frames):
                db.write(frame, frame_of=uid, frame_index=index, label_calculator=label_calculator, source=source)
        written += len(frames)
    return written
