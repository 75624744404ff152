"""The ``ase-lcom`` command line.

Every error is reported as one line on stderr with exit status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ase_lcom import __version__
from ase_lcom.errors import LCOMError

PROG = "ase-lcom"
EXCLUDE_HELP = "comma-separated formulas to leave out of training, or csp26 (the held-out protocol)"


def _calculator_options(pairs: Sequence[str]) -> dict[str, Any]:
    """Turn ``["ecut=300", "xc=PBE"]`` into ``{"ecut": 300, "xc": "PBE"}`` (values parsed as JSON if they can be)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise LCOMError(f"calculator option {pair!r} is not of the form KEY=VALUE")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def _add_calculator_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--calculator", "-c", default="chgnet", help="chgnet (default), m3gnet, gpaw or emt")
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE",
        help="calculator option, repeatable (e.g. --option ecut=300 --option kpt_density=3)",
    )
    parser.add_argument(
        "--formation", action="store_true",
        help="also print the formation energy (elemental references computed once per calculator, cached)",
    )


def _cmd_relax(args: argparse.Namespace) -> int:
    from ase_lcom.calculators import get_calculator, relax
    from ase_lcom.structure import read_structure, write_structure

    structure = read_structure(args.file)
    options = _calculator_options(args.option)
    result = relax(
        structure,
        get_calculator(args.calculator, **options),
        fmax=args.fmax,
        steps=args.steps,
        relax_cell=not args.fixed_cell,
        optimizer=args.optimizer,
        trajectory=args.trajectory,
        progress=not args.quiet,
    )
    out = Path(args.output or Path(args.file).with_name(f"{Path(args.file).stem}_relaxed.cif"))
    write_structure(result.structure, out)
    status = f"converged in {result.steps} steps" if result.converged else f"NOT converged after {result.steps} steps"
    line = f"{result.structure.composition.reduced_formula}: E = {result.energy_per_atom:.4f} eV/atom"
    if args.formation:
        e_form = _references(args).formation_energy_per_atom(result.structure, result.energy_per_atom)
        line += f", E_f = {e_form:.4f} eV/atom"
    print(f"{line} ({len(result.structure)} atoms, {status}, max force {result.max_force:.3f} eV/A) -> {out}")
    return 0


def _references(args: argparse.Namespace) -> Any:
    from ase_lcom.calculators import ReferenceEnergies

    return ReferenceEnergies(args.calculator, **_calculator_options(args.option))


def _cmd_energy(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from ase_lcom.calculators import energy_per_atom, get_calculator
    from ase_lcom.structure import read_structures

    structures = read_structures(args.file)
    calculator = get_calculator(args.calculator, **_calculator_options(args.option))
    references = _references(args) if args.formation else None
    for i, structure in enumerate(tqdm(structures, desc="energy", disable=len(structures) < 2 or args.quiet)):
        energy = energy_per_atom(structure, calculator)
        line = f"{structure.composition.reduced_formula}: E = {energy:.4f} eV/atom"
        if references is not None:
            line += f", E_f = {references.formation_energy_per_atom(structure, energy):.4f} eV/atom"
        prefix = f"[{i}] " if len(structures) > 1 else ""
        print(f"{prefix}{line} ({len(structure)} atoms)")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from ase_lcom.calculators import CALCULATORS
    from ase_lcom.predictors import available_predictors

    print("calculators:")
    for info in CALCULATORS.values():
        provider = f"{info.package} {info.version or '(not installed)'}"
        print(f"  {info.name:<10} {provider:<22} {info.description}")
    predictors = available_predictors()
    print("predictors:" if predictors else "predictors: none installed")
    for name, ep in predictors.items():
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else ""
        print(f"  {name:<10} {ep.value}  {dist}")
    from ase_lcom.lcom.model import LCOMModel, default_model_path
    from ase_lcom.training.checkpoints import CheckpointError

    try:
        print("default model:\n  " + LCOMModel.load().describe())
    except CheckpointError as exc:
        print(f"default model: {default_model_path()} unavailable ({exc})")
    return 0


def _cmd_data_generate(args: argparse.Namespace) -> int:
    from ase_lcom.data.generator import GenerationSettings, default_run, generate, import_tasks

    run: dict[str, Any] = default_run() if args.preset == "default" else {}
    if args.compositions:
        run["compositions"] = [f.strip() for f in args.compositions.split(",") if f.strip()]
    if not run.get("compositions"):
        raise LCOMError("give --compositions F1,F2,... or --preset default")
    settings = GenerationSettings(calculator=args.calculator, n_random=args.n_random, max_atoms=args.max_atoms,
                                  fmax=args.fmax, steps=args.steps, seed=args.seed)
    exclude = [f.strip() for f in (args.exclude_compositions or "").split(",") if f.strip()]
    if args.preset == "default":
        run["exclude_energies"] = _benchmark_energy_ceilings(args.calculator, Path(args.out))
    imports = import_tasks(args.add, settings, args.add_per_file) if args.add else []
    report = generate(args.out, settings=settings, workers=args.workers, exclude_compositions=exclude,
                      max_tasks=args.max_tasks, progress=not args.quiet, imports=imports, **run)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "nothing to do"
    print(f"{args.out}: {report.planned} tasks planned, {report.already_done} already done; this run: {counts} "
          f"({report.seconds:.0f} s)")
    return 0


def _benchmark_energy_ceilings(calculator: str, db: Path) -> dict[str, float]:
    """Per CSP26 compound, the calculator's ground-state energy per atom plus the benchmark's degeneracy window:
    data at or below it would be the answer under another name (a stacking variant, a polytype). The relaxed
    reference polymorphs are cached beside the database (``benchmark-references-<calculator>.json``)."""
    from ase_lcom.benchmarks.csp import DEGENERACY_MEV, Validator, compute_references
    from ase_lcom.data.compositions import CSP26

    refs = compute_references(CSP26, Validator(calculator), db.with_name(f"benchmark-references-{calculator}.json"))
    return {f: r["polymorphs"][r["ground_state"]]["energy_per_atom"] + DEGENERACY_MEV / 1000 for f, r in refs.items()}


def _cmd_data_summary(args: argparse.Namespace) -> int:
    from ase_lcom.data.readers import read_records
    from ase_lcom.data.summary import plot_summary, public, summarize

    summary = summarize(read_records(args.file, format=args.format))
    text = json.dumps(public(summary), indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    if args.plot:
        plot_summary(summary, args.plot, title=Path(args.file).name)
    return 0


def _training_records(args: argparse.Namespace) -> list[Any]:
    """The records of ``--data`` without ``--exclude-compositions`` (formulas, or ``csp26`` for the 26 CSP
    compounds: the held-out protocol)."""
    from ase_lcom.data.compositions import CSP26
    from ase_lcom.data.readers import read_records
    from ase_lcom.data.splits import exclude_compositions

    excluded: list[str] = []
    for item in (args.exclude_compositions or "").split(","):
        item = item.strip()
        excluded += list(CSP26) if item.lower() == "csp26" else [item] if item else []
    return list(exclude_compositions(read_records(args.data), excluded))


def _cmd_train_cdvae(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ase_lcom.data.records import DataError
    from ase_lcom.data.splits import split_by_composition
    from ase_lcom.models.cdvae import CDVAEConfig
    from ase_lcom.training.cdvae import TrainConfig, train_cdvae

    try:
        fractions = tuple(float(x) for x in args.split.split(","))
    except ValueError:
        raise DataError(f"--split wants three comma-separated fractions (train,val,test), got {args.split!r}") from None
    records = _training_records(args)
    if args.init:
        val = _init_validation_compositions(args.init)
        splits = {"train": [r for r in records if r.formula not in val], "val": [r for r in records if r.formula in val],
                  "test": []}
    else:
        splits = split_by_composition(records, fractions, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "split.json").write_text(json.dumps({k: sorted({r.formula for r in v}) for k, v in splits.items()}))
    base = CDVAEConfig(beta=args.beta)
    sizes = {"hidden": args.hidden, "latent_dim": args.latent_dim}
    config = replace(base, encoder=replace(base.encoder, **sizes), decoder=replace(base.decoder, **sizes))
    best = train_cdvae([r.structure for r in splits["train"]], [r.structure for r in splits["val"]], out, config,
                       TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                                   device=args.device), progress=not args.quiet, init=args.init)
    print(f"best checkpoint: {best} (train {len(splits['train'])}, val {len(splits['val'])}, "
          f"test {len(splits['test'])} structures; split by composition in {out / 'split.json'})")
    return 0


def _init_validation_compositions(checkpoint: str) -> set[str]:
    """The validation compositions recorded next to a CD-VAE checkpoint (``split.json``, written by training)."""
    from ase_lcom.training.checkpoints import CheckpointError

    path = Path(checkpoint).with_name("split.json")
    try:
        return set(json.loads(path.read_text())["val"])
    except (OSError, ValueError, KeyError) as exc:
        raise CheckpointError(f"--init {checkpoint}: no readable split.json beside it ({exc})") from None


def _cmd_train_lcom(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from ase_lcom.lcom.card import plot_training
    from ase_lcom.training.lcom import build_lcom_model
    from ase_lcom.training.surrogate import COMsConfig

    options = {f.name: getattr(args, f.name) for f in fields(COMsConfig) if getattr(args, f.name, None) is not None}
    records = _training_records(args)
    work = Path(args.work_dir or Path(args.out).with_suffix(".work"))
    card = {"data": str(args.data), "cdvae_checkpoint": str(args.cdvae),
            "command": " ".join([PROG, *sys.argv[1:]]) if sys.argv else PROG}
    model = build_lcom_model(args.cdvae, records, args.out, work, COMsConfig(**options), card,
                             progress=not args.quiet, hidden=args.hidden, whiten_latents=args.whiten_latents,
                             decoded_calculator=None if args.decoded_calculator == "none" else args.decoded_calculator)
    print(model.describe())
    print(f"training curves written to {plot_training(model, Path(args.out).with_suffix('.png'))}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    import time

    from ase_lcom.predictors import load_predictor
    from ase_lcom.structure import parse_formula, write_structure

    parse_formula(args.formula)
    start = time.perf_counter()
    kwargs: dict[str, Any] = {"model": args.model} if args.model else {}
    if args.rank_by:
        kwargs["rank_by"] = args.rank_by
    predictor = load_predictor(args.predictor, **kwargs)
    loaded = time.perf_counter()
    candidates = predictor.predict_candidates(args.formula, z=args.z, n_candidates=args.n_candidates,
                                              seed=args.seed, relax=args.relax, steps=args.steps)
    done = time.perf_counter()
    print(f"{args.predictor} prediction for {args.formula}: {len(candidates)} candidates "
          f"(model load {loaded - start:.1f} s, prediction {done - loaded:.1f} s)")
    header = f"{'rank':>4}  {'formula':<10} {'atoms':>5}  {'space group':<12} {'E_f pred':>9}"
    validated = "  E_f relaxed" if args.relax else f"  E_f {args.rank_by:>7}" if args.rank_by else ""
    print(header + validated + "  (eV/atom)")
    for rank, c in enumerate(candidates, 1):
        line = (f"{rank:>4}  {c.structure.composition.reduced_formula:<10} {len(c.structure):>5}  "
                f"{c.info.get('spacegroup', '?'):<12} {c.energy_per_atom:>9.3f}")
        if c.validated_energy_per_atom is not None:
            line += f"  {c.validated_energy_per_atom:>11.3f}"
        print(line)
    output = args.output or f"{parse_formula(args.formula).reduced_formula}_{args.predictor}.cif"
    write_structure(candidates[0].structure, output)
    print(f"best candidate written to {output}")
    if args.plot:
        _plot_traces(candidates, args.plot, f"{args.predictor}: {args.formula}")
        print(f"optimisation plot written to {args.plot}")
    return 0


def _benchmark_compounds(compounds: str | None) -> list[str]:
    """The ``--compounds`` subset of the 26 CSP compounds (all when not given)."""
    from ase_lcom.data.compositions import CSP26

    formulas = [f.strip() for f in compounds.split(",")] if compounds else list(CSP26)
    unknown = [f for f in formulas if f not in CSP26]
    if unknown:
        raise LCOMError(f"not a benchmark compound: {', '.join(unknown)} (choose from {' '.join(CSP26)})")
    return formulas


def _seeds(text: str, option: str = "--seeds") -> list[int]:
    """``0,1,2`` given to ``option`` as integers, or a one-line error naming the option."""
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise LCOMError(f"{option} takes comma-separated integers, e.g. 0,1,2 (got {text!r})") from None


def _cmd_benchmark_csp26(args: argparse.Namespace) -> int:
    from functools import partial

    from ase_lcom.benchmarks import csp
    from ase_lcom.predictors import load_predictor

    formulas = _benchmark_compounds(args.compounds)
    if args.protocol == "held-out" and not args.model:
        raise LCOMError("--protocol held-out needs --model: a bundle trained without the 26 compounds (BENCHMARKS.md)")
    factories = {}
    for name in args.predictors.split(","):
        options: dict[str, Any] = {}
        if name in ("lcom", "sl", "cdvae") and args.model:
            options["model"] = args.model
        if name in ("lcom", "sl", "cdvae") and args.rank_by:
            options["rank_by"] = args.rank_by
        if name in ("ras", "pso", "bo") and args.budget:
            options["budget"] = args.budget
        label = f"{name}+{args.rank_by}" if "rank_by" in options else name
        factories[label] = partial(load_predictor, name, **options)
    out = Path(args.out)
    rows = csp.run_csp_benchmark(factories, out, formulas, args.calculator, relax=not args.no_relax,
                                 seeds=_seeds(args.seeds), protocol=args.protocol, progress=not args.quiet)
    refs = json.loads((out / f"references-{args.calculator}.json").read_text())
    report = csp.markdown_report(rows, refs)
    (out / "report.md").write_text(report)
    (out / "report.json").write_text(json.dumps(csp.summarize(rows, refs), indent=2))
    if any(r["predictor"] == "cdvae" for r in rows):
        csp.plot_report(rows, out / "report.png")
    if args.dft_check:
        checks = csp.dft_check(rows, refs, [f.strip() for f in args.dft_check.split(",")],
                               progress=not args.quiet)
        (out / "dft_check.json").write_text(json.dumps(checks, indent=2))
        agree = sum(c["agree"] for c in checks)
        print(f"GPAW cross-check: MLIP and DFT agree on {agree}/{len(checks)} orderings (dft_check.json)")
    print(report)
    print(f"written: {out / 'report.md'}, {out / 'report.json'}, {out / 'rows.jsonl'}")
    return 0


def _cmd_benchmark_improvement(args: argparse.Namespace) -> int:
    from ase_lcom.benchmarks import improvement
    from ase_lcom.benchmarks.csp import experimental_units
    from ase_lcom.lcom.model import cached_model

    formulas = _benchmark_compounds(args.compounds)
    rows = improvement.seed_improvements(formulas, cached_model(args.model), {f: experimental_units(f) for f in formulas},
                                         args.calculator, args.seeds, _seeds(args.seed, "--seed"), args.start,
                                         args.steps, args.step_lr, progress=not args.quiet, seed_cache=args.seed_cache)
    summary = improvement.write_report(rows, args.out)
    for name, s in summary.items():
        print(f"{name}: improvement over the seed, median {100 * s['median_improvement']:+.1f}% / mean "
              f"{100 * s['mean_improvement']:+.1f}% over compounds, {s['compounds_improved']}/{s['compounds']} "
              f"compounds and {100 * s['seeds_improved']:.0f}% of seeds improved; median drop "
              f"{s['median_realised_drop']:+.3f} eV/atom realised, {s['median_predicted_drop']:+.3f} predicted")
    print(f"written: {Path(args.out) / 'improvement.json'}, {Path(args.out) / 'improvement.png'}")
    return 0


def _plot_traces(candidates: Sequence[Any], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for rank, c in enumerate(candidates, 1):
        trace = c.info.get("trace") or []
        ax.plot(range(len(trace)), trace, lw=1.5 if rank == 1 else 0.8, alpha=1.0 if rank == 1 else 0.5,
                label="best" if rank == 1 else None)
    ax.set_xlabel("latent gradient step")
    ax.set_ylabel("surrogate E_f (eV/atom)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Crystal structure prediction for ASE and pymatgen.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    relax = sub.add_parser("relax", help="relax a structure file with a calculator")
    relax.add_argument("file", help="structure file (CIF, POSCAR, extxyz, ... anything ase.io reads)")
    _add_calculator_arguments(relax)
    relax.add_argument("--fmax", type=float, default=0.05, help="force threshold, eV/A (default 0.05)")
    relax.add_argument("--steps", type=int, default=500, help="maximum optimizer steps (default 500)")
    relax.add_argument("--optimizer", default="FIRE", help="FIRE (default), BFGS or LBFGS")
    relax.add_argument("--fixed-cell", action="store_true", help="relax positions only")
    relax.add_argument("--trajectory", help="write the ASE trajectory here")
    relax.add_argument("-o", "--output", help="output file, format from its extension (default FILE_relaxed.cif)")
    relax.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    relax.set_defaults(func=_cmd_relax)

    energy = sub.add_parser("energy", help="single-point energy per atom of each structure in a file")
    energy.add_argument("file")
    _add_calculator_arguments(energy)
    energy.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    energy.set_defaults(func=_cmd_energy)

    data = sub.add_parser("data", help="build and inspect training datasets").add_subparsers(
        dest="data_command", required=True, metavar="DATA_COMMAND")
    gen = data.add_parser("generate", help="relax prototype-decorated and random symmetric cells into an ASE db "
                          "(parallel, resumable: rerun the same command to continue)")
    gen.add_argument("--out", required=True, help="ASE database file (.db) to create or continue")
    gen.add_argument("--preset", choices=["default"], help="the shipped default dataset (paper protocol)")
    gen.add_argument("--compositions", help="comma-separated formulas (instead of, or replacing, the preset's)")
    gen.add_argument("--exclude-compositions", help="comma-separated formulas to leave out entirely")
    gen.add_argument("--calculator", "-c", default="chgnet")
    gen.add_argument("--n-random", type=int, default=6, help="random symmetric cells per composition (default 6)")
    gen.add_argument("--max-atoms", type=int, default=12, help="atoms per cell at most (default 12)")
    gen.add_argument("--fmax", type=float, default=0.05)
    gen.add_argument("--steps", type=int, default=150)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--workers", type=int, default=2)
    gen.add_argument("--max-tasks", type=int, help="stop after this many new tasks")
    gen.add_argument("--add", nargs="+", metavar="FILE",
                     help="also relax structures drawn from these datasets (any readable format; energies recomputed)")
    gen.add_argument("--add-per-file", type=int, default=200,
                     help="structures drawn from each --add file (default 200)")
    gen.add_argument("-q", "--quiet", action="store_true")
    gen.set_defaults(func=_cmd_data_generate)

    summary = data.add_parser("summary", help="statistics of a dataset file, optionally with a plot")
    summary.add_argument("file", help="ASE db, extxyz, CDVAE csv, Matbench or OPTIMADE json")
    summary.add_argument("--format", help="dataset format when the file name does not tell")
    summary.add_argument("--plot", help="write a PNG with the distributions")
    summary.add_argument("--json", help="write the statistics as JSON")
    summary.set_defaults(func=_cmd_data_summary)

    train = sub.add_parser("train", help="train models").add_subparsers(dest="model", required=True, metavar="MODEL")
    cdvae = train.add_parser("cdvae", help="train a CD-VAE on a dataset (rerun with the same --out to resume)")
    cdvae.add_argument("--data", required=True, help="dataset file (ASE db, extxyz, CDVAE csv, ...)")
    cdvae.add_argument("--out", required=True, help="checkpoint directory")
    cdvae.add_argument("--exclude-compositions", help=EXCLUDE_HELP)
    cdvae.add_argument("--split", default="0.8,0.1,0.1",
                       help="train,val,test fractions of the compositions (default 0.8,0.1,0.1)")
    cdvae.add_argument("--init", metavar="CHECKPOINT",
                       help="fine-tune this CD-VAE: its weights, a fresh optimizer at --lr, validation on the "
                       "compositions it was validated on (its split.json), every other composition trains "
                       "(--split is ignored)")
    cdvae.add_argument("--epochs", type=int, default=100)
    cdvae.add_argument("--batch-size", type=int, default=64)
    cdvae.add_argument("--lr", type=float, default=1e-3)
    cdvae.add_argument("--beta", type=float, default=0.01, help="KL weight")
    cdvae.add_argument("--hidden", type=int, default=128)
    cdvae.add_argument("--latent-dim", type=int, default=256)
    cdvae.add_argument("--seed", type=int, default=0)
    cdvae.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    cdvae.add_argument("-q", "--quiet", action="store_true")
    cdvae.set_defaults(func=_cmd_train_cdvae)

    lcom = train.add_parser("lcom", help="encode a dataset with a trained CD-VAE and train the COMs and SL "
                            "surrogates into an LCOM model bundle (resumable through --work-dir)")
    lcom.add_argument("--cdvae", required=True, help="CD-VAE checkpoint (best.pt of `ase-lcom train cdvae`)")
    lcom.add_argument("--data", required=True, help="dataset with formation energies (ASE db, extxyz, ...)")
    lcom.add_argument("--out", required=True, help="bundle file to write (.pt)")
    lcom.add_argument("--exclude-compositions", help=EXCLUDE_HELP)
    lcom.add_argument("--work-dir", help="intermediate files (default: OUT with suffix .work)")
    lcom.add_argument("--hidden", type=int, help="surrogate hidden units per layer (default 512; paper 2048)")
    lcom.add_argument("--decoded-calculator", default="chgnet",
                      help="score decoded data crystals with this calculator and train the surrogates on them too "
                           "(default chgnet; 'none' trains on the data only)")
    lcom.add_argument("--epochs", type=int)
    lcom.add_argument("--batch-size", type=int)
    lcom.add_argument("--lr", type=float)
    lcom.add_argument("--tau", type=float, help="overestimation limit of the conservative term (default 1.0)")
    lcom.add_argument("--steps", type=int, help="latent gradient steps, adversarial and at prediction (default 50)")
    lcom.add_argument("--step-lr", type=float, help="latent step size (default: 0.05 * sqrt(latent_dim) in "
                      "whitened units, the COMs reference's, 0.8 for 256; 0.05 with --no-whiten-latents)")
    lcom.add_argument("--no-whiten-latents", dest="whiten_latents", action="store_false",
                      help="train the surrogates on raw latents and step in raw latent units (models before v4)")
    lcom.add_argument("--seed", type=int)
    lcom.add_argument("-q", "--quiet", action="store_true")
    lcom.set_defaults(func=_cmd_train_lcom)

    predict = sub.add_parser("predict", help="predict the crystal structure of a formula")
    predict.add_argument("formula", help="chemical formula, e.g. ZnO, SrTiO3, Mg2SiO4")
    predict.add_argument("--z", type=int, help="formula units per cell (default: try several and rank)")
    predict.add_argument("--n-candidates", "-k", type=int, default=8, help="crystals decoded (default 8)")
    predict.add_argument("--steps", type=int, help="latent gradient steps (default: the model's)")
    predict.add_argument("--relax", action="store_true", help="relax candidates with CHGNet and re-rank")
    predict.add_argument("--rank-by", metavar="CALC",
                         help="re-rank candidates by this calculator's single-point energy, e.g. chgnet")
    predict.add_argument("--predictor", "-p", default="lcom", help="lcom (default), sl, cdvae, or any installed")
    predict.add_argument("--model", help="LCOM model bundle (default: the shipped model)")
    predict.add_argument("--seed", type=int, default=0)
    predict.add_argument("-o", "--output", help="output file, any ase.io format (default FORMULA_PREDICTOR.cif)")
    predict.add_argument("--plot", help="PNG of the surrogate energy along the latent optimisation")
    predict.set_defaults(func=_cmd_predict)

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
    csp26.add_argument("--seeds", default="0", help="comma-separated seeds, e.g. 0,1,2: each compound is predicted "
                       "once per seed and the report gives the mean and range over seeds (default 0)")
    csp26.add_argument("-q", "--quiet", action="store_true")
    csp26.set_defaults(func=_cmd_benchmark_csp26)

    gain = bench.add_parser("improvement", help="the LCOM paper's Figure 3: validated energy gain of latent "
                            "optimisation over its seeds, conservative (COMs) vs plain (SL) surrogate")
    gain.add_argument("--out", required=True, help="directory for improvement.json and improvement.png")
    gain.add_argument("--compounds", help="comma-separated subset of the 26 compounds")
    gain.add_argument("--model", help="LCOM bundle (default: the shipped model)")
    gain.add_argument("--seeds", type=int, default=8, help="seed latents per compound (default 8)")
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
    gain.add_argument("--seed", default="0", help="random seed, or several comma-separated runs pooled per "
                      "compound, e.g. 0,1,2,3 (default 0)")
    gain.add_argument("-q", "--quiet", action="store_true")
    gain.set_defaults(func=_cmd_benchmark_improvement)

    listing = sub.add_parser("list", help="list installed calculators and predictors")
    listing.set_defaults(func=_cmd_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ase-lcom`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if not isinstance(exc, LCOMError):
            message = f"{type(exc).__name__}: {message} (rerun with --debug for the traceback)"
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
