"""Conventional cells of the prototype library, shipped with the package.

Expanding a space group's Wyckoff sites (pymatgen ``Structure.from_spacegroup``) costs 0.1-0.5 s per structure
type, which made the first prediction of each stoichiometry in a process seconds slower than the next. The
expanded cells are computed once by ``scripts/build_prototype_templates.py`` into
``ase_lcom/pretrained/prototype-templates.json``, keyed by a hash of the definition they were expanded from, so
an edited prototype is expanded afresh (never a stale cell) until the file is rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pymatgen.core import Lattice, Structure

TEMPLATES_FILE = Path(__file__).resolve().parent.parent / "pretrained" / "prototype-templates.json"

Coords = Sequence[float]


def template_key(spacegroup: str, lattice: Sequence[float], species: Sequence[str], coords: Sequence[Coords]) -> str:
    """Hash of what a conventional cell is expanded from (space group, lattice parameters, Wyckoff sites)."""
    definition = [spacegroup, [float(x) for x in lattice], list(species), [[float(x) for x in c] for c in coords]]
    return hashlib.sha1(json.dumps(definition).encode()).hexdigest()[:16]


def expand(spacegroup: str, lattice: Sequence[float], species: Sequence[str], coords: Sequence[Coords]) -> Structure:
    """The conventional cell from its definition (pymatgen's space-group expansion; slow)."""
    return Structure.from_spacegroup(spacegroup, Lattice.from_parameters(*lattice), list(species),
                                     [list(c) for c in coords])


def conventional_cell(spacegroup: str, lattice: Sequence[float], species: Sequence[str],
                      coords: Sequence[Coords]) -> Structure:
    """The conventional cell of a definition: the shipped one when its key is in the file, else expanded now."""
    entry = _shipped().get(template_key(spacegroup, lattice, species, coords))
    if entry is None:
        return expand(spacegroup, lattice, species, coords)
    return Structure(Lattice(entry["lattice"]), entry["species"], entry["coords"])


def template_entry(structure: Structure) -> dict[str, Any]:
    """A cell as the templates file stores it (exact floats: JSON round-trips them)."""
    return {"lattice": structure.lattice.matrix.tolist(), "species": [s.specie.symbol for s in structure],
            "coords": structure.frac_coords.tolist()}


@functools.cache
def _shipped() -> dict[str, dict[str, Any]]:
    try:
        return json.loads(TEMPLATES_FILE.read_text())["templates"]
    except (OSError, json.JSONDecodeError, KeyError):
        return {}  # no or damaged file: every template is expanded when first used
