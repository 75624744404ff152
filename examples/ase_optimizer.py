"""LCOM as an ASE optimizer: latent steps move a crystal, then an ordinary CHGNet relaxation finishes it.

Run: python examples/ase_optimizer.py
"""

from ase.build import bulk
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS

from ase_lcom import LCOM, get_calculator

atoms = bulk("MgO", "zincblende", a=4.6)         # start from the wrong polymorph
atoms.calc = get_calculator("chgnet")
print("start", atoms.cell.cellpar().round(2), atoms.get_potential_energy() / len(atoms))

LCOM(atoms, trajectory="lcom.traj").run(steps=20)  # writes each decoded crystal into atoms and lcom.traj
print("after LCOM", atoms.cell.cellpar().round(2), atoms.info["lcom_energy_per_atom"])

BFGS(FrechetCellFilter(atoms), trajectory="relax.traj").run(fmax=0.05, steps=200)
print("relaxed", atoms.cell.cellpar().round(2), atoms.get_potential_energy() / len(atoms))
