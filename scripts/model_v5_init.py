"""Prepare the fine-tuning start of model v5's CD-VAE: v4's CD-VAE as a checkpoint and the split it validates on.

Usage::

    python scripts/model_v5_init.py runs/cdvae-v5-init

writes ``runs/cdvae-v5-init/init.pt`` (the shipped bundle's CD-VAE, weights back to float32) and ``split.json``
beside it, which ``ase-lcom train cdvae --init runs/cdvae-v5-init/init.pt`` reads: validation keeps the 24
compositions v4's CD-VAE never trained on (the seed-0 split of the default dataset) and adds a tenth of the
compositions dataset v3 brings (seed 0), so that early stopping also sees ternaries, quaternaries and
intermetallics. Every other composition trains.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from ase_lcom.data.compositions import v3_compositions
from ase_lcom.data.selection import training_records
from ase_lcom.data.splits import split_by_composition
from ase_lcom.models.checkpoints import CDVAE_KIND, save_checkpoint
from ase_lcom.structure import parse_formula

ROOT = Path(__file__).resolve().parents[1]
NEW_VAL_FRACTION = 0.1


def v4_validation() -> list[str]:
    """The 24 compositions of the default dataset's seed-0 split that v2's and v3's CD-VAE validated on."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "default.db"
        with gzip.open(ROOT / "datasets/default/default.db.gz") as zipped, db.open("wb") as out:
            shutil.copyfileobj(zipped, out)
        return sorted({r.formula for r in split_by_composition(training_records(db), seed=0)["val"]})


def new_validation(old: set[str]) -> list[str]:
    """A seed-0 tenth of v3's compositions beyond the default dataset's."""
    default = {parse_formula(f, max_atoms=None).reduced_formula for f in _default_compositions()}
    new = sorted({parse_formula(f, max_atoms=None).reduced_formula for f in v3_compositions(seed=0)} - default - old)
    order = np.random.default_rng(0).permutation(len(new))
    return sorted(new[i] for i in order[: round(NEW_VAL_FRACTION * len(new))])


def _default_compositions() -> list[str]:
    from ase_lcom.data.generator import default_run

    return list(default_run()["compositions"])


def main(out: Path) -> None:
    bundle = torch.load(ROOT / "ase_lcom/pretrained/default.pt", map_location="cpu", weights_only=True)
    weights = {k: v.float() if v.is_floating_point() else v for k, v in bundle["cdvae"]["model"].items()}
    save_checkpoint({"format": CDVAE_KIND, "config": bundle["cdvae"]["config"], "model": weights},
                    out / "init.pt")
    old = v4_validation()
    val = sorted(set(old) | set(new_validation(set(old))))
    (out / "split.json").write_text(json.dumps({"val": val}))
    print(f"{out / 'init.pt'}: v4's CD-VAE; validation {len(val)} compositions ({len(old)} of v4's, "
          f"{len(val) - len(old)} of v3's new ones)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "runs" / "cdvae-v5-init")
