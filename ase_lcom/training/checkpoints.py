"""Checkpoints: plain tensors and values only, loaded with ``torch.load(weights_only=True)``.

A checkpoint from a stranger therefore cannot run code; a missing, truncated, corrupt or foreign file is a
:class:`CheckpointError` with a one-line message.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from ase_lcom.errors import LCOMError


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
