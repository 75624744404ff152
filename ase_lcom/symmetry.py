"""Space-group symmetrisation of predicted crystals (spglib through pymatgen).

:func:`symmetrize` turns a slightly distorted prediction into the primitive standard cell of the space group
spglib finds at a tolerance, or keeps it as it is, labelled P1, when there is none beyond the identity.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import warnings
from collections.abc import Iterator

import numpy as np
from pymatgen.core import Structure

from ase_lcom.errors import StructureError

SPGLIB_WARNING_ENV = "SPGLIB_WARNING"
"""spglib's C library prints a line on stderr for every cell it gives up on unless this is ``"OFF"``."""


@contextlib.contextmanager
def quiet_spglib() -> Iterator[None]:
    """Inside the block: spglib's C warnings off and its deprecation notice about its own error handling (which
    pymatgen triggers) ignored; the caller's settings are back afterwards.

    A user who set ``SPGLIB_WARNING`` themselves keeps their choice.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Set OLD_ERROR_HANDLING to false", category=DeprecationWarning)
        if os.environ.get(SPGLIB_WARNING_ENV) is not None:
            yield
            return
        os.environ[SPGLIB_WARNING_ENV] = "OFF"
        try:
            yield
        finally:
            os.environ.pop(SPGLIB_WARNING_ENV, None)


def symmetrize(structure: Structure, symprec: float = 0.1) -> tuple[Structure, str, int]:
    """The primitive standard cell of ``structure`` at tolerance ``symprec`` with its space group.

    Parameters
    ----------
    structure
        The crystal (not modified).
    symprec
        spglib's distance tolerance, Angstrom (positive).

    Returns
    -------
    tuple
        ``(structure, symbol, number)``: the symmetrised cell, its Hermann-Mauguin symbol and number; the input
        unchanged with ``("P1", 1)`` when spglib finds no symmetry beyond the identity or gives up on the cell.

    Raises
    ------
    StructureError
        For a non-positive or non-finite ``symprec`` and for a structure with non-finite lattice vectors or
        coordinates (spglib would crash on them).
    """
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    if isinstance(symprec, bool) or not isinstance(symprec, numbers.Real) or not math.isfinite(symprec) \
            or symprec <= 0:
        raise StructureError(f"symprec must be a positive distance in Angstrom, got {symprec!r}")
    if not (np.all(np.isfinite(structure.lattice.matrix)) and np.all(np.isfinite(structure.frac_coords))):
        raise StructureError(f"cannot symmetrise {structure.composition.reduced_formula}: its lattice or "
                             "coordinates are not finite")
    with quiet_spglib():
        try:
            analyzer = SpacegroupAnalyzer(structure, symprec=symprec)
            number = analyzer.get_space_group_number()
            if number > 1:
                return analyzer.get_primitive_standard_structure(), analyzer.get_space_group_symbol(), number
        except Exception:  # spglib gives up on some distorted cells; the raw structure is still a prediction
            pass
    return structure, "P1", 1
