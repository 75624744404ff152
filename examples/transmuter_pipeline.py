"""A pymatgen transmutation pipeline: substitute Na by K in rocksalt NaCl, then let LCOM predict KCl's structure.

Run: python examples/transmuter_pipeline.py
"""

from pymatgen.alchemy.transmuters import StandardTransmuter
from pymatgen.core import Lattice, Structure
from pymatgen.transformations.standard_transformations import SubstitutionTransformation

from ase_lcom import LCOMTransformation

nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
transmuter = StandardTransmuter.from_structures(
    [nacl.get_primitive_structure()],
    [SubstitutionTransformation({"Na": "K"}), LCOMTransformation()],  # no arguments: the shipped model
)
for transformed in transmuter.transformed_structures:
    print(transformed.final_structure)
    print([h["@class"] for h in transformed.history])
