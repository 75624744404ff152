"""Train/validation/test splits of a training run by composition, and the ``split.json`` recorded with it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ase_lcom.data.records import CrystalRecord
from ase_lcom.data.splits import split_by_composition
from ase_lcom.models.checkpoints import CheckpointError

SPLIT_FILE = "split.json"
"""Written beside a run's checkpoints: the reduced formulas of each split."""


def validation_compositions(checkpoint: str | os.PathLike) -> set[str]:
    """The validation compositions recorded beside a checkpoint (its run's :data:`SPLIT_FILE`).

    Raises
    ------
    CheckpointError
        When there is no readable split file beside ``checkpoint``.
    """
    path = Path(checkpoint).with_name(SPLIT_FILE)
    try:
        return set(json.loads(path.read_text())["val"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"no readable {SPLIT_FILE} beside the checkpoint {checkpoint} ({exc})") from None


def training_splits(records: Iterable[CrystalRecord], fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0,
                    init: str | os.PathLike | None = None) -> dict[str, list[CrystalRecord]]:
    """``train``/``val``/``test`` records, no composition in two splits.

    Without ``init``, compositions are split by ``fractions`` with ``seed``
    (:func:`~ase_lcom.data.splits.split_by_composition`). When fine-tuning the checkpoint ``init``, validation
    keeps the compositions that checkpoint was validated on, every other composition trains and the test split
    is empty.
    """
    if init is None:
        return split_by_composition(records, fractions, seed=seed)
    val = validation_compositions(init)
    records = list(records)
    return {"train": [r for r in records if r.formula not in val], "val": [r for r in records if r.formula in val],
            "test": []}


def write_split(splits: dict[str, Sequence[CrystalRecord]], out_dir: str | os.PathLike) -> Path:
    """Record the sorted reduced formulas of each split in ``out_dir/split.json``; returns its path."""
    path = Path(out_dir) / SPLIT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({name: sorted({r.formula for r in part}) for name, part in splits.items()}))
    return path
