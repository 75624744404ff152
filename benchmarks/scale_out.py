"""Throughput of ``predict-many`` and of dataset generation on 1 and 2 workers: local processes against Dask.

    OMP_NUM_THREADS=1 python benchmarks/scale_out.py [--formulas 100] [--polished 40] [--quick]

Writes ``benchmarks/results/scale-out/scale_out.json`` and ``.md``. ``predict-many`` runs the shipped default
(polished, over the first ``--polished`` formulas) and the pure method (over the first ``--formulas``) of the v3
composition list (binaries to quaternaries) with one formula unit per cell; generation relaxes CHGNet tasks of three compositions (2 random cells each).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "scale-out"


def predict_runs(formulas: list[str], polish: str, executors: dict[str, object]) -> list[dict]:
    from ase_lcom.distributed.predict_many import PredictionTask, predict_many

    template = PredictionTask("", "lcom", (("polish", polish),), formula_units=1)
    rows = []
    for label, make in executors.items():
        with tempfile.TemporaryDirectory() as tmp, make() as executor:
            start = time.perf_counter()
            report = predict_many(formulas, Path(tmp) / "r.db", executor, template, progress=False)
            seconds = time.perf_counter() - start
        rows.append({"job": f"predict-many ({'pure' if polish == 'none' else 'default, polished'})",
                     "executor": label, "formulas": len(formulas), "failed": report.failed,
                     "seconds": round(seconds, 1), "per_minute": round(60 * len(formulas) / seconds, 1)})
        print(rows[-1], flush=True)
    return rows


def generation_runs(executors: dict[str, object]) -> list[dict]:
    from ase_lcom.data.generator import GenerationSettings, generate

    settings = GenerationSettings(calculator="chgnet", n_random=2, max_atoms=8, steps=100)
    compositions = ["NaCl", "MgO", "ZnS"]
    rows = []
    for label, make in executors.items():
        with tempfile.TemporaryDirectory() as tmp, make() as executor:
            start = time.perf_counter()
            report = generate(Path(tmp) / "g.db", compositions, settings, executor=executor, progress=False)
            seconds = time.perf_counter() - start
        tasks = sum(report.counts.values())
        rows.append({"job": "data generate (CHGNet)", "executor": label, "tasks": tasks,
                     "seconds": round(seconds, 1), "per_minute": round(60 * tasks / seconds, 1)})
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    from ase_lcom.data.compositions import v3_compositions
    from ase_lcom.execution import ProcessExecutor, SerialExecutor
    from ase_lcom.execution.dask_cluster import DaskExecutor

    parser = argparse.ArgumentParser()
    parser.add_argument("--formulas", type=int, default=100)
    parser.add_argument("--polished", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="only the 2-worker runs")
    args = parser.parse_args()
    formulas = v3_compositions()[: args.formulas]
    executors = {"serial (1 process)": SerialExecutor, "processes x2": lambda: ProcessExecutor(2),
                 "dask x1": lambda: DaskExecutor(workers=1), "dask x2": lambda: DaskExecutor(workers=2)}
    if args.quick:
        executors = {k: v for k, v in executors.items() if "2" in k}
    rows = predict_runs(formulas[: args.polished], "chgnet", executors)
    rows += predict_runs(formulas, "none", executors)
    rows += generation_runs(executors)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "scale_out.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = ["| job | executor | items | failed | seconds | per minute |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['job']} | {r['executor']} | {r.get('formulas', r.get('tasks'))} | {r.get('failed', '')} | "
              f"{r['seconds']} | {r['per_minute']} |" for r in rows]
    (OUT / "scale_out.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
