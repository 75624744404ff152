"""CHGNet-labelled pretraining frames for the shipped M3GNet (datasets/m3gnet-pretrain/, see its DATACARD.md).

Three groups of crystals, each perturbed (random strain, rattle) and labelled with CHGNet:
the default dataset's relaxed structures; the rocksalt, CsCl, zincblende and wurtzite cells of its AB compositions
and of the CSP26 binaries, relaxed first with their symmetry kept (E(V) curves and polymorph orderings); and the
elemental reference candidates of every element in the data (fcc/bcc/hcp/sc/diamond, dimers), relaxed likewise
(formation energies). Resumable: rerun to continue.

    OMP_NUM_THREADS=1 python scripts/make_m3gnet_pretraining_frames.py --data /tmp/default.db \
        --out datasets/m3gnet-pretrain/frames-chgnet.db
"""

from __future__ import annotations

import argparse
import time

import torch
from ase.db import connect
from pymatgen.core import Composition

from ase_lcom.calculators import elemental_candidates, get_calculator, relax
from ase_lcom.data.compositions import BENCHMARK_POLYMORPHS, CSP26
from ase_lcom.data.perturbed_frames import framed_crystals, write_perturbed_frames
from ase_lcom.data.prototypes import decorate
from ase_lcom.errors import LCOMError
from ase_lcom.structure import to_atoms


def relaxed(cells, calculator, done):
    """``(uid, atoms)`` of the ``(uid, atoms, relax_cell)`` not in ``done``, relaxed with their symmetry kept;
    failures are skipped."""
    for uid, atoms, relax_cell in cells:
        if uid in done:
            continue
        try:
            result = relax(atoms, calculator, fmax=0.05, steps=150, optimizer="BFGS", fix_symmetry=True,
                           relax_cell=relax_cell)
        except LCOMError:
            continue
        yield uid, to_atoms(result.structure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the default dataset (unzipped default.db)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    calculator = get_calculator("chgnet")
    rows = list(connect(args.data).select())
    start = time.perf_counter()
    data = [(row.uid, row.toatoms()) for row in rows]
    n = write_perturbed_frames(data, args.out, calculator, "chgnet", n_per_crystal=2, seed=args.seed,
                               source="perturbed:default", progress=True)
    print(f"default structures: {n} frames, {time.perf_counter() - start:.0f} s", flush=True)

    formulas = {row.reduced_formula for row in rows}
    binaries = sorted(f for f in formulas | set(CSP26) if len(Composition(f)) == 2
                      and sorted(Composition(f).values()) == [1.0, 1.0])
    cells = [(f"{formula}/{name}", to_atoms(structure), True) for formula in binaries
             for name, structure in decorate(formula) if name in BENCHMARK_POLYMORPHS]
    start = time.perf_counter()
    n = write_perturbed_frames(relaxed(cells, calculator, framed_crystals(args.out)), args.out, calculator,
                               "chgnet", n_per_crystal=3, seed=args.seed, source="perturbed:binary-polymorphs",
                               max_strain=0.08, rattle=0.03, progress=True)
    print(f"binary polymorphs of {len(binaries)} compositions: {n} frames, {time.perf_counter() - start:.0f} s",
          flush=True)

    elements = sorted({el.symbol for f in formulas for el in Composition(f)})
    cells = [(f"{symbol}/{label}", atoms, cell) for symbol in elements
             for label, atoms, cell in elemental_candidates(symbol)]
    start = time.perf_counter()
    n = write_perturbed_frames(relaxed(cells, calculator, framed_crystals(args.out)), args.out, calculator,
                               "chgnet", n_per_crystal=3, seed=args.seed, source="perturbed:elements",
                               max_strain=0.08, rattle=0.03, progress=True)
    print(f"elemental phases of {len(elements)} elements: {n} frames, {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
