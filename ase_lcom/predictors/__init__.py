"""Structure predictors: the common interface and the registry behind ``ase_lcom.predictors`` entry points.

Any installed package can add a predictor by declaring, in its own metadata::

    [options.entry_points]
    ase_lcom.predictors =
        mymethod = mypackage.module:MyPredictor

where ``MyPredictor`` subclasses :class:`StructurePredictor`. ``ase-lcom list`` shows what is installed and
``load_predictor("mymethod")`` builds one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pymatgen.core import Structure

from ase_lcom.errors import PluginError
from ase_lcom.structure import FormulaLike

ENTRY_POINT_GROUP = "ase_lcom.predictors"


@dataclass
class Candidate:
    """One predicted crystal with the scores it was ranked by."""

    structure: Structure
    energy_per_atom: float
    """The predictor's own energy estimate, eV/atom (surrogate or calculator)."""
    validated_energy_per_atom: float | None = None
    """Formation energy from a validating calculator, when one was run: after relaxation, or a single point
    when only ranking (eV/atom)."""
    info: dict[str, Any] = field(default_factory=dict)


class StructurePredictor(ABC):
    """Predicts crystal structures for a composition; subclasses implement :meth:`predict_candidates`."""

    name: str = ""

    @abstractmethod
    def predict_candidates(
        self, formula: FormulaLike, z: int | None = None, n_candidates: int = 8, seed: int = 0, **options: Any
    ) -> list[Candidate]:
        """Return candidates for ``formula`` (``z`` formula units per cell), best first."""

    def predict(self, formula: FormulaLike, z: int | None = None, seed: int = 0, **options: Any) -> Structure:
        """Return the best predicted structure for ``formula``."""
        candidates = self.predict_candidates(formula, z=z, seed=seed, **options)
        if not candidates:
            raise PluginError(f"predictor {self.name!r} returned no candidate for {formula!r}")
        return candidates[0].structure


def available_predictors() -> dict[str, EntryPoint]:
    """Installed predictors by name (entry points of the ``ase_lcom.predictors`` group)."""
    return {ep.name: ep for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)}


def load_predictor(name: str, **kwargs: Any) -> StructurePredictor:
    """Build the installed predictor ``name`` with ``kwargs``.

    Raises
    ------
    PluginError
        When no predictor has that name or its entry point cannot be loaded.
    """
    installed = available_predictors()
    if name not in installed:
        known = ", ".join(installed) or "none installed"
        raise PluginError(f"unknown predictor {name!r}; installed: {known}")
    try:
        cls = installed[name].load()
    except Exception as exc:
        raise PluginError(f"predictor {name!r} ({installed[name].value}) failed to load: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, StructurePredictor)):
        raise PluginError(f"predictor {name!r} ({installed[name].value}) is not a StructurePredictor subclass")
    return cls(**kwargs)
