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
from typing import Any

import numpy as np
import torch
from pymatgen.core import Composition, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from ase_lcom.lcom.model import LCOMModel, cached_model, composition_tensor
from ase_lcom.models.surrogate import descend
from ase_lcom.predictors import Candidate, StructurePredictor
from ase_lcom.structure import FormulaLike, StructureLike, cell_composition, formula_unit_options, parse_formula


def symmetrize(structure: Structure, symprec: float = 0.1) -> tuple[Structure, str, int]:
    """The primitive standard cell of ``structure`` at tolerance ``symprec`` with its space group symbol and
    number; the input unchanged, labelled P1, when spglib finds no symmetry beyond the identity."""
    # spglib's C library prints a warning line for every distorted cell it gives up on (many decoded crystals);
    # the outcome is handled here, so keep them quiet unless the user asked for them
    os.environ.setdefault("SPGLIB_WARNING", "OFF")
    try:
        analyzer = SpacegroupAnalyzer(structure, symprec=symprec)
        number = analyzer.get_space_group_number()
        if number > 1:
            return analyzer.get_primitive_standard_structure(), analyzer.get_space_group_symbol(), number
    except Exception:  # spglib gives up on some distorted cells; the raw structure is still a prediction
        pass
    return structure, "P1", 1


class LatentPredictor(StructurePredictor):
    """Predict structures by (optionally) optimising CD-VAE latents on a surrogate, then decoding.

    Parameters
    ----------
    model
        An :class:`LCOMModel`, a path to a bundle, or ``None`` for the shipped default.
    surrogate
        Which of the bundle's surrogates optimises and ranks: ``"coms"`` (conservative) or ``"sl"``.
    steps, step_lr
        Gradient steps on the latent and their size (default: the surrogate's training settings).
    n_candidates
        Crystals decoded per prediction.
    num_levels, steps_per_level
        Langevin sampling budget of the decoder.
    max_atoms
        Largest cell tried when ``z`` is not given.
    symprec
        spglib tolerance for symmetrising predictions (Angstrom).
    prototypes
        Also seed from the composition decorated onto the prototype structures that fit its cell size.
    rank_by
        ``None`` ranks candidates by the surrogate (no simulation); a calculator name ranks them by its
        single-point formation energy (one evaluation per candidate).
    calculator
        Calculator name for ``relax=True`` (formation energies against its own elemental references).
    """

    name = "lcom"
    surrogate_name = "coms"
    optimise = True

    def __init__(self, model: LCOMModel | str | os.PathLike | None = None, surrogate: str | None = None,
                 steps: int | None = None, step_lr: float | None = None, n_candidates: int = 8,
                 num_levels: int = 20, steps_per_level: int = 2, max_atoms: int = 12, symprec: float = 0.1,
                 prototypes: bool = True, rank_by: str | None = None, calculator: str = "chgnet",
                 relax_steps: int = 300, fmax: float = 0.05) -> None:
        self.model = model if isinstance(model, LCOMModel) else cached_model(None if model is None else str(model))
        self.surrogate_name = surrogate or self.surrogate_name
        self.surrogate, settings = self.model.surrogate(self.surrogate_name)
        self.steps = (settings.steps if self.optimise else 0) if steps is None else steps
        self.step_lr = settings.step_lr if step_lr is None else step_lr
        self.n_candidates = n_candidates
        self.num_levels = num_levels
        self.steps_per_level = steps_per_level
        self.max_atoms = max_atoms
        self.symprec = symprec
        self.prototypes = prototypes
        self.rank_by = rank_by
        self.calculator = calculator
        self.relax_steps = relax_steps
        self.fmax = fmax

    def seeds(self, formula: FormulaLike, z: int | None, n_seeds: int, rng: np.random.Generator,
              seed_structures: Sequence[StructureLike] = ()) -> tuple[torch.Tensor, list[Composition], list[str]]:
        """Seed latents, their cell compositions and where each came from."""
        from ase_lcom.data.prototypes import decorate, random_structure
        from ase_lcom.structure import to_structure

        reduced = parse_formula(formula).reduced_formula
        units = [z] if z is not None else formula_unit_options(reduced, self.max_atoms)
        per_unit = int(Composition(reduced).num_atoms)
        given = [to_structure(s) for s in seed_structures]
        latents = [self.model.encode(given)] if given else []
        cells = [s.composition for s in given]
        labels = ["given"] * len(given)
        sizes = [u * per_unit for u in units]
        rows = self.model.seeds.select(reduced, sizes)
        if len(rows):
            latents.append(self.model.seeds.latents[rows])
            cells += [self.model.seeds.cell(row) for row in rows.tolist()]
            labels += [f"data:{row}" for row in rows.tolist()]
        if self.prototypes:  # decorate() gives primitive cells
            decorated = [(name, cell) for name, cell in decorate(reduced) if len(cell) in sizes]
            if decorated:
                latents.append(self.model.encode([cell for _, cell in decorated]))
                cells += [cell.composition for _, cell in decorated]
                labels += [f"prototype:{name}" for name, _ in decorated]
        randoms = [random_structure(cell_composition(reduced, units[k % len(units)]), rng)
                   for k in range(max(0, n_seeds - len(cells)))]
        if randoms:
            latents.append(self.model.encode(randoms))
            cells += [s.composition for s in randoms]
            labels += ["random"] * len(randoms)
        return torch.cat(latents), cells, labels

    def predict_candidates(
        self, formula: FormulaLike, z: int | None = None, n_candidates: int | None = None, seed: int = 0,
        relax: bool = False, steps: int | None = None, seed_structures: Sequence[StructureLike] = (),
        **options: Any,
    ) -> list[Candidate]:
        """Candidates for ``formula``, best first (see the module docstring for the pipeline).

        Each candidate's ``info`` holds its space group, seed, cell size, the time taken, and ``trace``: the
        surrogate energy (eV/atom) of its latent along the optimisation.
        """
        if options:
            raise TypeError(f"unexpected options for predictor {self.name!r}: {', '.join(options)}")
        start = time.perf_counter()
        parse_formula(formula)  # one-line errors for bad input before any work
        n_candidates = n_candidates or self.n_candidates
        steps = self.steps if steps is None else steps
        torch.manual_seed(seed)
        latents, cells, labels = self.seeds(formula, z, n_candidates, np.random.default_rng(seed), seed_structures)
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
                "predictor": self.name, "spacegroup": symbol, "spacegroup_number": number,
                "seed": labels[i], "num_atoms": len(decoded[k]), "latent_energy": float(trace[-1, i]),
                "trace": trace[:, i].tolist(), "seconds": elapsed})
            for k, (i, (structure, symbol, number), energy) in enumerate(zip(chosen.tolist(), symmetrized,
                                                                           energies))]
        candidates.sort(key=lambda c: c.energy_per_atom)
        if relax:
            self.relax_candidates(candidates)
        elif self.rank_by:
            self.rank_candidates(candidates, self.rank_by)
        return candidates

    def rank_candidates(self, candidates: list[Candidate], calculator_name: str) -> None:
        """Re-rank candidates in place by a calculator's single-point formation energy (no relaxation)."""
        from ase_lcom.calculators import ReferenceEnergies, energy_per_atom

        references = ReferenceEnergies(calculator_name)
        for candidate in candidates:
            energy = energy_per_atom(candidate.structure, references.calculator)
            candidate.validated_energy_per_atom = references.formation_energy_per_atom(candidate.structure, energy)
            candidate.info["ranked_by"] = calculator_name
        candidates.sort(key=lambda c: c.validated_energy_per_atom)

    def relax_candidates(self, candidates: list[Candidate]) -> None:
        """Relax each candidate in place with the calculator; re-rank by validated formation energy."""
        from ase_lcom.calculators import ReferenceEnergies, get_calculator, relax

        calculator = get_calculator(self.calculator)
        references = ReferenceEnergies(self.calculator)
        for candidate in candidates:
            result = relax(candidate.structure, calculator, fmax=self.fmax, steps=self.relax_steps)
            candidate.info["unrelaxed"] = candidate.structure
            candidate.structure = symmetrize(result.structure, self.symprec)[0]
            candidate.validated_energy_per_atom = references.formation_energy_per_atom(
                result.structure.composition, result.energy_per_atom)
            candidate.info.update(relax_converged=result.converged, relax_steps=result.steps)
        candidates.sort(key=lambda c: c.validated_energy_per_atom)


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
