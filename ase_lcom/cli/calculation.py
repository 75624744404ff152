"""``ase-lcom relax`` and ``ase-lcom energy``: a calculator applied to structure files."""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any

from ase_lcom.cli.common import POSITIVE_FLOAT, STEPS, add_calculator_arguments, calculator_options, output_path


def register(sub: Any) -> None:
    """Add ``relax`` and ``energy`` to the top-level subcommands."""
    relax = sub.add_parser("relax", help="relax a structure file with a calculator")
    relax.add_argument("file", help="structure file (CIF, POSCAR, extxyz, ... anything ase.io reads)")
    add_calculator_arguments(relax)
    relax.add_argument("--fmax", type=POSITIVE_FLOAT, default=0.05, help="force threshold, eV/A (default 0.05)")
    relax.add_argument("--steps", type=STEPS, default=500, help="maximum optimizer steps (default 500)")
    relax.add_argument("--optimizer", default="FIRE", help="FIRE (default), BFGS or LBFGS")
    relax.add_argument("--fixed-cell", action="store_true", help="relax positions only")
    relax.add_argument("--trajectory", help="write the ASE trajectory here")
    relax.add_argument("-o", "--output", help="output file, format from its extension (default FILE_relaxed.cif)")
    relax.add_argument("--no-energy-check", dest="energy_check", action="store_false",
                       help="write the result even when its formation energy is above the plausible +2 eV/atom "
                       "(the check needs the calculator's elemental references: shipped for chgnet, computed once "
                       "and cached for the others, which is slow for gpaw)")
    relax.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    relax.set_defaults(func=run_relax)

    energy = sub.add_parser("energy", help="single-point energy per atom of each structure in a file")
    energy.add_argument("file")
    add_calculator_arguments(energy)
    energy.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    energy.set_defaults(func=run_energy)


def _references(args: argparse.Namespace) -> Any:
    from ase_lcom.calculators import ReferenceEnergies

    return ReferenceEnergies(args.calculator, **calculator_options(args.option))


def run_relax(args: argparse.Namespace) -> int:
    """Relax ``args.file`` and write the result (default ``FILE_relaxed.cif``)."""
    from ase_lcom.calculators import get_calculator, relax
    from ase_lcom.errors import StructureError
    from ase_lcom.plausibility import ImplausibleResultError, relaxed_formation_energy
    from ase_lcom.structure import read_structure, validate_structure, write_structure

    out = Path(output_path(args.output or Path(args.file).with_name(f"{Path(args.file).stem}_relaxed.cif"), "--output"))
    output_path(args.trajectory, "--trajectory")
    structure = read_structure(args.file)
    result = relax(
        structure,
        get_calculator(args.calculator, **calculator_options(args.option)),
        fmax=args.fmax,
        steps=args.steps,
        relax_cell=not args.fixed_cell,
        optimizer=args.optimizer,
        trajectory=args.trajectory,
        progress=not args.quiet,
    )
    try:
        validate_structure(result.structure)
    except StructureError as exc:
        raise StructureError(f"relaxing {args.file} ended in an impossible structure, not written: {exc}") from None
    e_form = None
    if args.energy_check:
        try:
            e_form = relaxed_formation_energy(result, _references(args))
        except ImplausibleResultError as exc:
            raise ImplausibleResultError(f"{exc}; nothing written (--no-energy-check writes it)") from None
    elif args.formation:
        e_form = _references(args).formation_energy_per_atom(result.structure, result.energy_per_atom)
    write_structure(result.structure, out)
    status = f"converged in {result.steps} steps" if result.converged else f"NOT converged after {result.steps} steps"
    line = f"{result.structure.composition.reduced_formula}: E = {result.energy_per_atom:.4f} eV/atom"
    if args.formation:
        line += f", E_f = {e_form:.4f} eV/atom"
    print(f"{line} ({len(result.structure)} atoms, {status}, max force {result.max_force:.3f} eV/A) -> {out}")
    return 0


def run_energy(args: argparse.Namespace) -> int:
    """Print the energy per atom (and formation energy with ``--formation``) of every structure in a file."""
    from tqdm.auto import tqdm

    from ase_lcom.calculators import energy_per_atom, get_calculator
    from ase_lcom.errors import StructureError
    from ase_lcom.structure import iter_structures

    frames = iter_structures(args.file)  # one frame in memory at a time
    first = next(frames, None)
    if first is None:
        raise StructureError(f"{args.file} holds no structure")
    second = next(frames, None)
    calculator = get_calculator(args.calculator, **calculator_options(args.option))
    references = _references(args) if args.formation else None
    several = second is not None
    structures = itertools.chain([first], [second] if several else [], frames)
    for i, structure in enumerate(tqdm(structures, desc="energy", disable=not several or args.quiet)):
        energy = energy_per_atom(structure, calculator)
        line = f"{structure.composition.reduced_formula}: E = {energy:.4f} eV/atom"
        if references is not None:
            line += f", E_f = {references.formation_energy_per_atom(structure, energy):.4f} eV/atom"
        prefix = f"[{i}] " if several else ""
        print(f"{prefix}{line} ({len(structure)} atoms)")
    return 0
