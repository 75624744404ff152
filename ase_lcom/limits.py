"""Bounds on what a caller may ask for, checked where the request enters (CLI flags and public functions).

* :func:`positive_int`, :func:`non_negative_int`, :func:`positive_float`, :func:`non_negative_float`: counts and
  tolerances (booleans, NaN and infinities refused);
* :func:`random_seed`: seeds in ``[0, 2**32)``, what numpy and torch accept everywhere;
* :func:`step_budget`: optimizer and latent step counts, at most :func:`max_steps` (``$ASE_LCOM_MAX_STEPS``
  raises the ceiling of 100000);
* :func:`writable_output`: an output file whose folder exists and is writable, checked before the work starts;
* :func:`check_memory_need`, :func:`check_memory`: a calculation (or an atom count at a cost per atom) that fits
  in the available memory.

Every check raises :class:`~ase_lcom.errors.InvalidValueError` with a one-line message naming the setting.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ase_lcom.errors import InvalidValueError

MAX_SEED = 2**32
"""Seeds are integers in ``[0, MAX_SEED)``."""

DEFAULT_MAX_STEPS = 100_000
"""Ceiling on a step budget unless ``$ASE_LCOM_MAX_STEPS`` raises it."""

MAX_STEPS_ENV = "ASE_LCOM_MAX_STEPS"
MEMORY_ENV = "ASE_LCOM_MEMORY_GB"


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def positive_int(value: object, name: str, maximum: int | None = None) -> int:
    """``value`` as an ``int`` of at least 1 (and at most ``maximum``)."""
    number = _integer(value, name)
    if number < 1:
        raise InvalidValueError(f"{name} must be at least 1, got {number}")
    if maximum is not None and number > maximum:
        raise InvalidValueError(f"{name} must be at most {maximum}, got {number}")
    return number


def non_negative_int(value: object, name: str) -> int:
    """``value`` as an ``int`` of at least 0."""
    number = _integer(value, name)
    if number < 0:
        raise InvalidValueError(f"{name} must be 0 or more, got {number}")
    return number


def _real(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidValueError(f"{name} must be a finite number, got {number}")
    return number


def positive_float(value: object, name: str) -> float:
    """``value`` as a finite ``float`` greater than 0."""
    number = _real(value, name)
    if number <= 0:
        raise InvalidValueError(f"{name} must be greater than 0, got {number:g}")
    return number


def non_negative_float(value: object, name: str) -> float:
    """``value`` as a finite ``float`` of at least 0."""
    number = _real(value, name)
    if number < 0:
        raise InvalidValueError(f"{name} must be 0 or more, got {number:g}")
    return number


def random_seed(value: object, name: str = "seed") -> int:
    """``value`` as a seed in ``[0, 2**32)``."""
    number = _integer(value, name)
    if not 0 <= number < MAX_SEED:
        raise InvalidValueError(f"{name} must be in [0, 2**32), got {number}")
    return number


def max_steps() -> int:
    """The ceiling on step budgets: ``$ASE_LCOM_MAX_STEPS`` or 100000."""
    text = os.environ.get(MAX_STEPS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_STEPS
    try:
        return positive_int(int(text), f"${MAX_STEPS_ENV}")
    except ValueError:
        raise InvalidValueError(f"${MAX_STEPS_ENV} must be a positive integer, got {text!r}") from None


def step_budget(value: object, name: str = "steps", minimum: int = 1) -> int:
    """``value`` as a step count in ``[minimum, max_steps()]`` (``minimum`` 0 or 1)."""
    number = positive_int(value, name) if minimum >= 1 else non_negative_int(value, name)
    ceiling = max_steps()
    if number > ceiling:
        raise InvalidValueError(f"{name} = {number} is over the ceiling of {ceiling} steps (set ${MAX_STEPS_ENV} "
                                "to raise it)")
    return number


def writable_output(path: str | os.PathLike, name: str = "output") -> Path:
    """``path`` as a file that can be written: its folder exists and is writable, and it is not a folder."""
    target = Path(path)
    if not str(path).strip():
        raise InvalidValueError(f"{name} path is empty")
    if target.is_dir():
        raise InvalidValueError(f"{name} {target} is a folder, not a file")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidValueError(f"{name} folder {folder} does not exist (create it first)")
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise InvalidValueError(f"{name} {target} is not writable")
    return target


def available_memory() -> int | None:
    """Bytes of memory available to this process: ``$ASE_LCOM_MEMORY_GB``, else what the system reports."""
    text = os.environ.get(MEMORY_ENV, "").strip()
    if text:
        try:
            return int(positive_float(float(text), f"${MEMORY_ENV}") * 1024**3)
        except ValueError:
            raise InvalidValueError(f"${MEMORY_ENV} must be a number of gigabytes, got {text!r}") from None
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory_need(needed: float, what: str, hint: str = "use a smaller cell") -> None:
    """Refuse a calculation that needs ``needed`` bytes when less memory is available.

    Raises
    ------
    InvalidValueError
        Naming the estimate, the memory available, ``hint`` and how to raise the limit (``$ASE_LCOM_MEMORY_GB``).
    """
    available = available_memory()
    if available is not None and needed > available:
        raise InvalidValueError(f"{what} needs about {needed / 1024**3:.1f} GB, more than the "
                                f"{available / 1024**3:.1f} GB available ({hint}; set ${MEMORY_ENV} to raise it)")


def check_memory(n_atoms: int, bytes_per_atom: float, what: str) -> None:
    """Refuse ``n_atoms`` atoms when ``bytes_per_atom`` each would exceed the available memory (see
    :func:`check_memory_need`; the message names the largest number of atoms that fits)."""
    available = available_memory()
    limit = "" if available is None else f"limit {int(available // bytes_per_atom)} atoms; "
    check_memory_need(n_atoms * bytes_per_atom, f"{what} on {n_atoms} atoms", f"{limit}use a smaller cell")
