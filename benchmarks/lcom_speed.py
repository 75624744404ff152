"""Model load and prediction time of the shipped LCOM model (default settings, no relaxation).

Run: python benchmarks/lcom_speed.py [--compounds NaCl,ZnO,...] [--threads 2]
Prints the load time and the median / max prediction time over the compounds (default: the 26 CSP compounds,
each in the cell size of its experimental ground state: 2 atoms, 4 for wurtzite and graphite).
"""

import argparse
import statistics
import time

import torch


def main() -> None:
    from ase_lcom.benchmarks.csp import experimental_units
    from ase_lcom.data.compositions import CSP26

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", default=",".join(CSP26))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    from ase_lcom import LCOMPredictor

    predictor = LCOMPredictor()
    load = time.perf_counter() - start
    times = []
    for formula in args.compounds.split(","):
        start = time.perf_counter()
        best = predictor.predict_candidates(formula, formula_units=experimental_units(formula))[0]
        times.append(time.perf_counter() - start)
        print(f"{formula:<5} {times[-1]:5.2f} s  {best.info['spacegroup']:<10} {best.energy_per_atom:7.3f} eV/atom")
    print(f"model load (import included) {load:.2f} s; prediction median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s over {len(times)} compounds, {args.threads} threads")


if __name__ == "__main__":
    main()
