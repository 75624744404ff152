"""An optional stage of an LCOM build: the data crystals at other volumes, scored by the calculator and encoded.

Decoded crystals are often mis-scaled. The v5 preview's surrogate ranked first, for MgS, ZnS and CdS, decoded
cells compressed to 13 A^3/atom, 0.15-1.35 eV/atom above the best of the same candidates by CHGNet
(BENCHMARKS.md, "Why the pure method lost ground"): the data rows are relaxed, and one decode per data latent
shows the surrogate few crystals far from their volume. These rows show it every data crystal isotropically
strained to each of ``volume_factors`` times its volume, with the (higher) energies it has there, so that a
latent that decodes compressed or stretched is not scored like the relaxed crystal.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ase_lcom.errors import InvalidValueError
from ase_lcom.execution import Executor, SerialExecutor
from ase_lcom.models.bundle import LCOMModel, SeedBank
from ase_lcom.models.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from ase_lcom.training.lcom import scored_seed_bank

MAX_STRAIN = 3.0
"""Volume factors must lie in (1 / MAX_STRAIN, MAX_STRAIN) and differ from 1."""


def check_volume_factors(factors: Sequence[float]) -> tuple[float, ...]:
    """``factors`` as a tuple, or :class:`InvalidValueError` naming the first that is not a usable strain."""
    checked = tuple(float(f) for f in factors)
    for factor in checked:
        if not 1 / MAX_STRAIN < factor < MAX_STRAIN or factor == 1.0:
            raise InvalidValueError(f"volume factor {factor:g} must lie between {1 / MAX_STRAIN:.3g} and "
                                    f"{MAX_STRAIN:g} and differ from 1")
    return checked


def strained_seed_bank(
    model: LCOMModel,
    records: Sequence[Any],
    volume_factors: Sequence[float],
    calculator: str,
    path: Path,
    chunk: int = 64,
    max_energy: float = 5.0,
    progress: bool = True,
    executor: Executor | None = None,
) -> SeedBank:
    """Every record with a formation energy at each volume factor (record-major), its formation energy by
    ``calculator`` (single point, capped at ``max_energy`` like the decoded rows) and its latent mean.

    Saved after every ``chunk`` rows to ``path``; a rerun continues from there, and refuses
    (:class:`CheckpointError`) a file made with other factors, calculator or cap, or holding more rows than asked.
    """
    from tqdm.auto import tqdm

    factors = check_volume_factors(volume_factors)
    executor = executor or SerialExecutor()
    kept = [r for r in records if r.formation_energy_per_atom is not None]
    jobs = [(r.structure, f) for r in kept for f in factors]
    made_with = {"volume_factors": list(factors), "calculator": calculator, "max_energy": max_energy}
    done = SeedBank(torch.zeros(0, model.cdvae.cfg.encoder.latent_dim), [], torch.zeros(0, dtype=torch.long),
                    torch.zeros(0))
    if path.exists():
        content = load_checkpoint(path, "strained")
        if content.get("made_with") != made_with or len(content["formulas"]) > len(jobs):
            raise CheckpointError(f"{path} holds {len(content['formulas'])} strained rows made with "
                                  f"{content.get('made_with')}, not {len(jobs)} with {made_with}: "
                                  "remove it to start over")
        done = SeedBank.from_content(content)
    bar = tqdm(total=len(jobs), initial=len(done.formulas), desc=f"strain + {calculator}", unit="crystal",
               disable=not progress)
    for start in range(len(done.formulas), len(jobs), chunk):
        strained = []
        for structure, factor in jobs[start:start + chunk]:
            cell = structure.copy()
            cell.scale_lattice(structure.volume * factor)
            strained.append(cell)
        done = done + scored_seed_bank(model, strained, [s.composition.reduced_formula for s in strained],
                                       calculator, max_energy, executor)
        content = {"format": "strained", "made_with": made_with, **done.to_content()}
        save_checkpoint(content, path)
        done = SeedBank.from_content(content)  # as stored (float16 latents), so a resumed build sees the same
        bar.update(len(strained))
    bar.close()
    return done
