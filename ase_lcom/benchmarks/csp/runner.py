"""Running the CSP benchmark: every predictor on every compound and seed, each row scored and stored.

Metrics of a prediction (the predictor's best candidate, in the ground state's cell size):

- ``criterion``: the paper's ``(E_f(pred) - E_f(gs)) / |E_f(gs)| <= 0.2``, validator formation energies
  (for the elements C and Si, whose E_f(gs) is ~0 by construction, total energies per atom instead);
- ``strict``: pymatgen ``StructureMatcher()`` (stol 0.3, ltol 0.2, angle_tol 5) matches the experimental
  ground state or any reference polymorph within 10 meV/atom of the calculator's ground state;
- ``loose``: the same with the CDVAE/DiffCSP tolerances (0.5, 0.3, 10), reported only as an extra column;
- ``above_gs_mev``: energy above the ground state, meV/atom, as predicted and after relaxing the prediction;
- wall times: prediction alone and the relaxation.

Rows are appended to ``rows.jsonl`` as they finish, so an interrupted run resumes without redoing any.
``settings.json`` beside them records the validating calculator, whether predictions are relaxed and how each
predictor is built; a rerun into the same folder with other ones is refused (more compounds, seeds or predictors
are fine).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

from pymatgen.core import Structure

from ase_lcom.benchmarks.csp.references import (
    ELEMENTS,
    Validator,
    accepted_structures,
    compute_references,
    ground_state_units,
)
from ase_lcom.data.compositions import CSP26
from ase_lcom.execution import Executor, SerialExecutor, worker_resource
from ase_lcom.metrics.energy import energy_above_mev, energy_criterion, relative_gap
from ase_lcom.metrics.matching import first_match
from ase_lcom.store import ResultsStore, StoreError, check_unchanged, read_json, sole_writer, write_json

ROW_KEY = ("formula", "predictor", "protocol", "seed")
"""The fields that identify a row of ``rows.jsonl``."""


def score(reference: dict[str, Any], formula: str, energy_per_atom: float, formation: float) -> dict[str, Any]:
    """The energy metrics of one structure against a compound's references."""
    gs = reference["polymorphs"][reference["ground_state"]]
    if formula in ELEMENTS:
        value, lowest = energy_per_atom, gs["energy_per_atom"]
    else:
        value, lowest = formation, gs["formation_energy_per_atom"]
    return {"formation_energy_per_atom": formation, "energy_per_atom": energy_per_atom,
            "above_gs_mev": energy_above_mev(energy_per_atom, gs["energy_per_atom"]),
            "relative_gap": relative_gap(value, lowest), "criterion": energy_criterion(value, lowest)}


def matches(structure: Structure, reference: dict[str, Any], setting: str = "strict") -> str | None:
    """Name of the accepted polymorph ``structure`` matches under a matcher setting (``strict``, ``cdvae``),
    or None."""
    return first_match(structure, accepted_structures(reference), setting)


def evaluate(structure: Structure, formula: str, reference: dict[str, Any], validator: Validator,
             relax: bool = True) -> dict[str, Any]:
    """All metrics of one predicted structure, as predicted and (with ``relax``) after relaxation."""
    energy = validator.energy_per_atom(structure)
    row = {"predicted": {**score(reference, formula, energy, validator.formation(structure, energy)),
                         "strict": matches(structure, reference, "strict"),
                         "loose": matches(structure, reference, "cdvae"), "structure": structure.as_dict()}}
    if relax:
        relaxed, relaxed_energy, seconds = validator.relax(structure)
        row["relaxed"] = {**score(reference, formula, relaxed_energy, validator.formation(relaxed, relaxed_energy)),
                          "strict": matches(relaxed, reference, "strict"), "seconds": seconds,
                          "structure": relaxed.as_dict()}
    return row


def _timed(factory: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    built = factory()
    return built, time.perf_counter() - start


def benchmark_row(job: tuple[str, int], name: str, factory: Callable[[], Any], references: dict[str, dict[str, Any]],
                  calculator: str, relax: bool, protocol: str) -> dict[str, Any]:
    """The row of one compound and seed (``job``) for the predictor ``name``: its best candidate, scored.

    The predictor (built by ``factory``) and the validator are built once per worker and reused.
    """
    formula, seed = job
    predictor, load_seconds = worker_resource(("csp-predictor", name), partial(_timed, factory))
    validator = worker_resource(("csp-validator", calculator), partial(Validator, calculator))
    reference = references[formula]
    units = ground_state_units(formula, reference)
    start = time.perf_counter()
    candidates = predictor.predict_candidates(formula, formula_units=units, seed=seed)
    seconds = time.perf_counter() - start
    best = candidates[0]
    return {"formula": formula, "predictor": name, "protocol": protocol, "z": units, "seed": seed,
            "predict_seconds": seconds, "load_seconds": load_seconds,
            "predictor_energy": best.energy_per_atom, "spacegroup": best.info.get("spacegroup"),
            "trace": best.info.get("trace"),
            **evaluate(best.structure, formula, reference, validator, relax)}


def describe_factory(factory: Callable[[], Any]) -> dict[str, Any]:
    """A predictor factory as JSON values: the function, and a ``functools.partial``'s arguments and options."""
    function = getattr(factory, "func", factory)
    described = {"function": f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', function)}"}
    if isinstance(factory, partial):
        described.update(args=list(factory.args), options=factory.keywords)
    return json.loads(json.dumps(described, default=str))


def check_run_settings(out: Path, calculator: str, relax: bool, predictors: dict[str, Callable[[], Any]]) -> None:
    """Record the run's settings in ``out/settings.json`` or refuse a rerun with others (new predictors are
    added to the record)."""
    path = out / "settings.json"
    given = {"calculator": calculator, "relax": relax,
             "predictors": {name: describe_factory(factory) for name, factory in predictors.items()}}
    stored = read_json(path)
    if stored is not None:
        common = set(stored.get("predictors", {})) & set(given["predictors"])
        check_unchanged("benchmark setting", {**stored, "predictors": {n: stored["predictors"][n] for n in common}},
                        {**given, "predictors": {n: given["predictors"][n] for n in common}}, path,
                        error=StoreError, fix="use another --out to run with other settings")
        given["predictors"] = {**stored.get("predictors", {}), **given["predictors"]}
    write_json(path, given, indent=1)


def run_csp_benchmark(
    predictors: dict[str, Callable[[], Any]],
    out_dir: str | Path,
    formulas: Sequence[str] = CSP26,
    calculator: str = "chgnet",
    relax: bool = True,
    seeds: Sequence[int] = (0,),
    protocol: str = "paper",
    progress: bool = True,
    executor: Executor | None = None,
) -> list[dict[str, Any]]:
    """Run each predictor (built lazily by its factory) on each compound with each seed (the predictor's random
    state: decoder noise, random cells, search moves); returns all rows of ``rows.jsonl``.

    ``executor`` runs the rows (default: one after the other in this process); with worker processes, each
    worker builds the predictor and the validator once, and the factories must be picklable
    (``functools.partial`` of a module-level function). A given executor is left open.

    Raises
    ------
    StoreError
        ``out_dir`` holds rows made with another calculator, relaxation setting or predictor options
        (:func:`check_run_settings`), or another run is writing it.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with sole_writer(out / "rows.jsonl", error=StoreError):
        return _run_rows(predictors, out, formulas, calculator, relax, seeds, protocol, progress, executor)


def _run_rows(predictors: dict[str, Callable[[], Any]], out: Path, formulas: Sequence[str], calculator: str,
              relax: bool, seeds: Sequence[int], protocol: str, progress: bool,
              executor: Executor | None) -> list[dict[str, Any]]:
    """:func:`run_csp_benchmark` with ``out``'s writer lock held."""
    from tqdm.auto import tqdm

    check_run_settings(out, calculator, relax, predictors)
    refs = compute_references(formulas, Validator(calculator), out / f"references-{calculator}.json", progress)
    store = ResultsStore(out / "rows.jsonl", key=ROW_KEY)
    rows = store.rows()
    done = {store.key_of(r) for r in rows}
    with nullcontext(executor) if executor is not None else SerialExecutor() as runner:
        for name, factory in predictors.items():
            todo = [(f, seed) for seed in seeds for f in formulas if (f, name, protocol, seed) not in done]
            job = partial(benchmark_row, name=name, factory=factory, references=refs, calculator=calculator,
                          relax=relax, protocol=protocol)
            for outcome in tqdm(runner.map_unordered(job, todo), total=len(todo), desc=f"csp26 {name}",
                                disable=not progress or not todo):
                row = outcome.get()
                rows.append(row)
                store.append(row)
    return rows
