"""``ase-lcom predict``: the crystal structure of a formula from any installed predictor."""

from __future__ import annotations

import argparse
import time
from typing import Any

from ase_lcom.cli.common import (
    CANDIDATES,
    LATENT_STEPS,
    POSITIVE_INT,
    SEED,
    UsageError,
    options_from_flags,
    output_path,
    use_agg_backend,
)


def register(sub: Any) -> None:
    """Add ``predict`` to the top-level subcommands."""
    predict = sub.add_parser("predict", help="predict the crystal structure of a formula")
    predict.add_argument("formula", help="chemical formula, e.g. ZnO, SrTiO3, Mg2SiO4")
    predict.add_argument("--formula-units", "--z", dest="formula_units", type=POSITIVE_INT, metavar="N",
                         help="formula units per cell (default: try several and rank)")
    predict.add_argument("--n-candidates", "-k", type=CANDIDATES, default=8, help="crystals decoded (default 8)")
    predict.add_argument("--steps", type=LATENT_STEPS, help="latent gradient steps (default: the model's)")
    predict.add_argument("--relax", action="store_true", help="relax candidates with --calculator and re-rank")
    predict.add_argument("--calculator", "-c", metavar="CALC", help="validating calculator of --relax: chgnet "
                         "(the predictors' default), m3gnet (the shipped potential), gpaw, emt")
    predict.add_argument("--rank-by", metavar="CALC",
                         help="re-rank candidates by this calculator's single-point energy: chgnet, m3gnet, ...")
    predict.add_argument("--polish", metavar="CALC",
                         help="calculator that scores decoded and seed crystals and polishes the best with a short "
                         "symmetry-kept relaxation (the latent predictors' default: chgnet); 'none' for the pure "
                         "LCOM method: surrogate ranking, no calculator")
    predict.add_argument("--pure", action="store_const", const="none", dest="polish",
                         help="the LCOM paper's pure method (same as --polish none)")
    predict.add_argument("--predictor", "-p", default="lcom", help="lcom (default), sl, cdvae, or any installed")
    predict.add_argument("--model", help="LCOM model bundle (default: the shipped model)")
    predict.add_argument("--seed", type=SEED, default=0)
    predict.add_argument("-o", "--output", help="output file, any ase.io format (default FORMULA_PREDICTOR.cif)")
    predict.add_argument("--plot", help="PNG of the surrogate energy along the latent optimisation")
    predict.set_defaults(func=run_predict)


def _energy(value: float | None, width: int) -> str:
    return f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"


def run_predict(args: argparse.Namespace) -> int:
    """Predict, print the ranked candidates and write the best one."""
    from ase_lcom.errors import PluginError
    from ase_lcom.predictors import best_valid, load_predictor
    from ase_lcom.structure import parse_formula, write_structure

    formula = parse_formula(args.formula, max_atoms=None)  # the predictor checks the cell size
    if args.relax and args.rank_by:
        raise UsageError("--rank-by does not apply with --relax (relaxed candidates are ranked by their relaxed "
                         "formation energy): give one of them")
    output = output_path(args.output or f"{formula.reduced_formula}_{args.predictor}.cif", "--output")
    plot = output_path(args.plot, "--plot")
    if args.calculator and not args.relax:
        raise UsageError("--calculator chooses the calculator of --relax: add --relax, or rank with --rank-by CALC")
    given = {"model": args.model, "rank_by": args.rank_by, "steps": args.steps, "polish": args.polish,
             "calculator": args.calculator}
    options = options_from_flags([args.predictor], given)[args.predictor]
    start = time.perf_counter()
    predictor = load_predictor(args.predictor, **options)
    loaded = time.perf_counter()
    candidates = predictor.predict_candidates(args.formula, formula_units=args.formula_units,
                                              n_candidates=args.n_candidates, seed=args.seed,
                                              **({"relax": True} if args.relax else {}))
    done = time.perf_counter()
    if not candidates:
        raise PluginError(f"predictor {args.predictor!r} returned no candidate for {args.formula}")
    model = candidates[0].info.get("model")
    print(f"{args.predictor} prediction for {args.formula}{f' with model {model}' if model else ''}: "
          f"{len(candidates)} candidates (model load {loaded - start:.1f} s, prediction {done - loaded:.1f} s)")
    header = f"{'rank':>4}  {'formula':<10} {'atoms':>5}  {'space group':<12} {'E_f pred':>9}"
    polished = any(c.info.get("polished") for c in candidates)
    validated = ("  E_f relaxed" if args.relax else f"  E_f {args.rank_by:>7}" if args.rank_by
                 else f"  E_f {candidates[0].info.get('ranked_by', ''):>7}" if polished else "")
    print(header + validated + "  (eV/atom)" + ("; * polished by a short relaxation" if polished else ""))
    for rank, c in enumerate(candidates, 1):
        line = (f"{rank:>4}  {c.structure.composition.reduced_formula:<10} {len(c.structure):>5}  "
                f"{c.info.get('spacegroup', '?'):<12} {_energy(c.energy_per_atom, 9)}")
        if validated:
            line += f"  {_energy(c.validated_energy_per_atom, 11)}{' *' if c.info.get('polished') else ''}"
        if c.info.get("error"):
            line += f"  ({c.info['error']})"
        print(line)
    best_valid(candidates, args.predictor, args.formula)  # an impossible best candidate is never written
    if candidates[0].info.get("spacegroup_number") == 1:
        print("note: the best candidate has no symmetry (P1 at spglib's tolerance)")
    write_structure(candidates[0].structure, output)
    print(f"best candidate written to {output}")
    if plot:
        from ase_lcom.lcom.plots import plot_traces

        use_agg_backend()
        print(f"optimisation plot written to {plot_traces(candidates, plot, f'{args.predictor}: {args.formula}')}")
    return 0
