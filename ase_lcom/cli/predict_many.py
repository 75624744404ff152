"""``ase-lcom predict-many``: predict every formula of a file into an ASE database, locally or on Dask."""

from __future__ import annotations

import argparse
from typing import Any

from ase_lcom.cli.common import (
    CANDIDATES,
    POSITIVE_INT,
    SEED,
    UsageError,
    add_executor_arguments,
    executor_from_flags,
    options_from_flags,
)


def register(sub: Any) -> None:
    """Add ``predict-many`` to the top-level subcommands."""
    many = sub.add_parser("predict-many", help="predict the formulas of a file into an ASE database (resumable; "
                          "local processes or a Dask cluster)")
    many.add_argument("formulas", metavar="FORMULAS_FILE", help="text file, one formula per line (# comments)")
    many.add_argument("--out", required=True, help="ASE database to write (.db); a rerun skips formulas in it")
    many.add_argument("--predictor", "-p", default="lcom", help="lcom (default), sl, cdvae, or any installed")
    many.add_argument("--model", help="LCOM model bundle (default: the shipped model)")
    many.add_argument("--polish", metavar="CALC", help="polishing calculator of the latent predictors, or none")
    many.add_argument("--pure", action="store_const", const="none", dest="polish",
                      help="the LCOM paper's pure method (same as --polish none)")
    many.add_argument("--formula-units", type=POSITIVE_INT, metavar="N",
                      help="formula units per cell (default: several)")
    many.add_argument("--n-candidates", "-k", type=CANDIDATES, help="crystals decoded per formula (default: the "
                      "predictor's)")
    many.add_argument("--keep", type=POSITIVE_INT, default=3,
                      help="candidates stored per formula, best first (default 3)")
    many.add_argument("--seed", type=SEED, default=0)
    many.add_argument("--retry-failed", action="store_true", help="predict again the formulas recorded as failed")
    add_executor_arguments(many)
    many.add_argument("-q", "--quiet", action="store_true")
    many.set_defaults(func=run_predict_many)


def run_predict_many(args: argparse.Namespace) -> int:
    """Run the batch and print its summary."""
    from ase_lcom.distributed.predict_many import PredictionTask, predict_many, read_formulas
    from ase_lcom.predictors import load_predictor

    for name in ("formula_units", "n_candidates", "keep"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    formulas = read_formulas(args.formulas)
    options = options_from_flags([args.predictor], {"model": args.model, "polish": args.polish})[args.predictor]
    load_predictor(args.predictor, **options)  # a bad predictor or model fails here, before any worker starts
    template = PredictionTask("", args.predictor, tuple(sorted(options.items())), args.formula_units,
                              args.n_candidates, args.seed, args.keep)
    with executor_from_flags(args) as executor:
        report = predict_many(formulas, args.out, executor, template, retry_failed=args.retry_failed,
                              progress=not args.quiet)
    print(f"predict-many: {report.done} predicted, {report.failed} failed, {report.skipped} already in {args.out} "
          f"({report.seconds:.1f} s, {report.per_minute:.1f} formulas/min)")
    for formula, message in list(report.errors.items())[:10]:
        print(f"  failed {formula}: {message}")
    return 0 if report.failed == 0 else 1
