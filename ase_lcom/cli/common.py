"""Argument helpers shared by the ``ase-lcom`` command groups: list parsing, calculator and predictor options."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from ase_lcom import limits
from ase_lcom.errors import InvalidValueError, LCOMError

PROG = "ase-lcom"
EXCLUDE_HELP = "comma-separated formulas to leave out of training, or csp26 (the held-out protocol)"


class UsageError(LCOMError, ValueError):
    """A command-line flag is malformed or does not apply to what the command was asked to do."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (``PROG CMD: error: ...``), exit status 2."""

    def error(self, message: str) -> Any:  # argparse prints the usage block and the message otherwise
        self.exit(2, f"{self.prog}: error: {message.splitlines()[0] if message else 'bad arguments'} "
                     f"(see {self.prog} --help)\n")


def _checked_type(convert: Callable[[str], Any], check: Callable[..., Any], what: str) -> Callable[[str], Any]:
    """An argparse ``type``: ``convert`` the text, then ``check`` it (an :mod:`ase_lcom.limits` function)."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        try:
            return check(value, "value")
        except InvalidValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = what
    return parse


POSITIVE_INT = _checked_type(int, limits.positive_int, "a positive integer")
NON_NEGATIVE_INT = _checked_type(int, limits.non_negative_int, "an integer of 0 or more")
POSITIVE_FLOAT = _checked_type(float, limits.positive_float, "a positive number")
NON_NEGATIVE_FLOAT = _checked_type(float, limits.non_negative_float, "a number of 0 or more")
SEED = _checked_type(int, limits.random_seed, "a seed in [0, 2**32)")
STEPS = _checked_type(int, limits.step_budget, "a positive number of steps")
LATENT_STEPS = _checked_type(int, lambda value, name: limits.step_budget(value, name, minimum=0),
                             "a number of steps, 0 or more")
MAX_CANDIDATES = 10_000
"""Most candidates one prediction may decode (``-k``)."""
CANDIDATES = _checked_type(int, lambda value, name: limits.positive_int(value, name, MAX_CANDIDATES),
                           "a positive number of candidates")


def output_path(path: str | None, name: str) -> str | None:
    """``path`` checked to be writable before the work starts (``None`` passes)."""
    if path is None:
        return None
    try:
        return str(limits.writable_output(path, name))
    except InvalidValueError as exc:
        raise UsageError(str(exc)) from None


def formula_list(text: str | None, option: str, keywords: Sequence[str] = ()) -> list[str]:
    """Comma-separated formulas given to ``option``, each parsed (``keywords`` such as ``csp26`` pass as they are).

    Raises
    ------
    UsageError
        Naming the option and the entry that is not a formula.
    """
    from ase_lcom.errors import FormulaError
    from ase_lcom.structure import parse_formula

    items = comma_list(text)
    for item in items:
        if item.lower() in keywords:
            continue
        try:
            parse_formula(item, max_atoms=None)
        except FormulaError as exc:
            raise UsageError(f"{option}: {exc}") from None
    return items


def comma_list(text: str | None) -> list[str]:
    """``"a, b,,c"`` as ``["a", "b", "c"]`` (``None`` or blank: an empty list)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def int_list(text: str, option: str) -> list[int]:
    """``"0,1,2"`` given to ``option`` as integers, or a one-line error naming the option."""
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(f"{option} takes comma-separated integers, e.g. 0,1,2 (got {text!r})") from None


def seed_list(text: str, option: str) -> list[int]:
    """``"0,1,2"`` given to ``option`` as seeds, each in ``[0, 2**32)``."""
    try:
        return [limits.random_seed(seed, option) for seed in int_list(text, option)]
    except InvalidValueError as exc:
        raise UsageError(str(exc)) from None


def float_list(text: str, option: str) -> tuple[float, ...]:
    """``"0.8,0.1,0.1"`` given to ``option`` as numbers, or a one-line error naming the option."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"{option} takes comma-separated numbers (got {text!r})") from None


def calculator_options(pairs: Sequence[str]) -> dict[str, Any]:
    """Turn ``["ecut=300", "xc=PBE"]`` into ``{"ecut": 300, "xc": "PBE"}`` (values parsed as JSON if they can be)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"calculator option {pair!r} is not of the form KEY=VALUE")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def add_calculator_arguments(parser: argparse.ArgumentParser) -> None:
    """``--calculator``, repeatable ``--option KEY=VALUE`` and ``--formation``."""
    parser.add_argument("--calculator", "-c", default="chgnet", help="chgnet (default), m3gnet, gpaw or emt")
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE",
        help="calculator option, repeatable (e.g. --option ecut=300 --option kpt_density=3)",
    )
    parser.add_argument(
        "--formation", action="store_true",
        help="also print the formation energy (elemental references computed once per calculator, cached)",
    )


def add_executor_arguments(parser: argparse.ArgumentParser, workers_default: int = 1) -> None:
    """``--workers N`` (local processes) and ``--dask [ADDRESS]`` (a Dask cluster)."""
    parser.add_argument("--workers", type=POSITIVE_INT, help=f"worker processes, one thread each (default "
                        f"{workers_default}; with --dask and no ADDRESS: the local cluster's, default all cores)")
    parser.add_argument("--dask", nargs="?", const="local", metavar="ADDRESS",
                        help="run on Dask: a LocalCluster sized to the machine (no ADDRESS) or the scheduler at "
                        "ADDRESS, e.g. tcp://10.0.0.1:8786 (dask-jobqueue clusters too)")
    parser.set_defaults(workers_default=workers_default)


def executor_from_flags(args: argparse.Namespace) -> Any:
    """The executor chosen by :func:`add_executor_arguments`' flags."""
    from ase_lcom.execution import executor_for

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    if args.dask is not None:
        return executor_for(args.workers or 0, dask=args.dask)
    return executor_for(args.workers or args.workers_default)


def use_agg_backend() -> None:
    """Draw figures into files, without a display (called by commands before they plot)."""
    import matplotlib

    matplotlib.use("Agg")


def flag(option: str) -> str:
    """The command-line flag of an option name: ``rank_by`` -> ``--rank-by``."""
    return "--" + option.replace("_", "-")


def options_from_flags(names: Sequence[str], given: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per predictor name, the options among ``given`` that its options dataclass declares.

    ``given`` maps option names to flag values, ``None`` for a flag the user did not give.

    Raises
    ------
    UsageError
        When a given flag is an option of none of the predictors.
    PluginError
        When a predictor is not installed.
    """
    from ase_lcom.predictors import predictor_options

    declared = {name: [f.name for f in fields(predictor_options(name))] for name in names}
    chosen = {name: {k: v for k, v in given.items() if v is not None and k in declared[name]} for name in names}
    for option, value in given.items():
        if value is not None and not any(option in taken for taken in chosen.values()):
            which = " or ".join(repr(name) for name in names)
            takes = f" (it takes: {', '.join(declared[names[0]]) or 'no options'})" if len(names) == 1 else ""
            raise UsageError(f"{flag(option)} is not an option of predictor {which}{takes}")
    return chosen
