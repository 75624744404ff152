"""Calculators that validate predictions: one factory, a relaxation helper and formation energies.

``get_calculator(name, **options)`` returns an ASE calculator:

* ``chgnet`` (default): the pretrained CHGNet whose weights ship in the ``chgnet`` wheel (offline);
* ``m3gnet``: the M3GNet potential shipped in ``ase_lcom/pretrained/m3gnet`` (its model card says on what it was
  trained and which elements it covers), or a matgl potential from a local model directory or cache;
* ``gpaw``: plane-wave PBE DFT with PAW setups from ``gpaw-data``;
* ``emt``: ASE's effective-medium theory, for fast tests (Al Cu Ag Au Ni Pd Pt H C N O).

:func:`relax` relaxes positions (and the cell, through a ``FrechetCellFilter``) and
:class:`ReferenceEnergies` turns total energies into formation energies with elemental references computed
once per calculator with that same calculator and cached on disk.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import BaseCalculator
from ase.calculators.singlepoint import SinglePointCalculator
from pymatgen.core import Composition, Element, Structure
from threadpoolctl import threadpool_limits

from ase_lcom import limits
from ase_lcom.errors import CalculatorError, ElementCoverageError, InvalidValueError, StructureError
from ase_lcom.memory import check_calculator_memory
from ase_lcom.structure import StructureLike, to_atoms, to_structure

DEFAULT_CALCULATOR = "chgnet"
SHIPPED_M3GNET = Path(__file__).resolve().parent / "pretrained" / "m3gnet"
"""The M3GNet potential that ships in the package (``get_calculator("m3gnet")``)."""
M3GNET_MODEL_ENV = "ASE_LCOM_M3GNET_MODEL"
CACHE_ENV = "ASE_LCOM_CACHE"
_MATGL_FILES = ("model.json", "model.pt", "state.pt")
M3GNET_COVERAGE_FILE = "coverage.json"
"""Beside matgl's files: ``{"elements": [...]}``, the elements the last training stage saw (a fine-tune on another
calculator's labels leaves the other elements of the network at the old energy zero); others are refused."""


# ----------------------------------------------------------------------------------------------- factory
def _chgnet(device: str = "cpu", model_path: str | None = None) -> BaseCalculator:
    model = _load_chgnet(model_path)
    with contextlib.redirect_stdout(io.StringIO()):  # CHGNet prints its device on construction
        return _quiet_chgnet_calculator()(model=model, use_device=device)


@functools.lru_cache(maxsize=1)
def _quiet_chgnet_calculator() -> type[BaseCalculator]:
    """CHGNet's ASE calculator, quiet about the grad-tracking tensor its forward pass turns into a scalar and
    about constraints it does not pass on to pymatgen (symmetry constraints act in ASE): harmless, and one
    warning per call."""
    from chgnet.model.dynamics import CHGNetCalculator

    class QuietCHGNetCalculator(CHGNetCalculator):
        def calculate(self, *args: Any, **kwargs: Any) -> None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
                warnings.filterwarnings("ignore", message="Only FixAtoms and FixCartesian is supported")
                super().calculate(*args, **kwargs)

    return QuietCHGNetCalculator


@functools.lru_cache(maxsize=4)
def _load_chgnet(model_path: str | None) -> Any:
    from chgnet.model import CHGNet

    if model_path is not None and not Path(model_path).is_file():
        raise CalculatorError(f"CHGNet model file not found: {model_path}")
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # CHGNet prints its parameter count
            if model_path is None:
                return CHGNet.load(verbose=False, use_device="cpu")  # the weights shipped in the chgnet wheel
            return CHGNet.from_dict(_plain_torch_file(model_path, "CHGNet model")["model"])
    except CalculatorError:
        raise
    except Exception as exc:
        raise CalculatorError(f"cannot load CHGNet model {model_path}: {_reason(exc)}") from exc


def _plain_torch_file(path: str | os.PathLike, what: str) -> Any:
    """``torch.load(path, weights_only=True)``: tensors and plain values only, never code a pickle names.

    Raises
    ------
    CalculatorError
        When the file holds other Python objects (it is refused, not executed) or is unreadable.
    """
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CalculatorError(f"refused {what} {path}: it holds Python objects beyond tensors and plain values "
                              "(loaded with weights_only=True; untrusted pickles are never executed)") from exc
    except Exception as exc:
        raise CalculatorError(f"cannot read {what} {path}: {_reason(exc)}") from exc


MATGL_PACKAGE = "matgl"
"""Classes a matgl model directory may name (``model.json``, ``model.pt``) must be defined in this package."""


def check_matgl_model(directory: str | os.PathLike) -> None:
    """Refuse a matgl model directory whose files name anything but ``matgl`` classes, before matgl builds them.

    matgl imports the module and class that ``model.json`` (and every ``@module``/``@class`` entry of
    ``model.pt``) names and calls it; a directory naming e.g. ``subprocess.Popen`` would run code.

    Raises
    ------
    CalculatorError
        For a class outside ``matgl``, a top-level class that is not a torch module, or unreadable files.
    """
    import matgl  # noqa: F401  (registers the numpy types model.pt may hold as safe for weights_only)
    import torch

    directory = Path(directory)
    try:
        header = json.loads((directory / "model.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalculatorError(f"cannot read {directory / 'model.json'}: {_reason(exc)}") from exc
    if not isinstance(header, dict):
        raise CalculatorError(f"{directory / 'model.json'} is not a matgl model description (a JSON object)")
    top = _matgl_class(header.get("@module"), header.get("@class"), directory / "model.json")
    if not issubclass(top, torch.nn.Module):
        raise CalculatorError(f"refused {directory}: model.json names {top.__name__}, not a matgl model")
    _plain_torch_file(directory / "state.pt", "matgl state file")
    arguments = _plain_torch_file(directory / "model.pt", "matgl model file")
    for value in arguments.values() if isinstance(arguments, dict) else ():
        if isinstance(value, dict) and ("@module" in value or "@class" in value):
            _matgl_class(value.get("@module"), value.get("@class"), directory / "model.pt")


def _matgl_class(module: Any, name: Any, source: Path) -> type:
    """The class ``module.name`` if it is defined in ``matgl``; a one-line refusal otherwise."""
    import importlib

    refused = f"refused {source}: it names {module}.{name}, not a {MATGL_PACKAGE} class (only matgl models load)"
    if not isinstance(module, str) or not isinstance(name, str) or not module.split(".")[0] == MATGL_PACKAGE:
        raise CalculatorError(refused)
    if module.startswith("matgl.models._"):  # matgl's own mapping of private module names
        module = "matgl.models"
    elif module.startswith("matgl.apps._pes"):
        module = "matgl.apps.pes"
    try:
        cls = getattr(importlib.import_module(module), name, None)
    except ImportError as exc:
        raise CalculatorError(f"{source} names module {module}, which matgl does not have") from exc
    if not isinstance(cls, type) or cls.__module__.split(".")[0] != MATGL_PACKAGE:
        raise CalculatorError(refused)
    return cls


def find_m3gnet_model(model: str | os.PathLike | None = None) -> Path:
    """Locate a saved matgl model directory (``model.json``, ``model.pt``, ``state.pt``) without downloading.

    Without ``model`` or ``$ASE_LCOM_M3GNET_MODEL`` this is the potential shipped in the package
    (:data:`SHIPPED_M3GNET`, see its ``MODEL_CARD.md``). Otherwise ``model`` is tried as a path, then as a model
    name in matgl's cache (``~/.cache/matgl``, old and Hugging Face layouts) and in the Hugging Face cache
    (``materialyze/<name>``, the snapshot ``refs/main`` points to).

    Raises
    ------
    CalculatorError
        When no complete model directory is found, saying how to provide one.
    """
    if not (model or os.environ.get(M3GNET_MODEL_ENV)):
        return SHIPPED_M3GNET
    name = str(model or os.environ.get(M3GNET_MODEL_ENV))
    matgl_cache = Path.home() / ".cache" / "matgl"
    candidates = [Path(name).expanduser(), matgl_cache / name]
    repo = name if "/" in name and not Path(name).exists() else f"materialyze/{name}"
    for hub in (matgl_cache, Path(os.environ.get("HF_HUB_CACHE", Path.home() / ".cache" / "huggingface" / "hub"))):
        cached = hub / f"models--{repo.replace('/', '--')}"
        ref = cached / "refs" / "main"
        if ref.is_file():
            candidates.append(cached / "snapshots" / ref.read_text().strip())
    for candidate in candidates:
        if all((candidate / f).is_file() for f in _MATGL_FILES):
            return candidate
    raise CalculatorError(
        f"M3GNet weights {name!r} not found locally and cannot be downloaded here: pass "
        f"get_calculator('m3gnet', model='/path/to/dir') or set ${M3GNET_MODEL_ENV} to a directory saved by "
        "matgl (model.json, model.pt, state.pt)"
    )


def load_matgl_potential(model: str | os.PathLike | None = None) -> Any:
    """The matgl ``Potential`` of a model directory (:func:`find_m3gnet_model`), checked by
    :func:`check_matgl_model` before matgl builds it.

    Raises
    ------
    CalculatorError
        Missing, refused or unreadable weights, or a matgl model that is not a potential.
    """
    import matgl

    directory = find_m3gnet_model(model)
    check_matgl_model(directory)
    try:
        potential = matgl.load_model(directory)
    except Exception as exc:
        raise CalculatorError(f"cannot load the matgl model in {directory}: {exc.__cause__ or exc}") from exc
    if not hasattr(potential, "calc_stresses"):
        raise CalculatorError(f"{directory} holds a matgl {type(potential).__name__}, not a potential (PES) model")
    return potential


def m3gnet_elements(directory: str | os.PathLike, potential: Any) -> tuple[str, ...]:
    """The elements a matgl potential in ``directory`` answers for: its :data:`M3GNET_COVERAGE_FILE` when there
    is one, else every element type of its network."""
    coverage = Path(directory) / M3GNET_COVERAGE_FILE
    if not coverage.is_file():
        return tuple(potential.model.element_types)
    try:
        elements = json.loads(coverage.read_text())["elements"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CalculatorError(f"cannot read {coverage}: {type(exc).__name__} ({exc}); it should hold "
                              '{"elements": [...]}') from None
    return tuple(str(e) for e in elements)


def _m3gnet(model: str | os.PathLike | None = None, device: str = "cpu") -> BaseCalculator:
    directory = find_m3gnet_model(model)
    potential = load_matgl_potential(directory)
    return _element_checked_pes_calculator()(potential.to(device), name=str(directory),
                                              elements=m3gnet_elements(directory, potential), stress_unit="eV/A3")


@functools.lru_cache(maxsize=1)
def _element_checked_pes_calculator() -> type[BaseCalculator]:
    """matgl's ASE calculator, refusing in one line the structures with elements its potential was not trained on
    (matgl itself fails with a bare ``KeyError``)."""
    from matgl.ext.ase import PESCalculator

    class ElementCheckedPESCalculator(PESCalculator):
        def __init__(self, potential: Any, name: str, elements: Sequence[str], **kwargs: Any) -> None:
            super().__init__(potential, **kwargs)
            self.model_name = name
            self.elements = tuple(elements)

        def calculate(self, atoms: Atoms | None = None, *args: Any, **kwargs: Any) -> None:
            known = set(self.elements)
            unknown = sorted(set((atoms or self.atoms).get_chemical_symbols()) - known)
            if unknown:
                raise ElementCoverageError(
                    f"the M3GNet potential {self.model_name} was not trained on {', '.join(unknown)}; it covers "
                    f"{len(known)} elements ({', '.join(sorted(known))}); use another calculator or model")
            super().calculate(atoms, *args, **kwargs)

    return ElementCheckedPESCalculator


def _gpaw(
    ecut: float = 400.0,
    kpt_density: float = 3.5,
    xc: str = "PBE",
    txt: str | None = None,
    **gpaw_options: Any,
) -> BaseCalculator:
    from gpaw import GPAW, PW

    try:
        ecut = limits.positive_float(ecut, "GPAW ecut (eV)")
        kpt_density = limits.positive_float(kpt_density, "GPAW kpt_density (k-points per reciprocal Angstrom)")
    except InvalidValueError as exc:
        raise CalculatorError(str(exc)) from None
    return GPAW(mode=PW(ecut), xc=xc, kpts={"density": kpt_density, "gamma": True}, txt=txt, **gpaw_options)


def _emt() -> BaseCalculator:
    from ase.calculators.emt import EMT

    return EMT()


@dataclass(frozen=True)
class CalculatorInfo:
    """What the factory knows about a calculator."""

    name: str
    factory: Callable[..., BaseCalculator]
    package: str
    description: str

    @property
    def version(self) -> str | None:
        """Installed version of the providing package, or ``None`` when it is not installed."""
        try:
            return metadata.version(self.package)
        except metadata.PackageNotFoundError:
            return None


CALCULATORS: dict[str, CalculatorInfo] = {
    info.name: info
    for info in (
        CalculatorInfo("chgnet", _chgnet, "chgnet", "CHGNet universal potential, weights in the wheel (default)"),
        CalculatorInfo("m3gnet", _m3gnet, "matgl", "M3GNet potential: the shipped one (default) or a matgl "
                       "model directory (option model=DIR)"),
        CalculatorInfo("gpaw", _gpaw, "gpaw", "GPAW plane-wave PBE DFT (options: ecut, kpt_density, xc)"),
        CalculatorInfo("emt", _emt, "ase", "ASE effective-medium theory, for tests (Al Cu Ag Au Ni Pd Pt H C N O)"),
    )
}


def get_calculator(name: str = DEFAULT_CALCULATOR, **options: Any) -> BaseCalculator:
    """Return a new ASE calculator by name.

    Parameters
    ----------
    name
        ``chgnet``, ``m3gnet``, ``gpaw`` or ``emt``.
    **options
        ``chgnet``: ``device``, ``model_path``; ``m3gnet``: ``model`` (directory or cached name; default the
        shipped potential), ``device``;
        ``gpaw``: ``ecut`` (eV), ``kpt_density`` (k-points per reciprocal Angstrom), ``xc``, ``txt`` and any
        GPAW keyword; ``emt``: none.

    Raises
    ------
    CalculatorError
        Unknown name, package not installed, bad option or missing weights.
    """
    if not isinstance(name, str):
        raise CalculatorError(f"a calculator is named by a string ({', '.join(CALCULATORS)}), not "
                              f"{type(name).__name__}")
    info = CALCULATORS.get(name.lower())
    if info is None:
        raise CalculatorError(f"unknown calculator {name!r}; choose from {', '.join(CALCULATORS)}")
    if info.version is None:
        extra = " (pip install 'ase-lcom[dft]')" if info.name == "gpaw" else ""
        raise CalculatorError(f"calculator {info.name!r} needs the {info.package!r} package, which is not "
                              f"installed{extra}")
    try:
        return info.factory(**options)
    except TypeError as exc:
        raise CalculatorError(f"bad option for calculator {info.name!r}: {exc}") from exc


def _resolve(calculator: str | BaseCalculator) -> BaseCalculator:
    return get_calculator(calculator) if isinstance(calculator, str) else calculator


def matgl_model_digest(directory: str | os.PathLike) -> str:
    """A short digest of a matgl model directory's files (``model.json``, ``model.pt``, ``state.pt``)."""
    digest = hashlib.sha1()
    for name in _MATGL_FILES:
        digest.update((Path(directory) / name).read_bytes())
    return digest.hexdigest()[:12]


def _model_fingerprint(directory: Path) -> str:
    """A matgl model directory and a digest of its files: a retrained model in the same place is another model."""
    return f"{directory}:{matgl_model_digest(directory)}"


def _reason(exc: BaseException) -> str:
    """The first line of an exception's message, or its type when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -------------------------------------------------------------------------------------------- relaxation
@dataclass
class RelaxResult:
    """Outcome of :func:`relax`: the relaxed crystal, its energy and the path taken."""

    structure: Structure
    energy: float
    """Total energy, eV."""
    energy_per_atom: float
    """eV/atom."""
    converged: bool
    steps: int
    max_force: float
    """Largest residual force (eV/Angstrom; cell forces included when the cell relaxed)."""
    trajectory: list[Atoms] = field(repr=False)
    """Snapshots with energy, forces and stress attached, one per optimizer step (the first: the start), as the
    calculator computed them (before constraints act)."""


OPTIMIZERS = ("FIRE", "BFGS", "LBFGS")


MAX_VOLUME_RATIO = 4.0
"""A relaxation whose cell volume grows or shrinks by more than this factor is stopped with an error (seen: a
badly trained potential collapsing a cell until its neighbour lists took 20 GB)."""


def relax(
    crystal: StructureLike,
    calculator: str | BaseCalculator = DEFAULT_CALCULATOR,
    fmax: float = 0.05,
    steps: int = 500,
    relax_cell: bool = True,
    optimizer: str = "FIRE",
    fix_symmetry: bool = False,
    symprec: float = 0.01,
    trajectory: str | os.PathLike | None = None,
    logfile: str | None = None,
    progress: bool = False,
    max_volume_ratio: float = MAX_VOLUME_RATIO,
) -> RelaxResult:
    """Relax a crystal with an ASE optimizer.

    Parameters
    ----------
    crystal
        ``ase.Atoms`` or pymatgen ``Structure`` (not modified).
    calculator
        A calculator name for :func:`get_calculator` or an ASE calculator instance.
    fmax
        Convergence threshold on forces, eV/Angstrom.
    steps
        Maximum number of optimizer steps.
    relax_cell
        Also relax the cell shape and volume (``FrechetCellFilter``).
    optimizer
        ``FIRE``, ``BFGS`` or ``LBFGS``.
    fix_symmetry
        Keep the space group found with ``symprec`` (ASE ``FixSymmetry``): fewer degrees of freedom, faster.
    trajectory
        Optional ASE trajectory file to write.
    logfile
        Optimizer log (``"-"`` for stdout, ``None`` for none).
    progress
        Show a progress bar over optimizer steps.
    max_volume_ratio
        Stop with :class:`CalculatorError` when the cell volume grows or shrinks by more than this factor.

    Raises
    ------
    ElementCoverageError
        The calculator's model does not cover an element of the crystal (not wrapped: a relaxation that
        cannot start, not one that failed).
    CalculatorError
        The relaxation failed: the calculator raised, the volume ran away, or the energy is not finite.
    """
    import ase.optimize
    from ase.filters import FrechetCellFilter

    fmax = limits.positive_float(fmax, "fmax")
    steps = limits.step_budget(steps, "steps")
    if fix_symmetry:
        symprec = limits.positive_float(symprec, "symprec")
    if not isinstance(optimizer, str) or optimizer.upper() not in OPTIMIZERS:
        raise CalculatorError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    atoms = to_atoms(crystal)
    atoms.calc = _resolve(calculator)
    check_calculator_memory(atoms, atoms.calc)
    if fix_symmetry:
        from ase.constraints import FixSymmetry

        atoms.set_constraint(FixSymmetry(atoms, symprec=symprec))
    target = FrechetCellFilter(atoms) if relax_cell else atoms
    snapshots: list[Atoms] = []
    dyn = getattr(ase.optimize, optimizer.upper())(target, logfile=logfile, trajectory=trajectory)

    start_volume = atoms.get_volume()

    def record() -> None:
        ratio = atoms.get_volume() / start_volume
        if not 1 / max_volume_ratio <= ratio <= max_volume_ratio:  # a collapsing cell's neighbour lists grow unbounded
            raise CalculatorError(f"the cell volume changed {ratio:.2g}-fold, beyond the bound of {max_volume_ratio:g} "
                                  "(a collapsing or exploding cell: broken potential or an absurd start)")
        snapshots.append(_snapshot(atoms))

    dyn.attach(record)
    bar = _progress_bar(steps, f"relax {atoms.get_chemical_formula()}") if progress else None
    if bar is not None:
        dyn.attach(lambda: (bar.update(1), bar.set_postfix(E=f"{atoms.get_potential_energy() / len(atoms):.4f}")))
    try:
        # the cell filter's 3x3 matrix functions gain nothing from BLAS threads and slow down a hundredfold
        # when those threads compete with other processes for the cores
        with threadpool_limits(limits=1, user_api="blas"):
            converged = bool(dyn.run(fmax=fmax, steps=steps))
    except ElementCoverageError:
        raise
    except Exception as exc:
        raise CalculatorError(f"relaxation of {atoms.get_chemical_formula()} failed: {_reason(exc)}") from exc
    finally:
        if bar is not None:
            bar.close()
    energy = float(atoms.get_potential_energy())
    if not np.isfinite(energy):
        raise CalculatorError(f"relaxation of {atoms.get_chemical_formula()} gave a non-finite energy")
    forces = target.get_forces()
    return RelaxResult(
        structure=to_structure(atoms),
        energy=energy,
        energy_per_atom=energy / len(atoms),
        converged=converged,
        steps=dyn.nsteps,
        max_force=float(np.sqrt((forces**2).sum(axis=1).max())),
        trajectory=snapshots,
    )


def _snapshot(atoms: Atoms) -> Atoms:
    """A copy with the calculator's own forces and stress (not those projected by constraints) attached."""
    copy = atoms.copy()
    results = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(apply_constraint=False)}
    if "stress" in atoms.calc.implemented_properties:
        with contextlib.suppress(Exception):
            results["stress"] = atoms.get_stress(apply_constraint=False)
    copy.calc = SinglePointCalculator(copy, **results)
    return copy


def _progress_bar(total: int, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False)


def energy_per_atom(crystal: StructureLike, calculator: str | BaseCalculator = DEFAULT_CALCULATOR) -> float:
    """Single-point energy per atom (eV/atom).

    Raises
    ------
    CalculatorError
        When the calculator fails on the crystal or returns a non-finite energy.
    """
    atoms = to_atoms(crystal)
    atoms.calc = _resolve(calculator)
    check_calculator_memory(atoms, atoms.calc)
    try:
        energy = float(atoms.get_potential_energy()) / len(atoms)
    except Exception as exc:
        raise CalculatorError(f"energy of {atoms.get_chemical_formula()} failed: {_reason(exc)}") from exc
    if not np.isfinite(energy):
        raise CalculatorError(f"energy of {atoms.get_chemical_formula()} is not finite")
    return energy


# ------------------------------------------------------------------------------------- formation energies
ELEMENT_PROTOTYPES = ("fcc", "bcc", "hcp", "sc", "diamond")
DIATOMIC_ELEMENTS = frozenset({"H", "N", "O", "F", "Cl", "Br", "I"})


def elemental_candidates(symbol: str) -> list[tuple[str, Atoms, bool]]:
    """Candidate elemental reference phases: ``(label, atoms, relax_cell)``.

    Simple bulk prototypes (fcc, bcc, hcp, sc, diamond) at a volume guessed from the atomic radius, plus, for
    H N O F Cl Br I, a dimer in a 12 Angstrom box (relaxed at fixed cell). The reference is the lowest relaxed
    energy per atom among them; complex elemental ground states (alpha-S, black P, ...) are approximated.
    """
    from ase.build import bulk
    from ase.data import atomic_numbers, covalent_radii

    element = Element(symbol)
    radius = float(element.atomic_radius or element.atomic_radius_calculated or 1.5)
    # nearest-neighbour distance guess; at least 1 A: H and He cells at twice their tabulated radii are so dense
    # that a graph potential's neighbour lists exhaust memory (tens of GB)
    nn = max(2.0 * radius, 1.0)
    lattice = {"fcc": nn * 2**0.5, "bcc": nn * 2 / 3**0.5, "hcp": nn, "sc": nn, "diamond": nn * 4 / 3**0.5}
    candidates = [(proto, bulk(symbol, proto, a=lattice[proto]), True) for proto in ELEMENT_PROTOTYPES]
    # relaxed with their symmetry kept, so each candidate stays the phase its label names
    if symbol in DIATOMIC_ELEMENTS:
        bond = 2.0 * float(covalent_radii[atomic_numbers[symbol]])
        dimer = Atoms(2 * symbol, positions=[[0, 0, 0], [0, 0, bond]], cell=[12.0, 12.0, 12.0], pbc=True)
        dimer.center()
        candidates.append(("dimer", dimer, False))
    return candidates


@functools.lru_cache(maxsize=8)
def _shipped_references(name: str, key: str) -> dict[str, dict[str, Any]]:
    """``ase_lcom/pretrained/references-<name>.json`` if its key (calculator version, options, settings) is
    ``key``; empty otherwise, so a changed calculator or setting never reuses shipped values."""
    path = Path(__file__).resolve().parent / "pretrained" / f"references-{name}.json"
    try:
        content = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    if content.get("key") != key:
        return {}
    return {symbol: {k: v for k, v in entry.items() if k != "seconds"}
            for symbol, entry in content.get("elements", {}).items()}


def default_cache_dir() -> Path:
    """``$ASE_LCOM_CACHE`` or ``~/.cache/ase_lcom``."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "ase_lcom"))


class ReferenceEnergies:
    """Elemental reference energies (eV/atom) of one calculator, computed on first use and cached.

    Parameters
    ----------
    calculator
        Calculator name (see :func:`get_calculator`) or an ASE calculator instance.
    cache_dir
        Where ``references-<name>-<hash>.json`` is kept (default :func:`default_cache_dir`). For a named
        calculator the hash covers the options and the calculator package's version, so a changed model never
        reuses old values.
    fmax, steps
        Relaxation settings for the elemental phases.
    cache_key
        For a calculator instance: the name its references are cached on disk under (the caller vouches that
        one key means one model and settings). Without it an instance's references are computed once per
        :class:`ReferenceEnergies` object and kept in memory only.
    **options
        Calculator options (named calculators only).

    Raises
    ------
    CalculatorError
        For an unknown calculator name, or options or a cache key that do not fit the kind of calculator.

    Examples
    --------
    >>> refs = ReferenceEnergies("chgnet")
    >>> refs.formation_energy_per_atom("NaCl", -3.43)  # doctest: +SKIP
    """

    def __init__(
        self,
        calculator: str | BaseCalculator = DEFAULT_CALCULATOR,
        cache_dir: str | os.PathLike | None = None,
        fmax: float = 0.02,
        steps: int = 300,
        cache_key: str | None = None,
        **options: Any,
    ) -> None:
        self.options = options
        self.fmax = fmax
        self.steps = steps
        self._memory: dict[str, dict[str, Any]] = {}
        directory = Path(cache_dir or default_cache_dir())
        if isinstance(calculator, str):
            if calculator.lower() not in CALCULATORS:
                raise CalculatorError(f"unknown calculator {calculator!r}; choose from {', '.join(CALCULATORS)}")
            if cache_key is not None:
                raise CalculatorError(f"cache_key is for calculator instances; {calculator!r} is cached by its name")
            self.name = calculator.lower()
            model = _model_fingerprint(find_m3gnet_model(options.get("model"))) if self.name == "m3gnet" else None
            key = json.dumps([CALCULATORS[self.name].version, options, model, fmax, steps], sort_keys=True,
                             default=str)
            self._calculator: BaseCalculator | None = None
        elif isinstance(calculator, BaseCalculator):
            if options:
                raise CalculatorError(f"calculator options ({', '.join(options)}) apply to a calculator name, not "
                                      f"to a {type(calculator).__name__} instance")
            if cache_key is not None and not re.fullmatch(r"[A-Za-z0-9_.+-]+", cache_key):
                raise CalculatorError(f"cache_key {cache_key!r} must be letters, digits and _.+- only")
            self.name = cache_key or type(calculator).__name__.lower()
            key = json.dumps(["instance", fmax, steps])
            self._calculator = calculator
        else:
            raise CalculatorError(f"expected a calculator name or an ASE calculator, got {type(calculator).__name__}")
        digest = hashlib.sha1(key.encode()).hexdigest()[:10]
        cached = isinstance(calculator, str) or cache_key is not None
        self.path: Path | None = directory / f"references-{self.name}-{digest}.json" if cached else None

    @property
    def calculator(self) -> BaseCalculator:
        """The calculator (built on first use from a name)."""
        if self._calculator is None:
            self._calculator = get_calculator(self.name, **self.options)
        return self._calculator

    def _load(self) -> dict[str, dict[str, Any]]:
        if self.path is None:
            return dict(self._memory)
        if not self.path.is_file():
            return {}
        try:
            return json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}  # a damaged cache is recomputed, never trusted

    def store(self, symbol: str, entry: dict[str, Any]) -> None:
        """Add an element's reference to the cache file (atomic replace; other elements are kept)."""
        if self.path is None:
            self._memory[symbol] = entry
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = self._load()  # re-read: another process may have added elements
        data[symbol] = entry
        with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, suffix=".tmp") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
        os.replace(handle.name, self.path)

    def entry(self, symbol: str) -> dict[str, Any]:
        """Reference record of an element: ``energy_per_atom``, ``phase`` and all candidates' energies.

        Looked up in the cache, then in the references shipped with the package (computed with exactly these
        settings by ``scripts/compute_shipped_references.py``), and computed only when neither has it."""
        cached = self._load().get(symbol) or self._shipped().get(symbol)
        if cached is None:
            cached = self.compute(symbol)
            self.store(symbol, cached)
        return cached

    def _shipped(self) -> dict[str, dict[str, Any]]:
        """The packaged references of this calculator, when they were computed with this cache key."""
        if self.path is None:
            return {}
        return _shipped_references(self.name, self.path.name)

    def missing(self, symbols: Iterable[str]) -> list[str]:
        """Elements among ``symbols`` with neither a cached nor a shipped reference (those :meth:`entry` computes)."""
        known = self._load().keys() | self._shipped().keys()
        return sorted({s for s in symbols if s not in known})

    def compute(self, symbol: str) -> dict[str, Any]:
        """Relax the elemental candidates of ``symbol`` now (no cache); see :meth:`entry`."""
        if symbol not in {el.symbol for el in Element}:
            raise StructureError(f"unknown element symbol {symbol!r}")
        calculator = self.calculator  # a setup error (missing weights, ...) is reported as itself
        energies: dict[str, float] = {}
        for label, atoms, relax_cell in elemental_candidates(symbol):
            try:
                result = relax(atoms, calculator, fmax=self.fmax, steps=self.steps, relax_cell=relax_cell,
                               optimizer="BFGS", fix_symmetry=True)
            except CalculatorError:
                continue  # e.g. a collapsed or exploding candidate: the others decide
            if np.isfinite(result.energy_per_atom) and result.structure.volume / len(result.structure) > 1.0:
                energies[label] = result.energy_per_atom
        if not energies:
            raise CalculatorError(f"no elemental reference phase of {symbol} could be computed with {self.name}")
        phase = min(energies, key=energies.__getitem__)
        return {"energy_per_atom": energies[phase], "phase": phase, "candidates": energies}

    def __getitem__(self, symbol: str) -> float:
        return float(self.entry(symbol)["energy_per_atom"])

    def energies(self, symbols: Iterable[str]) -> dict[str, float]:
        """Reference energies per atom for several elements."""
        return {symbol: self[symbol] for symbol in symbols}

    def formation_energy_per_atom(
        self, composition: Composition | StructureLike | str, energy_per_atom: float
    ) -> float:
        """Formation energy per atom from a total energy per atom computed with the same calculator."""
        if isinstance(composition, (Structure, Atoms)):
            composition = to_structure(composition).composition
        composition = Composition(composition)
        total = composition.num_atoms
        reference = sum(amount * self[el.symbol] for el, amount in composition.element_composition.items())
        return float(energy_per_atom - reference / total)
