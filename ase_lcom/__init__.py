"""ase-lcom: crystal structure prediction from a chemical formula, for ASE and pymatgen users.

Public API (imported lazily, so ``import ase_lcom`` stays fast)::

    from ase_lcom import LCOMPredictor, LCOM, LCOMTransformation, parse_formula, get_calculator, relax

    LCOMPredictor().predict("ZnO")  # the shipped default model, offline
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "LCOMError": "ase_lcom.errors",
    "FormulaError": "ase_lcom.errors",
    "StructureError": "ase_lcom.errors",
    "CalculatorError": "ase_lcom.errors",
    "PluginError": "ase_lcom.errors",
    "parse_formula": "ase_lcom.structure",
    "cell_composition": "ase_lcom.structure",
    "formula_unit_options": "ase_lcom.structure",
    "to_atoms": "ase_lcom.structure",
    "to_structure": "ase_lcom.structure",
    "read_structure": "ase_lcom.structure",
    "write_structure": "ase_lcom.structure",
    "CrystalBatch": "ase_lcom.structure",
    "get_calculator": "ase_lcom.calculators",
    "relax": "ase_lcom.calculators",
    "energy_per_atom": "ase_lcom.calculators",
    "ReferenceEnergies": "ase_lcom.calculators",
    "StructurePredictor": "ase_lcom.predictors",
    "available_predictors": "ase_lcom.predictors",
    "load_predictor": "ase_lcom.predictors",
    "LCOMPredictor": "ase_lcom.lcom.predictor",
    "SLPredictor": "ase_lcom.lcom.predictor",
    "CDVAEPredictor": "ase_lcom.lcom.predictor",
    "LCOMModel": "ase_lcom.models.bundle",
    "LCOM": "ase_lcom.lcom.dynamics",
    "LCOMTransformation": "ase_lcom.transformations",
    "CDVAEReconstruction": "ase_lcom.transformations",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ase_lcom' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
