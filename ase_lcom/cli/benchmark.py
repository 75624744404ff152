"""``ase-lcom benchmark csp26``, ``benchmark improvement`` (the LCOM paper's benchmarks) and ``benchmark dismai``
(generated disordered structures against their training set)."""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path
from typing import Any

from ase_lcom.cli.common import (
    LATENT_STEPS,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    SEED,
    UsageError,
    comma_list,
    options_from_flags,
    seed_list,
    use_agg_backend,
)


def register(sub: Any) -> None:
    """Add ``benchmark csp26``, ``benchmark improvement`` and ``benchmark dismai`` to the top-level subcommands."""
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
                       "single-point energies: chgnet, m3gnet, ... (rows labelled e.g. lcom+chgnet)")
    csp26.add_argument("--polish", metavar="CALC", help="lcom/sl/cdvae: calculator that scores and polishes "
                       "their candidates (default chgnet); 'none' for the pure LCOM method (rows labelled e.g. "
                       "lcom+pure)")
    csp26.add_argument("--budget", type=POSITIVE_INT,
                       help="energy evaluations for ras/pso/bo (default 300; GN-OA: 5000)")
    csp26.add_argument("--calculator", "-c", default="chgnet",
                       help="validating calculator: chgnet (default), m3gnet (the shipped potential), gpaw")
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
    gain.add_argument("--n-seeds", type=POSITIVE_INT, default=8, metavar="N",
                      help="seed structures per compound and run (default 8)")
    gain.add_argument("--start", default="relaxed-random", choices=["relaxed-random", "predictor"],
                      help="seeds: random cells relaxed by the calculator, as in the paper (default), or the "
                      "predictor's own seeds (data, prototypes, random cells)")
    gain.add_argument("--steps", type=LATENT_STEPS, help="latent gradient steps for both surrogates (default: "
                      "the model's, 50)")
    gain.add_argument("--step-lr", type=POSITIVE_FLOAT, help="latent step size for both surrogates (default: "
                      "the model's: 0.8 in whitened units since v4, 0.05 raw before)")
    gain.add_argument("--calculator", "-c", default="chgnet",
                      help="validating calculator: chgnet (default), m3gnet (the shipped potential), gpaw")
    gain.add_argument("--seed-cache", metavar="FILE", help="JSON file keeping the relaxed seeds, so another model "
                      "is compared on the same seeds without relaxing them again")
    gain.add_argument("--seeds", default="0", help="comma-separated RNG seeds, one run each, pooled per compound, "
                      "e.g. 0,1,2,3 (default 0)")
    gain.add_argument("-q", "--quiet", action="store_true")
    gain.set_defaults(func=run_improvement)

    dismai = bench.add_parser("dismai", help="Dismai-Bench: score generated structures against a dataset (Table 3 "
                              "for alloys, Table 2 for a-Si; resumable: rerun with the same --out to continue)")
    dismai.add_argument("--dataset", required=True, help="a Dismai dataset name (under --root) or a dataset file")
    dismai.add_argument("--root", default="datasets/dismai",
                        help="folder of the named datasets (default datasets/dismai)")
    what = dismai.add_mutually_exclusive_group(required=True)
    what.add_argument("--generator", metavar="NAME",
                      help="generator to sample (cryingan, diffusion, cdvae); needs --model")
    what.add_argument("--structures", metavar="FILE", help="generated structures (extxyz or any ASE-readable file)")
    dismai.add_argument("--model", metavar="FILE", help="the generator's checkpoint or training directory")
    dismai.add_argument("--out", required=True, help="folder for features, report.md, report.json and plots")
    dismai.add_argument("--n", type=POSITIVE_INT,
                        help="structures to sample (default 1000) or to take from --structures "
                        "(default all)")
    dismai.add_argument("--seed", type=SEED, default=0, help="sampling seed (default 0)")
    dismai.add_argument("--device", default="cpu", help="where the generator samples: cpu (default) or cuda")
    dismai.add_argument("--align", choices=["fixed", "translate", "rotate"],
                        help="alloys: how the reference lattice is placed on generated structures (default: fixed "
                        "for cryingan, rotate for cdvae, translate otherwise)")
    dismai.add_argument("--relax", choices=["sw", "none"], default="sw",
                        help="a-Si: fixed-cell Stillinger-Weber relaxation as part of the failure check (default "
                        "sw; none: close-contact check only)")
    dismai.add_argument("--motif-limit", type=POSITIVE_INT, metavar="N",
                        help="a-Si: motif fingerprints (about 2 s per structure) for the first N structures only")
    dismai.add_argument("--workers", type=POSITIVE_INT, default=1,
                        help="processes for the per-structure features (default 1)")
    dismai.add_argument("-q", "--quiet", action="store_true")
    dismai.set_defaults(func=run_dismai)


def run_csp26(args: argparse.Namespace) -> int:
    """Run (or continue) the CSP benchmark into ``--out`` and print its report."""
    from ase_lcom.benchmarks import csp
    from ase_lcom.data.selection import benchmark_compounds
    from ase_lcom.predictors import load_predictor

    formulas = benchmark_compounds(comma_list(args.compounds))
    seeds = seed_list(args.seeds, "--seeds")
    if args.protocol == "held-out" and not args.model:
        raise UsageError("--protocol held-out needs --model: a bundle trained without the 26 compounds "
                         "(BENCHMARKS.md)")
    names = comma_list(args.predictors)
    given = {"model": args.model, "rank_by": args.rank_by, "budget": args.budget, "polish": args.polish}
    factories = {}
    for name, options in options_from_flags(names, given).items():
        label = name + ("+pure" if str(options.get("polish", "")).lower() == "none" else "")
        label += f"+{options['rank_by']}" if "rank_by" in options else ""
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
    seeds = seed_list(args.seeds, "--seeds")
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


def run_dismai(args: argparse.Namespace) -> int:
    """Score a generated set against a Dismai-Bench dataset into ``--out`` and print the report."""
    from ase_lcom.benchmarks.dismai import GeneratedSource, run_dismai_benchmark
    from ase_lcom.data.dismai import DATASET_NAMES, dataset_path, load_dataset
    from ase_lcom.execution import executor_for

    if args.generator and not args.model:
        raise UsageError("--generator needs --model: the generator's checkpoint or training directory")
    if args.model and not args.generator:
        raise UsageError("--model goes with --generator NAME (for a file of structures use --structures)")
    dataset = load_dataset(args.dataset, args.root)
    dataset_file = str(dataset_path(args.dataset, args.root) if args.dataset in DATASET_NAMES else args.dataset)
    source = GeneratedSource(generator=args.generator, checkpoint=args.model, structures=args.structures, n=args.n,
                             seed=args.seed, device=args.device)
    use_agg_backend()
    with executor_for(args.workers) as executor:
        run_dismai_benchmark(dataset, source, args.out, align=args.align, relax=args.relax,
                             motif_limit=args.motif_limit, executor=executor, progress=not args.quiet,
                             dataset_file=dataset_file)
    out = Path(args.out)
    print((out / "report.md").read_text(), end="")
    print(f"written: {out / 'report.md'}, {out / 'report.json'}, {out / 'generated.jsonl'}")
    return 0
