"""Compute the elemental reference energies shipped with the package (no first-use relaxations).

Relaxes every element's candidate phases with the calculator's default reference settings, exactly as
:class:`ase_lcom.calculators.ReferenceEnergies` does on first use, and writes them into
``ase_lcom/pretrained/references-<calculator>.json``. Resumable: finished elements are kept.

    python scripts/compute_shipped_references.py --calculator chgnet
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pymatgen.core import Element
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calculator", default="chgnet")
    parser.add_argument("--max-z", type=int, default=94, help="heaviest element (default 94, Pu)")
    parser.add_argument("--out", type=Path, help="default ase_lcom/pretrained/references-CALCULATOR.json")
    args = parser.parse_args()

    import torch

    from ase_lcom.calculators import ReferenceEnergies

    torch.set_num_threads(1)
    out = args.out or Path(__file__).resolve().parents[1] / "ase_lcom" / "pretrained" / f"references-{args.calculator}.json"
    done = json.loads(out.read_text()) if out.is_file() else {"elements": {}, "failed": {}}
    references = ReferenceEnergies(args.calculator)
    symbols = [Element.from_Z(z).symbol for z in range(1, args.max_z + 1)]
    for symbol in tqdm([s for s in symbols if s not in done["elements"] and s not in done["failed"]],
                       desc="elemental references"):
        start = time.perf_counter()
        try:
            with threadpool_limits(1):
                entry = references.compute(symbol)
        except Exception as exc:  # recorded, so the shipped file says which elements have no reference
            done["failed"][symbol] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        else:
            done["elements"][symbol] = {**entry, "seconds": round(time.perf_counter() - start, 1)}
        done["key"] = references.path.name
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(done, indent=1, sort_keys=True) + "\n")
        tmp.replace(out)
    print(f"{out}: {len(done['elements'])} elements, {len(done['failed'])} failed")


if __name__ == "__main__":
    main()
