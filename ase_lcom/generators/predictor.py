"""A trained fixed-lattice generator as a structure predictor: the calculator-scored best of its samples.

``GeneratorPredictor(checkpoint="runs/gan")`` answers only for the composition of the template it was trained
on (in the template's number of formula units) and returns samples of that template ranked by a calculator's
single-point formation energy, so ``predict`` and the transmuter workflows can call any generator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ase.calculators.calculator import BaseCalculator
from pymatgen.core import Composition

from ase_lcom.errors import FormulaError
from ase_lcom.generators import StructureGenerator, generator_class
from ase_lcom.models.checkpoints import CheckpointError, load_checkpoint
from ase_lcom.predictors import Candidate, StructurePredictor, check_call_options
from ase_lcom.predictors.ranking import ReferenceCache, relax_and_rerank, score_single_points
from ase_lcom.structure import FormulaLike, parse_formula
from ase_lcom.training.generator_loop import CHECKPOINT_FORMAT


def checkpoint_path(path: str | os.PathLike) -> Path:
    """``path`` itself, or for a training directory its ``generator.pt`` (else its ``last.pt``)."""
    path = Path(path)
    if path.is_dir():
        for name in ("generator.pt", "last.pt"):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"{path} holds no generator.pt or last.pt")
    return path


def load_generator(path: str | os.PathLike, device: str = "cpu") -> StructureGenerator:
    """The trained generator in a checkpoint (or training directory), whatever its kind."""
    path = checkpoint_path(path)
    name = load_checkpoint(path, CHECKPOINT_FORMAT).get("generator")
    return generator_class(str(name)).load(path, device=device)


@dataclass
class GeneratorOptions:
    """Options of :class:`GeneratorPredictor`.

    Attributes
    ----------
    checkpoint
        A trained generator: its checkpoint, its training directory, or the generator itself.
    calculator
        Calculator name for :func:`ase_lcom.calculators.get_calculator` (or an ASE calculator) that scores
        the samples.
    n_samples
        Samples drawn per prediction; the best ``n_candidates`` are returned.
    device
        Where the generator runs (``"cpu"`` or ``"cuda"``).
    relax_steps, fmax
        Optimizer steps and force threshold (eV/Angstrom) of ``relax=True``.
    """

    checkpoint: str | os.PathLike | StructureGenerator = ""
    calculator: str | BaseCalculator = "chgnet"
    n_samples: int = 64
    device: str = "cpu"
    relax_steps: int = 300
    fmax: float = 0.05


class GeneratorPredictor(StructurePredictor):
    """Samples of a trained fixed-lattice generator, ranked by a calculator's single-point formation energy."""

    name = "generator"
    Options = GeneratorOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._generator: StructureGenerator | None = None
        self._references = ReferenceCache()

    @property
    def generator(self) -> StructureGenerator:
        """The generator (loaded from ``checkpoint`` on first use)."""
        if self._generator is None:
            source = self.options.checkpoint
            if isinstance(source, StructureGenerator):
                self._generator = source
            elif not source:
                raise CheckpointError("the generator predictor needs checkpoint=PATH of a trained generator")
            else:
                self._generator = load_generator(source, self.options.device)
        return self._generator

    def _check(self, formula: FormulaLike, formula_units: int | None, template: Composition) -> int:
        """The template's formula units, after checking that ``formula`` asks for the template."""
        asked = parse_formula(formula, max_atoms=None)
        kind = self.generator.name
        if asked.reduced_composition != template.reduced_composition:
            raise FormulaError(f"this {kind} generator makes {template.formula.replace(' ', '')} only, "
                               f"not {asked.reduced_formula}")
        units = int(round(template.num_atoms / template.reduced_composition.num_atoms))
        if formula_units is not None and formula_units != units:
            raise FormulaError(f"this {kind} generator makes cells of {units} formula units only, not {formula_units}")
        return units

    def predict_candidates(self, formula: FormulaLike, formula_units: int | None = None, n_candidates: int | None = 8,
                           seed: int = 0, relax: bool = False, **options: Any) -> list[Candidate]:
        """The ``n_candidates`` best of ``n_samples`` samples, best first.

        Parameters
        ----------
        formula, formula_units
            Must be the template's composition (and its number of formula units, when given).
        seed
            Seeds the generator's sampling.
        relax
            Relax the returned candidates with the calculator and re-rank by the relaxed formation energy.
        """
        check_call_options(self, options)
        generator = self.generator
        template = getattr(generator, "template", None)  # the built-in generators expose their template record
        samples = None
        if template is None:
            samples = generator.sample(self.options.n_samples, seed=seed)
            composition = samples[0].composition if samples else Composition()
        else:
            composition = Composition(" ".join(template["species"]))
        units = self._check(formula, formula_units, composition)
        if samples is None:
            samples = generator.sample(self.options.n_samples, seed=seed)
        candidates = [Candidate(s, info={"predictor": self.name, "model": generator.name, "sample": i,
                                         "formula_units": units}) for i, s in enumerate(samples)]
        references = self._references(self.options.calculator)
        score_single_points(candidates, references)
        for candidate in candidates:
            candidate.energy_per_atom = candidate.validated_energy_per_atom
        candidates = candidates[:n_candidates]
        if relax:
            relax_and_rerank(candidates, references, fmax=self.options.fmax, steps=self.options.relax_steps,
                             symprec=None)
        return candidates
