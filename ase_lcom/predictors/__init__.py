"""Structure predictors: the common interface and the registry behind ``ase_lcom.predictors`` entry points.

A predictor turns a formula (optionally a number of formula units per cell) into ranked candidate crystals.
It declares its settings as a dataclass, :attr:`StructurePredictor.Options`; the constructor takes exactly
those fields, so a command line or a pipeline can configure any predictor without knowing it by name::

    predictor_options("ras")           # the dataclass: its fields, types and defaults
    load_predictor("ras", budget=50)   # an unknown option is a one-line PluginError

Any installed package can add a predictor by declaring, in its own metadata::

    [options.entry_points]
    ase_lcom.predictors =
        mymethod = mypackage.module:MyPredictor

where ``MyPredictor`` subclasses :class:`StructurePredictor`. ``ase-lcom list`` shows what is installed.
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from importlib.metadata import EntryPoint
from typing import Any, ClassVar

from pymatgen.core import Structure

from ase_lcom import limits
from ase_lcom.errors import FormulaError, InvalidValueError, LowSymmetryWarning, PluginError, StructureError
from ase_lcom.plugins import installed, load_plugin
from ase_lcom.structure import FormulaLike, parse_formula, to_structure, validate_structure

MAX_CANDIDATES = 10_000
"""Most candidates one call may ask for."""

ENTRY_POINT_GROUP = "ase_lcom.predictors"


@dataclass
class Candidate:
    """One predicted crystal with the scores it was ranked by."""

    structure: Structure
    energy_per_atom: float | None = None
    """The predictor's own energy estimate, eV/atom (surrogate or calculator); ``None`` when it has none."""
    validated_energy_per_atom: float | None = None
    """Formation energy from a validating calculator, when one was run: after relaxation, or a single point
    when only ranking (eV/atom); ``None`` also when that calculation failed (``info["error"]`` says why)."""
    info: dict[str, Any] = field(default_factory=dict)
    """What produced the candidate (``predictor``, ``model``) and how it was found; predictor-specific."""


@dataclass(frozen=True)
class NoOptions:
    """The options of a predictor that has none."""


def option_names(options: type) -> list[str]:
    """The field names of an options dataclass, in declaration order."""
    return [f.name for f in fields(options)]


def check_options(name: str, options: type, given: dict[str, Any]) -> None:
    """Raise a one-line :class:`PluginError` when ``given`` holds a name that ``options`` does not declare."""
    valid = option_names(options)
    unknown = [key for key in given if key not in valid]
    if unknown:
        listed = ", ".join(valid) or "none"
        raise PluginError(f"predictor {name!r} has no option {unknown[0]!r}; its options: {listed}")


def check_call_options(predictor: StructurePredictor, given: dict[str, Any]) -> None:
    """Raise a one-line :class:`PluginError` for per-call options ``predictor.predict_candidates`` does not take
    (``given`` is what its ``**options`` collected)."""
    if given:
        parameters = inspect.signature(predictor.predict_candidates).parameters.values()
        takes = [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY
                 or (p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.default is not inspect.Parameter.empty)]
        raise PluginError(f"predictor {predictor.name!r} has no call option {next(iter(given))!r}; "
                          f"predict_candidates takes: {', '.join(takes)}")


class StructurePredictor(ABC):
    """Predicts crystal structures for a composition; subclasses implement :meth:`predict_candidates`.

    The constructor takes the fields of the class's :attr:`Options` dataclass (positionally in their order,
    or by name), keeps them in :attr:`options` and as attributes of the same names.
    """

    name: ClassVar[str] = ""
    Options: ClassVar[type] = NoOptions
    """The dataclass of the predictor's options (the constructor's keyword arguments)."""
    uses_seed_structures: ClassVar[bool] = False
    """Whether :meth:`predict_candidates` accepts ``seed_structures``: known crystals to start from."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # help() and inspect show the declared options when the constructor forwards its arguments to them
        kinds = [p.kind for p in inspect.signature(cls.__init__).parameters.values()][1:]
        forwards = kinds == [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]
        cls.__signature__ = inspect.signature(cls.Options) if forwards else None  # type: ignore[attr-defined]
        method = cls.__dict__.get("predict_candidates")
        if method is not None and not getattr(method, "__isabstractmethod__", False):
            cls.predict_candidates = _checked_prediction(method)  # type: ignore[method-assign]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        check_options(self.name or type(self).__name__, self.Options, kwargs)
        try:
            self.options = self.Options(*args, **kwargs)
        except TypeError as exc:
            raise PluginError(f"predictor {self.name or type(self).__name__!r}: {exc}") from exc
        for item in fields(self.options):
            setattr(self, item.name, getattr(self.options, item.name))

    @abstractmethod
    def predict_candidates(
        self, formula: FormulaLike, formula_units: int | None = None, n_candidates: int | None = 8, seed: int = 0,
        **options: Any,
    ) -> list[Candidate]:
        """Return candidates for ``formula`` (``formula_units`` formula units per cell), best first.

        ``options`` are per-call settings of the predictor (``relax=True`` for those that can relax).
        """

    def predict(self, formula: FormulaLike, formula_units: int | None = None, seed: int = 0,
                **options: Any) -> Structure:
        """Return the best predicted structure for ``formula``.

        Raises
        ------
        PluginError
            When the predictor returns no candidate.
        StructureError
            When no candidate is physically valid (see :func:`best_valid`).

        Warns
        -----
        LowSymmetryWarning
            When the best candidate has no symmetry (space group P1 in its ``info``).
        """
        candidates = self.predict_candidates(formula, formula_units=formula_units, seed=seed, **options)
        best = best_valid(candidates, self.name, formula)
        if best.info.get("spacegroup_number") == 1:
            warnings.warn(f"the best {self.name} candidate for {formula} has no symmetry (P1 at the predictor's "
                          "tolerance); predict_candidates lists the alternatives", LowSymmetryWarning, stacklevel=2)
        return best.structure


def best_valid(candidates: list[Candidate], predictor: str, formula: object) -> Candidate:
    """The first candidate, refused when it is marked ``info["invalid"]`` (then none is valid: they rank last).

    Raises
    ------
    PluginError
        For an empty list.
    StructureError
        When the best candidate is invalid, with its reason.
    """
    if not candidates:
        raise PluginError(f"predictor {predictor!r} returned no candidate for {formula}")
    if candidates[0].info.get("invalid"):
        raise StructureError(f"predictor {predictor!r} found no valid candidate for {formula}: "
                             f"{len(candidates)} refused, the best because {candidates[0].info['invalid']}")
    return candidates[0]


def _checked_prediction(method: Callable[..., list[Candidate]]) -> Callable[..., list[Candidate]]:
    """``predict_candidates`` with its arguments checked and its results checked (every predictor gets this).

    Arguments: a parseable formula, positive ``formula_units`` and ``n_candidates``, a seed in ``[0, 2**32)``,
    a step budget, ``seed_structures`` of the formula's composition. Results: a candidate with atoms closer than
    :data:`~ase_lcom.structure.MIN_INTERATOMIC_DISTANCE`, another composition or a non-finite energy is marked
    ``info["invalid"]`` (and ``info["error"]``) and ranked after every valid one.
    """
    signature = inspect.signature(method)

    @functools.wraps(method)
    def predict_candidates(self: StructurePredictor, *args: Any, **kwargs: Any) -> list[Candidate]:
        try:
            given = signature.bind(self, *args, **kwargs).arguments
        except TypeError as exc:
            raise PluginError(f"predictor {self.name!r}: {exc}") from None
        target = _check_arguments(given)
        candidates = method(self, *args, **kwargs)
        if target is not None and isinstance(candidates, list):
            _check_results(candidates, target)
        return candidates

    return predict_candidates


def _check_arguments(given: dict[str, Any]) -> str | None:
    """Validate the arguments every predictor shares; return the reduced formula of the target."""
    formula = given.get("formula")
    target = parse_formula(formula, max_atoms=None).reduced_formula if formula is not None else None
    if given.get("formula_units") is not None:
        try:
            limits.positive_int(given["formula_units"], "formula_units")
        except InvalidValueError as exc:
            raise FormulaError(str(exc)) from None
    if given.get("n_candidates") is not None:
        limits.positive_int(given["n_candidates"], "n_candidates", MAX_CANDIDATES)
    if "seed" in given:
        limits.random_seed(given["seed"], "seed")
    if given.get("steps") is not None:
        limits.step_budget(given["steps"], "steps", minimum=0)
    options = given.get("options") or {}
    for seed_structure in list(given.get("seed_structures") or ()) + list(options.get("seed_structures") or ()):
        found = to_structure(seed_structure).composition.reduced_formula
        if target is not None and found != target:
            raise FormulaError(f"seed structure of {found} given for {target}: seed structures must have the "
                               "composition being predicted")
    return target


def _check_results(candidates: list[Candidate], target: str) -> None:
    """Mark physically impossible, off-composition and non-finite candidates invalid and rank them last."""
    for candidate in candidates:
        reason = None
        energy = candidate.energy_per_atom
        if energy is not None and not math.isfinite(energy):
            candidate.energy_per_atom = None
            reason = f"its predicted energy is {energy}"
        else:
            try:
                structure = validate_structure(candidate.structure)
                found = structure.composition.reduced_formula
                if found != target:
                    reason = f"its composition is {found}, not {target}"
            except StructureError as exc:
                reason = str(exc)
        if reason is not None:
            candidate.info["invalid"] = reason
            candidate.info.setdefault("error", reason)
    candidates.sort(key=lambda c: bool(c.info.get("invalid")))


def available_predictors() -> dict[str, EntryPoint]:
    """Installed predictors by name (entry points of the ``ase_lcom.predictors`` group)."""
    return installed(ENTRY_POINT_GROUP)


def predictor_class(name: str) -> type[StructurePredictor]:
    """The class of the installed predictor ``name``.

    Raises
    ------
    PluginError
        When no predictor has that name or its entry point cannot be loaded.
    """
    return load_plugin(ENTRY_POINT_GROUP, name, StructurePredictor, "predictor")


def predictor_options(name: str) -> type:
    """The options dataclass of the installed predictor ``name`` (its fields are the constructor's keywords)."""
    return predictor_class(name).Options


def load_predictor(name: str, **options: Any) -> StructurePredictor:
    """Build the installed predictor ``name`` with ``options`` (fields of its :attr:`~StructurePredictor.Options`).

    Raises
    ------
    PluginError
        When no predictor has that name, its entry point cannot be loaded or it does not declare an option.
    """
    cls = predictor_class(name)
    check_options(name, cls.Options, options)
    return cls(**options)
