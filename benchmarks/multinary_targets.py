"""Write ``benchmarks/multinary_targets.json``: the held-out ternary, quaternary and intermetallic benchmark.

Each target names its structure type (a prototype of :func:`ase_lcom.data.prototypes.decorate`), the
assignment of its elements to the type's site labels, its space group, its literature lattice constants
(conventional cell, room temperature, rounded) and their source. The reference structure is the prototype
decorated accordingly with those lattice constants; its internal coordinates are the prototype's.

Run from the repository root: ``python benchmarks/multinary_targets.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import spglib
from pymatgen.core import Composition, Lattice, Structure

from ase_lcom.data.compositions import MULTINARY_TARGETS, composition_class
from ase_lcom.data.prototypes import _PLACEHOLDER as OLD_PLACEHOLDER
from ase_lcom.data.prototypes import PROTOTYPES, _template
from ase_lcom.data.prototypes_multinary import _PLACEHOLDER, STRUCTURE_TYPES, template
from ase_lcom.structure import to_atoms

PEARSON = "Villars & Calvert, Pearson's Handbook of Crystallographic Data (ASM, 1991)"

# formula, prototype, species per site label, (a, b, c) of the conventional cell in Angstrom, source
TARGETS = [
    ("SrTiO3", "perovskite", "Sr Ti O", (3.905,), "Schmidbauer et al., Acta Cryst. B 68, 8 (2012)"),
    ("KMgF3", "perovskite", "K Mg F", (3.989,), PEARSON),
    ("GdFeO3", "perovskite_pnma", "Gd Fe O", (5.611, 7.669, 5.349), "Geller & Wood, Acta Cryst. 9, 563 (1956)"),
    ("YAlO3", "perovskite_pnma", "Y Al O", (5.330, 7.375, 5.180), "Diehl & Brandt, Mater. Res. Bull. 10, 85 (1975)"),
    ("LaAlO3", "perovskite_r3c", "La Al O", (5.365, 5.365, 13.11), PEARSON),
    ("Cs2AgBiBr6", "double_perovskite", "Cs Ag Bi Br", (11.27,), "Slavney et al., JACS 138, 2138 (2016)"),
    ("Ba2MgWO6", "double_perovskite", "Ba Mg W O", (8.10,), PEARSON),
    ("Sr2TiO4", "k2nif4", "Sr Ti O", (3.884, 3.884, 12.60), "Ruddlesden & Popper, Acta Cryst. 10, 538 (1957)"),
    ("K2NiF4", "k2nif4", "K Ni F", (4.006, 4.006, 13.08), PEARSON),
    ("MgAl2O4", "spinel", "Mg Al O", (8.083,), "Hill, Craig & Gibbs, Phys. Chem. Miner. 4, 317 (1979)"),
    ("ZnAl2O4", "spinel", "Zn Al O", (8.086,), "Hill, Craig & Gibbs, Phys. Chem. Miner. 4, 317 (1979)"),
    ("ZnCr2O4", "spinel", "Zn Cr O", (8.327,), PEARSON),
    ("CaWO4", "scheelite", "Ca W O", (5.243, 5.243, 11.376), "Zalkin & Templeton, J. Chem. Phys. 40, 501 (1964)"),
    ("Gd2Ti2O7", "pyrochlore", "Gd Ti O", (10.185,), "Subramanian, Aravamudan & Subba Rao, Prog. Solid State "
     "Chem. 15, 55 (1983)"),
    ("Mg2SiO4", "olivine", "Mg Si O", (10.195, 5.981, 4.756), "Fujino et al., Acta Cryst. B 37, 513 (1981)"),
    ("CuAlO2", "delafossite", "Cu Al O", (2.858, 2.858, 16.958), "Kawazoe et al., Nature 389, 939 (1997)"),
    ("CuFeO2", "delafossite", "Cu Fe O", (3.035, 3.035, 17.166), PEARSON),
    ("CuInSe2", "chalcopyrite", "Cu In Se", (5.782, 5.782, 11.619), PEARSON),
    ("CuGaS2", "chalcopyrite", "Cu Ga S", (5.351, 5.351, 10.47), PEARSON),
    ("Cu2ZnSnS4", "kesterite", "Cu Zn Sn S", (5.427, 5.427, 10.871), "Schorr et al., Eur. J. Mineral. 19, 65 "
     "(2007)"),
    ("BaFe2As2", "thcr2si2", "Ba Fe As", (3.963, 3.963, 13.017), "Rotter et al., Phys. Rev. B 78, 020503 (2008)"),
    ("CeCu2Si2", "thcr2si2", "Ce Cu Si", (4.10, 4.10, 9.93), PEARSON),
    ("CaAl2Si2", "caal2si2", "Ca Al Si", (4.130, 4.130, 7.145), PEARSON),
    ("LaFeAsO", "zrcusias", "La Fe As O", (4.035, 4.035, 8.741), "Kamihara et al., JACS 130, 3296 (2008)"),
    ("Cu2MnAl", "heusler", "Cu Mn Al", (5.95,), PEARSON),
    ("Co2MnSi", "heusler", "Co Mn Si", (5.654,), "Webster, J. Phys. Chem. Solids 32, 1221 (1971)"),
    ("Ni2MnGa", "heusler", "Ni Mn Ga", (5.825,), "Webster et al., Philos. Mag. B 49, 295 (1984)"),
    ("TiNiSn", "half_heusler", "Ti Sn Ni", (5.93,), PEARSON),
    ("ZrNiSn", "half_heusler", "Zr Sn Ni", (6.11,), PEARSON),
    ("NbFeSb", "half_heusler", "Nb Sb Fe", (5.95,), PEARSON),
    ("Mn2CoAl", "inverse_heusler", "Mn Co Al", (5.798,), "Ouardi et al., Phys. Rev. Lett. 110, 100401 (2013)"),
    ("CoFeMnSi", "quaternary_heusler", "Si Mn Co Fe", (5.658,), "Bainsla et al., Phys. Rev. B 91, 104408 (2015)"),
    ("MgZn2", "c14", "Mg Zn", (5.221, 5.221, 8.567), PEARSON),
    ("MgCu2", "c15", "Mg Cu", (7.048,), PEARSON),
    ("MgNi2", "c36", "Mg Ni", (4.824, 4.824, 15.826), PEARSON),
    ("Ni3Al", "l1_2", "Ni Al", (3.572,), PEARSON),
    ("Cu3Au", "l1_2", "Cu Au", (3.749,), PEARSON),
    ("Nb3Sn", "a15", "Nb Sn", (5.29,), PEARSON),
    ("V3Si", "a15", "V Si", (4.72,), PEARSON),
    ("FePt", "l1_0", "Fe Pt", (2.722, 2.722, 3.713), PEARSON),
    ("Fe3Al", "d0_3", "Fe Al", (5.79,), PEARSON),
    ("Ni3Sn", "d0_19", "Ni Sn", (5.29, 5.29, 4.24), PEARSON),
    ("TiAl3", "d0_22", "Al Ti", (3.851, 3.851, 8.611), PEARSON),
    ("MoSi2", "c11b", "Mo Si", (3.205, 3.205, 7.845), PEARSON),
    ("FeSi", "b20", "Fe Si", (4.489,), PEARSON),
    ("LaNi5", "cacu5", "La Ni", (5.017, 5.017, 3.987), PEARSON),
    ("MgB2", "alb2", "Mg B", (3.086, 3.086, 3.524), "Nagamatsu et al., Nature 410, 63 (2001)"),
]


def reference(prototype: str, species: list[str], abc: tuple[float, ...]) -> tuple[Structure, str]:
    """The decorated prototype with the given conventional lattice constants (primitive cell) and the
    Hermann-Mauguin symbol of its space group."""
    if prototype in STRUCTURE_TYPES:
        structure_type = STRUCTURE_TYPES[prototype]
        cell = template(structure_type).copy()
        labels = structure_type.labels
        cell.replace_species({_PLACEHOLDER[label]: el for label, el in zip(labels, species, strict=True)})
        symbol = structure_type.spacegroup
    else:
        proto = PROTOTYPES[prototype]
        cell = _template(proto).copy()
        cell.replace_species({OLD_PLACEHOLDER[label]: el for label, el in zip("ABX", species, strict=False)})
        symbol = proto.spacegroup
    a, b, c = (abc * 3)[:3] if len(abc) == 1 else abc
    alpha, beta, gamma = cell.lattice.angles
    cell = Structure(Lattice.from_parameters(a, b, c, alpha, beta, gamma), cell.species, cell.frac_coords)
    return cell.get_primitive_structure(), symbol


def main() -> None:
    formulas = [t[0] for t in TARGETS]
    if formulas != list(MULTINARY_TARGETS):
        raise SystemExit("TARGETS and ase_lcom.data.compositions.MULTINARY_TARGETS disagree")
    rows = []
    for formula, prototype, species, abc, source in TARGETS:
        structure, symbol = reference(prototype, species.split(), abc)
        if structure.composition.reduced_formula != Composition(formula).reduced_formula:
            raise SystemExit(f"{formula}: the decorated {prototype} is {structure.composition.reduced_formula}")
        atoms = to_atoms(structure)
        number = spglib.get_symmetry_dataset((atoms.cell, atoms.get_scaled_positions(), atoms.numbers),
                                             symprec=0.01).number
        rows.append({"formula": formula, "class": composition_class(formula), "structure_type": prototype,
                     "spacegroup": symbol.split(":")[0].replace(" ", ""), "spacegroup_number": int(number),
                     "site_species": dict(zip(_labels(prototype), species.split(), strict=False)),
                     "lattice_abc": list(abc), "source": source, "natoms": len(structure),
                     "structure": structure.as_dict()})
    path = Path(__file__).with_suffix(".json")
    path.write_text(json.dumps({"description": __doc__.split("\n\n")[0], "targets": rows}, indent=1) + "\n")
    print(f"{path}: {len(rows)} targets")


def _labels(prototype: str) -> tuple[str, ...]:
    return STRUCTURE_TYPES[prototype].labels if prototype in STRUCTURE_TYPES else tuple("ABX")


if __name__ == "__main__":
    main()
