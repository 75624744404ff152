"""pymatgen transformations and structure-level adapters around the CD-VAE and LCOM.

``CDVAEReconstruction`` is a one-to-many transformation (encode a structure, decode several samples, ranked by
how closely they reproduce the input); ``sample_from_prior`` draws crystals of a composition from N(0, I);
``LCOMTransformation`` predicts the structure of a structure's composition, seeded by the structure itself,
for use in ``StandardTransmuter`` pipelines.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure
from pymatgen.transformations.transformation_abc import AbstractTransformation

from ase_lcom.models.cdvae import CDVAE
from ase_lcom.structure import CrystalBatch, FormulaLike, cell_composition


def _load_model(checkpoint: str | os.PathLike | None) -> CDVAE:
    """A CD-VAE checkpoint, or the CD-VAE of the shipped default LCOM model when ``checkpoint`` is None."""
    from ase_lcom.lcom.model import cached_model
    from ase_lcom.training.cdvae import load_cdvae

    if checkpoint is None:
        return cached_model(None).cdvae
    return load_cdvae(checkpoint)[0]


def sample_from_prior(
    model: CDVAE,
    formula: FormulaLike,
    z: int | None = None,
    n_samples: int = 4,
    num_levels: int = 20,
    steps_per_level: int = 2,
    seed: int = 0,
) -> list[Structure]:
    """``n_samples`` crystals of ``formula`` (``z`` formula units per cell) decoded from latents drawn from N(0, I)."""
    composition = cell_composition(formula, z)
    numbers = [el.Z for el, amount in composition.items() for _ in range(int(amount))]
    generator = torch.Generator().manual_seed(seed)
    dtype = next(model.parameters()).dtype
    latents = torch.randn(n_samples, model.cfg.encoder.latent_dim, generator=generator, dtype=dtype)
    crystals = model.decode(latents, torch.tensor(numbers * n_samples), torch.full((n_samples,), len(numbers)),
                            num_levels, steps_per_level, generator)
    return crystals.to_structures()


class _OneToManyTransformation(AbstractTransformation):
    """A one-to-many pymatgen transformation without inverse, serialised by its constructor arguments
    (``_fields``), so transmuter histories round-trip through ``as_dict``/``from_dict``."""

    _fields: tuple[str, ...] = ()

    @property
    def inverse(self) -> None:
        return None

    @property
    def is_one_to_many(self) -> bool:
        return True

    def as_dict(self) -> dict[str, Any]:
        return {"@module": type(self).__module__, "@class": type(self).__name__,
                **{name: getattr(self, name) for name in self._fields}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Any:
        return cls(**{k: v for k, v in d.items() if not k.startswith("@")})


class CDVAEReconstruction(_OneToManyTransformation):
    """Encode a structure with a CD-VAE and decode ``n_samples`` reconstructions.

    Parameters
    ----------
    checkpoint
        A CD-VAE checkpoint (``best.pt`` of ``ase-lcom train cdvae``); default: the shipped model's CD-VAE.
    n_samples
        Reconstructions per structure; with ``return_ranked_list`` all are returned, best first (smallest
        StructureMatcher RMS displacement from the input, unmatched ones last).
    num_levels, steps_per_level
        Langevin sampling budget.
    seed
        Random seed of the sampler.
    """

    _fields = ("checkpoint", "n_samples", "num_levels", "steps_per_level", "seed")

    def __init__(self, checkpoint: str | os.PathLike | None = None, n_samples: int = 4, num_levels: int = 20,
                 steps_per_level: int = 2, seed: int = 0) -> None:
        self.checkpoint = None if checkpoint is None else str(checkpoint)
        self.n_samples = n_samples
        self.num_levels = num_levels
        self.steps_per_level = steps_per_level
        self.seed = seed
        self._model: CDVAE | None = None

    @property
    def model(self) -> CDVAE:
        if self._model is None:
            self._model = _load_model(self.checkpoint)
        return self._model

    def apply_transformation(self, structure: Structure, return_ranked_list: bool | int = False) -> Any:
        model = self.model
        dtype = next(model.parameters()).dtype
        batch = CrystalBatch.from_structures([structure] * self.n_samples, dtype=dtype)
        with torch.no_grad():
            mu, _ = model.encode(batch)
        generator = torch.Generator().manual_seed(self.seed)
        samples = model.decode(mu, batch.atomic_numbers, batch.num_atoms, self.num_levels, self.steps_per_level,
                               generator).to_structures()
        matcher = StructureMatcher()
        scored = []
        for sample in samples:
            rms = matcher.get_rms_dist(structure, sample)
            scored.append({"structure": sample, "rms_dist": None if rms is None else float(rms[0])})
        scored.sort(key=lambda item: float("inf") if item["rms_dist"] is None else item["rms_dist"])
        if not return_ranked_list:
            return scored[0]["structure"]
        return scored[: int(return_ranked_list)] if return_ranked_list is not True else scored


class LCOMTransformation(_OneToManyTransformation):
    """Predict the structure of the input's composition with a latent predictor, seeded by the input.

    The input's composition and cell size (formula units) are kept; its latent joins the seed bank's seeds.
    One-to-many: ``return_ranked_list=k`` gives the best ``k`` as ``{"structure", "energy_per_atom",
    "spacegroup"}`` dicts, lowest surrogate (or, with ``relax``, validated) energy first.

    Parameters
    ----------
    model
        Path to an LCOM bundle; ``None`` for the shipped default.
    predictor
        ``"lcom"``, ``"sl"`` or ``"cdvae"``.
    n_candidates, steps, seed, relax
        Passed to :meth:`LatentPredictor.predict_candidates`.
    """

    _fields = ("model", "predictor", "n_candidates", "steps", "seed", "relax")

    def __init__(self, model: str | os.PathLike | None = None, predictor: str = "lcom", n_candidates: int = 8,
                 steps: int | None = None, seed: int = 0, relax: bool = False) -> None:
        self.model = None if model is None else str(model)
        self.predictor = predictor
        self.n_candidates = n_candidates
        self.steps = steps
        self.seed = seed
        self.relax = relax

    def apply_transformation(self, structure: Structure, return_ranked_list: bool | int = False) -> Any:
        from ase_lcom.lcom.predictor import CDVAEPredictor, LCOMPredictor, SLPredictor

        classes = {"lcom": LCOMPredictor, "sl": SLPredictor, "cdvae": CDVAEPredictor}
        if self.predictor not in classes:
            raise ValueError(f"unknown latent predictor {self.predictor!r}; choose from {', '.join(classes)}")
        composition = structure.composition
        units = int(round(composition.num_atoms / composition.reduced_composition.num_atoms))
        candidates = classes[self.predictor](self.model).predict_candidates(
            composition.reduced_formula, z=units, n_candidates=self.n_candidates, seed=self.seed, relax=self.relax,
            steps=self.steps, seed_structures=[structure])
        if not return_ranked_list:
            return candidates[0].structure
        ranked = [{"structure": c.structure, "spacegroup": c.info["spacegroup"],
                   "energy_per_atom": c.validated_energy_per_atom if self.relax else c.energy_per_atom}
                  for c in candidates]
        return ranked if return_ranked_list is True else ranked[: int(return_ranked_list)]
