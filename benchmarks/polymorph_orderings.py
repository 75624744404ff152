"""CSP26 polymorph orderings by CHGNet, the shipped M3GNet and GPAW: how often each pair of calculators agrees.

    python benchmarks/polymorph_orderings.py --calculators chgnet,m3gnet
    python benchmarks/polymorph_orderings.py --calculators gpaw --compounds NaCl,MgO --gpaw-ecut 600

Each calculator relaxes every compound's reference polymorphs with their symmetry kept (the CSP benchmark's
references, :func:`~ase_lcom.benchmarks.csp.references.compute_references`) into ``OUT/references-NAME.json``,
one compound at a time (rerun to resume; a rerun with other calculator options is refused). Every run rewrites
``OUT/report.md``, ``report.json`` and ``orderings.png`` over all the caches in ``OUT``
(:mod:`ase_lcom.benchmarks.orderings`); a renamed cache (``references-m3gnet-v1.json``, an earlier shipped
M3GNet's) is reported beside the others. The M3GNet settings record the shipped weights' digest, so a new shipped
potential is refused until the old cache is renamed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ("chgnet", "m3gnet", "gpaw")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calculators", default="chgnet,m3gnet", help="comma-separated calculator names")
    parser.add_argument("--compounds", help="comma-separated subset of the 26 (default: all)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "polymorph-orderings")
    parser.add_argument("--gpaw-ecut", type=float, default=600.0, help="plane-wave cutoff, eV (stress needs >= 600)")
    parser.add_argument("--gpaw-kpt-density", type=float, default=3.5, help="k-points per reciprocal Angstrom")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    from ase_lcom.benchmarks.csp.references import Validator, compute_references
    from ase_lcom.benchmarks.orderings import markdown, plot_orderings
    from ase_lcom.calculators import find_m3gnet_model, matgl_model_digest
    from ase_lcom.cli.common import use_agg_backend
    from ase_lcom.data.compositions import CSP26
    from ase_lcom.store import check_unchanged, read_json, write_json, write_text

    compounds = args.compounds.split(",") if args.compounds else list(CSP26)
    unknown = sorted(set(compounds) - set(CSP26))
    if unknown:
        raise SystemExit(f"error: not CSP26 compounds: {', '.join(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.calculators.split(","):
        options = {"ecut": args.gpaw_ecut, "kpt_density": args.gpaw_kpt_density} if name == "gpaw" else {}
        # the shipped M3GNet changes between versions: its cache names the weights it was computed with
        recorded = options | ({"model_digest": matgl_model_digest(find_m3gnet_model())} if name == "m3gnet" else {})
        settings_path = args.out / f"settings-{name}.json"
        stored = read_json(settings_path)
        if stored is None:
            write_json(settings_path, recorded)
        else:
            check_unchanged(f"{name} option", stored, recorded, settings_path)
        start = time.perf_counter()
        with threadpool_limits(1):
            compute_references(compounds, Validator(name, **options), args.out / f"references-{name}.json",
                               formation=False)
        print(f"{name}: {len(compounds)} compounds in {time.perf_counter() - start:.0f} s (cached ones free)")

    found = {path.stem.removeprefix("references-") for path in args.out.glob("references-*.json")}
    names = [n for n in ORDER if n in found] + sorted(found - set(ORDER))  # e.g. an earlier model's, renamed
    caches = {name: read_json(args.out / f"references-{name}.json") for name in names}
    write_text(args.out / "report.md", markdown(caches))
    (args.out / "report.json").write_text(json.dumps(
        {name: {formula: {p: v["energy_per_atom"] for p, v in ref["polymorphs"].items()}
                for formula, ref in cache.items()} for name, cache in caches.items()}, indent=1))
    use_agg_backend()
    plot_orderings(caches, args.out / "orderings.png")
    print(f"report: {args.out / 'report.md'}")


if __name__ == "__main__":
    main()
