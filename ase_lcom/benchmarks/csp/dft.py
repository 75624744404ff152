"""A DFT cross-check of the CSP benchmark: does GPAW order the relaxed predictions as the MLIP does?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymatgen.core import Structure

from ase_lcom.benchmarks.csp.references import DEGENERACY_MEV


def dft_check(rows: Sequence[dict[str, Any]], refs: dict[str, dict[str, Any]], formulas: Sequence[str],
              options: dict[str, Any] | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """GPAW single points of each relaxed prediction and of the calculator's ground state: does DFT order
    them as the MLIP does?"""
    from tqdm.auto import tqdm

    from ase_lcom.calculators import energy_per_atom, get_calculator

    options = {"ecut": 300, "kpt_density": 3.0, **(options or {})}
    out = []
    for formula in tqdm(formulas, desc="GPAW cross-check", unit="compound", disable=not progress):
        reference = refs[formula]
        gs = Structure.from_dict(reference["polymorphs"][reference["ground_state"]]["structure"])
        e_gs = energy_per_atom(gs, get_calculator("gpaw", **options))
        for row in rows:
            if row["formula"] != formula or "relaxed" not in row:
                continue
            predicted = Structure.from_dict(row["relaxed"]["structure"])
            e_pred = energy_per_atom(predicted, get_calculator("gpaw", **options))
            mlip = row["relaxed"]["above_gs_mev"]
            dft = 1000 * (e_pred - e_gs)
            out.append({"formula": formula, "predictor": row["predictor"], "mlip_above_gs_mev": mlip,
                        "dft_above_gs_mev": dft,
                        "agree": bool((mlip > DEGENERACY_MEV) == (dft > DEGENERACY_MEV))})
    return out
