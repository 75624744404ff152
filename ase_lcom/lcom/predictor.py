"""Latent-space structure predictors: LCOM (conservative surrogate), SL (plain surrogate), CD-VAE decode only.

All three share one pipeline on a :class:`LCOMModel`:

1. **seeds**: latent means of structures the caller passes (``seed_structures``), of the seed bank's
   structures of the target composition (the encoded training data), of the composition decorated onto the
   prototype library (rocksalt, wurtzite, perovskite, ...; ``prototypes=True``) and, to reach
   ``n_candidates``, of random symmetric cells from pyxtal, encoded;
2. **optimise**: ``steps`` gradient-descent steps on the surrogate energy (LCOM paper, eq. 5; ``steps=0`` for
   the CD-VAE baseline);
3. **decode** the ``n_candidates`` lowest-energy latents (annealed Langevin sampling), symmetrise them
   (spglib, ``symprec``) and rank by the surrogate energy of the decoded crystal (re-encoded, so the score
   belongs to the structure returned, not to the latent it came from);
4. optionally **rank by a calculator** instead (``rank_by``: one single point per candidate, no relaxation) or
   **relax** each with a calculator and re-rank by the validated formation energy.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from ase.calculators.calculator import BaseCalculator
from pymatgen.core import Composition, Structure

from ase_lcom import limits
from ase_lcom.lcom.large_cells import MAX_POLISH_ATOMS, CellPlan, direct_seeds, plan_cells
from ase_lcom.models.bundle import LCOMModel, cached_model, composition_tensor
from ase_lcom.models.surrogate import descend
from ase_lcom.predictors import Candidate, StructurePredictor, check_call_options
from ase_lcom.predictors.ranking import (
    ReferenceCache,
    polish_and_rerank,
    relax_and_rerank,
    score_single_points,
    sort_by_energy,
)
from ase_lcom.predictors.volume_scan import rescale_prototype_seeds
from ase_lcom.structure import FormulaLike, StructureLike, cell_composition, formula_unit_options, parse_formula
from ase_lcom.symmetry import symmetrize


@dataclass
class LatentOptions:
    """Options of the latent predictors (``lcom``, ``sl``, ``cdvae``).

    Attributes
    ----------
    model
        An :class:`LCOMModel`, a registered model name or a path to a bundle; ``None`` for the shipped default.
    surrogate
        Which of the bundle's surrogates optimises and ranks: ``"coms"`` (conservative) or ``"sl"``; ``None``
        for the predictor's own.
    steps, step_lr
        Gradient steps on the latent and their size (default: the surrogate's training settings).
    n_candidates
        Crystals decoded per prediction.
    num_levels, steps_per_level
        Langevin sampling budget of the decoder.
    max_atoms
        Largest cell the CD-VAE decodes (tried when the number of formula units is not given).
    max_polish_atoms
        Largest cell of the calculator-driven paths (polish, ``rank_by``, ``relax``): prototype decorations and
        random symmetric cells between ``max_atoms`` and this size are not decoded but scored and relaxed by
        the calculator directly (:mod:`ase_lcom.lcom.large_cells`). The pure method stops at ``max_atoms``.
    symprec
        spglib tolerance for symmetrising predictions (Angstrom).
    prototypes
        Also seed from the composition decorated onto the prototype structures that fit its cell size.
    rank_by
        ``None`` ranks candidates by the surrogate (no simulation); a calculator name or instance ranks them by
        its single-point formation energy (one evaluation per candidate).
    calculator
        Calculator name or instance for ``relax=True`` (formation energies against its own elemental
        references).
    relax_steps, fmax
        Optimizer steps and force threshold (eV/Angstrom) of ``relax=True``.
    polish
        The default: a calculator (name or instance) that scores the decoded crystals together with the seed
        crystals themselves (prototypes, random cells, given structures) by single points, relaxes the
        ``polish_top`` best for at most ``polish_steps`` steps with their symmetry kept, drops duplicates and
        ranks by formation energy. ``None`` is the LCOM paper's pure method: surrogate ranking, no calculator.
        Ignored when ``rank_by`` is given or ``relax=True``.
    """

    model: LCOMModel | str | os.PathLike | None = None
    surrogate: str | None = None
    steps: int | None = None
    step_lr: float | None = None
    n_candidates: int = 8
    num_levels: int = 20
    steps_per_level: int = 2
    max_atoms: int = 12
    max_polish_atoms: int = MAX_POLISH_ATOMS
    symprec: float = 0.1
    prototypes: bool = True
    rank_by: str | BaseCalculator | None = None
    calculator: str | BaseCalculator = "chgnet"
    relax_steps: int = 300
    fmax: float = 0.05
    polish: str | BaseCalculator | None = "chgnet"
    polish_top: int = 3
    polish_steps: int = 60


class SeedSet(NamedTuple):
    """Where a latent search starts: latents, their cell compositions, their origins (``given``,
    ``data:ROW``, ``prototype:NAME``, ``random``) and the crystals they encode (``None`` for data latents,
    whose structures the bundle does not keep)."""

    latents: torch.Tensor
    cells: list[Composition]
    labels: list[str]
    structures: list[Structure | None]


class LatentPredictor(StructurePredictor):
    """Predict structures by (optionally) optimising CD-VAE latents on a surrogate, then decoding.

    Takes the fields of :class:`LatentOptions` as arguments (``model`` first).
    """

    name = "lcom"
    Options = LatentOptions
    uses_seed_structures = True
    surrogate_name = "coms"
    optimise = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits.positive_int(self.max_atoms, "max_atoms")
        limits.positive_int(self.max_polish_atoms, "max_polish_atoms")
        model = self.options.model
        self.model = model if isinstance(model, LCOMModel) else cached_model(None if model is None else str(model))
        self.surrogate_name = self.options.surrogate or type(self).surrogate_name
        self.surrogate, settings = self.model.surrogate(self.surrogate_name)
        self.steps = (settings.steps if self.optimise else 0) if self.options.steps is None else self.options.steps
        self.step_lr = settings.step_lr if self.options.step_lr is None else self.options.step_lr
        if isinstance(self.polish, str) and self.polish.lower() == "none":  # how a command line says None
            self.polish = None
        self._references = ReferenceCache()
        self._load_dependencies()

    def _load_dependencies(self) -> None:
        """Load now what predictions need (the polishing calculator's weights, pyxtal for the random cells), so
        that the first prediction in a process costs what later ones do."""
        if isinstance(self.polish, str) and self.rank_by is None:
            self._references(self.polish).calculator  # noqa: B018 - builds and keeps the calculator
        import pyxtal  # noqa: F401 - ~0.7 s of imports, paid here rather than in the first prediction

    def seeds(self, formula: FormulaLike, formula_units: int | None, n_seeds: int, rng: np.random.Generator,
              seed_structures: Sequence[StructureLike] = ()) -> SeedSet:
        """Seed latents, their cell compositions, where each came from and the crystals they encode."""
        from ase_lcom.data.prototypes import decorate, random_structure
        from ase_lcom.structure import to_structure

        reduced = parse_formula(formula, max_atoms=None).reduced_formula
        units = [formula_units] if formula_units is not None else formula_unit_options(reduced, self.max_atoms)
        per_unit = int(Composition(reduced).num_atoms)
        given = [to_structure(s) for s in seed_structures]
        latents = [self.model.encode(given)] if given else []
        cells = [s.composition for s in given]
        labels = ["given"] * len(given)
        crystals: list[Structure | None] = list(given)
        sizes = [u * per_unit for u in units]
        rows = self.model.seeds.select(reduced, sizes)
        if len(rows):
            latents.append(self.model.seeds.latents[rows])
            cells += [self.model.seeds.cell(row) for row in rows.tolist()]
            labels += [f"data:{row}" for row in rows.tolist()]
            crystals += [None] * len(rows)
        if self.prototypes:  # decorate() gives primitive cells
            decorated = [(name, cell) for name, cell in decorate(reduced) if len(cell) in sizes]
            if decorated:
                latents.append(self.model.encode([cell for _, cell in decorated]))
                cells += [cell.composition for _, cell in decorated]
                labels += [f"prototype:{name}" for name, _ in decorated]
                crystals += [cell for _, cell in decorated]
        randoms = [random_structure(cell_composition(reduced, units[k % len(units)]), rng)
                   for k in range(max(0, n_seeds - len(cells)))]
        if randoms:
            latents.append(self.model.encode(randoms))
            cells += [s.composition for s in randoms]
            labels += ["random"] * len(randoms)
            crystals += randoms
        return SeedSet(torch.cat(latents), cells, labels, crystals)

    def predict_candidates(
        self, formula: FormulaLike, formula_units: int | None = None, n_candidates: int | None = None,
        seed: int = 0, relax: bool = False, steps: int | None = None,
        seed_structures: Sequence[StructureLike] = (), **options: Any,
    ) -> list[Candidate]:
        """Candidates for ``formula``, best first (see the module docstring for the pipeline).

        Parameters
        ----------
        formula, formula_units
            The composition and the formula units per cell (``None``: every cell size up to ``max_atoms``).
        n_candidates
            Crystals decoded (default: the predictor's ``n_candidates``).
        seed
            Seeds the random cells and the decoder's noise.
        relax
            Relax each candidate with ``calculator`` and re-rank by the relaxed formation energy.
        steps
            Gradient steps for this call (default: the predictor's).
        seed_structures
            Crystals of the composition whose latents join the seeds.

        Each candidate's ``info`` holds the predictor and model names, its space group, seed, cell size, the
        time taken, and ``trace``: the surrogate energy (eV/atom) of its latent along the optimisation.
        """
        check_call_options(self, options)
        start = time.perf_counter()
        calculator_driven = relax or self.rank_by is not None or self.polish is not None
        polish_limit = self.max_polish_atoms if calculator_driven else None
        typed = parse_formula(formula, max_atoms=max(self.max_atoms, self.max_polish_atoms))  # one-line errors first
        plan = plan_cells(typed.reduced_formula, formula_units, self.max_atoms, polish_limit)
        n_candidates = n_candidates or self.n_candidates
        steps = self.steps if steps is None else steps
        candidates: list[Candidate] = []
        seeded: list[Candidate] = []
        if plan.decoded_units:
            polishing = not relax and self.rank_by is None and self.polish is not None
            candidates, seeded = self._decoded_candidates(formula, formula_units, n_candidates, seed, steps,
                                                          seed_structures, plan.per_unit, start, polishing)
        direct = self._direct_candidates(plan, n_candidates, seed,
                                         () if plan.decoded_units else seed_structures)
        if relax:
            candidates += direct
            relax_and_rerank(candidates, self._references(self.calculator), fmax=self.fmax, steps=self.relax_steps,
                             symprec=self.symprec)
        elif self.rank_by is not None:
            references = self._references(self.rank_by)
            rescale_prototype_seeds(direct, references.calculator)
            candidates += direct
            score_single_points(candidates, references)
        elif self.polish is not None:
            references = self._references(self.polish)
            rescale_prototype_seeds(seeded + direct, references.calculator)
            candidates = polish_and_rerank(candidates + seeded + direct, references, top=self.polish_top,
                                           steps=self.polish_steps, symprec=self.symprec)
        if direct or self.polish is not None:
            for candidate in candidates:
                candidate.info["seconds"] = time.perf_counter() - start
        return candidates

    def _decoded_candidates(self, formula: FormulaLike, formula_units: int | None, n_candidates: int, seed: int,
                            steps: int, seed_structures: Sequence[StructureLike], per_unit: int,
                            start: float, with_seeds: bool) -> tuple[list[Candidate], list[Candidate]]:
        """The latent search: decoded candidates ranked by the surrogate, and (``with_seeds``, for the polish) the
        seed crystals as candidates."""
        latents, cells, labels, crystals = self.seeds(formula, formula_units, n_candidates,
                                                      np.random.default_rng(seed), seed_structures)
        composition = composition_tensor(cells)
        final, trace = descend(self.surrogate, latents, composition, steps, self.step_lr)
        trace = trace * self.surrogate.energy_std + self.surrogate.energy_mean
        chosen = torch.argsort(trace[-1])[:n_candidates]
        decoded = self.model.decode(final[chosen], [cells[i] for i in chosen], self.num_levels,
                                    self.steps_per_level, seed)
        symmetrized = [symmetrize(s, self.symprec) for s in decoded]
        structures = [s for s, _, _ in symmetrized]
        energies = self.model.energies(structures, self.surrogate_name)
        elapsed = time.perf_counter() - start
        candidates = [
            Candidate(structure, float(energy), info={
                "predictor": self.name, "model": self.model.name, "spacegroup": symbol,
                "spacegroup_number": number, "seed": labels[i], "num_atoms": len(decoded[k]),
                "formula_units": len(decoded[k]) // per_unit, "latent_energy": float(trace[-1, i]),
                "trace": trace[:, i].tolist(), "seconds": elapsed})
            for k, (i, (structure, symbol, number), energy) in enumerate(zip(chosen.tolist(), symmetrized,
                                                                           energies, strict=True))]
        sort_by_energy(candidates)
        return candidates, self._seed_candidates(crystals, labels, trace[0], per_unit) if with_seeds else []

    def _direct_candidates(self, plan: CellPlan, n_candidates: int, seed: int,
                           given: Sequence[StructureLike]) -> list[Candidate]:
        """Crystals of the calculator-only cell sizes (prototypes, random cells, given seeds), undecoded, with
        the surrogate energy of their encoding."""
        from ase_lcom.structure import to_structure

        seeds = [("given", to_structure(s)) for s in given]
        seeds += direct_seeds(plan, n_candidates - len(seeds), np.random.default_rng([seed, 1]), self.prototypes)
        if not seeds:
            return []
        symmetrized = [symmetrize(crystal, self.symprec) for _, crystal in seeds]
        energies = self.model.energies([s for s, _, _ in symmetrized], self.surrogate_name)
        return [Candidate(structure, float(energy), info={
                    "predictor": self.name, "model": self.model.name, "spacegroup": symbol,
                    "spacegroup_number": number, "seed": label, "num_atoms": len(structure),
                    "formula_units": len(structure) // plan.per_unit, "undecoded": True})
                for (label, _), (structure, symbol, number), energy in zip(seeds, symmetrized, energies, strict=True)]

    def _seed_candidates(self, crystals: Sequence[Structure | None], labels: Sequence[str],
                         latent_energies: torch.Tensor, per_unit: int) -> list[Candidate]:
        """The seed crystals themselves as candidates (their surrogate energy is that of their latent)."""
        out = []
        for crystal, label, energy in zip(crystals, labels, latent_energies.tolist(), strict=True):
            if crystal is None:
                continue
            structure, symbol, number = symmetrize(crystal, self.symprec)
            out.append(Candidate(structure, float(energy), info={
                "predictor": self.name, "model": self.model.name, "spacegroup": symbol,
                "spacegroup_number": number, "seed": label, "num_atoms": len(structure),
                "formula_units": len(structure) // per_unit, "undecoded": True}))
        return out


class LCOMPredictor(LatentPredictor):
    """LCOM: gradient descent on the conservative surrogate (the shipped default model unless given one).

    >>> from ase_lcom import LCOMPredictor
    >>> LCOMPredictor().predict("ZnO")  # doctest: +SKIP
    Structure Summary ...
    """

    name = "lcom"
    surrogate_name = "coms"


class SLPredictor(LatentPredictor):
    """The paper's SL baseline: the same search on a plain supervised surrogate (no conservative term)."""

    name = "sl"
    surrogate_name = "sl"


class CDVAEPredictor(LatentPredictor):
    """The CD-VAE-only baseline: decode the seed latents without optimisation, ranked by the surrogate."""

    name = "cdvae"
    surrogate_name = "coms"
    optimise = False
