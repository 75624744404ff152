"""Predict a crystal structure with the shipped LCOM model, then relax the candidates with CHGNet.

Run: python examples/predict_and_relax.py [FORMULA]
"""

import sys

from ase_lcom import LCOMPredictor

formula = sys.argv[1] if len(sys.argv) > 1 else "ZnO"
predictor = LCOMPredictor()                      # the default model inside the package, offline
best = predictor.predict(formula)                # a pymatgen Structure, symmetrised
print(best)

# ranked candidates with surrogate energies; relax=True validates each with CHGNet and re-ranks
for candidate in predictor.predict_candidates(formula, n_candidates=4, relax=True):
    print(f"{candidate.info['spacegroup']:<10} surrogate {candidate.energy_per_atom:7.3f}  "
          f"CHGNet after relaxation {candidate.validated_energy_per_atom:7.3f} eV/atom")
