"""An LCOM model bundle: a CD-VAE, its latent energy surrogates and a bank of seed latents, in one file.

The bundle is a weights-only checkpoint (``format: "lcom"``, ``version``: :data:`BUNDLE_VERSION`) holding

- ``name``: the model's name (bundles without one are named by the registry or their file stem);
- ``cdvae``: the CD-VAE's config and weights;
- ``surrogates``: ``{"coms": ..., "sl": ...}``, each a surrogate's training record and weights;
- ``seeds``: the encoded training structures (latent means, reduced formulas, atom counts, formation
  energies) that seed the latent optimisation for compositions the data holds;
- ``card``: provenance (data, commands, seed, timings, figures), shown by ``ase-lcom list``.

Weights are stored as float16 to keep files small and computed in float32. Shipped models are listed by name
in ``ase_lcom/pretrained/models.json`` with their file and sha256; :meth:`LCOMModel.load` takes such a name,
a path, or nothing (``$ASE_LCOM_MODEL`` if set, else the registry's default, ``lcom-default-v5``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from pymatgen.core import Composition, Structure

from ase_lcom.models.cdvae import CDVAE, CDVAEConfig
from ase_lcom.models.checkpoints import CheckpointError, load_checkpoint, save_checkpoint, surrogate_from_content
from ase_lcom.models.encoder import composition_vector
from ase_lcom.models.surrogate import EnergySurrogate, LatentSearchSettings
from ase_lcom.structure import CrystalBatch, cell_composition

BUNDLE_KIND = "lcom"
BUNDLE_VERSION = 1
"""The bundle format version this package writes."""
READABLE_VERSIONS = (1,)
"""The bundle format versions this package reads."""
MODEL_ENV = "ASE_LCOM_MODEL"
REGISTRY = Path(__file__).resolve().parent.parent / "pretrained" / "models.json"


@dataclass(frozen=True)
class RegisteredModel:
    """A named model of the registry (``ase_lcom/pretrained/models.json``)."""

    name: str
    path: Path
    sha256: str
    description: str = ""


def registered_models() -> dict[str, RegisteredModel]:
    """The models of the registry by name, in the order listed."""
    try:
        registry = json.loads(REGISTRY.read_text())
        return {name: RegisteredModel(name, REGISTRY.parent / entry["file"], entry["sha256"],
                                      entry.get("description", ""))
                for name, entry in registry["models"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"model registry {REGISTRY} is unreadable ({exc}); reinstall ase-lcom") from None


def default_model_name() -> str:
    """The name of the model loaded when none is given and ``$ASE_LCOM_MODEL`` is unset."""
    try:
        return str(json.loads(REGISTRY.read_text())["default"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"model registry {REGISTRY} is unreadable ({exc}); reinstall ase-lcom") from None


def resolve_model(name_or_path: str | os.PathLike | None = None) -> tuple[Path, RegisteredModel | None]:
    """The file of a model name or path and its registry entry (``None`` for a file not in the registry).

    ``None`` means ``$ASE_LCOM_MODEL`` if set (a name or a path), else :func:`default_model_name`.
    """
    if name_or_path is None:
        name_or_path = os.environ.get(MODEL_ENV) or default_model_name()
    models = registered_models()
    if isinstance(name_or_path, str) and name_or_path in models:
        entry = models[name_or_path]
        return entry.path, entry
    path = Path(name_or_path).expanduser()
    for entry in models.values():
        if path.is_file() and entry.path.is_file() and path.samefile(entry.path):
            return path, entry
    return path, None


def default_model_path() -> Path:
    """The file :meth:`LCOMModel.load` reads when given nothing: ``$ASE_LCOM_MODEL`` or the shipped default."""
    return resolve_model(None)[0]


def sha256_of(path: Path) -> str:
    """Hex sha256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        """Plain tensors and lists for a checkpoint (latents as float16)."""
        return {"latents": self.latents.half(), "formulas": list(self.formulas), "num_atoms": self.num_atoms,
                "energies": self.energies.float()}

    @classmethod
    def from_content(cls, content: dict[str, Any]) -> SeedBank:
        """The inverse of :meth:`to_content` (latents back in float32)."""
        return cls(content["latents"].float(), list(content["formulas"]), content["num_atoms"].long(),
                   content["energies"].float())


@dataclass
class BundledSurrogate:
    """An energy surrogate of a bundle with its latent search settings and the training record it was saved
    with (configs, history, row counts), which :meth:`LCOMModel.save` writes back."""

    model: EnergySurrogate
    settings: LatentSearchSettings
    record: dict[str, Any]

    @classmethod
    def from_content(cls, content: dict[str, Any], where: str) -> BundledSurrogate:
        """From a surrogate checkpoint's content (``where`` names it in error messages)."""
        model, settings = surrogate_from_content(content, where)
        return cls(model, settings, {k: v for k, v in content.items() if k != "model"})

    def to_content(self) -> dict[str, Any]:
        """The record and the weights (float16)."""
        return {**self.record, "model": {k: v.half() for k, v in self.model.state_dict().items()}}


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
    """CD-VAE + surrogates + seed bank, with the encode/decode/score operations predictors need.

    The CD-VAE runs on the device it was loaded to (``load(..., device=...)``); the surrogates are small MLPs
    and stay on the CPU, as do all tensors the methods take and return.

    Parameters
    ----------
    cdvae
        The trained CD-VAE (evaluated in float32).
    surrogates
        The energy surrogates by name (``"coms"``, ``"sl"``).
    seeds
        Latent means of the training structures.
    card
        Provenance, shown by ``ase-lcom list``.
    path
        The file it was loaded from, if any.
    name
        The model's name and version, e.g. ``"lcom-default-v5"``; recorded by :meth:`save` and reported by
        predictors with every result.
    """

    def __init__(self, cdvae: CDVAE, surrogates: dict[str, BundledSurrogate], seeds: SeedBank,
                 card: dict[str, Any] | None = None, path: Path | None = None, name: str | None = None) -> None:
        self.cdvae = cdvae.eval().float()
        self.surrogates = surrogates
        self.seeds = seeds
        self.card = card or {}
        self.path = path
        self.name = name or (path.stem if path is not None else "unnamed")

    @classmethod
    def load(cls, name_or_path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> LCOMModel:
        """Load a bundle by registry name (``"lcom-default-v5"``) or path; ``None`` loads ``$ASE_LCOM_MODEL`` if
        set (a name or a path), else the shipped default.

        A registered model's file must match its recorded sha256. Errors (:class:`CheckpointError`) name the
        missing, altered, broken or too new file.
        """
        path, entry = resolve_model(name_or_path)
        if not path.is_file():
            if entry is not None or name_or_path is None:
                hint = "reinstall ase-lcom (shipped models are inside the package) or set $ASE_LCOM_MODEL"
            else:
                hint = (f"not a registered model name either ({', '.join(registered_models())}); "
                        "build a bundle with `ase-lcom train lcom`")
            raise CheckpointError(f"LCOM model weights not found: {path} ({hint})")
        if entry is not None and sha256_of(path) != entry.sha256:
            raise CheckpointError(f"{path} does not match the sha256 registered for {entry.name} "
                                  "(altered or incomplete file); reinstall ase-lcom")
        content = load_checkpoint(path, BUNDLE_KIND)
        version = content.get("version")
        if version not in READABLE_VERSIONS:
            raise CheckpointError(f"{path} is an LCOM bundle of format version {version!r}; this ase-lcom reads "
                                  f"version {', '.join(map(str, READABLE_VERSIONS))} (upgrade ase-lcom)")
        try:
            with torch.random.fork_rng(devices=[]):  # the discarded initial weights leave the caller's RNG alone
                cdvae = CDVAE(CDVAEConfig.from_dict(content["cdvae"]["config"]))
            cdvae.load_state_dict({k: v.float() for k, v in content["cdvae"]["model"].items()})
            surrogates = {name: BundledSurrogate.from_content(part, f"{path} [{name}]")
                          for name, part in content["surrogates"].items()}
            seeds = SeedBank.from_content(content["seeds"])
        except (KeyError, TypeError, RuntimeError, AttributeError) as exc:
            raise CheckpointError(f"{path} is not a valid LCOM model bundle: {exc}") from exc
        name = content.get("name") or (entry.name if entry is not None else None)
        model = cls(cdvae, surrogates, seeds, content.get("card", {}), path, name)
        model.cdvae.to(device)
        return model

    def save(self, path: str | os.PathLike) -> Path:
        """Write the bundle (float16 weights, atomically) with its name; :meth:`load` reads it back."""
        half = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in self.cdvae.state_dict().items()}
        content = {"format": BUNDLE_KIND, "version": BUNDLE_VERSION, "name": self.name,
                   "cdvae": {"config": self.cdvae.cfg.to_dict(), "model": half},
                   "surrogates": {name: part.to_content() for name, part in self.surrogates.items()},
                   "seeds": self.seeds.to_content(), "card": self.card}
        return save_checkpoint(content, path)

    @property
    def device(self) -> torch.device:
        """Where the CD-VAE runs."""
        return next(self.cdvae.parameters()).device

    def surrogate(self, name: str) -> tuple[EnergySurrogate, LatentSearchSettings]:
        """The surrogate ``name`` and its latent search settings."""
        if name not in self.surrogates:
            raise CheckpointError(f"model has no {name!r} surrogate (it has: {', '.join(self.surrogates)})")
        part = self.surrogates[name]
        return part.model, part.settings

    @torch.no_grad()
    def encode(self, structures: Sequence[Structure], batch_size: int = 64) -> torch.Tensor:
        """``(B, latent)`` latent means of these structures."""
        parts = [self.cdvae.encode(CrystalBatch.from_structures(structures[k:k + batch_size],
                                                                dtype=torch.float32).to(self.device))[0].cpu()
                 for k in range(0, len(structures), batch_size)]
        return torch.cat(parts)

    def decode_crystals(self, latents: torch.Tensor, numbers: Sequence[Sequence[int]], num_levels: int = 20,
                        steps_per_level: int = 2, seed: int = 0) -> CrystalBatch:
        """Decode one crystal per latent with these atomic numbers (in this order), as a CPU batch."""
        device = self.device
        crystals = self.cdvae.decode(latents.float().to(device),
                                     torch.tensor([n for row in numbers for n in row], device=device),
                                     torch.tensor([len(row) for row in numbers], device=device), num_levels,
                                     steps_per_level, torch.Generator(device=device).manual_seed(seed))
        return crystals.to("cpu")

    def decode(self, latents: torch.Tensor, cells: Sequence[Composition], num_levels: int = 20,
               steps_per_level: int = 2, seed: int = 0) -> list[Structure]:
        """Decode one crystal per latent with the atoms of the matching cell composition."""
        numbers = [atomic_numbers(cell) for cell in cells]
        return self.decode_crystals(latents, numbers, num_levels, steps_per_level, seed).to_structures()

    def energies(self, structures: Sequence[Structure], surrogate: str = "coms") -> torch.Tensor:
        """Surrogate formation energies (eV/atom) of structures, through their latent means."""
        model, _ = self.surrogate(surrogate)
        cells = [s.composition for s in structures]
        with torch.no_grad():
            return model(self.encode(structures), composition_tensor(cells))

    def describe(self) -> str:
        """One paragraph for ``ase-lcom list``."""
        card = self.card
        return (f"{self.name} ({self.path}): CD-VAE latent {self.cdvae.cfg.encoder.latent_dim}, surrogates "
                f"{', '.join(self.surrogates)}, {len(self.seeds.formulas)} seed latents over "
                f"{len(set(self.seeds.formulas))} compositions; data {card.get('data', '?')}")


@lru_cache(maxsize=4)
def cached_model(name_or_path: str | None = None) -> LCOMModel:
    """Load a bundle once per process (predictors, the ASE optimizer and transformations share it)."""
    return LCOMModel.load(name_or_path)
