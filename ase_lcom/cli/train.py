"""``ase-lcom train cdvae``, ``train lcom``, ``train generator`` and ``train m3gnet``: a CD-VAE, an LCOM model
bundle, the fixed-lattice generators of Dismai-Bench and an M3GNet potential."""

from __future__ import annotations

import argparse
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from ase_lcom.cli.common import (
    EXCLUDE_HELP,
    NON_NEGATIVE_FLOAT,
    NON_NEGATIVE_INT,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    PROG,
    SEED,
    STEPS,
    float_list,
    formula_list,
    use_agg_backend,
)


def register(sub: Any) -> None:
    """Add ``train cdvae``, ``train lcom``, ``train generator`` and ``train m3gnet`` to the top-level subcommands."""
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
    cdvae.add_argument("--epochs", type=POSITIVE_INT, default=100)
    cdvae.add_argument("--batch-size", type=POSITIVE_INT, default=64)
    cdvae.add_argument("--lr", type=POSITIVE_FLOAT, default=1e-3)
    cdvae.add_argument("--beta", type=NON_NEGATIVE_FLOAT, default=0.01, help="KL weight")
    cdvae.add_argument("--hidden", type=POSITIVE_INT, default=128)
    cdvae.add_argument("--latent-dim", type=POSITIVE_INT, default=256)
    cdvae.add_argument("--seed", type=SEED, default=0)
    cdvae.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    cdvae.add_argument("--ddp", action="store_true", help="data-parallel over the processes of a torchrun launch, "
                       "e.g. torchrun --nproc-per-node 4 -m ase_lcom.cli train cdvae --ddp --device cuda ...")
    cdvae.add_argument("-q", "--quiet", action="store_true")
    cdvae.set_defaults(func=run_cdvae)

    lcom = train.add_parser("lcom", help="encode a dataset with a trained CD-VAE and train the COMs and SL "
                            "surrogates into an LCOM model bundle (resumable through --work-dir)")
    lcom.add_argument("--cdvae", required=True, help="CD-VAE checkpoint (best.pt of `ase-lcom train cdvae`)")
    lcom.add_argument("--data", required=True, help="dataset with formation energies (ASE db, extxyz, ...)")
    lcom.add_argument("--out", required=True, help="bundle file to write (.pt)")
    lcom.add_argument("--name", help="the model's name and version, recorded in the bundle and reported with every "
                      "prediction, e.g. mymodel-v1 (default: the file name of --out without .pt)")
    lcom.add_argument("--exclude-compositions", help=EXCLUDE_HELP)
    lcom.add_argument("--work-dir", help="intermediate files (default: OUT with suffix .work)")
    lcom.add_argument("--hidden", type=POSITIVE_INT, help="surrogate hidden units per layer (default 512; paper 2048)")
    lcom.add_argument("--decoded-calculator", default="chgnet",
                      help="score decoded data crystals with this calculator and train the surrogates on them too "
                           "(default chgnet; 'none' trains on the data only)")
    lcom.add_argument("--volume-factors", metavar="F,F,...",
                      help="also train the surrogates on every data crystal strained to these multiples of its "
                           "volume, scored by the decoded calculator (e.g. 0.8,1.25; default: none)")
    lcom.add_argument("--epochs", type=POSITIVE_INT)
    lcom.add_argument("--batch-size", type=POSITIVE_INT)
    lcom.add_argument("--lr", type=POSITIVE_FLOAT)
    lcom.add_argument("--tau", type=NON_NEGATIVE_FLOAT,
                      help="overestimation limit of the conservative term (default 1.0)")
    lcom.add_argument("--steps", type=STEPS, help="latent gradient steps, adversarial and at prediction (default 50)")
    lcom.add_argument("--step-lr", type=POSITIVE_FLOAT, help="latent step size (default: 0.05 * sqrt(latent_dim) in "
                      "whitened units, the COMs reference's, 0.8 for 256; 0.05 with --no-whiten-latents)")
    lcom.add_argument("--no-whiten-latents", dest="whiten_latents", action="store_false",
                      help="train the surrogates on raw latents and step in raw latent units (models before v4)")
    lcom.add_argument("--seed", type=SEED)
    lcom.add_argument("-q", "--quiet", action="store_true")
    lcom.set_defaults(func=run_lcom)

    gen = train.add_parser("generator", help="train a fixed-lattice generator on a Dismai-Bench dataset (rerun with "
                           "the same --out to resume from OUT/last.pt)")
    gen.add_argument("--kind", required=True, help="cryingan, diffusion or cdvae")
    gen.add_argument("--dataset", required=True, help="a Dismai dataset name (under --root) or a file of structures "
                     "of one composition and lattice (extxyz, ASE db)")
    gen.add_argument("--root", default="datasets/dismai", help="folder of the named datasets (default datasets/dismai)")
    gen.add_argument("--out", required=True, help="training directory (last.pt, generator.pt, history.json, "
                     "loss_curves.png)")
    gen.add_argument("--epochs", type=POSITIVE_INT, help="epochs (default: the generator's published number)")
    gen.add_argument("--max-seconds", type=POSITIVE_FLOAT, default=7200.0,
                     help="stop once training has taken this long, summed over resumed runs (default 7200)")
    gen.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    gen.add_argument("--size", choices=("cpu", "published"), default="cpu",  # dismai.GENERATOR_SIZES
                     help="cpu (default): a CPU-sized diffusion denoiser and sampler, CryinGAN epochs of one random "
                     "whole-cell shift per alloy structure; published: the paper's sizes and epochs (a GPU)")
    gen.add_argument("--shifts-per-epoch", type=NON_NEGATIVE_INT, metavar="K",
                     help="CryinGAN on alloys: shifted copies of each structure per epoch (0: all 64)")
    gen.add_argument("--seed", type=SEED, default=0)
    gen.add_argument("--ddp", action="store_true", help="data-parallel over the processes of a torchrun launch, "
                     "e.g. torchrun --nproc-per-node 4 -m ase_lcom.cli train generator --ddp --device cuda ...")
    gen.add_argument("-q", "--quiet", action="store_true")
    gen.set_defaults(func=run_generator)

    m3gnet = train.add_parser("m3gnet", help="train an M3GNet potential (matgl) on labelled frames: energies, forces "
                              "and stresses (rerun with the same --out to resume)")
    m3gnet.add_argument("--data", required=True, help="ASE database of frames (rows with frame_of: data generate "
                        "--keep-frames, scripts/make_m3gnet_pretraining_frames.py)")
    m3gnet.add_argument("--out", required=True, help="model directory: what get_calculator('m3gnet', model=OUT) "
                        "and matgl.load_model read, with history.csv, metrics.json, loss_curves.png, checkpoints/")
    m3gnet.add_argument("--label-calculator", metavar="NAME", help="train only on frames labelled by this calculator "
                        "(e.g. gpaw, chgnet; default all)")
    m3gnet.add_argument("--init", metavar="DIR", help="fine-tune this matgl potential: its weights and elements, "
                        "element references shifted to the data's energy zero; its held-out compositions stay held "
                        "out, its training ones train, new ones are split by --val-fraction")
    m3gnet.add_argument("--epochs", type=POSITIVE_INT, default=20)
    m3gnet.add_argument("--batch-size", type=POSITIVE_INT, default=16)
    m3gnet.add_argument("--lr", type=POSITIVE_FLOAT, default=1e-3)
    m3gnet.add_argument("--stress-weight", type=NON_NEGATIVE_FLOAT, default=0.1,
                        help="stress loss weight (stresses in GPa; default 0.1)")
    m3gnet.add_argument("--val-fraction", type=POSITIVE_FLOAT, default=0.1,
                        help="share of the compositions held out for validation (default 0.1)")
    m3gnet.add_argument("--hold-out", metavar="FORMULAS", default="",
                        help="comma-separated compositions validated on in any case (also ones --init trained on)")
    m3gnet.add_argument("--units", type=POSITIVE_INT, default=64, help="hidden units (default 64)")
    m3gnet.add_argument("--nblocks", type=POSITIVE_INT, default=3, help="interaction blocks (default 3)")
    m3gnet.add_argument("--cutoff", type=POSITIVE_FLOAT, default=5.0, help="graph cutoff, A (default 5)")
    m3gnet.add_argument("--threebody-cutoff", type=POSITIVE_FLOAT, default=4.0,
                        help="three-body cutoff, A (default 4)")
    m3gnet.add_argument("--max-seconds", type=POSITIVE_FLOAT,
                        help="stop once training has taken this long, summed over resumed runs")
    m3gnet.add_argument("--threads", type=POSITIVE_INT, help="torch threads (default: torch's)")
    m3gnet.add_argument("--seed", type=SEED, default=0)
    m3gnet.add_argument("-q", "--quiet", action="store_true")
    m3gnet.set_defaults(func=run_m3gnet)


def run_cdvae(args: argparse.Namespace) -> int:
    """Train (or resume training) a CD-VAE into ``--out``, its split by composition recorded beside it."""
    from ase_lcom.data.selection import training_records
    from ase_lcom.models.cdvae import CDVAEConfig
    from ase_lcom.training.cdvae import TrainConfig, train_cdvae
    from ase_lcom.training.splits import training_splits, write_split

    fractions = float_list(args.split, "--split")
    records = training_records(args.data, formula_list(args.exclude_compositions, "--exclude-compositions", ("csp26",)))
    splits = training_splits(records, fractions, seed=args.seed, init=args.init)
    split_file = write_split(splits, args.out)
    base = CDVAEConfig(beta=args.beta)
    sizes = {"hidden": args.hidden, "latent_dim": args.latent_dim}
    config = replace(base, encoder=replace(base.encoder, **sizes), decoder=replace(base.decoder, **sizes))
    best = train_cdvae([r.structure for r in splits["train"]], [r.structure for r in splits["val"]], args.out, config,
                       TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                                   device=args.device), progress=not args.quiet, init=args.init,
                       ddp=args.ddp)
    print(f"best checkpoint: {best} (train {len(splits['train'])}, val {len(splits['val'])}, "
          f"test {len(splits['test'])} structures; split by composition in {split_file})")
    return 0


def run_lcom(args: argparse.Namespace) -> int:
    """Build an LCOM model bundle at ``--out`` and plot its training curves beside it."""
    from ase_lcom.data.selection import training_records
    from ase_lcom.lcom.card import plot_training
    from ase_lcom.training.lcom import build_lcom_model
    from ase_lcom.training.surrogate import SurrogateTrainConfig

    given = {f.name: getattr(args, f.name, None) for f in fields(SurrogateTrainConfig)}
    options = {name: value for name, value in given.items() if value is not None}
    records = training_records(args.data, formula_list(args.exclude_compositions, "--exclude-compositions", ("csp26",)))
    work = Path(args.work_dir or Path(args.out).with_suffix(".work"))
    volume_factors = float_list(args.volume_factors, "--volume-factors") if args.volume_factors else ()
    card = {"data": str(args.data), "cdvae_checkpoint": str(args.cdvae),
            "command": getattr(args, "command_line", PROG)}
    model = build_lcom_model(args.cdvae, records, args.out, work, SurrogateTrainConfig(**options), card,
                             progress=not args.quiet, hidden=args.hidden, whiten_latents=args.whiten_latents,
                             decoded_calculator=None if args.decoded_calculator == "none" else args.decoded_calculator,
                             name=args.name, volume_factors=volume_factors)
    print(model.describe())
    use_agg_backend()
    print(f"training curves written to {plot_training(model, Path(args.out).with_suffix('.png'))}")
    return 0


def run_generator(args: argparse.Namespace) -> int:
    """Train (or resume training) a fixed-lattice generator into ``--out`` and plot its loss curves."""
    from ase_lcom.benchmarks.dismai import generator_for_dataset
    from ase_lcom.data.dismai import load_dataset
    from ase_lcom.training.distributed import is_main_process
    from ase_lcom.training.generator_loop import plot_loss_curves

    dataset = load_dataset(args.dataset, args.root)
    generator = generator_for_dataset(args.kind, dataset, epochs=args.epochs, max_seconds=args.max_seconds,
                                      device=args.device, seed=args.seed, size=args.size,
                                      shifts_per_epoch=args.shifts_per_epoch)
    out = Path(args.out)
    history = generator.fit(dataset, out, progress=not args.quiet, ddp=args.ddp)
    if args.ddp and not is_main_process():
        return 0  # rank 0 writes the plot and the summary
    use_agg_backend()
    plot = out / "loss_curves.png"
    plot_loss_curves(history, path=plot)
    hours = sum(r["seconds"] for r in history) / 3600
    print(f"{args.kind} on {dataset.name}: {len(history)} epochs, {hours:.2f} h of training in all")
    print(f"checkpoint: {out / 'generator.pt'} (resume from {out / 'last.pt'}); loss curves: {plot}")
    return 0


def _unused(metrics: dict[str, Any]) -> str:
    unused = metrics.get("unused_compositions")
    return f"; not {', '.join(unused)}, elements no training frame has" if unused else ""


def run_m3gnet(args: argparse.Namespace) -> int:
    """Train (resume, or fine-tune with ``--init``) an M3GNet potential into ``--out``; plot its loss curves."""
    from ase_lcom.training.m3gnet import (
        M3GNetConfig,
        M3GNetTrainConfig,
        plot_history,
        read_frames,
        read_history,
        train_m3gnet,
    )

    hold_out = tuple(formula_list(args.hold_out, "--hold-out"))
    frames = read_frames(args.data, args.label_calculator)
    model = M3GNetConfig(units=args.units, nblocks=args.nblocks, cutoff=args.cutoff,
                         threebody_cutoff=args.threebody_cutoff)
    config = M3GNetTrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                               stress_weight=args.stress_weight, val_fraction=args.val_fraction,
                               hold_out=hold_out, seed=args.seed, max_seconds=args.max_seconds)
    source = f"{args.data}" + (f" (label_calculator={args.label_calculator})" if args.label_calculator else "")
    metrics = train_m3gnet(frames, args.out, model, config, init=args.init, progress=not args.quiet,
                           threads=args.threads, data=source)
    use_agg_backend()
    plot = plot_history(read_history(args.out), Path(args.out) / "loss_curves.png")
    print(f"M3GNet on {metrics['train_frames']} frames ({metrics['train_compositions']} compositions), "
          f"{metrics['epochs']} epochs, {metrics['seconds'] / 60:.1f} min; held out {metrics['val_frames']} frames "
          f"({metrics['val_compositions']} compositions{_unused(metrics)}): energy {1000 * metrics['val_energy_mae']:.1f} meV/atom, "
          f"forces {metrics['val_force_mae']:.3f} eV/A, stress {metrics['val_stress_mae']:.3f} GPa MAE")
    print(f"model: {args.out} (get_calculator('m3gnet', model=...)); loss curves: {plot}")
    return 0
