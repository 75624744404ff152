"""The named Dismai-Bench datasets: generate (resumable, with progress) and load as :class:`FixedLatticeDataset`.

Names: ``alloy-300K-wide``, ``alloy-300K-narrow``, ``alloy-1500K-wide``, ``alloy-1500K-narrow`` (Fe60Ni20Cr20
from the cluster expansion by swap Monte Carlo) and ``a-Si`` (256-atom Stillinger-Weber melt-quench). A dataset
``NAME`` lives in ``ROOT/NAME/NAME.npz`` with its ``DATACARD.md``; the Monte Carlo chains and quenches it was
made from are checkpointed under ``ROOT/_work/`` so that an interrupted run resumes where it stopped. A dataset
keeps the seed and protocol it was started with (``ROOT/_work/NAME.settings.json``): a rerun into the same root
with others is refused; only the number of structures may change.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure

from ase_lcom.data.dismai.alloys import AlloyOccupations, AlloyProtocol, run_chains, select_sets
from ase_lcom.data.dismai.amorphous_silicon import MeltQuenchProtocol, melt_quench
from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.data.records import DataError
from ase_lcom.store import check_unchanged, read_json, write_json

ALLOY_DATASETS: dict[str, tuple[float, str]] = {
    "alloy-300K-wide": (300.0, "wide"),
    "alloy-300K-narrow": (300.0, "narrow"),
    "alloy-1500K-wide": (1500.0, "wide"),
    "alloy-1500K-narrow": (1500.0, "narrow"),
}
AMORPHOUS_SI = "a-Si"
DATASET_NAMES: tuple[str, ...] = (*ALLOY_DATASETS, AMORPHOUS_SI)

#: Default number of a-Si structures.
A_SI_COUNT = 200


def dataset_path(name: str, root: str | Path) -> Path:
    """File of the named dataset under ``root``."""
    _check_name(name)
    return Path(root) / name / f"{name}.npz"


def _check_name(name: str) -> None:
    if name not in DATASET_NAMES:
        raise DataError(f"unknown Dismai dataset {name!r}; choose from {', '.join(DATASET_NAMES)}")


def _check_run_settings(name: str, out_dir: Path, settings: dict) -> None:
    """Record the settings dataset ``name`` is made with under ``out_dir``, or refuse a rerun with others."""
    path = out_dir / "_work" / f"{name}.settings.json"
    stored = read_json(path)
    if stored is not None:
        check_unchanged(f"{name} setting", stored, settings, path, may_change=("n_structures",), error=DataError,
                        fix="use another --out to make it with other settings")
    write_json(path, settings, indent=1)


def generate_dataset(name: str, out_dir: str | Path = "datasets/dismai", progress: bool = True, seed: int = 0,
                     n_passes: int | None = None, n_structures: int | None = None, workers: int = 1,
                     melt_quench_protocol: MeltQuenchProtocol | None = None) -> Path:
    """Generate (or finish) a named dataset and its data card; returns the dataset file.

    Parameters
    ----------
    name
        One of :data:`DATASET_NAMES`.
    out_dir
        Root folder; the dataset goes to ``out_dir/NAME/``, checkpoints to ``out_dir/_work/``.
    progress
        Show progress bars.
    seed
        Seed of every random number used.
    n_passes
        Alloys: Monte Carlo passes per chain (default 50,000, the paper's); burn-in stays a tenth of it.
    n_structures
        Structures in the set (alloys default 1,500, a-Si 200).
    workers
        a-Si: quenches run in parallel.
    melt_quench_protocol
        a-Si: quench settings (default :class:`MeltQuenchProtocol`).
    """
    _check_name(name)
    out_dir = Path(out_dir)
    if name == AMORPHOUS_SI:
        quench = melt_quench_protocol or MeltQuenchProtocol()
        _check_run_settings(name, out_dir, {"seed": seed, "n_structures": n_structures or A_SI_COUNT,
                                            "protocol": asdict(quench)})
        return _generate_a_si(out_dir, quench, progress, seed, n_structures or A_SI_COUNT, workers)
    temperature, kind = ALLOY_DATASETS[name]
    protocol = AlloyProtocol(temperature)
    if n_passes is not None:
        protocol = replace(protocol, n_passes=n_passes, burn_in_passes=n_passes // 10)
    if n_structures is not None:
        protocol = replace(protocol, n_structures=n_structures)
    _check_run_settings(name, out_dir, {"seed": seed, "protocol": asdict(protocol)})
    work = out_dir / "_work" / f"alloy-{temperature:g}K-seed{seed}-passes{protocol.n_passes}"
    start = time.perf_counter()
    chains = run_chains(protocol, work, seed=seed, progress=progress)
    sets = select_sets(protocol, chains, required=(kind,))
    selection_seconds = time.perf_counter() - start
    paths = {}
    for set_kind, data in sets.items():
        set_name = f"alloy-{temperature:g}K-{set_kind}"
        data.meta.update({"name": set_name, "seed": seed, "selection_seconds": selection_seconds})
        path = dataset_path(set_name, out_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        data.write(path)
        (path.parent / "DATACARD.md").write_text(alloy_datacard(data, path))
        paths[set_kind] = path
    return paths[kind]


def _quench_task(args: tuple[MeltQuenchProtocol, int, int, Path]) -> Path:
    protocol, seed, index, path = args
    result = melt_quench(protocol, np.random.default_rng(np.random.SeedSequence([seed, index])))
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, settings=json.dumps({**asdict(protocol), "seed": seed}), **result)
    os.replace(tmp, path)
    return path


def _generate_a_si(out_dir: Path, protocol: MeltQuenchProtocol, progress: bool, seed: int, count: int,
                   workers: int) -> Path:
    from tqdm.auto import tqdm

    work = out_dir / "_work" / f"a-Si-seed{seed}"
    work.mkdir(parents=True, exist_ok=True)
    settings = {**asdict(protocol), "seed": seed}
    paths = [work / f"quench-{k:04d}.npz" for k in range(count)]
    todo = []
    for k, path in enumerate(paths):
        if path.is_file():
            with np.load(path) as f:
                check_unchanged("quench setting", json.loads(str(f["settings"])), settings, path, error=DataError,
                                fix=f"remove {work} to start over")
        else:
            todo.append((protocol, seed, k, path))
    bar = tqdm(total=count, initial=count - len(todo), desc="a-Si melt-quench", unit="structure",
               disable=not progress)
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(workers) as pool:
            for _ in pool.map(_quench_task, todo):
                bar.update()
    else:
        for task in todo:
            _quench_task(task)
            bar.update()
    bar.close()
    runs = [dict(np.load(p)) for p in paths]
    box = protocol.box_length
    path = dataset_path(AMORPHOUS_SI, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"name": AMORPHOUS_SI, "protocol": asdict(protocol), "seed": seed,
            "seconds": [float(r["seconds"]) for r in runs]}
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, kind="a-Si-positions", cell=np.eye(3) * box,
                        positions=np.stack([r["positions"] for r in runs]).astype(np.float32),
                        energy_per_atom=np.array([float(r["energy_per_atom"]) for r in runs]),
                        fmax=np.array([float(r["fmax"]) for r in runs]),
                        coordination=np.stack([r["coordination"] for r in runs]).astype(np.uint8),
                        meta=json.dumps(meta))
    os.replace(tmp, path)
    (path.parent / "DATACARD.md").write_text(a_si_datacard(path))
    return path


def _a_si_dataset(path: Path, name: str) -> FixedLatticeDataset:
    """All structures share one cell and are pure Si, so the dataset is built directly."""
    with np.load(path, allow_pickle=False) as f:
        lattice = Lattice(f["cell"])
        frac = (f["positions"].astype(float) @ np.linalg.inv(f["cell"])) % 1.0
    structures = [Structure(lattice, ["Si"] * frac.shape[1], p) for p in frac]
    return FixedLatticeDataset(structures, lattice, ["Si"], name)


def load_dataset(name_or_path: str | Path, root: str | Path = "datasets/dismai",
                 lattice_tol: float = 1e-3) -> FixedLatticeDataset:
    """Load a named dataset (from ``root``) or a file: a dataset ``.npz``, an extxyz file or an ASE database.

    Raises
    ------
    DataError
        Unknown name, a named dataset not generated yet, an unreadable file, or a file whose structures differ
        in composition or lattice.
    """
    text = str(name_or_path)
    if text in DATASET_NAMES:
        path = dataset_path(text, root)
        if not path.is_file():
            raise DataError(f"dataset {text} not found at {path}: run `ase-lcom data dismai {text} --out {root}`")
        label = text
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise DataError(f"{text} is neither a Dismai dataset name ({', '.join(DATASET_NAMES)}) nor a file")
        label = path.name
    if path.suffix != ".npz":
        return FixedLatticeDataset.read(path, lattice_tol=lattice_tol)
    try:
        with np.load(path, allow_pickle=False) as f:
            kind = str(f["kind"])
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path} is not a Dismai dataset file: {exc}") from exc
    if kind == "alloy-occupations":
        return AlloyOccupations.read(path).to_dataset(label)
    if kind == "a-Si-positions":
        return _a_si_dataset(path, label)
    raise DataError(f"{path} holds an unknown dataset kind {kind!r}")


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1024:.0f} KiB"


def _table(rows: list[tuple[str, str]]) -> str:
    return "| | |\n| --- | --- |\n" + "\n".join(f"| {key} | {value} |" for key, value in rows)


def alloy_datacard(data: AlloyOccupations, path: Path) -> str:
    """Markdown data card of an alloy set."""
    meta = data.meta
    p = AlloyProtocol(**meta["protocol"])
    sro_rows = []
    for k in range(data.sro.shape[1]):
        for q, label in enumerate(data.sro_pairs):
            col = data.sro[:, k, q]
            sro_rows.append(f"| {k + 1} | {label} | {col.mean():+.3f} | {col.std():.3f} | {col.min():+.3f} | "
                            f"{col.max():+.3f} | {meta['pool_sro_mean'][k][q]:+.3f} |")
    if meta["kind"] == "narrow":
        rule = (f"the {len(data)} of the {meta['pool_within_band']} snapshots (of {meta['pool_size']} after "
                f"burn-in) whose 12 shell 1-2 Warren-Cowley parameters all lie within +-{p.band} of their mean "
                f"over the {meta['pool_size']}, evenly spaced along the chains in order")
    else:
        rule = (f"{p.n_structures // p.n_chains} snapshots per chain, evenly spaced over the snapshots after "
                f"burn-in (about {(p.n_passes - p.burn_in_passes) * p.n_chains // p.n_structures} passes apart)")
    rows = [
        ("structures", f"{len(data)}, 256 sites each (154 Fe, 51 Ni, 51 Cr), the 4x4x4 conventional FCC cell of "
                       "a = 3.6 A (`alloy_ref_struc.extxyz`, its site order)"),
        ("energy model", "the chemical Fe-Ni-Cr cluster expansion of Dismai-Bench (`alloy_cluster_expansion.json`: "
                         "empty term + pair terms of 7 shells)"),
        ("Monte Carlo", f"canonical Metropolis, swap moves between unlike sites (site uniform, partner uniform among "
                        f"the other species), {p.n_chains} independent chains from random solid solutions, "
                        f"{p.n_passes:,} passes each (a pass = 256 attempted swaps), a snapshot every "
                        f"{p.snapshot_every} passes; acceptance {min(meta['acceptance']):.3f}-"
                        f"{max(meta['acceptance']):.3f}"),
        ("burn-in", f"the first {p.burn_in_passes:,} passes of every chain are not used"
                    + (f"; during them the temperature falls linearly from {p.anneal_from:g} K to "
                       f"{p.temperature:g} K in stages of {p.snapshot_every} passes (the acceptance above is that "
                       "of the passes after burn-in)" if p.anneal_from > p.temperature else "")),
        ("selection", rule),
        ("energy", f"{data.energy_per_atom.mean():.5f} +- {data.energy_per_atom.std():.5f} eV/atom "
                   "(cluster-expansion formation energy)"),
        ("seed", f"{meta['seed']} (chain c uses `SeedSequence([seed, {p.temperature:g}, c])`)"),
        ("time", f"Monte Carlo {meta['mc_seconds']:.0f} s wall time, one process, for the {p.n_chains} chains "
                 f"(shared with the other set of this temperature); {meta['selection_seconds']:.0f} s wall for "
                 "this run with selection (timed while the machine ran other jobs)"),
        ("file", f"`{path.name}` ({_size(path)}): `occupations` (structures x 256, uint8 index into `species`), "
                 "`cell`, `frac_sites`, `chain`, `passes`, `energy_per_atom`, `sro` (structures x shell 1-2 x "
                 f"pair), `meta` (JSON); `ase_lcom.data.dismai.load_dataset(\"{meta['name']}\")` rebuilds the "
                 "structures"),
        ("command", f"`ase-lcom data dismai {meta['name']} --out {path.parent.parent}` (rerun to resume; chains "
                    "are checkpointed in `_work/`)"),
    ]
    return f"""# {meta['name']}: Fe60Ni20Cr20 FCC alloy, {p.temperature:g} K, {meta['kind']} SRO

{_table(rows)}

## Warren-Cowley SRO of this set (shells 1-2)

| shell | pair | mean | std | min | max | mean of all snapshots |
| --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(sro_rows)}

## How it differs from the paper's set

The protocol (temperatures, chains, passes, snapshot interval, 1,500 structures, +-0.1 band) is the paper's; the
Zenodo files are not reproduced structure by structure, since the paper's seeds, starting configurations,
burn-in and the rule that picked 1,500 of the snapshots are not published. The annealed burn-in and the evenly
spaced selection above are this set's own choices: at 300 K, chains started from a random solid solution at
300 K got stuck in a metastable Cr order (1st-shell Cr-Cr alpha near -0.25 instead of +1, about 3.5 meV/atom
higher) in 2 of 10 chains, which would put the mean SRO between two states and leave no snapshot within the
narrow band. The narrow band is applied to all 12 shell 1-2 parameters (the paper does not say which
parameters were filtered).
"""


def a_si_datacard(path: Path) -> str:
    """Markdown data card of the a-Si set."""
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        coordination = f["coordination"]
        energy = f["energy_per_atom"]
        fmax = f["fmax"]
    p = MeltQuenchProtocol(**meta["protocol"])
    hist = np.bincount(coordination.ravel(), minlength=7) / coordination.size * 100
    per_structure = (coordination != 4).mean(axis=1) * 100
    seconds = np.array(meta["seconds"])
    rows = [
        ("structures", f"{len(energy)} independent quenches (each from its own random start), {p.n_atoms} Si atoms "
                       f"in one cubic cell of {p.box_length:.4f} A ({p.density} g/cm3)"),
        ("potential", "Stillinger-Weber 1985 silicon (LAMMPS `pair_style sw`, parameters in "
                      "`ase_lcom.data.dismai.amorphous_silicon.SW_SILICON`)"),
        ("quench", f"random positions (no pair closer than 2 A), {p.melt_ps:g} ps NVT at {p.melt_temperature:g} K, "
                   f"linear NVT cooling to {p.final_temperature:g} K at {p.quench_rate:g} K/ps "
                   f"({p.quench_rate * 1e12:.0e} K/s, {p.quench_steps * p.timestep_fs / 1000:g} ps), time step "
                   f"{p.timestep_fs:g} fs, Nose-Hoover 0.1 ps"),
        ("relaxation", f"conjugate gradients at fixed cell to a force-vector norm of {p.relax_force_tol:g} eV/A; "
                       f"largest atomic force {fmax.max():.4f} eV/A"),
        ("energy", f"{energy.mean():.4f} +- {energy.std():.4f} eV/atom (SW; diamond Si is -4.3367)"),
        (f"coordination (< {p.coordination_cutoff} A)",
         ", ".join(f"{k}: {hist[k]:.2f} %" for k in range(len(hist)) if hist[k] > 0)
         + f"; defects (not 4-fold) per structure {per_structure.mean():.1f} +- {per_structure.std():.1f} %"),
        ("seed", f"{meta['seed']} (quench k uses `SeedSequence([seed, k])`)"),
        ("time", f"{seconds.sum() / 60:.1f} min CPU time of one core ({seconds.mean():.1f} s per quench)"),
        ("file", f"`{path.name}` ({_size(path)}): `positions` (structures x atoms x 3, float32 Cartesian A), "
                 "`cell`, `energy_per_atom`, `fmax`, `coordination`, `meta`"),
        ("command", f"`ase-lcom data dismai a-Si --out {path.parent.parent}` (rerun to resume; every quench is "
                    "checkpointed in `_work/`)"),
    ]
    return f"""# a-Si: amorphous silicon, Stillinger-Weber melt-quench

{_table(rows)}

## How it differs from the paper's set

The paper's a-Si set (credited to Deringer et al., Nature 589, 59 (2021)) was made and relaxed with the GAP-18
machine-learned potential, at quench rates orders of magnitude slower than the {p.quench_rate * 1e12:.0e} K/s used
here; slowly quenched GAP a-Si is reported (Deringer et al.) to have only a few per cent of coordination
defects. Stillinger-Weber is known to favour 5-fold atoms in a-Si and a fast quench freezes in liquid-like
defects, so this set has many more 5-fold (and some 3-fold) atoms (table above); expect a broader bond-angle
distribution and a weaker second RDF peak than the paper's set. The paper's cell and density are not in its text; this
set uses 256 atoms at a typical a-Si density. It is a stand-in of the same composition and size for testing
generators and metrics, not a set whose distances are comparable with the paper's Table 2.
"""
