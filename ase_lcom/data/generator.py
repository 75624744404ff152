"""OQMD-style dataset generation: decorate prototypes and draw random symmetric cells, relax, deduplicate, store.

The run is a fixed list of tasks (one candidate structure each, identified by a stable ``uid``). Workers relax
candidates in parallel; the parent process alone writes, so every finished structure is committed at once
to the ASE database and every task that yields no row (duplicate, excluded, failed) is appended to a
``<db>.tasks.jsonl`` log. A restarted run with the same arguments skips every task found in either place;
raising ``n_random`` later adds tasks without touching finished ones. Each run (even an interrupted one)
appends its wall time and counts to ``<db>.runs.jsonl``.

With :class:`~ase_lcom.data.frames.FrameSettings` every task's relaxation frames (and strained and rattled
copies of its result) are stored too, labelled in the worker, written by the parent before the task's row or
log entry; frames of a task that never reached either are removed when the run resumes, so none is stored twice.
"""

from __future__ import annotations

import functools
import json
import os
import time
import warnings
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Structure

from ase_lcom.data.frames import FrameSettings, task_frames
from ase_lcom.data.prototypes import decorate, random_structure
from ase_lcom.data.records import CrystalDatabase, CrystalRecord, DataError
from ase_lcom.execution import Executor, executor_for, worker_calculator
from ase_lcom.metrics.matching import structure_matcher
from ase_lcom.store import ResultsStore
from ase_lcom.structure import formula_unit_options, parse_formula, structure_from_dict

if TYPE_CHECKING:
    from ase_lcom.calculators import ReferenceEnergies


@dataclass(frozen=True)
class Task:
    """One candidate to build and relax."""

    uid: str
    formula: str
    """Reduced formula."""
    method: str
    """``prototype``, ``random`` or ``import``."""
    label: str
    """Prototype name, ``z<formula units>`` for a random cell, or ``<file>:<record id>`` for an import."""
    seed: int
    structure: str = ""
    """For ``import``: the starting structure as pymatgen JSON."""


@dataclass(frozen=True)
class GenerationSettings:
    """Everything that defines a run (stored with each row's provenance)."""

    calculator: str = "chgnet"
    n_random: int = 6
    max_atoms: int = 12
    fmax: float = 0.05
    steps: int = 150
    seed: int = 0


def plan_tasks(
    compositions: Iterable[str], settings: GenerationSettings, skip_prototypes: dict[str, Sequence[str]] | None = None
) -> list[Task]:
    """The deterministic task list: every matching prototype plus ``n_random`` random cells per composition.

    Random cells cycle through the numbers of formula units that fit in ``max_atoms`` (at least 2 atoms).
    Tasks are ordered so that a partial run covers every composition: all prototypes first, then random
    cells round by round (the first random cell of every composition, then the second, ...).
    """
    prototypes: list[Task] = []
    rounds: list[list[Task]] = [[] for _ in range(settings.n_random)]
    unique = dict.fromkeys(parse_formula(f, max_atoms=None).reduced_formula for f in compositions)
    for reduced in unique:
        skipped = set((skip_prototypes or {}).get(reduced, ()))
        for name, structure in decorate(reduced):
            if name.removeprefix("anti-").split("-")[0] not in skipped and len(structure) <= settings.max_atoms:
                prototypes.append(Task(f"{reduced}/prototype/{name}", reduced, "prototype", name, settings.seed))
        z_options = [z for z in formula_unit_options(reduced, settings.max_atoms)
                     if z * Composition(reduced).num_atoms >= 2]
        for k in range(settings.n_random if z_options else 0):
            z = z_options[k % len(z_options)]
            seed = zlib.crc32(f"{reduced}/{k}/{settings.seed}".encode())
            rounds[k].append(Task(f"{reduced}/random/{k}", reduced, "random", f"z{z}", seed))
    return prototypes + [task for tasks in rounds for task in tasks]


def import_tasks(paths: Iterable[str | os.PathLike], settings: GenerationSettings, per_file: int) -> list[Task]:
    """Tasks relaxing structures from other datasets (any :func:`~ase_lcom.data.readers.read_records` format).

    Of each file's structures with at most ``max_atoms`` atoms, ``per_file`` are drawn at random (``seed``) and
    relaxed with the run's settings; like every task they are deduplicated and checked against the excluded
    reference structures. Their energies are recomputed: the file's own labels are not used.
    """
    from ase_lcom.data.readers import read_records

    if per_file < 1:
        raise DataError(f"structures to draw per file must be at least 1, got {per_file}")
    tasks = []
    for path in paths:
        name = Path(path).name
        records = [r for r in read_records(path) if len(r.structure) <= settings.max_atoms]
        rng = np.random.default_rng(zlib.crc32(f"{name}/{settings.seed}".encode()))
        for i in sorted(rng.choice(len(records), size=min(per_file, len(records)), replace=False)):
            record = records[int(i)]
            reduced = record.structure.composition.reduced_formula
            label = f"{name}:{record.id}"
            tasks.append(Task(f"{reduced}/import/{label}", reduced, "import", label, settings.seed,
                              json.dumps(record.structure.as_dict())))
    return tasks


# -------------------------------------------------------------------------------------------- task side
def build_candidate(task: Task) -> Structure:
    """The unrelaxed structure of a task."""
    if task.method == "prototype":
        return dict(decorate(task.formula))[task.label]
    if task.method == "import":
        return structure_from_dict(json.loads(task.structure))
    composition = Composition(task.formula) * int(task.label.removeprefix("z"))
    return random_structure(composition, np.random.default_rng(task.seed))


@contextmanager
def _symmetric_relaxation_warnings_ignored() -> Iterator[None]:
    """CHGNet converts the atoms to pymatgen at each step and warns that FixSymmetry is not carried over (it need
    not be: the constraint acts in ASE); ASE warns about large cell steps that BFGS then corrects."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Only FixAtoms and FixCartesian")
        warnings.filterwarnings("ignore", message="FixSymmetry adjust_cell may be ill behaved")
        yield


def reference_task(symbol: str, settings: GenerationSettings) -> dict[str, Any]:
    """Compute one elemental reference (the caller stores it)."""
    from ase_lcom.calculators import ReferenceEnergies

    with _symmetric_relaxation_warnings_ignored():
        return ReferenceEnergies(settings.calculator).compute(symbol)


def run_task(task: Task, settings: GenerationSettings, frames: FrameSettings | None = None) -> dict[str, Any]:
    """Build and relax one candidate (symmetry kept); returns a picklable result (with ``frames`` when asked).

    Any error while building or relaxing this candidate (pyxtal, symmetry, an exploding relaxation) makes the
    task ``failed``; the calculator (built once per worker) is fetched outside that net, so a broken setup
    raises and stops the run instead of being recorded against every task.
    """
    from ase_lcom.calculators import relax

    calculator = worker_calculator(settings.calculator)
    start = time.perf_counter()
    try:
        with _symmetric_relaxation_warnings_ignored():
            result = relax(build_candidate(task), calculator, fmax=settings.fmax, steps=settings.steps,
                           optimizer="BFGS", fix_symmetry=True)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        return {"task": task, "status": "failed", "reason": reason, "seconds": time.perf_counter() - start}
    extra: dict[str, Any] = {}
    if frames is not None:
        from ase_lcom.calculators import get_calculator

        labeller = partial(get_calculator, frames.calculator, **frames.label_options()) if frames.calculator else None
        extra["frames"], extra["frame_failures"] = task_frames(result.trajectory, frames, task.uid,
                                                               (settings.calculator, calculator), labeller)
    if not result.converged:
        return {"task": task, "status": "unconverged", "reason": f"max force {result.max_force:.3f} eV/A",
                "seconds": time.perf_counter() - start, **extra}
    return {
        "task": task, "status": "relaxed", "structure": result.structure.as_dict(),
        "energy_per_atom": result.energy_per_atom, "steps": result.steps, "seconds": time.perf_counter() - start,
        **extra,
    }


# -------------------------------------------------------------------------------------------- parent side
def task_log(db_path: str | os.PathLike) -> ResultsStore:
    """The log of tasks that produced no database row (``<db>.tasks.jsonl``: ``uid``, ``status``, ``reason``)."""
    path = Path(db_path)
    return ResultsStore(path.with_name(path.name + ".tasks.jsonl"), key=("uid",))


@dataclass
class GenerationReport:
    """What a (possibly resumed) run did."""

    planned: int
    already_done: int
    counts: Counter
    seconds: float


def _one_writer(function: Callable[..., GenerationReport]) -> Callable[..., GenerationReport]:
    """Run ``function(db_path, ...)`` holding ``<db_path>.writer.lock``: a second run on the database is a
    one-line :class:`DataError`, never a second writer (which would store every record twice)."""

    @functools.wraps(function)
    def locked(db_path: str | os.PathLike, *args: Any, **kwargs: Any) -> GenerationReport:
        from ase_lcom.store import sole_writer

        path = Path(db_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with sole_writer(path, DataError):
            return function(db_path, *args, **kwargs)

    return locked


@_one_writer
def generate(
    db_path: str | os.PathLike,
    compositions: Iterable[str],
    settings: GenerationSettings = GenerationSettings(),
    workers: int = 2,
    exclude_compositions: Iterable[str] = (),
    exclude_structures: Iterable[Structure] = (),
    skip_prototypes: dict[str, Sequence[str]] | None = None,
    progress: bool = True,
    max_tasks: int | None = None,
    imports: Sequence[Task] = (),
    exclude_energies: dict[str, float] | None = None,
    executor: Executor | None = None,
    frames: FrameSettings | None = None,
) -> GenerationReport:
    """Generate (or resume generating) a dataset into an ASE database.

    Parameters
    ----------
    db_path
        Output ``.db`` file; ``<db_path>.tasks.jsonl`` logs tasks without a row (:func:`task_log`).
    compositions
        Formulas to generate for.
    settings
        Calculator, number of random cells, size limit, relaxation settings, seed.
    workers
        Worker processes (1 runs in this process), one thread each, when no ``executor`` is given.
    exclude_compositions
        Formulas left out entirely (leakage control, e.g. held-out benchmark compounds).
    exclude_structures
        Reference structures: a relaxed candidate matching one of the same composition is dropped.
    skip_prototypes
        Prototype names not to build per reduced formula (they would only be excluded after relaxation).
    max_tasks
        Stop after this many new tasks (for partial runs and tests).
    imports
        Extra tasks from other datasets (:func:`import_tasks`), run after the planned ones.
    exclude_energies
        Energy per atom (eV) per reduced formula at or below which a relaxed candidate is dropped: polymorphs
        degenerate with a benchmark ground state (stacking variants, polytypes) that match no reference
        structure. Stored rows that fall under it are moved to the task log as excluded.
    executor
        Where the tasks run (e.g. a Dask cluster; the caller opens and closes it); default
        ``executor_for(workers)``.
    frames
        Also store training frames (:mod:`ase_lcom.data.frames`) of every task that relaxed (converged or not;
        not of excluded ones); their settings are recorded in the database metadata (``frames``) and a resumed
        run must use the same.
    """
    from tqdm.auto import tqdm

    from ase_lcom.calculators import ReferenceEnergies, get_calculator

    start = time.perf_counter()
    get_calculator(settings.calculator)  # a broken setup fails here, once, with its own message
    if frames is not None and frames.calculator:
        get_calculator(frames.calculator, **frames.label_options())
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    database = CrystalDatabase(db_path)
    # n_random may grow between runs (it only adds tasks); everything else defines what a task computes
    database.check_settings("generation", {k: v for k, v in asdict(settings).items() if k != "n_random"})
    _check_frame_settings(database, frames)
    log = task_log(db_path)
    excluded = {parse_formula(f, max_atoms=None).reduced_formula for f in exclude_compositions}
    tasks = [t for t in [*plan_tasks(compositions, settings, skip_prototypes), *imports] if t.formula not in excluded]
    done = database.ids() | {uid for (uid,) in log.stored_keys()}
    pending = [t for t in tasks if t.uid not in done][:max_tasks]
    database.remove_frames({uid for uid, _ in database.frame_counts()} - done)  # of tasks a kill interrupted
    ceilings = {Composition(f).reduced_formula: e for f, e in (exclude_energies or {}).items()}
    stored: dict[str, list[Structure]] = defaultdict(list)
    for record in list(database):
        if record.energy_per_atom is not None and record.energy_per_atom <= ceilings.get(record.formula, -np.inf):
            _log_task(log, record.id, "excluded", _degenerate(record.energy_per_atom, ceilings[record.formula]))
            database.remove(record.id)
        else:
            stored[record.formula].append(record.structure)
    forbidden: dict[str, list[Structure]] = defaultdict(list)
    for structure in exclude_structures:
        forbidden[structure.composition.reduced_formula].append(structure)
    matcher = structure_matcher("strict")
    references = ReferenceEnergies(settings.calculator)
    elements = references.missing(el.symbol for t in pending for el in Composition(t.formula))
    counts: Counter = Counter()
    try:
        with nullcontext(executor) if executor is not None else executor_for(workers) as executor:
            for outcome in tqdm(executor.map_unordered(partial(reference_task, settings=settings), elements),
                                total=len(elements), desc="elemental references", unit="element",
                                disable=not progress or not elements):
                references.store(outcome.item, outcome.get())
            bar = tqdm(total=len(pending), desc="generate", unit="task", disable=not progress)
            try:
                for outcome in executor.map_unordered(partial(run_task, settings=settings, frames=frames), pending):
                    result = outcome.get()  # run_task reports a candidate's failure; an error here is the setup's
                    task: Task = result["task"]
                    if result["status"] != "relaxed":
                        _store_frames(result, database, settings, counts)
                        _log_task(log, task.uid, result["status"], result.get("reason", ""))
                    else:
                        result["status"] = _store(result, database, references, settings, log, matcher,
                                                  forbidden[task.formula], stored[task.formula],
                                                  ceilings.get(task.formula, -np.inf), counts)
                    counts[result["status"]] += 1
                    bar.update(1)
                    bar.set_postfix({k: counts[k] for k in ("relaxed", "duplicate", "failed", "unconverged",
                                                            "implausible", "frames")
                                     if k != "frames" or frames is not None})
            finally:
                bar.close()
    finally:
        _log_run(db_path, settings, getattr(executor, "workers", 1) if executor is not None else workers,
                 type(executor).__name__ if executor is not None else "", counts, time.perf_counter() - start)
    already = sum(t.uid in done for t in tasks)
    return GenerationReport(len(tasks), already, counts, time.perf_counter() - start)


def _store(result: dict[str, Any], database: CrystalDatabase, references: ReferenceEnergies,
           settings: GenerationSettings, log: ResultsStore, matcher: StructureMatcher, forbidden: list[Structure],
           stored: list[Structure], ceiling: float, counts: Counter) -> str:
    """Check a relaxed candidate's energy, the leakage controls and the stored structures of its composition;
    store it (``relaxed``) or log why not (``implausible``, ``excluded``, ``duplicate``); store its frames unless
    implausible or excluded."""
    from ase_lcom.plausibility import ImplausibleResultError, check_formation_energy

    task: Task = result["task"]
    structure = structure_from_dict(result["structure"])
    energy = result["energy_per_atom"]
    try:
        formation = check_formation_energy(task.formula, references.formation_energy_per_atom(structure, energy))
    except ImplausibleResultError as exc:
        _log_task(log, task.uid, "implausible", str(exc))
        return "implausible"
    if any(matcher.fit(structure, ref) for ref in forbidden):
        _log_task(log, task.uid, "excluded", "matches an excluded reference structure")
        return "excluded"
    if energy <= ceiling:
        _log_task(log, task.uid, "excluded", _degenerate(energy, ceiling))
        return "excluded"
    _store_frames(result, database, settings, counts)
    if any(matcher.fit(structure, other) for other in stored):
        _log_task(log, task.uid, "duplicate")
        return "duplicate"
    database.add(CrystalRecord(
        structure=structure,
        energy_per_atom=energy,
        formation_energy_per_atom=formation,
        source=f"generated:{settings.calculator}",
        id=task.uid,
        info={"method": task.method, "label": task.label, "seed": task.seed,
              "spacegroup": _spacegroup(structure), "relax_steps": result["steps"],
              "relaxed_with": settings.calculator},
    ))
    stored.append(structure)
    return "relaxed"


def _store_frames(result: dict[str, Any], database: CrystalDatabase, settings: GenerationSettings,
                  counts: Counter) -> None:
    """Write a task's frames (before its row or log entry: a kill in between leaves frames a resume removes)."""
    if result.get("frames"):
        task: Task = result["task"]
        database.add_frames(task.uid, result["frames"], f"generated:{settings.calculator}", task.formula)
        counts["frames"] += len(result["frames"])
    if result.get("frame_failures"):
        counts["frame_failures"] += result["frame_failures"]


def _check_frame_settings(database: CrystalDatabase, frames: FrameSettings | None) -> None:
    """Record the frame settings; refuse other ones, or none, on a database that has frames."""
    if frames is not None:
        database.check_settings("frames", {**asdict(frames), "strains": list(frames.strains)})
    elif database.frame_counts():
        raise DataError(f"{database.path} holds training frames: resume it with the same frame options "
                        "(--keep-frames ...)")


def _log_task(log: ResultsStore, uid: str, status: str, reason: str = "") -> None:
    log.append({"uid": uid, "status": status, "reason": reason})


def _degenerate(energy: float, ceiling: float) -> str:
    return f"{energy:.4f} eV/atom, at or below the exclusion ceiling {ceiling:.4f} (degenerate with a reference)"


def _log_run(db_path: Path, settings: GenerationSettings, workers: int, executor: str, counts: Counter,
             seconds: float) -> None:
    """Append this run (finished or interrupted) to ``<db>.runs.jsonl``: the data card's time and counts."""
    from ase_lcom import __version__

    entry = {"ended": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(seconds, 1), "workers": workers,
             **({"executor": executor} if executor else {}), "cpu_count": os.cpu_count(), "counts": dict(counts), "settings": asdict(settings),
             "ase_lcom": __version__}
    ResultsStore(db_path.with_name(db_path.name + ".runs.jsonl")).append(entry)


def _spacegroup(structure: Structure) -> int:
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        return int(SpacegroupAnalyzer(structure, symprec=0.1).get_space_group_number())
    except Exception:
        return 1


def default_run() -> dict[str, Any]:
    """Arguments of :func:`generate` for the shipped default dataset (paper protocol).

    The 26 benchmark compounds are included, but none of their reference polymorphs (rocksalt, CsCl-type,
    zincblende, wurtzite; diamond and graphite for C; diamond for Si) is built, and relaxed candidates that
    match one are dropped: whichever of them is the ground state, it never enters the training data.
    """
    from ase_lcom.data.compositions import BENCHMARK_POLYMORPHS, CSP26, benchmark_polymorphs, default_compositions

    skip = {f: ("diamond", "graphite") if f in ("C", "Si") else BENCHMARK_POLYMORPHS for f in CSP26}
    return {
        "compositions": default_compositions(),
        "exclude_structures": [s for f in CSP26 for s in benchmark_polymorphs(f)],
        "skip_prototypes": skip,
    }
