"""Prepare the fine-tuning start of model v5's CD-VAE: v4's CD-VAE as a checkpoint and the split it validates on.

Usage::

    python scripts/model_v5_init.py runs/cdvae-v5-init

writes ``runs/cdvae-v5-init/init.pt`` (v4's CD-VAE, weights back to float32; v4's bundle is read from git
history, the package has shipped v5 since 2026-12-03) and ``split.json``
beside it, which ``ase-lcom train cdvae --init runs/cdvae-v5-init/init.pt`` reads: validation keeps the 24
compositions v4's CD-VAE never trained on (the seed-0 split of the default dataset) and adds a tenth of the
compositions dataset v3 brings (seed 0), so that early stopping also sees ternaries, quaternaries and
intermetallics. Every other composition trains.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from ase_lcom.data.compositions import v3_compositions
from ase_lcom.data.selection import training_records
from ase_lcom.data.splits import split_by_composition
from ase_lcom.models.bundle import sha256_of
from ase_lcom.models.checkpoints import CDVAE_KIND, save_checkpoint
from ase_lcom.structure import parse_formula

ROOT = Path(__file__).resolve().parents[1]
NEW_VAL_FRACTION = 0.1
V4_SHA256 = "78c37f56902bd7ef6b74dcb20ed792753c515d06cb5e0198d87f1eba16168684"
"""v4's bundle as it shipped (``models.json`` until 2026-12-03)."""
V4_COMMIT = "0081255"
"""The last commit that shipped v4 as ``ase_lcom/pretrained/default.pt``."""


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


def v4_bundle(path: Path) -> Path:
    """v4's bundle at ``path``, written from git history (:data:`V4_COMMIT`) unless it is there already."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = subprocess.run(["git", "show", f"{V4_COMMIT}:ase_lcom/pretrained/default.pt"], cwd=ROOT,
                              capture_output=True, check=False)
        if blob.returncode != 0:
            sys.exit(f"cannot read v4's bundle from git commit {V4_COMMIT}: {blob.stderr.decode().strip()}")
        path.write_bytes(blob.stdout)
    return path


def main(out: Path, source: Path | None = None) -> None:
    source = source or v4_bundle(out / "lcom-default-v4.pt")
    if not source.is_file():
        sys.exit(f"{source}: no such bundle file")
    if sha256_of(source) != V4_SHA256:
        sys.exit(f"{source} is not the v4 bundle (sha256 {V4_SHA256[:12]}...); pass v4's file with --bundle")
    out.mkdir(parents=True, exist_ok=True)
    bundle = torch.load(source, map_location="cpu", weights_only=True)
    weights = {k: v.float() if v.is_floating_point() else v for k, v in bundle["cdvae"]["model"].items()}
    save_checkpoint({"format": CDVAE_KIND, "config": bundle["cdvae"]["config"], "model": weights},
                    out / "init.pt")
    old = v4_validation()
    val = sorted(set(old) | set(new_validation(set(old))))
    (out / "split.json").write_text(json.dumps({"val": val}))
    print(f"{out / 'init.pt'}: v4's CD-VAE; validation {len(val)} compositions ({len(old)} of v4's, "
          f"{len(val) - len(old)} of v3's new ones)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "runs" / "cdvae-v5-init")
    parser.add_argument("--bundle", type=Path,
                        help="v4's bundle file (default: read from git history); checked by its sha256")
    args = parser.parse_args()
    main(args.out, args.bundle)
