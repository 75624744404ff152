"""Does a bundle's surrogate know that a compressed or stretched crystal is worse? A volume scan on CSP26.

    python benchmarks/surrogate_volume_scan.py --model lcom-default-v4 --model runs/lcom-v4s.pt \
        --out benchmarks/results/surrogate-volume-scan

Every CSP26 compound's CHGNet-relaxed reference polymorphs (``datasets/default/benchmark-references-chgnet.json``)
are scaled isotropically to each of ``FACTORS`` times their volume, scored by CHGNet (formation energy, single
point) and by each model's surrogates (encode, then the surrogate), which is what the pure method ranks
decoded crystals by. Per model and surrogate: the Spearman rank correlation between surrogate and CHGNet over
each compound's scan (mean and how many compounds are negative), how often the surrogate's minimum lies at a
volume factor within one step of 1 (CHGNet's minimum does, by construction), and the mean energy the surrogate
gives the cell at 0.7 of the volume minus the relaxed one (CHGNet: strongly positive). ``scan.json`` holds
every energy (committed gzipped); ``scan.png`` plots the scans of six compounds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from scipy.stats import spearmanr

from ase_lcom.calculators import ReferenceEnergies, energy_per_atom, get_calculator
from ase_lcom.data.compositions import CSP26
from ase_lcom.models.bundle import LCOMModel
from ase_lcom.store import write_json

ROOT = Path(__file__).resolve().parents[1]
FACTORS = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4)
PLOTTED = ("MgS", "ZnS", "CdS", "NaCl", "BeO", "C")


def scan_cells() -> list[tuple[str, str, float, Structure]]:
    """``(formula, polymorph, factor, structure)`` for every CSP26 reference polymorph and volume factor."""
    refs = json.loads((ROOT / "datasets/default/benchmark-references-chgnet.json").read_text())
    cells = []
    for formula in CSP26:
        for name, polymorph in sorted(refs[formula]["polymorphs"].items()):
            relaxed = Structure.from_dict(polymorph["structure"])
            for factor in FACTORS:
                cell = relaxed.copy()
                cell.scale_lattice(relaxed.volume * factor)
                cells.append((formula, name, factor, cell))
    return cells


def summary(rows: list[dict], key: str) -> dict[str, float]:
    """Agreement of ``key`` (a surrogate's energies) with CHGNet over each polymorph's volume scan."""
    rhos, at_minimum, compressed = [], [], []
    scans: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        scans.setdefault((row["formula"], row["polymorph"]), []).append(row)
    for scan in scans.values():
        scan.sort(key=lambda r: r["factor"])
        ours, chgnet = [r[key] for r in scan], [r["chgnet"] for r in scan]
        rhos.append(float(spearmanr(ours, chgnet).statistic))
        best = FACTORS[int(np.argmin(ours))]
        at_minimum.append(abs(FACTORS.index(best) - FACTORS.index(1.0)) <= 1)
        by_factor = {r["factor"]: r[key] for r in scan}
        compressed.append(by_factor[0.7] - by_factor[1.0])
    return {"scans": len(rhos), "spearman_mean": float(np.mean(rhos)),
            "spearman_negative": int(np.sum(np.array(rhos) < 0)), "minimum_near_relaxed": int(np.sum(at_minimum)),
            "mean_0.7_minus_relaxed": float(np.mean(compressed))}


def plot(rows: list[dict], keys: list[str], path: Path) -> None:
    """Energy against volume factor for the ground-state polymorph of each of :data:`PLOTTED`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    refs = json.loads((ROOT / "datasets/default/benchmark-references-chgnet.json").read_text())
    fig, axes = plt.subplots(2, 3, figsize=(12, 7), sharex=True)
    for ax, formula in zip(axes.flat, PLOTTED, strict=True):
        name = refs[formula]["ground_state"]
        scan = sorted((r for r in rows if r["formula"] == formula and r["polymorph"] == name),
                      key=lambda r: r["factor"])
        for key in ["chgnet", *keys]:
            ax.plot([r["factor"] for r in scan], [r[key] for r in scan], "o-" if key == "chgnet" else ".--",
                    label=key, lw=2 if key == "chgnet" else 1)
        ax.set_title(f"{formula} ({name})")
        ax.axvline(1.0, color="grey", lw=0.5)
    for ax in axes[-1]:
        ax.set_xlabel("volume / relaxed volume")
    for ax in axes[:, 0]:
        ax.set_ylabel("formation energy (eV/atom)")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("CHGNet and surrogate energies of CSP26 ground states, scaled isotropically")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="bundle name or file (repeatable)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    cells = scan_cells()
    structures = [c[3] for c in cells]
    calculator, references = get_calculator("chgnet"), ReferenceEnergies("chgnet")
    rows = [{"formula": f, "polymorph": n, "factor": x, "volume_per_atom": s.volume / len(s),
             "chgnet": references.formation_energy_per_atom(s, energy_per_atom(s, calculator))}
            for f, n, x, s in cells]
    keys, report = [], {}
    for spec in args.model:
        model = LCOMModel.load(spec)
        for which in sorted(model.surrogates):
            key = f"{Path(spec).stem}:{which}"
            for row, energy in zip(rows, model.energies(structures, which).tolist(), strict=True):
                row[key] = energy
            keys.append(key)
            report[key] = summary(rows, key)
            print(key, report[key], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "scan.json", {"factors": list(FACTORS), "summary": report, "rows": rows}, indent=1)
    plot(rows, [k for k in keys if k.endswith(":coms")], args.out / "scan.png")
    print(f"wrote {args.out / 'scan.json'} and {args.out / 'scan.png'}")


if __name__ == "__main__":
    main()
