"""Crystal records and their store, an ASE database (SQLite), the ecosystem's standard.

Each row holds the structure and key-value pairs: ``uid`` (record id), ``source``, ``reduced_formula``,
``energy_per_atom`` and ``formation_energy_per_atom`` (eV/atom, when known) plus any provenance keys. The same
file may hold training frames (:mod:`ase_lcom.data.frames`, rows with ``frame_of``): records skip them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ase.db.core import reserved_keys
from pymatgen.core import Structure

from ase_lcom.data.frames import FRAME_KEY, Frame, frame_key_values, is_frame
from ase_lcom.errors import LCOMError
from ase_lcom.store import check_unchanged
from ase_lcom.structure import to_atoms, to_structure


class DataError(LCOMError, ValueError):
    """A dataset file is missing, unreadable or holds no usable record."""


@dataclass
class CrystalRecord:
    """One crystal with its energies and provenance."""

    structure: Structure
    energy_per_atom: float | None = None
    """Total energy per atom, eV/atom (calculator- or DFT-specific)."""
    formation_energy_per_atom: float | None = None
    """Formation energy per atom, eV/atom."""
    source: str = ""
    """Where it came from: a file name, ``generated:chgnet``, ..."""
    id: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    """Further provenance (prototype, space group, seed, ...): str, int, float or bool values."""

    @property
    def formula(self) -> str:
        return self.structure.composition.reduced_formula


_RESERVED = {"uid", "source", "reduced_formula", "energy_per_atom", "formation_energy_per_atom"}


class CrystalDatabase:
    """Records in an ASE database file (``.db``), one row per crystal, and the training frames beside them.

    Parameters
    ----------
    path
        The database file; created on the first write.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        import ase.db

        self.path = Path(path)
        self._db = ase.db.connect(str(self.path), type="db", append=True)

    def __len__(self) -> int:
        """Records (structure rows; frames not counted)."""
        return self._db.count() - self._db.count(FRAME_KEY) if self.path.exists() else 0

    def check_settings(self, kind: str, settings: dict[str, Any]) -> None:
        """Record the settings a database is built with; refuse to continue it with different ones."""
        metadata = self._db.metadata if self.path.exists() else {}
        stored = metadata.get(kind)
        if stored is None:
            self._db.metadata = {**metadata, kind: settings}
        else:
            check_unchanged(f"{kind} setting", stored, settings, self.path, error=DataError,
                            fix="use the original arguments or a new output file")

    def add(self, record: CrystalRecord) -> int:
        """Store a record (committed at once); returns the row id."""
        return self.add_many([record])[0]

    def add_many(self, records: Iterable[CrystalRecord]) -> list[int]:
        """Store several records in one transaction."""
        ids = []
        with self._db:
            for record in records:
                ids.append(self._db.write(to_atoms(record.structure), key_value_pairs=_key_values(record)))
        return ids

    def remove(self, uid: str) -> None:
        """Delete the record with this id (``uid``), if stored."""
        rows = [row.id for row in self._db.select(uid=_db_string(uid), include_data=False)]
        if rows:
            self._db.delete(rows)

    def ids(self) -> set[str]:
        """Record ids (``uid``) already stored."""
        if not self.path.exists():
            return set()
        return {_from_db_string(row.get("uid", "")) for row in self._db.select(include_data=False) if not is_frame(row)}

    def __iter__(self) -> Iterator[CrystalRecord]:
        return self.select()

    def select(self, *query: Any, **kwargs: Any) -> Iterator[CrystalRecord]:
        """Records matching an ``ase.db`` query, e.g. ``select(reduced_formula="NaCl")``."""
        if not self.path.exists():
            return
        for row in self._db.select(*query, **kwargs):
            if not is_frame(row):
                yield record_from_row(row)

    def add_frames(self, owner: str, frames: Iterable[Frame], source: str, formula: str) -> None:
        """Store a task's frames in one transaction."""
        with self._db:
            for frame in frames:
                pairs = frame_key_values(frame, owner, source, formula)
                self._db.write(frame.atoms, key_value_pairs={k: _db_string(v) if isinstance(v, str) else v
                                                             for k, v in pairs.items()})

    def frame_counts(self) -> dict[tuple[str, str], int]:
        """Frames per task uid and labelling calculator."""
        if not self.path.exists():
            return {}
        counts: dict[tuple[str, str], int] = {}
        for row in self._db.select(FRAME_KEY, include_data=False, columns=["key_value_pairs"]):
            key = (_from_db_string(row.get(FRAME_KEY)), str(row.get("label_calculator")))
            counts[key] = counts.get(key, 0) + 1
        return counts

    def remove_frames(self, owners: Iterable[str]) -> int:
        """Delete every frame of these task uids; returns how many rows went."""
        rows = [row.id for owner in owners for row in self._db.select(include_data=False, columns=["id"],
                                                                      **{FRAME_KEY: _db_string(owner)})]
        if rows:
            self._db.delete(rows)
        return len(rows)


def _db_string(value: str) -> str:
    """ase.db refuses strings that read as numbers: store ``"18517"`` quoted (``"'18517'"``)."""
    try:
        float(value)
    except ValueError:
        return value
    return f"'{value}'"


def _from_db_string(value: Any) -> str:
    """Inverse of :func:`_db_string`."""
    text = str(value)
    if len(text) > 2 and text[0] == text[-1] == "'":
        try:
            float(text[1:-1])
            return text[1:-1]
        except ValueError:
            pass
    return text


def _key_values(record: CrystalRecord) -> dict[str, Any]:
    pairs: dict[str, Any] = {"uid": _db_string(record.id), "source": _db_string(record.source),
                             "reduced_formula": record.formula}
    for key in ("energy_per_atom", "formation_energy_per_atom"):
        value = getattr(record, key)
        if value is not None:
            if not math.isfinite(value):
                raise DataError(f"record {record.id!r}: {key} is not finite")
            pairs[key] = float(value)
    for key, value in record.info.items():
        if key in _RESERVED or key in reserved_keys:
            raise DataError(f"record {record.id!r}: info key {key!r} is reserved by ase-lcom or ase.db")
        pairs[key] = _db_string(value) if isinstance(value, str) else value
    return pairs


FORMATION_KEYS = ("formation_energy_per_atom", "heat_ref", "e_form")
"""Names under which datasets store formation energies per atom (ours first)."""


def record_from_row(row: Any, source: str = "") -> CrystalRecord:
    """A record from an ``ase.db`` row, ours or a foreign database's.

    Energies come from ``energy_per_atom`` (else the stored calculator energy per atom) and
    ``formation_energy_per_atom`` (or ``heat_ref``, ``e_form``); other key-value pairs become ``info``.
    """
    pairs = dict(row.key_value_pairs)
    energy = pairs.pop("energy_per_atom", None)
    if energy is None and row.get("energy") is not None:
        energy = float(row.energy) / row.natoms
    e_form = next((pairs.pop(k) for k in FORMATION_KEYS if k in pairs), None)
    return CrystalRecord(
        structure=to_structure(row.toatoms()),
        energy_per_atom=energy,
        formation_energy_per_atom=e_form,
        source=_from_db_string(pairs.pop("source", source)),
        id=_from_db_string(pairs.pop("uid", f"{source}:{row.id}" if source else row.id)),
        info={k: _from_db_string(v) if isinstance(v, str) else v for k, v in pairs.items() if k != "reduced_formula"},
    )
