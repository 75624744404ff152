"""``ase-lcom check-calculator``: the acceptance check of a calculator (lattice constants, polymorph ordering)."""

from __future__ import annotations

import argparse
from typing import Any

from ase_lcom.cli.common import POSITIVE_FLOAT, calculator_options


def register(sub: Any) -> None:
    """Add ``check-calculator`` to the top-level subcommands."""
    check = sub.add_parser("check-calculator", help="accept or reject a calculator (e.g. M3GNet weights): E(V) "
                           "minima of NaCl, MgO and Si against experiment and polymorph orderings against CHGNet; "
                           "exit status 1 when it fails")
    check.add_argument("name", help="calculator name: m3gnet, chgnet, gpaw, emt")
    check.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                       help="calculator option, repeatable (e.g. --option model=runs/m3gnet)")
    check.add_argument("--reference", default="chgnet", help="calculator whose orderings are the reference "
                       "(default chgnet)")
    check.add_argument("--tolerance", type=POSITIVE_FLOAT, default=0.03,
                       help="largest relative lattice-constant error (default 0.03)")
    check.add_argument("--min-gap", type=POSITIVE_FLOAT, default=0.02,
                       help="reference energy gaps below this (eV/atom) are not judged (default 0.02)")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Print the check's report; 0 when it passes, 1 when it fails."""
    from ase_lcom.benchmarks.calculator_check import check_calculator

    options = calculator_options(args.option)
    label = args.name + "".join(f" {k}={v}" for k, v in options.items())
    result = check_calculator(args.name, options, reference=args.reference, tolerance=args.tolerance,
                              min_gap=args.min_gap, name=label)
    print(result.report())
    return 0 if result.passed else 1
