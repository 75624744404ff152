"""``LCOM``: latent-space structure optimisation as an ASE optimizer.

Used like ``ase.optimize.BFGS``: each step moves the CD-VAE latent of the crystal downhill on the surrogate
energy (:func:`~ase_lcom.models.surrogate.latent_step`, the step predictors take) and writes the decoded crystal
(cell and positions) back into ``atoms``. ``run(fmax, steps)``, ``irun``, ``attach``, ``logfile`` and
``trajectory`` are ASE's own, so an ordinary relaxation can follow::

    LCOM(atoms, trajectory="lcom.traj").run(fmax=0.05, steps=50)
    BFGS(FrechetCellFilter(atoms)).run(fmax=0.05)

**What fmax means here.** The optimizer's variables are the latent vector, not atomic positions, so ``fmax`` is
a tolerance on the latent gradient: the run has converged when the Euclidean norm of the gradient of the
surrogate's standardised energy (formation energy in units of its training set's standard deviation) with
respect to the latent, in the surrogate's whitened latent units, is below ``fmax``. That is the gradient a
step of ``step_lr`` follows; the log's ``fmax`` column prints this norm and its ``Energy`` column the surrogate
formation energy (eV/atom). Without convergence the run stops after ``steps`` steps, as for ASE optimizers.

The surrogate energy of each written crystal (eV/atom) is stored in ``atoms.info["lcom_energy_per_atom"]`` and
the model's name in ``atoms.info["lcom_model"]``; no calculator is needed or touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from ase import Atoms
from ase.optimize.optimize import Optimizer
from ase.utils.abc import Optimizable

from ase_lcom.models.bundle import LCOMModel, cached_model
from ase_lcom.models.encoder import composition_vector
from ase_lcom.models.surrogate import EnergySurrogate, latent_gradient, latent_step
from ase_lcom.structure import to_structure


class LatentOptimizable(Optimizable):
    """The latent of a crystal as an ASE optimizable: setting it decodes the crystal into ``atoms``.

    ``get_x`` is the latent, ``get_gradient`` the gradient of the standardised surrogate energy in whitened
    latent units, ``get_value`` the surrogate formation energy (eV/atom), ``gradient_norm`` the gradient's
    Euclidean norm (what ``fmax`` bounds).
    """

    def __init__(self, atoms: Atoms, model: LCOMModel, surrogate: EnergySurrogate, num_levels: int,
                 steps_per_level: int, seed: int) -> None:
        self.atoms = atoms
        self.model = model
        self.surrogate = surrogate
        self.num_levels = num_levels
        self.steps_per_level = steps_per_level
        self.seed = seed
        self.numbers = [int(n) for n in atoms.numbers]
        numbers = torch.tensor(self.numbers, dtype=torch.long)
        self.composition = composition_vector(numbers, torch.zeros(len(numbers), dtype=torch.long), 1).float()
        self.latent = model.encode([to_structure(atoms)])
        self._evaluate()

    def _evaluate(self) -> None:
        energy, self.raw_gradient = latent_gradient(self.surrogate, self.latent, self.composition)
        self.energy = float(energy[0] * self.surrogate.energy_std + self.surrogate.energy_mean)
        self.atoms.info["lcom_energy_per_atom"] = self.energy
        self.atoms.info["lcom_model"] = self.model.name

    def ndofs(self) -> int:
        return self.latent.shape[1]

    def get_x(self) -> np.ndarray:
        return self.latent[0].double().numpy().copy()

    def set_x(self, x: np.ndarray) -> None:
        """Move to latent ``x`` and write its decoded crystal into ``atoms``."""
        self.set_latent(torch.as_tensor(np.asarray(x), dtype=torch.float32).reshape(1, -1))

    def set_latent(self, latent: torch.Tensor) -> None:
        """Move to ``(1, latent_dim)`` ``latent`` and write its decoded crystal into ``atoms``."""
        self.latent = latent.detach()
        crystal = self.model.decode_crystals(self.latent, [self.numbers], self.num_levels, self.steps_per_level,
                                             self.seed)
        self.atoms.set_cell(crystal.lattice[0].double().numpy(), scale_atoms=False)
        self.atoms.set_scaled_positions(crystal.frac_coords.double().numpy())
        self._evaluate()

    def get_gradient(self) -> np.ndarray:
        return (self.surrogate.latent_scale * self.raw_gradient)[0].double().numpy()

    def get_value(self) -> float:
        return self.energy

    def gradient_norm(self, gradient: np.ndarray) -> float:
        return float(np.linalg.norm(gradient))

    def iterimages(self) -> Iterator[Atoms]:
        yield self.atoms


class LCOM(Optimizer):
    """Gradient descent on a crystal's CD-VAE latent, decoding into ``atoms`` after every step.

    ``run(fmax=0.05, steps=None)``: converged when the latent gradient norm (standardised surrogate energy per
    whitened latent unit, see the module docstring) is below ``fmax``; at most ``steps`` steps (default: the
    surrogate's latent search setting, 50 for ``lcom-default-v4``, as predictors take).

    Parameters
    ----------
    atoms
        The crystal (periodic in 3D); its atom order and species are kept.
    model
        An :class:`~ase_lcom.models.bundle.LCOMModel`, a registered model name or bundle path, or ``None`` for
        the default model.
    surrogate
        ``"coms"`` (conservative, default) or ``"sl"``.
    step_lr
        Latent step size (default: the surrogate's latent search setting).
    num_levels, steps_per_level, seed
        Decoder sampling budget and its random seed (fixed, so decoding is a deterministic function of the
        latent).
    logfile, trajectory, append_trajectory, loginterval
        As for :class:`ase.optimize.BFGS` (``loginterval`` thins the trajectory).
    """

    def __init__(self, atoms: Atoms, model: LCOMModel | str | os.PathLike | None = None, surrogate: str = "coms",
                 step_lr: float | None = None, num_levels: int = 20, steps_per_level: int = 2, seed: int = 0,
                 logfile: IO | str | Path | None = "-", trajectory: str | Path | None = None,
                 append_trajectory: bool = False, loginterval: int = 1) -> None:
        self.model = model if isinstance(model, LCOMModel) else cached_model(None if model is None else str(model))
        self.surrogate_name = surrogate
        self.surrogate, settings = self.model.surrogate(surrogate)
        self.step_lr = settings.step_lr if step_lr is None else step_lr
        self.default_steps = settings.steps
        super().__init__(atoms, logfile=logfile, trajectory=trajectory, append_trajectory=append_trajectory,
                         loginterval=loginterval)
        self.optimizable = LatentOptimizable(atoms, self.model, self.surrogate, num_levels, steps_per_level, seed)

    def todict(self) -> dict[str, Any]:
        return {**super().todict(), "surrogate": self.surrogate_name, "step_lr": self.step_lr,
                "model": self.model.name}

    def irun(self, fmax: float = 0.05, steps: int | None = None) -> Iterator[bool]:
        """ASE's :meth:`~ase.optimize.optimize.Optimizer.irun` with this optimizer's default step budget."""
        return super().irun(fmax=fmax, steps=self.default_steps if steps is None else steps)

    def run(self, fmax: float = 0.05, steps: int | None = None) -> bool:
        """ASE's :meth:`~ase.optimize.optimize.Optimizer.run` with this optimizer's default step budget; returns
        whether the latent gradient norm fell below ``fmax``."""
        return super().run(fmax=fmax, steps=self.default_steps if steps is None else steps)

    def step(self) -> None:
        """One latent step (:func:`~ase_lcom.models.surrogate.latent_step`), then decode into ``atoms``."""
        latents = self.optimizable
        latents.set_latent(latent_step(self.surrogate, latents.latent, latents.raw_gradient, self.step_lr))
