"""``ase-lcom benchmark csp26`` and ``ase-lcom benchmark improvement``: the LCOM paper's benchmarks."""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path
from typing import Any

from ase_lcom.cli.common import UsageError, comma_list, int_list, options_from_flags, use_agg_backend


def register(sub: Any) -> None:
    """Add ``benchmark csp26`` and ``benchmark improvement`` to the top-level subcommands."""
    bench = sub.add_parser("benchmark", help="benchmarks").add_subparsers(dest="benchmark", required=True,
                                                                         metavar="BENCHMARK")
    csp26 = bench.add_parser("csp26", help="the LCOM paper's 26-compound CSP benchmark (resumable: rerun to continue)")
    csp26.add_argument("--predictors", default="lcom,sl,cdvae,ras,pso,bo", help="comma-separated predictor names")
    csp26.add_argument("--out", required=True, help="directory for references, rows.jsonl and the report")
    csp26.add_argument("--compounds", help="comma-separated subset of the 26 compounds")
    csp26.add_argument("--protocol", default="paper", choices=["paper", "held-out"],
                       help="label of the model's training protocol (held-out needs --model)")
    csp26.add_argument("--model", help="LCOM bundle for lcom/sl/cdvae (default: the shipped model)")
    csp26.add_argument("--rank-by", metavar="CALC", help="lcom/sl/cdvae rank their candidates by this calculator's "
                       "single-point energies (rows labelled e.g. lcom+chgnet)")
    csp26.add_argument("--budget", type=int, help="energy evaluations for ras/pso/bo (default 300; GN-OA: 5000)")
    csp26.add_argument("--calculator", "-c", default="chgnet", help="validating calculator (default chgnet)")
    csp26.add_argument("--no-relax", action="store_true", help="skip relaxing predictions")
    csp26.add_argument("--dft-check", help="comma-separated compounds to recheck with GPAW, e.g. NaCl,MgO,ZnO,Si")
    csp26.add_argument("--seeds", default="0", help="comma-separated RNG seeds, e.g. 0,1,2: each compound is "
                       "predicted once per seed and the report gives the mean and range over seeds (default 0)")
    csp26.add_argument("-q", "--quiet", action="store_true")
    csp26.set_defaults(func=run_csp26)

    gain = bench.add_parser("improvement", help="the LCOM paper's Figure 3: validated energy gain of latent "
                            "optimisation over its seeds, conservative (COMs) vs plain (SL) surrogate")
    gain.add_argument("--out", required=True, help="directory for improvement.json and improvement.png")
    gain.add_argument("--compounds", help="comma-separated subset of the 26 compounds")
    gain.add_argument("--model", help="LCOM bundle (default: the shipped model)")
    gain.add_argument("--n-seeds", type=int, default=8, metavar="N",
                      help="seed structures per compound and run (default 8)")
    gain.add_argument("--start", default="relaxed-random", choices=["relaxed-random", "predictor"],
                      help="seeds: random cells relaxed by the calculator, as in the paper (default), or the "
                      "predictor's own seeds (data, prototypes, random cells)")
    gain.add_argument("--steps", type=int, help="latent gradient steps for both surrogates (default: "
                      "the model's, 50)")
    gain.add_argument("--step-lr", type=float, help="latent step size for both surrogates (default: "
                      "the model's: 0.8 in whitened units since v4, 0.05 raw before)")
    gain.add_argument("--calculator", "-c", default="chgnet", help="validating calculator (default chgnet)")
    gain.add_argument("--seed-cache", metavar="FILE", help="JSON file keeping the relaxed seeds, so another model "
                      "is compared on the same seeds without relaxing them again")
    gain.add_argument("--seeds", default="0", help="comma-separated RNG seeds, one run each, pooled per compound, "
                      "e.g. 0,1,2,3 (default 0)")
    gain.add_argument("-q", "--quiet", action="store_true")
    gain.set_defaults(func=run_improvement)


def run_csp26(args: argparse.Namespace) -> int:
    """Run (or continue) the CSP benchmark into ``--out`` and print its report."""
    from ase_lcom.benchmarks import csp
    from ase_lcom.data.selection import benchmark_compounds
    from ase_lcom.predictors import load_predictor

    formulas = benchmark_compounds(comma_list(args.compounds))
    seeds = int_list(args.seeds, "--seeds")
    if args.protocol == "held-out" and not args.model:
        raise UsageError("--protocol held-out needs --model: a bundle trained without the 26 compounds "
                         "(BENCHMARKS.md)")
    names = comma_list(args.predictors)
    given = {"model": args.model, "rank_by": args.rank_by, "budget": args.budget}
    factories = {}
    for name, options in options_from_flags(names, given).items():
        label = f"{name}+{options['rank_by']}" if "rank_by" in options else name
        factories[label] = partial(load_predictor, name, **options)
    out = Path(args.out)
    rows = csp.run_csp_benchmark(factories, out, formulas, args.calculator, relax=not args.no_relax, seeds=seeds,
                                 protocol=args.protocol, progress=not args.quiet)
    refs = json.loads((out / f"references-{args.calculator}.json").read_text())
    report = csp.markdown_report(rows, refs)
    (out / "report.md").write_text(report)
    (out / "report.json").write_text(json.dumps(csp.summarize(rows, refs), indent=2))
    if any(r["predictor"] == "cdvae" for r in rows):
        use_agg_backend()
        csp.plot_report(rows, out / "report.png")
    if args.dft_check:
        checks = csp.dft_check(rows, refs, comma_list(args.dft_check), progress=not args.quiet)
        (out / "dft_check.json").write_text(json.dumps(checks, indent=2))
        agree = sum(c["agree"] for c in checks)
        print(f"GPAW cross-check: MLIP and DFT agree on {agree}/{len(checks)} orderings (dft_check.json)")
    print(report)
    print(f"written: {out / 'report.md'}, {out / 'report.json'}, {out / 'rows.jsonl'}")
    return 0


def run_improvement(args: argparse.Namespace) -> int:
    """Run (or continue) the Figure 3 benchmark into ``--out`` and print its summary."""
    from ase_lcom.benchmarks import improvement
    from ase_lcom.benchmarks.csp import experimental_units
    from ase_lcom.data.selection import benchmark_compounds
    from ase_lcom.models.bundle import cached_model

    formulas = benchmark_compounds(comma_list(args.compounds))
    seeds = int_list(args.seeds, "--seeds")
    units = {f: experimental_units(f) for f in formulas}
    rows = improvement.seed_improvements(formulas, cached_model(args.model), units, args.calculator,
                                         n_seeds=args.n_seeds, seed=seeds, start=args.start, steps=args.steps,
                                         step_lr=args.step_lr, progress=not args.quiet, seed_cache=args.seed_cache)
    use_agg_backend()
    summary = improvement.write_report(rows, args.out)
    for name, s in summary.items():
        print(f"{name}: improvement over the seed, median {100 * s['median_improvement']:+.1f}% / mean "
              f"{100 * s['mean_improvement']:+.1f}% over compounds, {s['compounds_improved']}/{s['compounds']} "
              f"compounds and {100 * s['seeds_improved']:.0f}% of seeds improved; median drop "
              f"{s['median_realised_drop']:+.3f} eV/atom realised, {s['median_predicted_drop']:+.3f} predicted")
    print(f"written: {Path(args.out) / 'improvement.json'}, {Path(args.out) / 'improvement.png'}")
    return 0
