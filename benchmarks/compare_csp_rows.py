"""Compare two CSP26 ``rows.jsonl`` files row by row: are the predictions and their scores the same?

Run: python benchmarks/compare_csp_rows.py BEFORE/rows.jsonl AFTER/rows.jsonl [--only-common] [--ignore FIELD ...]

Rows are paired by compound, predictor, protocol and seed. Structures must have the same species in the same
order and lattice vectors and Cartesian positions within ``--structure-tol`` (1e-6 A); numbers must agree
within ``--energy-tol`` (1e-8, absolute or relative to their size, so meV/atom quantities derived from the
energies pass when the energies do); every other field must be equal. Wall times (fields ending in
``seconds``) are not compared. Prints a verdict per row and exits with status 1 on any difference, including
a row present in only one file (unless ``--only-common``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
from pathlib import Path
from typing import Any

KEY = ("formula", "predictor", "protocol", "seed")


def read_rows(path: Path) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Rows of a ``rows.jsonl`` (or ``.jsonl.gz``) by key; a cut last line is skipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows = {}
    with opener(path, "rt") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                print(f"{path}: line {number} is not JSON (a cut write?); skipped", file=sys.stderr)
                continue
            key = tuple(row.get(k) for k in KEY)
            if key in rows:
                raise SystemExit(f"{path}: row {key} appears twice")
            rows[key] = row
    return rows


def structure_differences(a: dict[str, Any], b: dict[str, Any], tol: float) -> list[str]:
    """How two pymatgen structure dicts differ beyond ``tol`` (A): species, lattice, Cartesian positions."""
    import numpy as np
    from pymatgen.core import Structure

    first, second = Structure.from_dict(a), Structure.from_dict(b)
    if [str(s.species) for s in first] != [str(s.species) for s in second]:
        return [f"species {first.formula!r} vs {second.formula!r} (or their order)"]
    out = []
    lattice = float(np.abs(first.lattice.matrix - second.lattice.matrix).max())
    if lattice > tol:
        out.append(f"lattice vectors differ by up to {lattice:.3g} A")
    moved = float(np.abs(first.cart_coords - second.cart_coords).max()) if len(first) else 0.0
    if moved > tol:
        out.append(f"positions differ by up to {moved:.3g} A")
    return out


def differences(a: Any, b: Any, path: str, structure_tol: float, energy_tol: float,
                ignored: set[str]) -> list[str]:
    """Every difference between two JSON values (``path`` names where they sit in the row)."""
    if path in ignored or path.rsplit(".", 1)[-1].endswith("seconds"):
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        if path.rsplit(".", 1)[-1] == "structure":
            return [f"{path}: {d}" for d in structure_differences(a, b, structure_tol)]
        out = []
        for key in sorted(set(a) | set(b)):
            where = f"{path}.{key}" if path else key
            if where in ignored or key.endswith("seconds"):
                continue
            if key not in a or key not in b:
                out.append(f"{where}: only in {'the second' if key not in a else 'the first'} file")
            else:
                out += differences(a[key], b[key], where, structure_tol, energy_tol, ignored)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} entries"]
        out = []
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            out += differences(x, y, f"{path}[{k}]", structure_tol, energy_tol, ignored)
        return out[:3] + ([f"{path}: {len(out) - 3} more entries differ"] if len(out) > 3 else [])
    numbers = (int, float)
    if (isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool)
            and (isinstance(a, float) or isinstance(b, float))):
        if math.isnan(a) and math.isnan(b):
            return []
        if abs(a - b) <= energy_tol * max(1.0, abs(a), abs(b)):
            return []
        return [f"{path}: {a!r} vs {b!r} (difference {b - a:.3g})"]
    if type(a) is not type(b) or a != b:
        return [f"{path}: {a!r} vs {b!r}"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="rows.jsonl of the reference run")
    parser.add_argument("second", type=Path, help="rows.jsonl of the run to check")
    parser.add_argument("--structure-tol", type=float, default=1e-6, help="Angstrom (default 1e-6)")
    parser.add_argument("--energy-tol", type=float, default=1e-8, help="default 1e-8")
    parser.add_argument("--ignore", action="append", default=[], metavar="FIELD",
                        help="a field not to compare, dotted for nested ones (predicted.loose); repeatable")
    parser.add_argument("--only-common", action="store_true",
                        help="compare only rows present in both files (others are listed, not failures)")
    args = parser.parse_args(argv)
    first, second = read_rows(args.first), read_rows(args.second)
    failed = False
    for key in sorted(set(first) | set(second), key=lambda k: tuple(str(v) for v in k)):
        name = " ".join(str(v) for v in key)
        if key not in first or key not in second:
            where = "second" if key not in first else "first"
            print(f"{'ONLY' if args.only_common else 'DIFF'} {name}: only in the {where} file")
            failed |= not args.only_common
            continue
        found = differences(first[key], second[key], "", args.structure_tol, args.energy_tol, set(args.ignore))
        print(f"{'DIFF' if found else 'SAME'} {name}" + "".join(f"\n    {d}" for d in found))
        failed |= bool(found)
    compared = len(set(first) & set(second))
    print(f"{compared} rows compared: {'differences found' if failed else 'identical within tolerances'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
