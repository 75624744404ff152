"""Keeping the CSP benchmark's answers out of training data generated with a calculator.

Structure matching (:func:`ase_lcom.data.generator.default_run`) drops the benchmark's reference polymorphs;
the energy ceilings here also drop polymorphs that match none of them but are degenerate with the ground state
(stacking variants, polytypes): they would be the answer under another name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ase_lcom.data.compositions import CSP26


def references_path(database: str | os.PathLike, calculator: str) -> Path:
    """Where the relaxed reference polymorphs of ``calculator`` are cached for a dataset: beside ``database``
    as ``benchmark-references-<calculator>.json``."""
    return Path(database).with_name(f"benchmark-references-{calculator}.json")


def benchmark_energy_ceilings(calculator: str, database: str | os.PathLike, formulas: Sequence[str] = CSP26,
                              progress: bool = True) -> dict[str, float]:
    """Per benchmark compound, the calculator's ground-state energy per atom (eV) plus the benchmark's
    degeneracy window (:data:`~ase_lcom.benchmarks.csp.DEGENERACY_MEV`).

    The reference polymorphs are relaxed once and cached at :func:`references_path`.
    """
    from ase_lcom.benchmarks.csp import DEGENERACY_MEV, Validator, compute_references

    refs = compute_references(formulas, Validator(calculator), references_path(database, calculator), progress)
    return {f: r["polymorphs"][r["ground_state"]]["energy_per_atom"] + DEGENERACY_MEV / 1000 for f, r in refs.items()}


def default_dataset_run(calculator: str, database: str | os.PathLike, progress: bool = True) -> dict[str, Any]:
    """Arguments of :func:`~ase_lcom.data.generator.generate` for the shipped default dataset (paper protocol):
    :func:`~ase_lcom.data.generator.default_run` with the benchmark energy ceilings of ``calculator``."""
    from ase_lcom.data.generator import default_run

    return {**default_run(), "exclude_energies": benchmark_energy_ceilings(calculator, database, progress=progress)}
