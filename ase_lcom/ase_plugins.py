"""Calculators announced to ASE through its ``ase.plugins`` entry-point group (``ase info --plugins``).

ASE reads ``__ase_plugins__`` from this module; classes are imported only when a plugin is used, so listing
plugins stays cheap. Build configured instances with :func:`ase_lcom.calculators.get_calculator`.
"""

from __future__ import annotations

try:  # ASE >= 3.26 ships the (experimental) plugin classes under ase._4
    from ase._4.plugins.plugin import CalculatorPlugin
except ImportError:  # pragma: no cover - older ASE has no plugin system to register with
    __ase_plugins__: list = []
else:
    __ase_plugins__ = [
        CalculatorPlugin(
            "chgnet",
            implementation="chgnet.model.dynamics.CHGNetCalculator",
            citation="B. Deng et al., Nat. Mach. Intell. 5, 1031 (2023)",
        ),
        CalculatorPlugin(
            "m3gnet",
            implementation="matgl.ext.ase.PESCalculator",
            citation="C. Chen and S. P. Ong, Nat. Comput. Sci. 2, 718 (2022)",
        ),
        CalculatorPlugin(
            "gpaw",
            implementation="gpaw.calculator.GPAW",
            citation="J. J. Mortensen et al., J. Chem. Phys. 160, 092503 (2024)",
        ),
    ]
