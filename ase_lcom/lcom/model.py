"""An LCOM model bundle: a CD-VAE, its latent energy surrogates and a bank of seed latents, in one file.

The bundle is a weights-only checkpoint (``format: "lcom"``) holding

- ``cdvae``: the CD-VAE's config and weights;
- ``surrogates``: ``{"coms": ..., "sl": ...}``, each a surrogate's config, training record and weights;
- ``seeds``: the encoded training structures (latent means, reduced formulas, atom counts, formation
  energies) that seed the latent optimisation for compositions the data holds;
- ``card``: provenance (data, commands, seed, timings, figures), shown by ``ase-lcom list``.

The shipped default lives in ``ase_lcom/pretrained/default.pt`` (weights stored as float16 to keep the
package small, computed in float32); ``$ASE_LCOM_MODEL`` points :func:`default_model_path` elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from pymatgen.core import Composition, Structure

from ase_lcom.models.cdvae import CDVAE, CDVAEConfig
from ase_lcom.models.encoder import composition_vector
from ase_lcom.models.surrogate import EnergySurrogate
from ase_lcom.structure import CrystalBatch, cell_composition
from ase_lcom.training.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from ase_lcom.training.surrogate import COMsConfig, surrogate_from_content

CHECKPOINT_KIND = "lcom"
MODEL_ENV = "ASE_LCOM_MODEL"


def default_model_path() -> Path:
    """``$ASE_LCOM_MODEL`` if set, else the model shipped inside the package."""
    if os.environ.get(MODEL_ENV):
        return Path(os.environ[MODEL_ENV])
    return Path(__file__).resolve().parent.parent / "pretrained" / "default.pt"


@dataclass
class SeedBank:
    """Latent means of known structures: where latent optimisation starts for compositions it holds."""

    latents: torch.Tensor
    formulas: list[str]
    num_atoms: torch.Tensor
    energies: torch.Tensor
    """Formation energy per atom of each seed structure (eV/atom), from the training data."""

    def select(self, formula: str, num_atoms: Sequence[int] | None = None) -> torch.Tensor:
        """Indices of the seeds of this reduced formula (and, if given, one of these cell sizes)."""
        rows = [i for i, f in enumerate(self.formulas) if f == formula
                and (num_atoms is None or int(self.num_atoms[i]) in num_atoms)]
        return torch.tensor(rows, dtype=torch.long)

    def cell(self, row: int) -> Composition:
        """The cell composition (all atoms of the cell) of seed ``row``."""
        formula = self.formulas[row]
        return cell_composition(formula, int(self.num_atoms[row]) // int(Composition(formula).num_atoms))

    def __add__(self, other: SeedBank) -> SeedBank:
        return SeedBank(torch.cat([self.latents, other.latents]), self.formulas + other.formulas,
                        torch.cat([self.num_atoms, other.num_atoms]), torch.cat([self.energies, other.energies]))

    def to_content(self) -> dict[str, Any]:
        return {"latents": self.latents.half(), "formulas": list(self.formulas), "num_atoms": self.num_atoms,
                "energies": self.energies.float()}

    @classmethod
    def from_content(cls, content: dict[str, Any]) -> SeedBank:
        return cls(content["latents"].float(), list(content["formulas"]), content["num_atoms"].long(),
                   content["energies"].float())


def composition_tensor(cells: Sequence[Composition]) -> torch.Tensor:
    """``(B, 94)`` fractional compositions of these cells (the surrogate's and lattice head's conditioning)."""
    numbers = [atomic_numbers(cell) for cell in cells]
    flat = torch.tensor([n for row in numbers for n in row], dtype=torch.long)
    batch = torch.repeat_interleave(torch.arange(len(cells)), torch.tensor([len(row) for row in numbers]))
    return composition_vector(flat, batch, len(cells)).float()


def atomic_numbers(cell: Composition) -> list[int]:
    """Atomic numbers of a cell composition, grouped by element in the composition's order."""
    return [el.Z for el, amount in cell.items() for _ in range(int(round(amount)))]


class LCOMModel:
    """CD-VAE + surrogates + seed bank, with the encode/decode/score operations predictors need."""

    def __init__(self, cdvae: CDVAE, surrogates: dict[str, tuple[EnergySurrogate, COMsConfig]], seeds: SeedBank,
                 card: dict[str, Any] | None = None, path: Path | None = None) -> None:
        self.cdvae = cdvae.eval().float()
        self.surrogates = surrogates
        self.seeds = seeds
        self.card = card or {}
        self.path = path

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> LCOMModel:
        """Load a bundle (default: :func:`default_model_path`); errors name the missing or broken file."""
        path = Path(path) if path is not None else default_model_path()
        if not path.is_file():
            hint = ("reinstall ase-lcom (the default model ships inside the package) or set $ASE_LCOM_MODEL"
                    if path == default_model_path() else "build one with `ase-lcom train lcom`")
            raise CheckpointError(f"LCOM model weights not found: {path} ({hint})")
        content = load_checkpoint(path, CHECKPOINT_KIND)
        try:
            cdvae = CDVAE(CDVAEConfig.from_dict(content["cdvae"]["config"]))
            cdvae.load_state_dict({k: v.float() for k, v in content["cdvae"]["model"].items()})
            surrogates = {name: surrogate_from_content(part, f"{path} [{name}]")
                          for name, part in content["surrogates"].items()}
            seeds = SeedBank.from_content(content["seeds"])
        except (KeyError, TypeError, RuntimeError, AttributeError) as exc:
            raise CheckpointError(f"{path} is not a valid LCOM model bundle: {exc}") from exc
        return cls(cdvae, surrogates, seeds, content.get("card", {}), path)

    def save(self, path: str | os.PathLike, surrogate_contents: dict[str, dict[str, Any]]) -> Path:
        """Write the bundle (float16 weights); ``surrogate_contents`` come from ``surrogate_content``."""
        half = {k: (v.half() if v.is_floating_point() else v) for k, v in self.cdvae.state_dict().items()}
        surrogates = {name: {**part, "model": {k: v.half() for k, v in part["model"].items()}}
                      for name, part in surrogate_contents.items()}
        content = {"format": CHECKPOINT_KIND, "version": 1,
                   "cdvae": {"config": self.cdvae.cfg.to_dict(), "model": half},
                   "surrogates": surrogates, "seeds": self.seeds.to_content(), "card": self.card}
        return save_checkpoint(content, path)

    def surrogate(self, name: str) -> tuple[EnergySurrogate, COMsConfig]:
        if name not in self.surrogates:
            raise CheckpointError(f"model has no {name!r} surrogate (it has: {', '.join(self.surrogates)})")
        return self.surrogates[name]

    @torch.no_grad()
    def encode(self, structures: Sequence[Structure], batch_size: int = 64) -> torch.Tensor:
        """``(B, latent)`` latent means of these structures."""
        parts = [self.cdvae.encode(CrystalBatch.from_structures(structures[k:k + batch_size],
                                                                dtype=torch.float32))[0]
                 for k in range(0, len(structures), batch_size)]
        return torch.cat(parts)

    def decode(self, latents: torch.Tensor, cells: Sequence[Composition], num_levels: int = 20,
               steps_per_level: int = 2, seed: int = 0) -> list[Structure]:
        """Decode one crystal per latent with the atoms of the matching cell composition."""
        numbers = [atomic_numbers(cell) for cell in cells]
        crystals = self.cdvae.decode(latents.float(), torch.tensor([n for row in numbers for n in row]),
                                     torch.tensor([len(row) for row in numbers]), num_levels, steps_per_level,
                                     torch.Generator().manual_seed(seed))
        return crystals.to_structures()

    def energies(self, structures: Sequence[Structure], surrogate: str = "coms") -> torch.Tensor:
        """Surrogate formation energies (eV/atom) of structures, through their latent means."""
        model, _ = self.surrogate(surrogate)
        cells = [s.composition for s in structures]
        with torch.no_grad():
            return model(self.encode(structures), composition_tensor(cells))

    def describe(self) -> str:
        """One paragraph for ``ase-lcom list``."""
        card = self.card
        return (f"{self.path}: CD-VAE latent {self.cdvae.cfg.encoder.latent_dim}, surrogates "
                f"{', '.join(self.surrogates)}, {len(self.seeds.formulas)} seed latents over "
                f"{len(set(self.seeds.formulas))} compositions; data {card.get('data', '?')}")


@lru_cache(maxsize=4)
def cached_model(path: str | None = None) -> LCOMModel:
    """Load a bundle once per process (predictors, the ASE optimizer and transformations share it)."""
    return LCOMModel.load(path)
