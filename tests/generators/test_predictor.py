"""A trained generator as a structure predictor: calculator-scored best of n samples for its template only."""

from __future__ import annotations

import pytest

from ase_lcom.data.fixed_lattice import FixedLatticeDataset
from ase_lcom.errors import FormulaError, StructureError
from ase_lcom.generators import predictor as predictor_module
from ase_lcom.generators.cryingan import CryinGAN
from ase_lcom.generators.predictor import GeneratorPredictor, checkpoint_path, load_generator
from ase_lcom.models.checkpoints import CheckpointError
from ase_lcom.models.cryingan import CryinGANConfig
from ase_lcom.training.cryingan import CryinGANTrainConfig


@pytest.fixture
def copper_nickel(make_toy):
    return FixedLatticeDataset.from_structures(make_toy(8, elements=("Cu", "Ni")))  # EMT knows Cu and Ni


@pytest.fixture
def trained(copper_nickel, tmp_path):
    gan = CryinGAN(CryinGANConfig(gen_channels=4, critic_channels=(8, 8, 4), critic_hidden=(8, 4, 2)),
                   CryinGANTrainConfig(epochs=1, batch_size=4))
    gan.fit(copper_nickel, tmp_path / "run", progress=False)
    return gan, tmp_path / "run"


def test_best_of_n_samples(trained, copper_nickel, assert_template):
    gan, _ = trained
    predictor = GeneratorPredictor(checkpoint=gan, calculator="emt", n_samples=5)
    candidates = predictor.predict_candidates("Cu3Ni", n_candidates=3, seed=4)
    assert_template([c.structure for c in candidates], copper_nickel, 3)
    energies = [c.validated_energy_per_atom for c in candidates]
    assert energies == sorted(energies) and all(e is not None for e in energies)
    assert [c.energy_per_atom for c in candidates] == energies
    assert {c.info["sample"] for c in candidates} <= set(range(5))
    assert all(c.info["model"] == "cryingan" and c.info["formula_units"] == 8 for c in candidates)
    everything = predictor.predict_candidates("Cu24Ni8", formula_units=8, n_candidates=None, seed=4)
    assert len(everything) == 5 and everything[0].validated_energy_per_atom == energies[0]
    # a one-epoch GAN puts atoms on top of each other: every sample is marked invalid and predict() refuses
    assert all("apart" in c.info["invalid"] for c in everything)
    with pytest.raises(StructureError, match="no valid candidate"):
        predictor.predict("Cu3Ni", seed=4)


def test_other_compositions_are_refused(trained):
    predictor = GeneratorPredictor(checkpoint=trained[0], calculator="emt", n_samples=2)
    with pytest.raises(FormulaError, match="makes Cu24Ni8 only"):
        predictor.predict_candidates("FeNi")
    with pytest.raises(FormulaError, match="8 formula units only"):
        predictor.predict_candidates("Cu3Ni", formula_units=2)


def test_loads_a_training_directory(trained, monkeypatch):
    gan, run = trained
    assert checkpoint_path(run) == run / "generator.pt"
    monkeypatch.setattr(predictor_module, "generator_class", {"cryingan": CryinGAN}.__getitem__)
    loaded = load_generator(run)
    assert isinstance(loaded, CryinGAN)
    assert loaded.sample(2, seed=1)[1].matches(gan.sample(2, seed=1)[1])
    with pytest.raises(CheckpointError, match="no generator.pt or last.pt"):
        checkpoint_path(run.parent)
    with pytest.raises(CheckpointError, match="needs checkpoint"):
        GeneratorPredictor().predict_candidates("Cu3Ni")
