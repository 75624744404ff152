"""Training frames for interatomic potentials: labelled configurations stored beside the structures they came from.

A frame is an ordinary ``ase.db`` row whose atoms carry a ``SinglePointCalculator`` with ``energy`` (eV, total),
``forces`` (eV/A) and ``stress`` (eV/A^3, Voigt 6, ASE sign convention) and whose key-value pairs are

``frame_of``          uid of the task (and of the structure row, when the task stored one) it belongs to
``frame_index``       position among the task's configurations; one configuration labelled by two calculators
                      appears twice with the same index
``label_calculator``  ``chgnet``, ``gpaw``, ... : what computed energy, forces and stress
``source``            what generated the configuration (``generated:chgnet``)
``config``            ``relax`` (an optimizer step, ``step``), ``strain`` (the relaxed cell scaled isotropically
                      by ``1 + strain``) or ``rattle`` (the relaxed cell with displaced atoms and a deformed cell)
``reduced_formula``   and, for DFT labels, ``label_settings`` (functional, basis, k-points, code version) and
                      ``label_seconds`` (wall time of the single point)

Structure readers skip rows that have ``frame_of`` (:func:`is_frame`).
"""

from __future__ import annotations

import os
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import BaseCalculator
from ase.calculators.singlepoint import SinglePointCalculator

from ase_lcom.errors import InvalidValueError

FRAME_KEY = "frame_of"
"""The key-value pair that marks a row as a frame (its value: the uid of the task it belongs to)."""

LABEL_CALCULATORS = ("gpaw",)
"""Calculators that may label a subset of the frames beside the generating one (``--frames-calculator``)."""


@dataclass(frozen=True)
class FrameSettings:
    """Which configurations of a generation task become frames, and who labels them.

    Every ``every``-th relaxation step plus the last is kept, labelled by the generating calculator, and so are
    ``strains`` (isotropic linear strains of the relaxed cell: E(V) curves) and ``rattles`` copies of the relaxed
    cell with atoms displaced by ``rattle`` A (Gaussian, per component) and the cell deformed by a symmetric strain
    of ``rattle / 2.5`` (standard deviation, dimensionless). With ``calculator`` (``gpaw``), cells of at most
    ``label_max_atoms`` atoms are labelled again by it: ``label_steps`` relaxation frames (evenly spaced, the
    first and the last included) and every strained and rattled copy; GPAW runs plane-wave PBE with ``ecut``
    (eV) and ``kpt_density`` (k-points per reciprocal Angstrom, Gamma-centred), a fresh SCF per frame.
    """

    every: int = 1
    strains: tuple[float, ...] = ()
    rattles: int = 0
    rattle: float = 0.05
    calculator: str = ""
    label_max_atoms: int = 8
    label_steps: int = 3
    ecut: float = 700.0
    kpt_density: float = 2.5

    def __post_init__(self) -> None:
        if self.every < 1 or self.rattles < 0 or self.label_steps < 0 or self.label_max_atoms < 1:
            raise InvalidValueError("frame settings: every >= 1, rattles >= 0, label_steps >= 0, "
                                    "label_max_atoms >= 1")
        if any(not -0.5 < s < 0.5 for s in self.strains):
            raise InvalidValueError(f"frame strains must lie between -0.5 and 0.5, got {list(self.strains)}")
        if self.calculator and self.calculator not in LABEL_CALCULATORS:
            raise InvalidValueError(f"frames calculator {self.calculator!r}: choose from "
                                    f"{', '.join(LABEL_CALCULATORS)} (the generating calculator labels all frames)")

    def label_options(self) -> dict[str, Any]:
        """Options of ``get_calculator(self.calculator, ...)``."""
        return {"ecut": self.ecut, "kpt_density": self.kpt_density, "txt": None} if self.calculator == "gpaw" else {}

    def label_settings(self) -> str:
        """One line naming the labelling calculator's method and version (stored on each of its frames)."""
        if self.calculator != "gpaw":
            return ""
        return (f"GPAW {_version('gpaw')} PBE, plane waves {self.ecut:g} eV, k-point density {self.kpt_density:g}/A^-1 "
                f"Gamma-centred, PAW setups gpaw-data {_version('gpaw-data')}, default occupations and SCF convergence")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def is_frame(row: Any) -> bool:
    """True for an ``ase.db`` row that is a frame, not a structure."""
    return FRAME_KEY in row.key_value_pairs


def kept_steps(n: int, every: int) -> list[int]:
    """Indices of ``n`` optimizer steps kept: every ``every``-th from the first, plus the last."""
    return sorted({*range(0, n, every), n - 1}) if n else []


def evenly_spaced(items: Sequence[Any], count: int) -> list[Any]:
    """``count`` items spread over ``items``, the first and the last included."""
    if count >= len(items):
        return list(items)
    if count == 1:
        return [items[-1]]
    return [items[i] for i in sorted({round(k * (len(items) - 1) / (count - 1)) for k in range(count)})]


@dataclass
class Frame:
    """One labelled configuration of a task."""

    atoms: Atoms
    """With a ``SinglePointCalculator`` holding energy, forces and stress."""
    index: int
    label_calculator: str
    config: str
    """``relax``, ``strain`` or ``rattle``."""
    info: dict[str, Any]
    """``step`` or ``strain``; ``label_settings`` for DFT labels."""


def labelled(atoms: Atoms, calculator: BaseCalculator) -> Atoms:
    """A copy of ``atoms`` (constraints dropped) with the calculator's energy, forces and stress attached.

    Raises
    ------
    DataError
        When the calculator gives a non-finite energy, force or stress.
    """
    copy = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    copy.calc = calculator
    results = {"energy": copy.get_potential_energy(), "forces": copy.get_forces(), "stress": copy.get_stress()}
    if not all(np.all(np.isfinite(v)) for v in results.values()):
        from ase_lcom.data.records import DataError  # records imports this module

        raise DataError(f"{type(calculator).__name__} gave non-finite labels for {copy.get_chemical_formula()}")
    copy.calc = SinglePointCalculator(copy, **results)
    return copy


def extra_configurations(relaxed: Atoms, settings: FrameSettings, seed: str) -> list[tuple[str, Atoms, dict]]:
    """The strained and rattled copies of a relaxed cell: ``(config, atoms, info)``; ``seed`` (the task uid)
    fixes the displacements."""
    base = Atoms(relaxed.numbers, positions=relaxed.positions, cell=relaxed.cell, pbc=relaxed.pbc)
    configurations = []
    for strain in settings.strains:
        atoms = base.copy()
        atoms.set_cell(base.cell * (1.0 + strain), scale_atoms=True)
        configurations.append(("strain", atoms, {"strain": float(strain)}))
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    for _ in range(settings.rattles):
        atoms = base.copy()
        deformation = rng.normal(0.0, settings.rattle / 2.5, (3, 3))
        atoms.set_cell(base.cell @ (np.eye(3) + (deformation + deformation.T) / 2), scale_atoms=True)
        atoms.positions += rng.normal(0.0, settings.rattle, atoms.positions.shape)
        configurations.append(("rattle", atoms, {}))
    return configurations


def task_frames(trajectory: Sequence[Atoms], settings: FrameSettings, seed: str, generator: tuple[str, BaseCalculator],
                labeller: Callable[[], BaseCalculator] | None = None) -> tuple[list[Frame], int]:
    """A relaxation's frames: the kept steps (labelled as they ran) and the strained and rattled copies of its
    last step, labelled by ``generator`` (name, calculator) and, for small cells, again by a fresh
    ``labeller()`` calculator each. Returns the frames and the number of labels that failed (skipped)."""
    name, calculator = generator
    relax = [("relax", trajectory[i], {"step": i}) for i in kept_steps(len(trajectory), settings.every)]
    extra = extra_configurations(trajectory[-1], settings, seed) if trajectory else []
    frames = [Frame(_plain(atoms), i, name, config, info) for i, (config, atoms, info) in enumerate(relax)]
    failures = 0
    for index, (config, atoms, info) in enumerate(extra, start=len(relax)):
        try:
            frames.append(Frame(labelled(atoms, calculator), index, name, config, info))
        except Exception:
            failures += 1
    if labeller is None or not trajectory or len(trajectory[0]) > settings.label_max_atoms:
        return frames, failures
    chosen = evenly_spaced(list(enumerate(relax)), settings.label_steps) if settings.label_steps else []
    chosen += list(enumerate(extra, start=len(relax)))
    for index, (config, atoms, info) in chosen:
        start = time.perf_counter()
        try:
            atoms = labelled(atoms, labeller())
        except Exception:
            failures += 1
            continue
        frames.append(Frame(atoms, index, settings.calculator, config,
                            {**info, "label_settings": settings.label_settings(),
                             "label_seconds": round(time.perf_counter() - start, 2)}))
    return frames, failures


def _plain(snapshot: Atoms) -> Atoms:
    """A trajectory snapshot without its constraints (its calculator results kept)."""
    copy = Atoms(snapshot.numbers, positions=snapshot.positions, cell=snapshot.cell, pbc=snapshot.pbc)
    copy.calc = SinglePointCalculator(copy, **{k: snapshot.calc.results[k] for k in ("energy", "forces", "stress")})
    return copy


def frame_key_values(frame: Frame, owner: str, source: str, formula: str) -> dict[str, Any]:
    """The key-value pairs of a frame row (strings that read as numbers are quoted by the caller's database)."""
    return {FRAME_KEY: owner, "frame_index": frame.index, "label_calculator": frame.label_calculator,
            "source": source, "config": frame.config, "reduced_formula": formula, **frame.info}


def read_frames(path: str | os.PathLike, label_calculator: str | None = None) -> Iterator[Atoms]:
    """The frames of an ``ase.db`` file as Atoms (calculator results attached, key-value pairs in ``info``)."""
    import ase.db

    query = {"label_calculator": label_calculator} if label_calculator else {}
    for row in ase.db.connect(str(path), type="db").select(FRAME_KEY, **query):
        atoms = row.toatoms()
        atoms.info.update(row.key_value_pairs)
        yield atoms


def frame_summary(path: str | os.PathLike) -> dict[str, Any]:
    """Counts of the frames in an ``ase.db`` file, per labelling calculator: frames, tasks, compositions, atoms
    per cell, configurations, and the mean wall time of a DFT label (s)."""
    import ase.db

    groups: dict[str, list[Any]] = defaultdict(list)
    for row in ase.db.connect(str(path), type="db").select(FRAME_KEY, include_data=False):
        groups[str(row.get("label_calculator"))].append(row)
    summary = {}
    for label, rows in sorted(groups.items()):
        seconds = [row.label_seconds for row in rows if "label_seconds" in row.key_value_pairs]
        summary[label] = {
            "frames": len(rows), "tasks": len({row.get(FRAME_KEY) for row in rows}),
            "compositions": len({row.get("reduced_formula") for row in rows}),
            "atoms_per_cell": dict(sorted(Counter(row.natoms for row in rows).items())),
            "configs": dict(Counter(str(row.get("config")) for row in rows)),
            **({"mean_label_seconds": round(float(np.mean(seconds)), 1)} if seconds else {}),
        }
    return summary
