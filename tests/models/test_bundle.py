"""Model bundles: save/load round trips, format versions, the name registry and its sha256 check."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from pymatgen.core import Composition

from ase_lcom.models import bundle
from ase_lcom.models.bundle import LCOMModel, default_model_path, registered_models
from ase_lcom.models.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from ase_lcom.models.surrogate import LatentSearchSettings
from tests.models.tiny_bundle import SEARCH, random_model

CELLS = [Composition("NaCl"), Composition("Na2Cl2")]


def predictions(model: LCOMModel) -> tuple[list, torch.Tensor]:
    """Decoded crystals (lattices, coordinates) and their surrogate energies: what a predictor's result rests on."""
    structures = model.decode(model.seeds.latents[:2], CELLS, num_levels=2, steps_per_level=1, seed=3)
    arrays = [(s.lattice.matrix.tolist(), s.frac_coords.tolist(), [str(x) for x in s.species]) for s in structures]
    return arrays, model.energies(structures)


def test_save_load_round_trip_gives_identical_predictions(tmp_path):
    first = LCOMModel.load(random_model().save(tmp_path / "a.pt"))  # float16 on disk: compare loaded copies
    again = LCOMModel.load(first.save(tmp_path / "b.pt"))
    assert again.name == first.name == "tiny-random"
    assert again.card == first.card and again.seeds.formulas == first.seeds.formulas
    assert torch.equal(again.seeds.latents, first.seeds.latents)
    assert again.surrogate("coms")[1] == first.surrogate("coms")[1] == LatentSearchSettings(**SEARCH, whitened=True)
    assert again.surrogates["sl"].record == first.surrogates["sl"].record
    structures, energies = predictions(first)
    assert predictions(again)[0] == structures and torch.equal(predictions(again)[1], energies)


def test_an_unknown_newer_format_version_is_refused_in_one_line(tmp_path):
    path = random_model().save(tmp_path / "model.pt")
    content = load_checkpoint(path, "lcom")
    assert content["version"] == bundle.BUNDLE_VERSION and content["name"] == "tiny-random"
    save_checkpoint({**content, "version": 99}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match=r"format version 99; this ase-lcom reads version 1") as info:
        LCOMModel.load(tmp_path / "future.pt")
    assert "\n" not in str(info.value)


def test_a_file_without_a_recorded_name_is_named_by_its_stem(tmp_path):
    content = load_checkpoint(random_model().save(tmp_path / "model.pt"), "lcom")
    del content["name"]
    save_checkpoint(content, tmp_path / "my-bundle.pt")
    assert LCOMModel.load(tmp_path / "my-bundle.pt").name == "my-bundle"


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A registry holding ``tiny-v1`` (a random bundle saved without a name) as its default."""
    content = load_checkpoint(random_model().save(tmp_path / "tmp.pt"), "lcom")
    del content["name"]
    save_checkpoint(content, tmp_path / "tiny.pt")
    sha = hashlib.sha256((tmp_path / "tiny.pt").read_bytes()).hexdigest()
    (tmp_path / "models.json").write_text(json.dumps(
        {"default": "tiny-v1", "models": {"tiny-v1": {"file": "tiny.pt", "sha256": sha}}}))
    monkeypatch.setattr(bundle, "REGISTRY", tmp_path / "models.json")
    monkeypatch.delenv(bundle.MODEL_ENV, raising=False)
    return tmp_path


def test_models_load_by_name_by_path_and_by_default(registry, monkeypatch):
    assert LCOMModel.load("tiny-v1").name == "tiny-v1"
    assert LCOMModel.load(registry / "tiny.pt").name == "tiny-v1"  # the registered file, reached by path
    assert LCOMModel.load().name == "tiny-v1" and default_model_path() == registry / "tiny.pt"
    renamed = random_model(name="other-v2").save(registry / "other.pt")
    monkeypatch.setenv(bundle.MODEL_ENV, str(renamed))
    assert LCOMModel.load().name == "other-v2" and default_model_path() == renamed
    monkeypatch.setenv(bundle.MODEL_ENV, "tiny-v1")
    assert LCOMModel.load().name == "tiny-v1"
    with pytest.raises(CheckpointError, match="not a registered model name either .tiny-v1."):
        LCOMModel.load("tiny-v9")


def test_a_registered_file_that_does_not_match_its_sha256_is_refused(registry):
    data = bytearray((registry / "tiny.pt").read_bytes())
    data[-100] ^= 0xFF
    (registry / "tiny.pt").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match the sha256 registered for tiny-v1") as info:
        LCOMModel.load("tiny-v1")
    assert "\n" not in str(info.value)


def test_the_shipped_default_is_registered_named_and_intact(monkeypatch):
    monkeypatch.delenv(bundle.MODEL_ENV, raising=False)
    entry = registered_models()["lcom-default-v5"]
    assert entry.path == default_model_path() and entry.path.name == "default.pt"
    assert hashlib.sha256(entry.path.read_bytes()).hexdigest() == entry.sha256
    model = LCOMModel.load("lcom-default-v5")
    assert model.name == "lcom-default-v5" and model.describe().startswith("lcom-default-v5 ")
    assert model.surrogate("coms")[1] == LatentSearchSettings(steps=50, step_lr=0.8, whitened=True)


def test_the_shipped_default_survives_a_save_load_round_trip(tmp_path, monkeypatch):
    monkeypatch.delenv(bundle.MODEL_ENV, raising=False)
    shipped = LCOMModel.load()
    copy = LCOMModel.load(shipped.save(tmp_path / "copy.pt"))
    assert copy.name == "lcom-default-v5" and copy.card == shipped.card
    for key, value in shipped.cdvae.state_dict().items():
        assert torch.equal(copy.cdvae.state_dict()[key], value), key
    structures, energies = predictions(shipped)
    assert predictions(copy)[0] == structures and torch.equal(predictions(copy)[1], energies)


def test_loading_leaves_the_global_rng_alone(tmp_path):
    path = random_model().save(tmp_path / "model.pt")
    state = torch.get_rng_state()
    LCOMModel.load(path)
    assert torch.equal(torch.get_rng_state(), state)
