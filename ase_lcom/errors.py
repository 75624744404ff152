"""Exceptions raised by ase-lcom.

Every error a user can cause derives from :class:`LCOMError`; its message is one line that names the
problem and, where there is one, the fix. The CLI prints that line and exits with status 2.
"""

from __future__ import annotations


class LCOMError(Exception):
    """Base class for errors caused by input, files or missing resources."""


class FormulaError(LCOMError, ValueError):
    """A chemical formula or a number of formula units cannot be used."""


class StructureError(LCOMError, ValueError):
    """A crystal structure is unreadable or physically impossible."""


class CalculatorError(LCOMError, RuntimeError):
    """A calculator is unknown, not installed, or lacks its weights."""


class ElementCoverageError(CalculatorError):
    """A calculator's model was not trained on an element of the structure it is asked about."""


class PluginError(LCOMError, RuntimeError):
    """A registered plugin (entry point) is unknown or fails to load."""


class MetricError(LCOMError, ValueError):
    """A metric is asked for with an unknown setting or on inputs it is not defined for (wrong shapes, empty
    sets, missing structure properties)."""


class UnsafeInputError(LCOMError, ValueError):
    """A file names code to run (a class to import and build, a pickled object): it is refused, never executed."""


class InvalidValueError(LCOMError, ValueError):
    """A count, tolerance, seed, step budget, memory need or output path is outside what can be honoured."""


class LowSymmetryWarning(UserWarning):
    """A prediction's best candidate has no symmetry beyond the identity (P1 at the predictor's tolerance)."""
