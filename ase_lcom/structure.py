"""Compositions and crystals at the package boundary.

* :func:`parse_formula` turns user input into a validated :class:`~pymatgen.core.Composition`;
  :func:`cell_composition` and :func:`formula_unit_options` fix the atoms per cell from a number of formula
  units.
* :func:`to_structure` / :func:`to_atoms` convert between ASE and pymatgen; :func:`validate_structure`
  rejects impossible cells; :func:`read_structure` / :func:`write_structure` go through ``ase.io``.
* :class:`CrystalBatch` is the tensor form models work on (Niggli-reduced lattices, fractional coordinates,
  atomic numbers), with differentiable lattice-parameter conversions.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from ase import Atoms
from pymatgen.core import Composition, Element, Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from ase_lcom.errors import FormulaError, StructureError, UnsafeInputError

DEFAULT_MAX_ATOMS = 20
"""Default upper limit on atoms per cell (the size the shipped models are trained for)."""

MAX_ATOMIC_NUMBER = 94
"""Heaviest supported element (Pu): the limit of CHGNet, M3GNet and the shipped models."""

MIN_INTERATOMIC_DISTANCE = 0.5
"""Closer atoms (in Angstrom, across periodic images) make a structure physically impossible."""

_TOKEN = re.compile(r"\s+|[A-Za-z]+|-?\d*\.\d+|-?\d+|[()\[\]]|.")
_SYMBOLS = {el.symbol for el in Element}

FormulaLike = str | Composition | Mapping[str, float]
StructureLike = Structure | Atoms


# ----------------------------------------------------------------------------------------------- formulas
def parse_formula(formula: FormulaLike, max_atoms: int | None = DEFAULT_MAX_ATOMS) -> Composition:
    """Parse and validate a chemical formula.

    Parameters
    ----------
    formula
        A formula such as ``"ZnO"``, ``"Ca(OH)2"`` or ``"Zn2O2"``, a :class:`Composition` or a mapping
        ``{"Zn": 1, "O": 1}``. Amounts must be positive whole numbers of atoms.
    max_atoms
        Reject formulas with more atoms than this (``None``: no limit).

    Returns
    -------
    Composition
        The composition as written (``"Zn2O2"`` keeps four atoms).

    Raises
    ------
    FormulaError
        With a one-line message naming the problem.
    """
    if isinstance(formula, Composition):
        amounts = {getattr(el, "symbol", str(el)): amt for el, amt in formula.items()}
        text = formula.formula
    elif isinstance(formula, Mapping):
        amounts = {str(k): v for k, v in formula.items()}
        text = str(dict(formula))
    elif isinstance(formula, str):
        text = unicodedata.normalize("NFKC", formula).strip()  # full-width letters and digits become ASCII
        if not text:
            raise FormulaError("empty formula: give a chemical formula such as 'ZnO'")
        amounts = _parse_text(text)
    else:
        raise FormulaError(f"a formula must be a string such as 'ZnO', not {type(formula).__name__}")
    return _validated(amounts, text, max_atoms)


MAX_FORMULA_DEPTH = 10
"""Deepest bracket nesting a formula may have (real formulas need two or three)."""

MAX_FORMULA_LENGTH = 500
"""Longest formula text accepted, in characters."""

_CLOSING = {"(": ")", "[": "]"}


def _parse_text(text: str) -> dict[str, float]:
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaError(f"formula of {len(text)} characters is longer than the limit of {MAX_FORMULA_LENGTH}")
    for char in text:
        if not char.isascii():
            name = unicodedata.name(char, "unnamed")
            raise FormulaError(f"invalid character {char!r} (U+{ord(char):04X} {name}) in formula {text!r}: "
                               "element symbols are written in ASCII letters")
    tokens = [t for t in _TOKEN.findall(text) if not t.isspace()]
    for tok in tokens:
        if len(tok) == 1 and not (tok.isalnum() or tok in "()[]."):
            raise FormulaError(f"invalid character {tok!r} in formula {text!r}")
    if tokens[0][0].islower():
        raise FormulaError(
            f"{text!r} is not a formula: element symbols start with a capital letter (e.g. 'NaCl')"
        )
    return _parse_tokens(tokens, text)


def _parse_tokens(tokens: list[str], text: str) -> dict[str, float]:
    """Amounts of a token list; iterative, with nesting bounded by :data:`MAX_FORMULA_DEPTH`."""
    groups: list[dict[str, float]] = [{}]  # amounts of each open group, outermost first
    opened: list[str] = []
    pos = 0
    while pos < len(tokens):
        tok = tokens[pos]
        if tok in _CLOSING:
            if len(opened) >= MAX_FORMULA_DEPTH:
                raise FormulaError(f"brackets nested deeper than {MAX_FORMULA_DEPTH} levels in formula {text[:40]!r}...")
            opened.append(tok)
            groups.append({})
            pos += 1
        elif tok in ")]":
            if not opened or _CLOSING[opened.pop()] != tok:
                raise FormulaError(f"unbalanced parentheses in formula {text!r}")
            inner = groups.pop()
            factor, pos = _amount(tokens, pos + 1, "group", text)
            for el, amt in inner.items():
                groups[-1][el] = groups[-1].get(el, 0) + amt * factor
        elif tok[0].isalpha():
            symbols = _split_symbols(tok, text)
            factor, pos = _amount(tokens, pos + 1, symbols[-1], text)
            amounts = groups[-1]
            for symbol in symbols[:-1]:
                amounts[symbol] = amounts.get(symbol, 0) + 1
            amounts[symbols[-1]] = amounts.get(symbols[-1], 0) + factor
        else:
            raise FormulaError(f"amount {tok!r} in formula {text!r} does not follow an element symbol")
    if opened:
        raise FormulaError(f"unbalanced parentheses in formula {text!r}")
    return groups[0]


def _split_symbols(word: str, text: str) -> list[str]:
    """Split a run of letters such as ``"NaCl"`` into element symbols."""
    parts = re.findall(r"[A-Z][a-z]*|[a-z]+", word)
    for part in parts:
        if part[0].islower() or part not in _SYMBOLS:
            raise FormulaError(f"unknown element symbol {part!r} in formula {text!r}")
    return parts


def _amount(tokens: list[str], pos: int, what: str, text: str) -> tuple[float, int]:
    """Read the optional number after an element or group; default 1."""
    if pos < len(tokens) and (tokens[pos][0].isdigit() or tokens[pos][0] in "-."):
        try:
            value = float(tokens[pos])
        except ValueError:
            raise FormulaError(f"misplaced {tokens[pos]!r} in formula {text!r}") from None
        if value < 0:
            raise FormulaError(f"negative amount {tokens[pos]} of {what} in formula {text!r}")
        return value, pos + 1
    return 1.0, pos


def _validated(amounts: Mapping[str, float], text: str, max_atoms: int | None) -> Composition:
    if not amounts:
        raise FormulaError(f"formula {text!r} contains no element")
    for symbol, amount in amounts.items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float, np.integer, np.floating)):
            raise FormulaError(f"amount of {symbol} in formula {text!r} is not a number: {amount!r}")
        if symbol not in _SYMBOLS:
            raise FormulaError(f"unknown element symbol {symbol!r} in formula {text!r}")
        number = Element(symbol).Z
        if number > MAX_ATOMIC_NUMBER:
            raise FormulaError(
                f"element {symbol} (Z={number}) is not supported: ase-lcom handles H to Pu (Z <= {MAX_ATOMIC_NUMBER})"
            )
        if not math.isfinite(amount) or amount < 0:
            raise FormulaError(f"negative amount of {symbol} in formula {text!r}")
        if amount == 0:
            raise FormulaError(f"zero amount of {symbol} in formula {text!r}: leave the element out")
        if abs(amount - round(amount)) > 1e-8:
            raise FormulaError(
                f"fractional amount {amount:g} of {symbol} in formula {text!r}: a crystal cell holds whole "
                "atoms, scale the formula up (e.g. 'Fe2O3', not 'FeO1.5')"
            )
    composition = Composition({s: int(round(a)) for s, a in amounts.items()})
    _check_size(composition, text, max_atoms)
    return composition


def _check_size(composition: Composition, text: str, max_atoms: int | None) -> None:
    n = int(composition.num_atoms)
    if max_atoms is not None and n > max_atoms:
        raise FormulaError(
            f"{text!r} has {n} atoms per cell, more than the limit of {max_atoms} (raise max_atoms or use fewer formula units)"
        )


def formula_unit_options(formula: FormulaLike, max_atoms: int = DEFAULT_MAX_ATOMS) -> list[int]:
    """Numbers of formula units of the reduced formula whose cell fits within ``max_atoms``."""
    reduced = parse_formula(formula, max_atoms=None).reduced_composition
    per_unit = int(reduced.num_atoms)
    options = list(range(1, max_atoms // per_unit + 1))
    if not options:
        raise FormulaError(
            f"one formula unit of {reduced.reduced_formula} has {per_unit} atoms, more than the limit of {max_atoms}"
        )
    return options


def cell_composition(
    formula: FormulaLike, formula_units: int | None = None, max_atoms: int | None = DEFAULT_MAX_ATOMS
) -> Composition:
    """Composition of one cell: ``formula_units`` formula units of the reduced formula, or the formula as written.

    Parameters
    ----------
    formula
        Chemical formula (see :func:`parse_formula`).
    formula_units
        Formula units of the *reduced* formula per cell (``"Zn2O2"`` with ``formula_units=3`` gives Zn3O3);
        ``None`` keeps the formula as written.
    max_atoms
        Upper limit on atoms per cell.
    """
    composition = parse_formula(formula, max_atoms=None if formula_units is not None else max_atoms)
    if formula_units is None:
        return composition
    if isinstance(formula_units, bool) or not isinstance(formula_units, (int, np.integer)) or formula_units < 1:
        raise FormulaError(f"the number of formula units must be a positive integer, got {formula_units!r}")
    cell = composition.reduced_composition * int(formula_units)
    _check_size(cell, f"{composition.reduced_formula} x {formula_units}", max_atoms)
    return cell


# ---------------------------------------------------------------------------------------- ASE <-> pymatgen
def to_structure(crystal: StructureLike) -> Structure:
    """Return a pymatgen :class:`Structure` for an ASE :class:`Atoms` or a ``Structure`` (copied)."""
    if isinstance(crystal, Structure):
        return crystal.copy()
    if isinstance(crystal, Atoms):
        if len(crystal) == 0:
            raise StructureError("the structure has no atoms")
        if crystal.cell.rank < 3:
            raise StructureError("the atoms have no full 3D cell: a crystal needs three lattice vectors")
        if not all(crystal.pbc):
            raise StructureError("the atoms are not periodic in all three directions (set atoms.pbc = True)")
        plain = Atoms(crystal.numbers, positions=crystal.positions, cell=crystal.cell, pbc=True)
        return AseAtomsAdaptor.get_structure(plain)  # constraints, calculators and tags are not carried over
    raise StructureError(f"expected an ase.Atoms or pymatgen Structure, got {type(crystal).__name__}")


def to_atoms(crystal: StructureLike) -> Atoms:
    """Return an ASE :class:`Atoms` (periodic) for a ``Structure`` or an ``Atoms`` (copied)."""
    if isinstance(crystal, Atoms):
        return crystal.copy()
    if isinstance(crystal, Structure):
        atoms = AseAtomsAdaptor.get_atoms(crystal)
        atoms.pbc = True
        return atoms
    raise StructureError(f"expected an ase.Atoms or pymatgen Structure, got {type(crystal).__name__}")


SAFE_SERIALIZED_CLASSES = frozenset({
    ("pymatgen.core.structure", "Structure"), ("pymatgen.core.structure", "IStructure"),
    ("pymatgen.core.lattice", "Lattice"), ("pymatgen.core.sites", "PeriodicSite"), ("pymatgen.core.sites", "Site"),
    ("pymatgen.core.periodic_table", "Element"), ("pymatgen.core.periodic_table", "Species"),
    ("pymatgen.core.periodic_table", "DummySpecies"), ("pymatgen.core.composition", "Composition"),
    ("numpy", "array"),
})
"""``(@module, @class)`` pairs a structure dictionary from an untrusted file may name: pymatgen's decoder imports
and builds whatever class a dictionary names, so anything else is refused before decoding."""

_MAX_DICT_DEPTH = 64


def structure_from_dict(data: object) -> Structure:
    """``Structure.from_dict`` for untrusted input: every ``@module``/``@class`` it names must be a structure part.

    Raises
    ------
    UnsafeInputError
        For a class outside :data:`SAFE_SERIALIZED_CLASSES` (nothing is imported or built).
    StructureError
        For nesting deeper than 64 levels or a dictionary pymatgen cannot build a structure from.
    """
    if not isinstance(data, Mapping):
        raise StructureError(f"a structure must be a JSON object (pymatgen Structure.as_dict), got "
                             f"{type(data).__name__}")
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:  # iterative: a deeply nested file cannot exhaust the interpreter's recursion limit
        item, depth = stack.pop()
        if depth > _MAX_DICT_DEPTH:
            raise StructureError(f"structure dictionary nested deeper than {_MAX_DICT_DEPTH} levels")
        if isinstance(item, Mapping):
            if "@module" in item or "@class" in item:
                named = (item.get("@module"), item.get("@class"))
                if named not in SAFE_SERIALIZED_CLASSES:
                    raise UnsafeInputError(f"refused a structure that names {named[0]}.{named[1]}: only pymatgen "
                                         "structure classes may appear in a structure dictionary")
            stack.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((value, depth + 1) for value in item)
    try:
        return Structure.from_dict(dict(data))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise StructureError(f"not a pymatgen structure dictionary: {type(exc).__name__}: {exc}") from exc


def validate_structure(
    crystal: StructureLike, min_distance: float = MIN_INTERATOMIC_DISTANCE
) -> Structure:
    """Check that a crystal is physically possible and return it as a :class:`Structure`.

    Raises
    ------
    StructureError
        For no atoms, non-finite coordinates, a degenerate cell, unsupported elements, or atoms closer than
        ``min_distance`` Angstrom (periodic images included).
    """
    structure = to_structure(crystal)
    if len(structure) == 0:
        raise StructureError("the structure has no atoms")
    matrix = structure.lattice.matrix
    if not np.all(np.isfinite(matrix)) or not np.all(np.isfinite(structure.frac_coords)):
        raise StructureError("the structure has non-finite lattice vectors or coordinates")
    volume = abs(float(np.linalg.det(matrix)))
    if volume < 1e-3 * len(structure):
        raise StructureError(f"impossible cell: volume {volume:.3g} A^3 for {len(structure)} atoms")
    for site in structure:
        if not site.is_ordered:
            raise StructureError("disordered sites (partial occupancies) are not supported")
        number = getattr(site.specie, "Z", 0)
        if not 1 <= number <= MAX_ATOMIC_NUMBER:
            raise StructureError(f"site species {site.specie} is not a supported element (H to Pu)")
    shortest = _shortest_distance(structure, min_distance)
    if shortest < min_distance:
        raise StructureError(f"impossible structure: atoms {shortest:.3f} A apart (minimum {min_distance} A)")
    return structure


def _shortest_distance(structure: Structure, cutoff: float) -> float:
    """Shortest interatomic distance below ``cutoff`` (periodic images included), else ``inf``."""
    shortest = math.inf
    if len(structure) > 1:
        shortest = float((structure.distance_matrix + np.eye(len(structure)) * 1e9).min())
    distances = structure.get_neighbor_list(r=cutoff)[3]
    if len(distances):
        shortest = min(shortest, float(distances.min()))
    return shortest


# ---------------------------------------------------------------------------------------------------- I/O
def read_structure(path: str | Path, index: int = -1, format: str | None = None) -> Structure:
    """Read one crystal (CIF, POSCAR, extxyz, ... anything ``ase.io`` reads) and validate it."""
    return validate_structure(_read_atoms(path, index, format))


def read_structures(path: str | Path, format: str | None = None) -> list[Structure]:
    """Read every crystal in a file (e.g. all frames of an extxyz trajectory) and validate each."""
    images = _read_atoms(path, ":", format)
    return [validate_structure(atoms) for atoms in images]


def iter_structures(path: str | Path, format: str | None = None) -> Iterator[Structure]:
    """The crystals of a file one at a time (``ase.io.iread``), each validated as it is read, so memory stays
    flat in the number of frames (CIF files, checked as a whole for merged sites, are read at once)."""
    import ase.io

    path = Path(path)
    if (format or path.suffix.lstrip(".")).lower() == "cif":
        yield from read_structures(path, format)
        return
    if not path.is_file():
        raise StructureError(f"structure file not found: {path}")
    frames = ase.io.iread(path, index=":", format=format)
    while True:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                atoms = next(frames)
        except StopIteration:
            return
        except Exception as exc:  # ase.io raises many exception types for unreadable files
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StructureError(f"cannot read {path} as a crystal structure: {reason}") from exc
        _check_unchanged(path, atoms, [str(w.message) for w in caught])
        yield validate_structure(atoms)


def _read_atoms(path: str | Path, index: int | str, format: str | None) -> Atoms | list[Atoms]:
    import ase.io

    path = Path(path)
    if not path.is_file():
        raise StructureError(f"structure file not found: {path}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            images = ase.io.read(path, index=index, format=format)
    except Exception as exc:  # ase.io raises many exception types for unreadable files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StructureError(f"cannot read {path} as a crystal structure: {reason}") from exc
    _check_unchanged(path, images, [str(w.message) for w in caught])
    if (format or path.suffix.lstrip(".")).lower() == "cif":
        _check_cif_sites(path, images if isinstance(images, list) else [images])
    return images


def _check_cif_sites(path: Path, images: list[Atoms]) -> None:
    """Refuse a CIF whose sites, expanded by its symmetry one by one, outnumber the atoms ASE made of them: ASE
    merged coincident (or nearly coincident) sites."""
    from ase.io.cif import parse_cif

    counts = []
    try:
        for block in parse_cif(str(path)):
            if block.has_structure():
                group = block.get_spacegroup(True)
                sites = block.get_unsymmetrized_structure().get_scaled_positions()
                counts.append(sum(len(group.equivalent_sites([site])[0]) for site in sites))
    except Exception:  # a block ASE read but cannot expand here: the atom count check does not apply
        return
    for atoms, expected in zip(images[::-1], counts[::-1]):  # read_structure reads the last block
        if len(atoms) < expected:
            raise StructureError(f"{path} lists sites that coincide: they expand to {expected} atoms, which ASE "
                                 f"would merge into {len(atoms)}; remove the duplicate sites")


def _check_unchanged(path: Path, images: Atoms | list[Atoms], messages: list[str]) -> None:
    """Refuse what ``ase.io`` read only by changing the file's content: sites it merged because they coincide,
    sites of partial or mixed occupancy it replaced by one element."""
    merged = next((m for m in messages if "are equivalent" in m), None)
    if merged is not None:
        raise StructureError(f"{path} lists sites that coincide ({merged}): ASE would merge them; remove the "
                             "duplicate sites")
    for atoms in images if isinstance(images, list) else [images]:
        for site, occupancy in (atoms.info.get("occupancy") or {}).items():
            if len(occupancy) != 1 or any(abs(float(value) - 1.0) > 1e-3 for value in occupancy.values()):
                shares = ", ".join(f"{el} {float(v):g}" for el, v in occupancy.items())
                raise StructureError(f"{path} has a partially occupied site ({shares}): disordered structures are "
                                     "not supported; order the structure first")


def write_structure(
    crystals: StructureLike | Sequence[StructureLike], path: str | Path, format: str | None = None
) -> Path:
    """Write one or more crystals with ``ase.io`` (format from the file name unless given)."""
    import ase.io

    path = Path(path)
    items = [crystals] if isinstance(crystals, (Structure, Atoms)) else list(crystals)
    try:
        ase.io.write(path, [to_atoms(c) for c in items], format=format)
    except Exception as exc:
        raise StructureError(f"cannot write {path}: {exc}") from exc
    return path


# -------------------------------------------------------------------------------------- tensor form
def lattice_params_from_matrix(lattice: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Lengths (Angstrom) and angles alpha, beta, gamma (degrees) of lattices ``(..., 3, 3)`` (rows = vectors)."""
    lengths = lattice.norm(dim=-1)
    a, b, c = lattice.unbind(dim=-2)

    def angle(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        cos = (u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1))
        return torch.rad2deg(torch.arccos(cos.clamp(-1.0, 1.0)))

    return lengths, torch.stack([angle(b, c), angle(a, c), angle(a, b)], dim=-1)


def lattice_matrix_from_params(lengths: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Lattice matrices ``(..., 3, 3)`` from lengths and angles in degrees (a along x, b in the xy plane).

    Differentiable; invalid angle combinations give NaN rows, which :class:`CrystalBatch` users should check.
    """
    alpha, beta, gamma = torch.deg2rad(angles).unbind(-1)
    a, b, c = lengths.unbind(-1)
    cos_a, cos_b, cos_g, sin_g = alpha.cos(), beta.cos(), gamma.cos(), gamma.sin()
    zero = torch.zeros_like(a)
    cx = cos_b
    cy = (cos_a - cos_b * cos_g) / sin_g
    cz = torch.sqrt(1.0 - cx**2 - cy**2)
    rows = [
        torch.stack([a, zero, zero], -1),
        torch.stack([b * cos_g, b * sin_g, zero], -1),
        torch.stack([c * cx, c * cy, c * cz], -1),
    ]
    return torch.stack(rows, dim=-2)


@dataclass
class CrystalBatch:
    """A batch of crystals as tensors: the form encoders, decoders and search methods work on.

    Attributes
    ----------
    lattice
        ``(B, 3, 3)`` lattice vectors as rows, Angstrom.
    frac_coords
        ``(N, 3)`` fractional coordinates in [0, 1), all crystals concatenated.
    atomic_numbers
        ``(N,)`` atomic numbers.
    num_atoms
        ``(B,)`` atoms per crystal.
    """

    lattice: torch.Tensor
    frac_coords: torch.Tensor
    atomic_numbers: torch.Tensor
    num_atoms: torch.Tensor

    @classmethod
    def from_structures(
        cls, crystals: Iterable[StructureLike], niggli: bool = True, dtype: torch.dtype = torch.float64
    ) -> CrystalBatch:
        """Stack crystals; with ``niggli`` each lattice is Niggli-reduced first (same crystal, canonical cell)."""
        structures = [to_structure(c) for c in crystals]
        if not structures:
            raise StructureError("cannot build a batch from zero structures")
        if niggli:
            structures = [s.get_reduced_structure("niggli") for s in structures]
        frac = np.concatenate([np.mod(s.frac_coords, 1.0) for s in structures])
        frac[frac >= 1.0] = 0.0  # values like 1 - 1e-17 round to 1.0
        return cls(
            lattice=torch.tensor(np.stack([s.lattice.matrix for s in structures]), dtype=dtype),
            frac_coords=torch.tensor(frac, dtype=dtype),
            atomic_numbers=torch.tensor([site.specie.Z for s in structures for site in s], dtype=torch.long),
            num_atoms=torch.tensor([len(s) for s in structures], dtype=torch.long),
        )

    @property
    def num_crystals(self) -> int:
        return int(self.num_atoms.shape[0])

    @property
    def batch(self) -> torch.Tensor:
        """``(N,)`` index of the crystal each atom belongs to."""
        return torch.repeat_interleave(torch.arange(self.num_crystals, device=self.num_atoms.device), self.num_atoms)

    @property
    def cart_coords(self) -> torch.Tensor:
        """``(N, 3)`` Cartesian coordinates, Angstrom."""
        return torch.einsum("ni,nij->nj", self.frac_coords, self.lattice[self.batch])

    def lattice_params(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, 3)`` lengths and ``(B, 3)`` angles in degrees."""
        return lattice_params_from_matrix(self.lattice)

    def to(self, device: str | torch.device) -> CrystalBatch:
        return CrystalBatch(*(t.to(device) for t in (self.lattice, self.frac_coords, self.atomic_numbers, self.num_atoms)))

    def to_structures(self) -> list[Structure]:
        """Convert back to pymatgen structures."""
        lattice = self.lattice.detach().cpu().double().numpy()
        frac = self.frac_coords.detach().cpu().double().numpy()
        numbers = self.atomic_numbers.detach().cpu().numpy()
        bounds = np.concatenate([[0], np.cumsum(self.num_atoms.cpu().numpy())])
        return [
            Structure(Lattice(lattice[i]), numbers[lo:hi].tolist(), frac[lo:hi])
            for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))
        ]
