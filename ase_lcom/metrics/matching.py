"""Structure matching: does a predicted crystal have the structure of a reference one?

Two named tolerance settings of pymatgen's ``StructureMatcher``:

- ``strict``, pymatgen's defaults (``stol`` 0.3, ``ltol`` 0.2, ``angle_tol`` 5), the standard of every
  ase-lcom benchmark;
- ``cdvae``, the CDVAE/DiffCSP convention (0.5, 0.3, 10), only to compare with published figures: it is loose
  enough to let zincblende match rocksalt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure

from ase_lcom.errors import MetricError


@dataclass(frozen=True)
class MatchTolerances:
    """``StructureMatcher`` tolerances: site (``stol``, fraction of the average free length per atom), lattice
    (``ltol``, fractional) and angle (``angle_tol``, degrees)."""

    stol: float
    ltol: float
    angle_tol: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def matcher(self) -> StructureMatcher:
        """A pymatgen ``StructureMatcher`` with these tolerances (its other options at their defaults)."""
        return StructureMatcher(**self.as_dict())


STRICT = MatchTolerances(stol=0.3, ltol=0.2, angle_tol=5)
"""pymatgen's default tolerances, the project's standard."""

CDVAE = MatchTolerances(stol=0.5, ltol=0.3, angle_tol=10)
"""The tolerances of the CDVAE and DiffCSP papers' match rates."""

MATCH_SETTINGS: dict[str, MatchTolerances] = {"strict": STRICT, "cdvae": CDVAE}
"""Named tolerance settings."""


def tolerances(setting: str | MatchTolerances = "strict") -> MatchTolerances:
    """The tolerances of a named setting (``strict``, ``cdvae``), or ``setting`` itself.

    Raises
    ------
    MetricError
        Unknown setting name.
    """
    if isinstance(setting, MatchTolerances):
        return setting
    if setting not in MATCH_SETTINGS:
        raise MetricError(f"unknown structure-matching setting {setting!r}; choose from {', '.join(MATCH_SETTINGS)}")
    return MATCH_SETTINGS[setting]


def structure_matcher(setting: str | MatchTolerances = "strict") -> StructureMatcher:
    """A ``StructureMatcher`` for a named setting or explicit tolerances."""
    return tolerances(setting).matcher()


def is_match(structure: Structure, reference: Structure, setting: str | MatchTolerances = "strict") -> bool:
    """Whether two crystals are the same structure under a matching setting."""
    return bool(structure_matcher(setting).fit(structure, reference))


def first_match(structure: Structure, references: Mapping[str, Structure],
                setting: str | MatchTolerances = "strict") -> str | None:
    """The name of the first of ``references`` (in their order) that ``structure`` matches, or None."""
    matcher = structure_matcher(setting)
    for name, reference in references.items():
        if matcher.fit(structure, reference):
            return name
    return None


def rms_distance(structure: Structure, reference: Structure,
                 setting: str | MatchTolerances = "strict") -> float | None:
    """Normalised RMS site displacement between two matching crystals, or None when they do not match."""
    result: Any = structure_matcher(setting).get_rms_dist(structure, reference)
    return None if result is None else float(result[0])
