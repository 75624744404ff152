"""Predict many formulas on any executor, streaming every result into an ASE database as it finishes.

One row per kept candidate (the structure; ``target``, ``rank``, ``predictor``, ``model``, ``spacegroup``,
energies, ``seconds``, ``status="ok"``) and one row per formula that failed (no atoms, ``status="failed"``,
``error``: its one-line message). A formula's rows are written in one transaction, so a killed run leaves each
formula either complete or absent; a rerun skips the formulas already there (and retries the failed ones with
``retry_failed``). The calling process is the database's only writer (a lock file refuses a second run on the
same database); workers only compute. The predictor is built once per worker (:func:`worker_resource`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ase_lcom import __version__
from ase_lcom.errors import LCOMError
from ase_lcom.execution import Executor, worker_resource
from ase_lcom.structure import parse_formula


class BatchError(LCOMError, ValueError):
    """A batch cannot start: unreadable formulas file, database in use, bad settings."""


@dataclass(frozen=True)
class PredictionTask:
    """One formula to predict and how (picklable; ``options`` as sorted pairs so equal settings share a
    predictor in a worker)."""

    formula: str
    predictor: str = "lcom"
    options: tuple[tuple[str, Any], ...] = ()
    formula_units: int | None = None
    n_candidates: int | None = None
    seed: int = 0
    keep: int = 3


@dataclass
class BatchReport:
    """What a run did: formulas predicted, failed and skipped (already in the database), and its wall time."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def per_minute(self) -> float:
        """Formulas finished (predicted or failed) per minute of wall time."""
        return 60.0 * (self.done + self.failed) / self.seconds if self.seconds > 0 else 0.0


def read_formulas(path: str | os.PathLike) -> list[str]:
    """Formulas of a text file, one per line (blank lines and ``#`` comments skipped; repeats of a reduced
    formula dropped). A line that is no formula is kept: it fails as its own task, with its message."""
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"cannot read formulas file {path}: {exc}") from None
    formulas, seen = [], set()
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            key = parse_formula(text).reduced_formula
        except LCOMError:
            key = text
        if key not in seen:
            seen.add(key)
            formulas.append(text)
    if not formulas:
        raise BatchError(f"formulas file {path} has no formula")
    return formulas


def predict_task(task: PredictionTask) -> dict[str, Any]:
    """Run one prediction in a worker: the kept candidates as ASE atoms with their database fields."""
    from ase_lcom.predictors import load_predictor
    from ase_lcom.structure import to_atoms

    predictor = worker_resource(("predictor", task.predictor, task.options),
                                lambda: load_predictor(task.predictor, **dict(task.options)))
    start = time.perf_counter()
    candidates = predictor.predict_candidates(task.formula, formula_units=task.formula_units,
                                              n_candidates=task.n_candidates, seed=task.seed)
    seconds = time.perf_counter() - start
    rows = []
    for rank, candidate in enumerate(candidates[: task.keep], 1):
        info = candidate.info
        fields = {"rank": rank, "spacegroup": str(info.get("spacegroup", "")), "seconds": seconds,
                  "model": str(info.get("model", "")), "candidate_seed": str(info.get("seed", ""))}
        for key in ("energy_per_atom", "validated_energy_per_atom"):
            value = getattr(candidate, key)
            if value is not None:
                fields[key] = float(value)
        data = {k: v for k, v in info.items() if isinstance(v, (str, int, float, bool, list))}
        rows.append((to_atoms(candidate.structure), fields, data))
    return {"rows": rows, "pid": os.getpid()}


def _one_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    message = text[0] if text else "failed"
    return message if isinstance(error, LCOMError) else f"{type(error).__name__}: {message}"


def _sole_writer(db_path: Path) -> Any:
    """``<db>.writer.lock`` held for the run (:func:`ase_lcom.store.sole_writer`)."""
    from ase_lcom.store import sole_writer

    return sole_writer(db_path, BatchError)


def finished_targets(db_path: str | os.PathLike, include_failed: bool = True) -> set[str]:
    """Formulas (as requested) with rows in a results database (``include_failed``: failed ones too)."""
    from ase.db import connect

    if not Path(db_path).is_file():
        return set()
    done = set()
    for row in connect(db_path).select(columns=["key_value_pairs"]):
        if include_failed or row.get("status") == "ok":
            done.add(row.get("target"))
    return done


def predict_many(formulas: Sequence[str], db_path: str | os.PathLike, executor: Executor,
                 template: PredictionTask = PredictionTask(""), retry_failed: bool = False,
                 progress: bool = True) -> BatchReport:
    """Predict every formula not yet in ``db_path`` on ``executor``, writing each as it finishes.

    Parameters
    ----------
    formulas
        Formulas as typed (each row's ``target``).
    db_path
        ASE database (``.db``) to write; created if missing.
    executor
        Where the predictions run (the caller opens and closes it).
    template
        Predictor, options, cell size, seed and number of candidates kept per formula (its ``formula`` is
        replaced).
    retry_failed
        Predict again the formulas recorded as failed (their failure rows are replaced).
    """
    from ase import Atoms
    from ase.db import connect
    from tqdm.auto import tqdm

    if template.keep < 1:
        raise BatchError(f"candidates kept per formula must be at least 1, got {template.keep}")
    db_path = Path(db_path)
    if db_path.suffix != ".db":
        raise BatchError(f"results database must be an ASE .db file, got {db_path.name}")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    report = BatchReport()
    start = time.perf_counter()
    with _sole_writer(db_path):
        database = connect(db_path)
        _check_settings(database, db_path, template)
        skip = finished_targets(db_path, include_failed=not retry_failed)
        if retry_failed:
            failed = [row.id for row in database.select(status="failed")]
            if failed:
                database.delete(failed)
        todo = [f for f in formulas if f not in skip]
        report.skipped = len(formulas) - len(todo)
        tasks: Iterable[PredictionTask] = (PredictionTask(f, *_fields(template)) for f in todo)
        common = {"predictor": template.predictor, "package_version": __version__}
        with tqdm(total=len(todo), desc="predict-many", unit="formula", disable=not progress) as bar:
            for outcome in executor.map_unordered(predict_task, tasks):
                formula = outcome.item.formula
                with database:  # one transaction per formula
                    if outcome.ok:
                        for atoms, fields, data in outcome.result["rows"]:
                            database.write(atoms, target=formula, status="ok", **common, **fields, data=data)
                        report.done += 1
                    else:
                        message = _one_line(outcome.error)
                        database.write(Atoms(), target=formula, status="failed", error=message, **common)
                        report.errors[formula] = message
                        report.failed += 1
                bar.update(1)
                bar.set_postfix(done=report.done, failed=report.failed)
    report.seconds = time.perf_counter() - start
    return report


def _check_settings(database: Any, db_path: Path, template: PredictionTask) -> None:
    """Record the run's predictor settings in the database's metadata; refuse a rerun with others (more formulas
    may be added)."""
    import json

    from ase_lcom.store import check_unchanged

    given = json.loads(json.dumps({"predictor": template.predictor, "options": dict(template.options),
                                   "formula_units": template.formula_units, "n_candidates": template.n_candidates,
                                   "seed": template.seed, "keep": template.keep}, default=str))
    metadata = database.metadata if db_path.exists() else {}
    if "predict_many" not in metadata:
        database.metadata = {**metadata, "predict_many": given}
        return
    check_unchanged("predict-many setting", metadata["predict_many"], given, db_path, error=BatchError,
                    fix="use the original arguments or a new results database")


def _fields(template: PredictionTask) -> tuple[Any, ...]:
    return (template.predictor, template.options, template.formula_units, template.n_candidates, template.seed,
            template.keep)
