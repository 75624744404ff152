"""``ase-lcom data generate``, ``data dismai`` and ``data summary``: building and inspecting training datasets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ase_lcom.cli.common import (
    NON_NEGATIVE_INT,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    SEED,
    STEPS,
    UsageError,
    add_executor_arguments,
    executor_from_flags,
    float_list,
    formula_list,
    output_path,
    use_agg_backend,
)


def register(sub: Any) -> None:
    """Add ``data generate``, ``data dismai`` and ``data summary`` to the top-level subcommands."""
    data = sub.add_parser("data", help="build and inspect training datasets").add_subparsers(
        dest="data_command", required=True, metavar="DATA_COMMAND")
    gen = data.add_parser("generate", help="relax prototype-decorated and random symmetric cells into an ASE db "
                          "(parallel, resumable: rerun the same command to continue)")
    gen.add_argument("--out", required=True, help="ASE database file (.db) to create or continue")
    gen.add_argument("--preset", choices=["default"], help="the shipped default dataset (paper protocol)")
    gen.add_argument("--compositions", help="comma-separated formulas (instead of, or replacing, the preset's)")
    gen.add_argument("--exclude-compositions", help="comma-separated formulas to leave out entirely")
    gen.add_argument("--calculator", "-c", default="chgnet")
    gen.add_argument("--n-random", type=NON_NEGATIVE_INT, default=6,
                     help="random symmetric cells per composition (default 6)")
    gen.add_argument("--max-atoms", type=POSITIVE_INT, default=12, help="atoms per cell at most (default 12)")
    gen.add_argument("--fmax", type=POSITIVE_FLOAT, default=0.05)
    gen.add_argument("--steps", type=STEPS, default=150)
    gen.add_argument("--seed", type=SEED, default=0)
    add_executor_arguments(gen, workers_default=2)
    gen.add_argument("--max-tasks", type=POSITIVE_INT, help="stop after this many new tasks")
    gen.add_argument("--add", nargs="+", metavar="FILE",
                     help="also relax structures drawn from these datasets (any readable format; energies recomputed)")
    gen.add_argument("--add-per-file", type=POSITIVE_INT, default=200,
                     help="structures drawn from each --add file (default 200)")
    _add_frame_arguments(gen)
    gen.add_argument("-q", "--quiet", action="store_true")
    gen.set_defaults(func=run_generate)

    dismai = data.add_parser("dismai", help="generate a Dismai-Bench dataset with its data card (alloys by swap "
                             "Monte Carlo, a-Si by melt-quench; resumable: rerun the same command to continue)")
    dismai.add_argument("name", metavar="NAME", help="alloy-300K-wide, alloy-300K-narrow, alloy-1500K-wide, "
                        "alloy-1500K-narrow or a-Si")
    dismai.add_argument("--out", required=True,
                        help="root folder: the set goes to OUT/NAME/, checkpoints to OUT/_work/")
    dismai.add_argument("--seed", type=SEED, default=0)
    dismai.add_argument("--n-passes", type=POSITIVE_INT, help="alloys: Monte Carlo passes per chain (default 50000)")
    dismai.add_argument("--n-structures", type=POSITIVE_INT, help="structures in the set (alloys 1500, a-Si 200)")
    dismai.add_argument("--workers", type=POSITIVE_INT, default=1,
                        help="a-Si: melt-quenches run in parallel (default 1)")
    dismai.add_argument("-q", "--quiet", action="store_true")
    dismai.set_defaults(func=run_dismai)

    summary = data.add_parser("summary", help="statistics of a dataset file, optionally with a plot")
    summary.add_argument("file", help="ASE db, extxyz, CDVAE csv, Matbench or OPTIMADE json")
    summary.add_argument("--format", help="dataset format when the file name does not tell")
    summary.add_argument("--plot", help="write a PNG with the distributions")
    summary.add_argument("--json", help="write the statistics as JSON")
    summary.set_defaults(func=run_summary)


def _add_frame_arguments(gen: argparse.ArgumentParser) -> None:
    frames = gen.add_argument_group("training frames (energy, forces, stress) stored beside the structures")
    frames.add_argument("--keep-frames", type=POSITIVE_INT, metavar="K",
                        help="store every K-th relaxation step plus the last as a frame, labelled by --calculator")
    frames.add_argument("--frame-strains", metavar="S1,S2,...",
                        help="also store the relaxed cell isotropically strained by each S (linear, e.g. "
                        "--frame-strains=-0.04,-0.02,0.02,0.04: E(V) curves)")
    frames.add_argument("--frame-rattles", type=NON_NEGATIVE_INT, default=0, metavar="N",
                        help="also store N rattled copies of the relaxed cell (default 0)")
    frames.add_argument("--frame-rattle", type=POSITIVE_FLOAT, default=0.05, metavar="A",
                        help="displacement (A, per component) of rattled copies; their cells are strained by "
                        "A/2.5 (default 0.05)")
    frames.add_argument("--frames-calculator", choices=["gpaw"],
                        help="label the frames of small cells again with GPAW (PBE single points)")
    frames.add_argument("--frames-max-atoms", type=POSITIVE_INT, default=8,
                        help="cells labelled by --frames-calculator have at most this many atoms (default 8)")
    frames.add_argument("--frames-label-steps", type=NON_NEGATIVE_INT, default=3,
                        help="relaxation frames per task labelled by --frames-calculator, evenly spaced, first "
                        "and last included; every strained and rattled copy is labelled too (default 3)")
    frames.add_argument("--gpaw-ecut", type=POSITIVE_FLOAT, default=700.0,
                        help="plane-wave cutoff of the GPAW labels, eV (default 700)")
    frames.add_argument("--gpaw-kpt-density", type=POSITIVE_FLOAT, default=2.5,
                        help="k-points per reciprocal Angstrom of the GPAW labels (default 2.5)")


def _frame_settings(args: argparse.Namespace) -> Any:
    """The run's FrameSettings, or ``None`` without ``--keep-frames``."""
    from ase_lcom.data.frames import FrameSettings

    if args.keep_frames is None:
        if args.frame_strains or args.frame_rattles or args.frames_calculator:
            raise UsageError("--frame-strains, --frame-rattles and --frames-calculator need --keep-frames K")
        return None
    return FrameSettings(
        every=args.keep_frames, strains=float_list(args.frame_strains, "--frame-strains") if args.frame_strains
        else (), rattles=args.frame_rattles, rattle=args.frame_rattle, calculator=args.frames_calculator or "",
        label_max_atoms=args.frames_max_atoms, label_steps=args.frames_label_steps, ecut=args.gpaw_ecut,
        kpt_density=args.gpaw_kpt_density)


def run_generate(args: argparse.Namespace) -> int:
    """Generate (or continue generating) a dataset into ``--out``."""
    from ase_lcom.benchmarks.leakage import default_dataset_run
    from ase_lcom.data.generator import GenerationSettings, generate, import_tasks

    exclude = formula_list(args.exclude_compositions, "--exclude-compositions")
    compositions = formula_list(args.compositions, "--compositions")
    if Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a folder: give the database file, e.g. {Path(args.out) / 'data.db'}")
    run: dict[str, Any] = {}
    if args.preset == "default":
        run = default_dataset_run(args.calculator, args.out, progress=not args.quiet)
    if compositions:
        run["compositions"] = compositions
    if not run.get("compositions"):
        raise UsageError("give --compositions F1,F2,... or --preset default")
    settings = GenerationSettings(calculator=args.calculator, n_random=args.n_random, max_atoms=args.max_atoms,
                                  fmax=args.fmax, steps=args.steps, seed=args.seed)
    imports = import_tasks(args.add, settings, args.add_per_file) if args.add else []
    frames = _frame_settings(args)
    with executor_from_flags(args) as executor:
        report = generate(args.out, settings=settings, executor=executor,
                          exclude_compositions=exclude, max_tasks=args.max_tasks,
                          progress=not args.quiet, imports=imports, frames=frames, **run)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "nothing to do"
    print(f"{args.out}: {report.planned} tasks planned, {report.already_done} already done; this run: {counts} "
          f"({report.seconds:.0f} s)")
    return 0


def run_dismai(args: argparse.Namespace) -> int:
    """Generate (or finish generating) a named Dismai-Bench dataset under ``--out``."""
    from ase_lcom.data.dismai import generate_dataset

    path = generate_dataset(args.name, args.out, progress=not args.quiet, seed=args.seed, n_passes=args.n_passes,
                            n_structures=args.n_structures, workers=args.workers)
    print(f"{args.name}: {path} (data card {path.parent / 'DATACARD.md'})")
    return 0


def run_summary(args: argparse.Namespace) -> int:
    """Print a dataset's statistics (and write them as JSON and a plot when asked)."""
    from ase_lcom.data.frames import frame_summary
    from ase_lcom.data.readers import guess_format, read_records
    from ase_lcom.data.summary import plot_summary, public, summarize

    output_path(args.json, "--json")
    output_path(args.plot, "--plot")
    summary = summarize(read_records(args.file, format=args.format))
    shown = public(summary)
    if (args.format or guess_format(Path(args.file))) == "db" and (frames := frame_summary(args.file)):
        shown["frames"] = frames
    text = json.dumps(shown, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    if args.plot:
        use_agg_backend()
        plot_summary(summary, args.plot, title=Path(args.file).name)
    return 0
