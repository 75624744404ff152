"""Readers that yield :class:`CrystalRecord` from the files real crystal datasets come in.

=================  ===========================================================================================
format             what is read
=================  ===========================================================================================
``db``             ASE database (ours or anyone's): key-value pairs ``energy_per_atom``,
                   ``formation_energy_per_atom`` (or ``e_form``), else the stored calculator energy; training
                   frames (rows with ``frame_of``) are not structures and are skipped
``extxyz``         extended XYZ frames; energy from the frame's calculator or ``info['energy']``, formation
                   energy from ``info['formation_energy_per_atom']`` or ``info['e_form']``
``cdvae-csv``      CDVAE benchmark CSV: a ``cif`` column plus an energy column (``heat_ref`` and
                   ``formation_energy_per_atom`` are formation energies, ``energy_per_atom`` a total energy)
``matbench``       Matbench JSON (``columns`` = [structure, target], ``data`` rows, e.g. ``mp_e_form``)
``optimade``       OPTIMADE structures JSON (``data`` entries with ``lattice_vectors``,
                   ``cartesian_site_positions``, ``species_at_sites``), as OQMD, MP and Alexandria serve it
=================  ===========================================================================================

A row that cannot be read is skipped with a warning naming it; a file with no usable row is a
:class:`~ase_lcom.data.records.DataError`.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pymatgen.core import Lattice, Structure

from ase_lcom.data.frames import is_frame
from ase_lcom.data.records import FORMATION_KEYS, CrystalRecord, DataError, record_from_row
from ase_lcom.errors import LCOMError, UnsafeInputError
from ase_lcom.structure import structure_from_dict, to_structure, validate_structure

TOTAL_COLUMNS = ("energy_per_atom",)


class RowWarning(UserWarning):
    """A dataset row was skipped."""


def read_records(path: str | Path, format: str | None = None) -> Iterator[CrystalRecord]:
    """Yield records from a dataset file; ``format`` is guessed from the name when omitted.

    Raises
    ------
    DataError
        Missing file, unknown format, or no usable row.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"dataset file not found: {path}")
    fmt = format or guess_format(path)
    if fmt not in READERS:
        raise DataError(f"unknown dataset format {fmt!r}; choose from {', '.join(READERS)}")
    count = 0
    for record in READERS[fmt](path):
        count += 1
        yield record
    if count == 0:
        raise DataError(f"{path} holds no usable crystal record (format {fmt})")


def guess_format(path: Path) -> str:
    """Dataset format from the file name (and, for JSON, its top-level keys)."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".db"):
        return "db"
    if name.endswith((".extxyz", ".xyz")):
        return "extxyz"
    if name.endswith(".csv"):
        return "cdvae-csv"
    if name.endswith(".json"):
        head = _load_json(path)
        return "matbench" if isinstance(head, dict) and "columns" in head else "optimade"
    raise DataError(f"cannot tell the dataset format of {path.name}: pass format= (one of {', '.join(READERS)})")


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else path.open()


def _load_json(path: Path) -> Any:
    try:
        with _open_text(path) as handle:
            return json.load(handle)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from exc


def _skip(path: Path, row: str, reason: Any) -> None:
    warnings.warn(f"{path.name}: skipped {row}: {reason}", RowWarning, stacklevel=3)


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _checked(
    path: Path, row: str, build: Callable[[], CrystalRecord]
) -> CrystalRecord | None:
    """Build a record, validating its structure; warn and return ``None`` on a bad row."""
    try:
        record = build()
        validate_structure(record.structure)
    except UnsafeInputError:
        raise  # a file that names code to run is refused as a whole, not skipped row by row
    except (LCOMError, ValueError, KeyError, IndexError, TypeError) as exc:
        _skip(path, row, exc)
        return None
    return record


# ------------------------------------------------------------------------------------------------ formats
def _read_db(path: Path) -> Iterator[CrystalRecord]:
    import ase.db

    try:
        rows = list(ase.db.connect(str(path), type="db").select())
    except Exception as exc:
        raise DataError(f"cannot open {path} as an ASE database: {exc}") from exc
    for row in (row for row in rows if not is_frame(row)):
        record = _checked(path, f"row {row.id}", lambda row=row: record_from_row(row, source=path.name))
        if record is not None:
            yield record


def _read_extxyz(path: Path) -> Iterator[CrystalRecord]:
    import ase.io

    try:
        frames = ase.io.read(path, index=":", format="extxyz")
    except Exception as exc:
        raise DataError(f"cannot read {path} as extxyz: {exc}") from exc
    for i, atoms in enumerate(frames):
        def build(atoms=atoms, i=i) -> CrystalRecord:
            energy = atoms.info.get("energy")
            if energy is None and atoms.calc is not None and "energy" in atoms.calc.results:
                energy = atoms.calc.results["energy"]
            per_atom = _finite(atoms.info.get("energy_per_atom"))
            if per_atom is None and energy is not None:
                per_atom = _finite(energy) / len(atoms) if _finite(energy) is not None else None
            e_form = next((_finite(atoms.info[k]) for k in FORMATION_KEYS if k in atoms.info), None)
            return CrystalRecord(to_structure(atoms), per_atom, e_form, source=path.name,
                                 id=str(atoms.info.get("id", f"{path.name}:{i}")))

        record = _checked(path, f"frame {i}", build)
        if record is not None:
            yield record


def _read_cdvae_csv(path: Path) -> Iterator[CrystalRecord]:
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        if "cif" not in columns:
            raise DataError(f"{path} has no 'cif' column (columns: {', '.join(columns)})")
        formation = next((c for c in FORMATION_KEYS if c in columns), None)
        total = next((c for c in TOTAL_COLUMNS if c in columns), None)
        for i, row in enumerate(reader):
            def build(row=row, i=i) -> CrystalRecord:
                return CrystalRecord(
                    structure=Structure.from_str(row["cif"], fmt="cif"),
                    energy_per_atom=_finite(row[total]) if total else None,
                    formation_energy_per_atom=_finite(row[formation]) if formation else None,
                    source=path.name, id=str(row.get("material_id") or f"{path.name}:{i}"),
                )

            record = _checked(path, f"row {i} ({row.get('material_id', '?')})", build)
            if record is not None:
                yield record


def _read_matbench(path: Path) -> Iterator[CrystalRecord]:
    content = _load_json(path)
    try:
        columns, rows = content["columns"], content["data"]
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path} is not a Matbench JSON file (needs 'columns' and 'data')") from exc
    if "structure" not in columns:
        raise DataError(f"{path}: Matbench columns {columns} have no 'structure'")
    s_col = columns.index("structure")
    target = next((c for c in columns if c != "structure"), None)
    is_formation = target is not None and ("e_form" in target or "formation" in target)
    if target is not None and not is_formation and "energy" not in target:
        raise DataError(f"{path}: Matbench target {target!r} is not an energy (expected e.g. 'e_form')")
    index = content.get("index", list(range(len(rows))))
    for i, row in enumerate(rows):
        def build(row=row, i=i) -> CrystalRecord:
            value = _finite(row[columns.index(target)]) if target else None
            return CrystalRecord(
                structure=structure_from_dict(row[s_col]),
                energy_per_atom=None if is_formation else value,
                formation_energy_per_atom=value if is_formation else None,
                source=path.name, id=f"{path.name}:{index[i] if i < len(index) else i}",
            )

        record = _checked(path, f"row {i}", build)
        if record is not None:
            yield record


def _read_optimade(path: Path) -> Iterator[CrystalRecord]:
    content = _load_json(path)
    entries = content.get("data", content) if isinstance(content, dict) else content
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise DataError(f"{path} is not an OPTIMADE structures response (no 'data' list)")
    for i, entry in enumerate(entries):
        def build(entry=entry) -> CrystalRecord:
            attributes = entry["attributes"]
            kinds = {s["name"]: s["chemical_symbols"] for s in attributes.get("species", [])}
            symbols = []
            for name in attributes["species_at_sites"]:
                chemical = kinds.get(name, [name])
                if len(chemical) != 1:
                    raise ValueError(f"site species {name!r} is disordered ({chemical})")
                symbols.append(chemical[0])
            structure = Structure(Lattice(attributes["lattice_vectors"]), symbols,
                                  attributes["cartesian_site_positions"], coords_are_cartesian=True)
            e_form = next((_finite(v) for k, v in attributes.items() if k in FORMATION_KEYS or
                           k.lstrip("_").split("_", 1)[-1] in ("delta_e", *FORMATION_KEYS)), None)
            energy = next((_finite(v) for k, v in attributes.items() if k.endswith("energy_per_atom")
                           and "formation" not in k), None)
            return CrystalRecord(structure, energy, e_form, source=path.name, id=str(entry.get("id", i)))

        record = _checked(path, f"entry {i} ({entry.get('id', '?') if isinstance(entry, dict) else '?'})", build)
        if record is not None:
            yield record


READERS: dict[str, Callable[[Path], Iterator[CrystalRecord]]] = {
    "db": _read_db,
    "extxyz": _read_extxyz,
    "cdvae-csv": _read_cdvae_csv,
    "matbench": _read_matbench,
    "optimade": _read_optimade,
}
