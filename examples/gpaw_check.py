"""Cross-check a CHGNet relaxation with a GPAW single point (plane-wave PBE).

Run: python examples/gpaw_check.py   (needs the dft extra: pip install 'ase-lcom[dft]')
"""

from ase.build import bulk

from ase_lcom import energy_per_atom, get_calculator, relax

for a in (5.4, 5.64, 5.9):
    nacl = bulk("NaCl", "rocksalt", a=a)
    e_chgnet = energy_per_atom(nacl, "chgnet")
    e_gpaw = energy_per_atom(nacl, get_calculator("gpaw", ecut=300, kpt_density=2.5))
    print(f"a = {a:.2f} A: CHGNet {e_chgnet:.4f} eV/atom, GPAW {e_gpaw:.4f} eV/atom")
print("CHGNet-relaxed lattice:", relax(bulk("NaCl", "rocksalt", a=5.64)).structure.lattice.abc)
