"""The ``ase-lcom`` command line: one module per command group, each parsing arguments and calling the library.

Every error is reported as one line on stderr with exit status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from ase_lcom import __version__
from ase_lcom.cli import benchmark, calculation, check, data, generators, listing, predict, predict_many, train
from ase_lcom.cli.common import PROG, Parser
from ase_lcom.errors import LCOMError

COMMAND_GROUPS = (calculation, check, data, train, generators, predict, predict_many, benchmark, listing)
"""Modules whose ``register(subparsers)`` adds their commands, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The ``ase-lcom`` parser with every command group's subcommands."""
    parser = Parser(prog=PROG, description="Crystal structure prediction for ASE and pymatgen.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ase-lcom`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.command_line = shlex.join([PROG, *argv])
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if not isinstance(exc, LCOMError):
            message = f"{type(exc).__name__}: {message} (rerun with --debug for the traceback)"
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
