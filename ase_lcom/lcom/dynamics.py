"""``LCOM``: latent-space structure optimisation as an ASE dynamics object.

Used like ``ase.optimize.BFGS``: each step moves the CD-VAE latent of the crystal downhill on the surrogate
energy and writes the decoded crystal (cell and positions) back into ``atoms``; ``logfile``, ``trajectory``,
``attach`` and ``irun``/``run`` behave as for ASE optimizers, so an ordinary relaxation can follow::

    LCOM(atoms, trajectory="lcom.traj").run(steps=50)
    BFGS(FrechetCellFilter(atoms)).run(fmax=0.05)

The surrogate energy of each written crystal (formation energy, eV/atom) is stored in
``atoms.info["lcom_energy_per_atom"]``; no calculator is needed or touched.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import IO, Any

import torch
from ase import Atoms
from ase.optimize.optimize import Dynamics

from ase_lcom.lcom.model import LCOMModel, cached_model
from ase_lcom.models.encoder import composition_vector
from ase_lcom.structure import CrystalBatch, to_structure


class LCOM(Dynamics):
    """Gradient descent on a crystal's CD-VAE latent, decoding into ``atoms`` after every step.

    Parameters
    ----------
    atoms
        The crystal (periodic in 3D); its atom order and species are kept.
    model
        An :class:`LCOMModel`, a bundle path, or ``None`` for the shipped default.
    surrogate
        ``"coms"`` (conservative, default) or ``"sl"``.
    step_lr
        Latent step size (default: the surrogate's training setting).
    gtol
        Converged when the latent gradient norm of the standardised energy (in the surrogate's whitened latent
        units, if it whitens) falls below this.
    num_levels, steps_per_level, seed
        Decoder sampling budget and its random seed (fixed, so decoding is a deterministic function of z).
    logfile, trajectory, append_trajectory, loginterval
        As for :class:`ase.optimize.BFGS`.
    """

    def __init__(self, atoms: Atoms, model: LCOMModel | str | os.PathLike | None = None, surrogate: str = "coms",
                 step_lr: float | None = None, gtol: float = 1e-3, num_levels: int = 20, steps_per_level: int = 2,
                 seed: int = 0, logfile: IO | str | None = "-", trajectory: str | None = None,
                 append_trajectory: bool = False, loginterval: int = 1) -> None:
        super().__init__(atoms, logfile=logfile, trajectory=trajectory, append_trajectory=append_trajectory,
                         loginterval=loginterval)
        self.loginterval = loginterval
        self.model = model if isinstance(model, LCOMModel) else cached_model(None if model is None else str(model))
        self.surrogate_name = surrogate
        self.surrogate, settings = self.model.surrogate(surrogate)
        self.step_lr = settings.step_lr if step_lr is None else step_lr
        self.gtol = gtol
        self.num_levels = num_levels
        self.steps_per_level = steps_per_level
        self.seed = seed
        self.numbers = torch.tensor(atoms.numbers, dtype=torch.long)
        self.composition = composition_vector(self.numbers, torch.zeros(len(atoms), dtype=torch.long), 1).float()
        self.z = self.model.encode([to_structure(atoms)])
        self.energy, self.gradient = self._evaluate()
        atoms.info["lcom_energy_per_atom"] = self.energy

    def _evaluate(self) -> tuple[float, torch.Tensor]:
        """Surrogate energy (eV/atom) and its gradient in the surrogate's (whitened) latent units."""
        z = self.z.clone().requires_grad_(True)
        energy = self.surrogate.standardized(z, self.composition)
        (grad,) = torch.autograd.grad(energy.sum(), z)
        energy_per_atom = float(energy * self.surrogate.energy_std + self.surrogate.energy_mean)
        return energy_per_atom, self.surrogate.latent_scale * grad

    def todict(self) -> dict[str, Any]:
        return {"type": "optimization", "optimizer": "LCOM", "surrogate": self.surrogate_name,
                "step_lr": self.step_lr, "model": str(self.model.path)}

    def converged(self) -> bool:
        return float(self.gradient.norm()) < self.gtol

    def step(self) -> None:
        """One latent step, then decode into ``atoms``."""
        self.z = (self.z - self.step_lr * self.surrogate.latent_scale * self.gradient).detach()
        crystal: CrystalBatch = self.model.cdvae.decode(
            self.z, self.numbers, torch.tensor([len(self.numbers)]), self.num_levels, self.steps_per_level,
            torch.Generator().manual_seed(self.seed))
        self.atoms.set_cell(crystal.lattice[0].double().numpy(), scale_atoms=False)
        self.atoms.set_scaled_positions(crystal.frac_coords.double().numpy())
        self.energy, self.gradient = self._evaluate()
        self.atoms.info["lcom_energy_per_atom"] = self.energy

    def log(self, *args: Any) -> None:
        if self.logfile is None or self.nsteps % self.loginterval:
            return
        if self.nsteps == 0:
            self.logfile.write(f"{'':6s} {'Step':>4s} {'Time':>8s} {'E_f (eV/atom)':>14s} {'|grad z|':>10s}\n")
        self.logfile.write(f"LCOM:  {self.nsteps:4d} {time.strftime('%H:%M:%S'):>8s} {self.energy:14.4f} "
                           f"{float(self.gradient.norm()):10.4f}\n")

    def irun(self, steps: int = 50) -> Iterator[bool]:
        """Take up to ``steps`` latent steps, yielding whether converged after each (as ASE optimizers do)."""
        self.max_steps = self.nsteps + steps
        if self.nsteps == 0:
            self.log()
            self.call_observers()
        is_converged = self.converged()
        yield is_converged
        while not is_converged and self.nsteps < self.max_steps:
            self.step()
            self.nsteps += 1
            self.log()
            self.call_observers()
            is_converged = self.converged()
            yield is_converged

    def run(self, steps: int = 50) -> bool:
        """Run up to ``steps`` latent steps; returns whether the gradient criterion was met."""
        converged = False
        for converged in self.irun(steps):
            pass
        return converged
