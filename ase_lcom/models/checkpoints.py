"""Checkpoints: plain tensors and values only, loaded with ``torch.load(weights_only=True)``.

A checkpoint from a stranger therefore cannot run code; a missing, truncated, corrupt or foreign file is a
:class:`CheckpointError` with a one-line message. Besides the generic reader and writer this module holds the
(de)serialisation of the two trained parts a model bundle is built from: CD-VAE checkpoints and energy
surrogates.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from ase_lcom.errors import LCOMError
from ase_lcom.models.cdvae import CDVAE, CDVAEConfig
from ase_lcom.models.surrogate import EnergySurrogate, LatentSearchSettings, SurrogateConfig

CDVAE_KIND = "cdvae"
SURROGATE_KIND = "surrogate"


class CheckpointError(LCOMError, ValueError):
    """A checkpoint file is missing, unreadable or of another kind."""


def save_checkpoint(content: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write atomically (a crash mid-write never leaves a truncated checkpoint at ``path``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
        torch.save(content, handle)
    os.replace(handle.name, path)
    return path


def load_checkpoint(path: str | os.PathLike, kind: str) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` whose ``format`` is ``kind``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path} is not a loadable checkpoint (corrupt, truncated or unsafe): {reason}") from exc
    if not isinstance(content, dict) or content.get("format") != kind:
        found = content.get("format") if isinstance(content, dict) else type(content).__name__
        raise CheckpointError(f"{path} is not an ase-lcom {kind} checkpoint (found {found!r})")
    return content


def load_cdvae(path: str | os.PathLike) -> tuple[CDVAE, dict[str, Any]]:
    """A trained CD-VAE (eval mode) and its checkpoint content (config, history, ...)."""
    content = load_checkpoint(path, CDVAE_KIND)
    try:
        with torch.random.fork_rng(devices=[]):  # the discarded initial weights leave the caller's RNG alone
            model = CDVAE(CDVAEConfig.from_dict(content["config"]))
        model.load_state_dict(content["model"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path} does not match the CD-VAE architecture: {exc}") from exc
    return model.eval(), content


def surrogate_content(model: EnergySurrogate, record: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint stores for a surrogate: its training ``record`` (``config``, ``model_config``,
    ``history``, ...) and weights, plain values and tensors only."""
    return {**record, "format": SURROGATE_KIND, "model": model.state_dict()}


def surrogate_from_content(content: dict[str, Any], where: str) -> tuple[EnergySurrogate, LatentSearchSettings]:
    """Rebuild a surrogate (eval mode, float32) and its latent search settings from :func:`surrogate_content`
    output; ``where`` names the source in error messages."""
    try:
        # surrogates stored before latent whitening existed have no such key and were trained without it
        with torch.random.fork_rng(devices=[]):
            model = EnergySurrogate(SurrogateConfig(**{"whiten_latents": False, **content["model_config"]}))
        model.load_state_dict({k: v.float() for k, v in content["model"].items()})
        settings = LatentSearchSettings(steps=int(content["config"]["steps"]),
                                        step_lr=float(content["config"]["step_lr"]),
                                        whitened=model.cfg.whiten_latents)
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{where} does not hold a valid energy surrogate: {exc}") from exc
    return model.eval(), settings
