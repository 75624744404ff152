"""Relax a crystal with CHGNet and report its formation energy.

Run: python examples/relax_and_formation_energy.py [structure file]
"""

import sys
from pathlib import Path

from ase_lcom import ReferenceEnergies, read_structure, relax

path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("data") / "ZnO_distorted.cif")
structure = read_structure(path)
result = relax(structure, "chgnet", fmax=0.02, progress=True)
references = ReferenceEnergies("chgnet")  # elemental references: computed once, then read from the cache
e_form = references.formation_energy_per_atom(result.structure, result.energy_per_atom)
print(f"{result.structure.composition.reduced_formula}: E = {result.energy_per_atom:.4f} eV/atom, "
      f"E_f = {e_form:.4f} eV/atom, {result.steps} steps, converged: {result.converged}")
print(result.structure)
