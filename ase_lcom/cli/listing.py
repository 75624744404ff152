"""``ase-lcom list``: installed calculators, predictors and generators, and the default model."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from importlib.metadata import EntryPoint
from typing import Any


def register(sub: Any) -> None:
    """Add ``list`` to the top-level subcommands."""
    listing = sub.add_parser("list", help="list installed calculators, predictors and generators, and the "
                             "default model")
    listing.set_defaults(func=run_list)


def _print_plugins(kind: str, plugins: Mapping[str, EntryPoint]) -> None:
    print(f"{kind}:" if plugins else f"{kind}: none installed")
    for name, ep in plugins.items():
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else ""
        print(f"  {name:<10} {ep.value}  {dist}")


def run_list(args: argparse.Namespace) -> int:
    """Print what is installed."""
    from ase_lcom.calculators import CALCULATORS
    from ase_lcom.generators import available_generators
    from ase_lcom.models.bundle import LCOMModel, default_model_path
    from ase_lcom.models.checkpoints import CheckpointError
    from ase_lcom.predictors import available_predictors

    print("calculators:")
    for info in CALCULATORS.values():
        provider = f"{info.package} {info.version or '(not installed)'}"
        print(f"  {info.name:<10} {provider:<22} {info.description}")
    _print_plugins("predictors", available_predictors())
    _print_plugins("generators", available_generators())
    try:
        model = LCOMModel.load()
    except CheckpointError as exc:
        print(f"default model: {default_model_path()} unavailable ({exc})")
    else:
        print(f"default model: {model.describe()}")
    return 0
