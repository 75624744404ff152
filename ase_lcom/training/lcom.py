"""Building an LCOM model bundle from a trained CD-VAE and a dataset (``ase-lcom train lcom``).

Stages, each kept on disk in ``work_dir`` so an interrupted build resumes where it stopped:

1. ``latents.pt``: latent means of every dataset structure with a formation energy;
2. ``decoded-<calculator>.pt``: every data latent decoded as a prediction is (Langevin sampling, spglib
   symmetrisation), scored by the calculator (single point) and re-encoded. Predictions rank decoded crystals
   by the surrogate, and decoded crystals are distorted versions of the data: a surrogate that only saw
   relaxed data ranks them badly. These rows teach it their energies (skipped with ``decoded_calculator=None``);
   with ``volume_factors``, ``strained-<calculator>.pt`` adds the data crystals at those volumes
   (:mod:`ase_lcom.training.strained`);
3. ``surrogate-coms.pt`` and ``surrogate-sl.pt``: the conservative and the plain surrogate, trained on the
   data and decoded rows together;
4. the bundle itself (``out``), with a card recording data, settings, timings and validation errors.

``work_dir/settings.json`` records what the stages depend on (the CD-VAE file's digest, a digest of the data,
the surrogate settings); a rerun with others is refused (:func:`ase_lcom.store.check_unchanged`) instead of
mixing stages of two builds.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pymatgen.core import Composition

from ase_lcom.errors import InvalidValueError
from ase_lcom.execution import Executor
from ase_lcom.models.bundle import BundledSurrogate, LCOMModel, SeedBank, composition_tensor, sha256_of
from ase_lcom.models.checkpoints import (
    CheckpointError,
    load_cdvae,
    load_checkpoint,
    save_checkpoint,
    surrogate_content,
)
from ase_lcom.models.surrogate import SurrogateConfig
from ase_lcom.store import check_unchanged, read_json, write_json
from ase_lcom.training.surrogate import SurrogateTrainConfig, train_surrogate


def encode_records(model: LCOMModel, records: list[Any], batch_size: int = 64, progress: bool = True) -> SeedBank:
    """Latent means, formulas, sizes and formation energies of dataset records."""
    from tqdm.auto import tqdm

    kept = [r for r in records if r.formation_energy_per_atom is not None]
    if not kept:
        raise CheckpointError("no record has a formation energy: the surrogate has nothing to learn from")
    parts = []
    for k in tqdm(range(0, len(kept), batch_size), desc="encode dataset", unit="batch", disable=not progress):
        parts.append(model.encode([r.structure for r in kept[k:k + batch_size]], batch_size))
    return SeedBank(torch.cat(parts), [r.structure.composition.reduced_formula for r in kept],
                    torch.tensor([len(r.structure) for r in kept]),
                    torch.tensor([float(r.formation_energy_per_atom) for r in kept]))


def capped_formation_energy(item: tuple[int, dict[str, Any]], calculator: str, max_energy: float,
                            ) -> tuple[int, float]:
    """An executor task: ``(index, structure dict)`` -> ``(index, formation energy per atom)`` with the worker's
    calculator, capped at ``max_energy`` (also the value of a failed evaluation)."""
    from pymatgen.core import Structure

    from ase_lcom.calculators import CalculatorError, ReferenceEnergies, energy_per_atom
    from ase_lcom.execution import worker_calculator, worker_resource

    index, data = item
    structure = Structure.from_dict(data)
    references = worker_resource(("references", calculator), lambda: ReferenceEnergies(calculator))
    try:
        energy = references.formation_energy_per_atom(structure,
                                                      energy_per_atom(structure, worker_calculator(calculator)))
    except CalculatorError:
        energy = max_energy
    return index, min(energy, max_energy)


def scored_seed_bank(model: LCOMModel, structures: list[Any], formulas: list[str], calculator: str,
                     max_energy: float, executor: Executor) -> SeedBank:
    """Latent means of ``structures`` with their capped formation energies by ``calculator``, evaluated as tasks
    of ``executor`` (:func:`capped_formation_energy`)."""
    task = partial(capped_formation_energy, calculator=calculator, max_energy=max_energy)
    energies = [max_energy] * len(structures)
    for outcome in executor.map_unordered(task, list(enumerate(structure.as_dict() for structure in structures))):
        index, energy = outcome.get()  # an unexpected error is raised as itself
        energies[index] = energy
    return SeedBank(model.encode(structures), formulas, torch.tensor([len(s) for s in structures]),
                    torch.tensor(energies))


def decode_seed_bank(
    model: LCOMModel,
    seeds: SeedBank,
    calculator: str,
    path: Path,
    chunk: int = 64,
    max_energy: float = 5.0,
    seed: int = 0,
    progress: bool = True,
    executor: Executor | None = None,
) -> SeedBank:
    """Stage 2: decoded, symmetrised, calculator-scored and re-encoded versions of every seed latent.

    Formation energies above ``max_energy`` eV/atom (overlapping atoms; failed evaluations) are capped there so
    a few broken crystals do not dominate the surrogate's standardisation. Saved after every ``chunk`` latents
    to ``path``; a rerun continues from there. The single points run as tasks of ``executor`` (default: in this
    process), each worker with its own calculator.
    """
    from tqdm.auto import tqdm

    from ase_lcom.execution import SerialExecutor
    from ase_lcom.symmetry import symmetrize

    executor = executor or SerialExecutor()

    done = SeedBank.from_content(load_checkpoint(path, "decoded")) if path.exists() else SeedBank(
        torch.zeros(0, seeds.latents.shape[1]), [], torch.zeros(0, dtype=torch.long), torch.zeros(0))
    total = len(seeds.formulas)
    bar = tqdm(total=total, initial=len(done.formulas), desc=f"decode + {calculator}", unit="crystal",
               disable=not progress)
    for start in range(len(done.formulas), total, chunk):
        rows = range(start, min(start + chunk, total))
        cells = [seeds.cell(i) for i in rows]
        decoded = [symmetrize(s)[0] for s in model.decode(seeds.latents[list(rows)], cells, seed=seed + start)]
        done = done + scored_seed_bank(model, decoded, [seeds.formulas[i] for i in rows], calculator, max_energy,
                                       executor)
        content = {"format": "decoded", **done.to_content()}
        save_checkpoint(content, path)
        done = SeedBank.from_content(content)  # as stored (float16 latents), so a resumed build sees the same
        bar.update(len(rows))
    bar.close()
    return done


def records_digest(records: list[Any]) -> str:
    """sha256 over what :func:`encode_records` reads of each record (formula, formation energy, lattice and
    fractional coordinates to 1e-4)."""
    digest = hashlib.sha256()
    for record in records:
        if record.formation_energy_per_atom is None:
            continue
        structure = record.structure
        digest.update(f"{structure.composition.formula}|{float(record.formation_energy_per_atom):.6f}|".encode())
        digest.update(np.round(structure.lattice.matrix, 4).tobytes())
        digest.update(np.round(structure.frac_coords, 4).tobytes())
    return digest.hexdigest()


def _check_work_settings(work: Path, settings: dict[str, Any]) -> None:
    """Record the build's settings in ``work/settings.json``, or refuse a rerun with others."""
    path = work / "settings.json"
    stored = read_json(path)
    if stored is None:
        write_json(path, settings, indent=1)
    else:
        check_unchanged("train lcom setting", stored, settings, path, error=CheckpointError,
                        fix=f"use another --work-dir (or remove {work}) to build with other settings")


def build_lcom_model(
    cdvae_checkpoint: str | os.PathLike,
    records: list[Any],
    out: str | os.PathLike,
    work_dir: str | os.PathLike,
    config: SurrogateTrainConfig | None = None,
    card: dict[str, Any] | None = None,
    progress: bool = True,
    hidden: int | None = None,
    decoded_calculator: str | None = "chgnet",
    whiten_latents: bool = True,
    name: str | None = None,
    volume_factors: tuple[float, ...] = (),
) -> LCOMModel:
    """Encode the data, decode and score it (``decoded_calculator``; None skips), train the COMs and SL
    surrogates (same settings but alpha = 0; ``hidden`` units per layer, default :class:`SurrogateConfig`'s;
    ``whiten_latents`` as in :class:`SurrogateConfig`) on both and save the bundle, named ``name`` (default:
    the file stem of ``out``). ``volume_factors`` adds every data crystal strained to those volumes, scored by
    ``decoded_calculator`` (:func:`ase_lcom.training.strained.strained_seed_bank`). A rerun with the same
    ``work_dir`` continues the build, with the same settings.

    Raises
    ------
    CheckpointError
        ``work_dir`` holds a build with another CD-VAE, other data or other settings (only ``name`` and
        ``card`` may change).
    """
    from ase_lcom.training.strained import check_volume_factors, strained_seed_bank

    volume_factors = check_volume_factors(volume_factors)
    if volume_factors and not decoded_calculator:
        raise InvalidValueError("volume factors need a calculator to score the strained crystals "
                                "(decoded_calculator is None)")
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    cdvae, cdvae_content = load_cdvae(cdvae_checkpoint)
    base = config or SurrogateTrainConfig()
    _check_work_settings(work, {"cdvae_sha256": sha256_of(Path(cdvae_checkpoint)),
                                "data_sha256": records_digest(records), "surrogate": asdict(base), "hidden": hidden,
                                "whiten_latents": whiten_latents, "decoded_calculator": decoded_calculator,
                                **({"volume_factors": list(volume_factors)} if volume_factors else {})})
    model = LCOMModel(cdvae, {}, SeedBank(torch.zeros(0, 1), [], torch.zeros(0), torch.zeros(0)),
                      name=name or Path(out).stem)
    latents_path = work / "latents.pt"
    timings: dict[str, float] = {}
    if latents_path.exists():
        model.seeds = SeedBank.from_content(load_checkpoint(latents_path, "latents"))
    else:
        start = time.perf_counter()
        content = {"format": "latents", **encode_records(model, records, progress=progress).to_content()}
        timings["encode_seconds"] = time.perf_counter() - start
        save_checkpoint(content, latents_path)
        model.seeds = SeedBank.from_content(content)  # as stored, so a resumed build sees the same latents
    seeds = training = model.seeds
    if decoded_calculator:
        decoded_path = work / f"decoded-{decoded_calculator}.pt"
        start, fresh = time.perf_counter(), not decoded_path.exists()
        decoded = decode_seed_bank(model, seeds, decoded_calculator, decoded_path, progress=progress)
        if fresh:
            timings["decode_seconds"] = time.perf_counter() - start
        training = seeds + decoded
    strained_rows = 0
    if volume_factors:
        strained_path = work / f"strained-{decoded_calculator}.pt"
        start, fresh = time.perf_counter(), not strained_path.exists()
        strained = strained_seed_bank(model, records, volume_factors, decoded_calculator, strained_path,
                                      progress=progress)
        if fresh:
            timings["strain_seconds"] = time.perf_counter() - start
        training, strained_rows = training + strained, len(strained.formulas)
    compositions = composition_tensor([Composition(f) for f in training.formulas])
    contents: dict[str, dict[str, Any]] = {}
    for which, cfg in (("coms", replace(base, conservative=True)), ("sl", replace(base, conservative=False))):
        path = work / f"surrogate-{which}.pt"
        if path.exists():
            contents[which] = load_checkpoint(path, "surrogate")
        else:
            start = time.perf_counter()
            architecture = SurrogateConfig(latent_dim=seeds.latents.shape[1], whiten_latents=whiten_latents,
                                           **({"hidden": hidden} if hidden else {}))
            surrogate, run = train_surrogate(training.latents, compositions, training.energies, cfg, architecture,
                                             progress=progress, desc=f"train {which} surrogate")
            run["seconds"] = time.perf_counter() - start
            contents[which] = surrogate_content(surrogate, run)
            save_checkpoint(contents[which], path)
        model.surrogates[which] = BundledSurrogate.from_content(contents[which], str(path))
    history = cdvae_content.get("history", [])
    model.card = {
        **(card or {}),
        "structures": len(seeds.formulas),
        "compositions": len(set(seeds.formulas)),
        "decoded_rows": len(training.formulas) - len(seeds.formulas) - strained_rows,
        "strained_rows": strained_rows,
        "volume_factors": list(volume_factors),
        "decoded_calculator": decoded_calculator,
        "cdvae_epochs": cdvae_content.get("epoch"),
        "cdvae_init": cdvae_content.get("init"),
        "cdvae_train_seconds": float(sum(h.get("seconds", 0.0) for h in history)),
        "cdvae_val_losses": history[-1] if history else {},
        "cdvae_history": history,
        "surrogates": {name: {"seconds": part.get("seconds"), "config": part["config"],
                              "final": part["history"][-1] if part["history"] else {}, "history": part["history"]}
                       for name, part in contents.items()},
        **timings,
    }
    model.save(out)
    return LCOMModel.load(out)
