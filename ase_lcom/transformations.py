"""pymatgen transformations and structure-level adapters around the CD-VAE and LCOM.

``CDVAEReconstruction`` is a one-to-many transformation (encode a structure, decode several samples, ranked by
how closely they reproduce the input); ``sample_from_prior`` draws crystals of a composition from N(0, I);
``LCOMTransformation`` predicts the structure of a structure's composition with any installed predictor (the
latent ones seeded by the structure itself), for use in ``StandardTransmuter`` pipelines.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure
from pymatgen.transformations.transformation_abc import AbstractTransformation

from ase_lcom.models.cdvae import CDVAE
from ase_lcom.predictors import StructurePredictor, check_options, load_predictor, predictor_options
from ase_lcom.structure import CrystalBatch, FormulaLike, cell_composition


def _load_model(checkpoint: str | os.PathLike | None) -> CDVAE:
    """A CD-VAE checkpoint, or the CD-VAE of the shipped default LCOM model when ``checkpoint`` is None."""
    from ase_lcom.models.bundle import cached_model
    from ase_lcom.models.checkpoints import load_cdvae

    if checkpoint is None:
        return cached_model(None).cdvae
    return load_cdvae(checkpoint)[0]


def sample_from_prior(
    model: CDVAE,
    formula: FormulaLike,
    formula_units: int | None = None,
    n_samples: int = 4,
    num_levels: int = 20,
    steps_per_level: int = 2,
    seed: int = 0,
) -> list[Structure]:
    """``n_samples`` crystals of ``formula`` (``formula_units`` formula units per cell) decoded from latents
    drawn from N(0, I)."""
    composition = cell_composition(formula, formula_units)
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
    """Predict the structure of the input's composition with any installed predictor.

    The input's composition and cell size (formula units) are kept; predictors that start from known
    crystals (the latent ones) also seed from the input. One-to-many: ``return_ranked_list=k`` gives the best
    ``k`` as ``{"structure", "energy_per_atom", "spacegroup"}`` dicts, best first; ``energy_per_atom`` is the
    predictor's own energy, or with ``relax`` the validated one.

    Parameters
    ----------
    predictor
        An installed predictor's name (``ase-lcom list``): ``"lcom"``, ``"sl"``, ``"cdvae"``, ``"ras"``, ...
    n_candidates, seed, relax
        Passed to the predictor's ``predict_candidates``.
    **options
        The predictor's options (:func:`ase_lcom.predictors.predictor_options`), e.g. ``model`` or ``steps``
        for the latent predictors, ``budget`` for the searches. Plain values (names, paths, numbers) keep the
        transformation serialisable.

    Raises
    ------
    PluginError
        For an unknown predictor or an option it does not declare.
    """

    def __init__(self, predictor: str = "lcom", n_candidates: int = 8, seed: int = 0, relax: bool = False,
                 **options: Any) -> None:
        check_options(predictor, predictor_options(predictor), options)
        self.predictor = predictor
        self.n_candidates = n_candidates
        self.seed = seed
        self.relax = relax
        self.options = {k: str(v) if isinstance(v, os.PathLike) else v for k, v in options.items()}
        self._predictor: StructurePredictor | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"@module": type(self).__module__, "@class": type(self).__name__, "predictor": self.predictor,
                "n_candidates": self.n_candidates, "seed": self.seed, "relax": self.relax, **self.options}

    def predictor_instance(self) -> StructurePredictor:
        """The predictor, built on first use and kept."""
        if self._predictor is None:
            self._predictor = load_predictor(self.predictor, **self.options)
        return self._predictor

    def apply_transformation(self, structure: Structure, return_ranked_list: bool | int = False) -> Any:
        predictor = self.predictor_instance()
        composition = structure.composition
        units = int(round(composition.num_atoms / composition.reduced_composition.num_atoms))
        call: dict[str, Any] = {"seed_structures": [structure]} if predictor.uses_seed_structures else {}
        if self.relax:
            call["relax"] = True
        candidates = predictor.predict_candidates(composition.reduced_formula, formula_units=units,
                                                  n_candidates=self.n_candidates, seed=self.seed, **call)
        if not return_ranked_list:
            return candidates[0].structure
        ranked = [{"structure": c.structure, "spacegroup": c.info.get("spacegroup"),
                   "energy_per_atom": c.validated_energy_per_atom if self.relax else c.energy_per_atom}
                  for c in candidates]
        return ranked if return_ranked_list is True else ranked[: int(return_ranked_list)]
