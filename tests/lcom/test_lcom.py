"""LCOM: conservative surrogate training, the model bundle, predictors, the ASE optimizer, the transmuter pipeline."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from ase.build import bulk
from ase.io import read
from ase.optimize import BFGS
from pymatgen.alchemy.transmuters import StandardTransmuter
from pymatgen.core import Composition
from pymatgen.transformations.standard_transformations import SubstitutionTransformation

from ase_lcom.data.readers import read_records
from ase_lcom.errors import FormulaError, InvalidValueError
from ase_lcom.lcom.card import plot_training
from ase_lcom.lcom.dynamics import LCOM
from ase_lcom.lcom.predictor import CDVAEPredictor, LCOMPredictor, SLPredictor
from ase_lcom.models.bundle import LCOMModel, SeedBank, composition_tensor, default_model_path
from ase_lcom.models.checkpoints import CheckpointError
from ase_lcom.models.surrogate import descend
from ase_lcom.predictors import load_predictor
from ase_lcom.training.cdvae import TrainConfig, train_cdvae
from ase_lcom.training.lcom import build_lcom_model, capped_formation_energy, decode_seed_bank
from ase_lcom.training.strained import strained_seed_bank
from ase_lcom.training.surrogate import SurrogateTrainConfig, train_surrogate
from ase_lcom.transformations import LCOMTransformation
from tests.training.test_training import TINY

SMALL_COMS = SurrogateTrainConfig(epochs=8, batch_size=16, lr=1e-3, steps=5, step_lr=0.5)


@pytest.fixture(scope="module")
def tiny_bundle(shared_data, tmp_path_factory):
    """A tiny CD-VAE trained briefly on 24 real perovskites, with COMs and SL surrogates, as a bundle file."""
    work = tmp_path_factory.mktemp("lcom")
    records = list(itertools.islice(read_records(shared_data / "cdvae" / "perov_5" / "val.csv"), 24))
    structures = [r.structure for r in records]
    best = train_cdvae(structures[:20], structures[20:], work / "cdvae", TINY,
                       TrainConfig(epochs=2, batch_size=8, lr=3e-3), progress=False)
    build_lcom_model(best, records, work / "tiny.pt", work / "tiny.work", SMALL_COMS, {"data": "perov_5 val[:24]"},
                     progress=False)
    return work / "tiny.pt"


def test_conservative_training_pushes_up_adversarial_energies():
    """The COMs term must lower the surrogate's optimism off the data; ignoring alpha would make runs equal."""
    rng = np.random.default_rng(0)
    latents = torch.tensor(rng.normal(size=(96, 8)), dtype=torch.float32)
    compositions = composition_tensor([Composition("NaCl")] * 96)
    energies = latents[:, 0] * 0.3 - 1.0 + 0.05 * torch.randn(96, generator=torch.Generator().manual_seed(0))
    cfg = SurrogateTrainConfig(epochs=30, batch_size=32, lr=1e-3, steps=10, step_lr=0.5, tau=0.1, alpha_init=5.0,
                     val_fraction=0.0)

    def optimism(conservative: bool) -> float:
        model, run = train_surrogate(latents, compositions, energies, replace(cfg, conservative=conservative),
                                     progress=False)
        _, trace = descend(model, latents, compositions, cfg.steps, cfg.step_lr)
        return float(trace[0].mean() - trace[-1].mean())  # standardised drop the optimiser finds

    sl, coms = optimism(False), optimism(True)
    assert coms < 0.5 * sl, (coms, sl)


def test_whitened_surrogate_steps_in_standardised_latent_units(tmp_path):
    """With ``whiten_latents`` the network sees standardised latents and a latent step is ``lr * std**2 * dE/dlatent``
    (a step of ``lr`` along the whitened gradient); the scaler survives a checkpoint round trip."""
    from ase_lcom.models.checkpoints import load_checkpoint, save_checkpoint, surrogate_content, surrogate_from_content
    from ase_lcom.models.surrogate import SurrogateConfig

    rng = np.random.default_rng(1)
    scales = torch.tensor([0.1, 1.0, 3.0, 0.5])
    latents = torch.tensor(rng.normal(size=(64, 4)), dtype=torch.float32) * scales + 2.0
    compositions = composition_tensor([Composition("NaCl")] * 64)
    energies = latents[:, 0] - latents[:, 2] / 30
    model, run = train_surrogate(latents, compositions, energies, replace(SMALL_COMS, conservative=False),
                                 SurrogateConfig(latent_dim=4, hidden=16, whiten_latents=True), progress=False)
    assert torch.allclose(model.latent_std, scales, rtol=0.3)
    assert torch.all((model.latent_mean - latents.mean(0)).abs() < 0.2 * scales)  # fitted on the training rows
    z = latents[:3].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model.standardized(z, compositions[:3]).sum(), z)
    final, _ = descend(model, latents[:3], compositions[:3], 1, 0.1)
    assert torch.allclose(final - latents[:3], -0.1 * model.latent_std**2 * grad, atol=1e-6)
    save_checkpoint(surrogate_content(model, run), tmp_path / "s.pt")
    loaded, _ = surrogate_from_content(load_checkpoint(tmp_path / "s.pt", "surrogate"), "s.pt")
    assert loaded.cfg.whiten_latents and torch.equal(loaded.latent_mean, model.latent_mean)
    assert torch.allclose(loaded(latents, compositions), model(latents, compositions))
    # a surrogate stored before whitening existed (no such key, no scaler) loads as unwhitened
    old = surrogate_content(model, run)
    old["model_config"] = {k: v for k, v in old["model_config"].items() if k != "whiten_latents"}
    old["model"] = {k: v for k, v in old["model"].items() if not k.startswith("latent_")}
    legacy, _ = surrogate_from_content(old, "old.pt")
    assert not legacy.cfg.whiten_latents and legacy.latent_scale == 1.0


def test_bundle_round_trip_and_errors(tiny_bundle, tmp_path):
    model = LCOMModel.load(tiny_bundle)
    assert set(model.surrogates) == {"coms", "sl"}
    assert len(model.seeds.formulas) == 24 and model.seeds.latents.shape == (24, 8)
    assert model.card["structures"] == 24 and "cdvae_train_seconds" in model.card
    assert model.card["decoded_rows"] == 24 and model.card["decoded_calculator"] == "chgnet"
    history = model.card["surrogates"]["coms"]["final"]
    assert history["alpha"] > 0 and model.card["surrogates"]["sl"]["final"]["alpha"] == 0
    assert len(model.card["cdvae_history"]) == 2 and len(model.card["surrogates"]["coms"]["history"]) == 8
    assert plot_training(model, tmp_path / "card.png").stat().st_size > 10_000
    with pytest.raises(CheckpointError, match="not found"):
        LCOMModel.load(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(tiny_bundle.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="corrupt, truncated or unsafe"):
        LCOMModel.load(corrupt)


def test_a_rebuild_with_other_settings_or_data_is_refused(tiny_bundle, shared_data, tmp_path):
    work, cdvae = tiny_bundle.parent / "tiny.work", tiny_bundle.parent / "cdvae" / "best.pt"
    records = list(itertools.islice(read_records(shared_data / "cdvae" / "perov_5" / "val.csv"), 24))
    lr = r"lr \(surrogate\.lr\) is 0\.001 in .* but 0\.003"
    for data, config, says in [(records, replace(SMALL_COMS, lr=3e-3), lr),
                               (records[:23], SMALL_COMS, "data_sha256 is")]:
        with pytest.raises(CheckpointError, match=f"train lcom setting {says}") as info:
            build_lcom_model(cdvae, data, tmp_path / "m.pt", work, config, progress=False)
        assert "\n" not in str(info.value) and not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("cls", [LCOMPredictor, SLPredictor, CDVAEPredictor])
def test_predictors_return_ranked_candidates_of_the_formula(tiny_bundle, cls):
    predictor = cls(tiny_bundle, n_candidates=3, num_levels=4, steps_per_level=1, polish=None)
    candidates = predictor.predict_candidates("SrTiO3", seed=1)
    assert len(candidates) == 3
    assert all(c.structure.composition.reduced_formula == "SrTiO3" for c in candidates)
    energies = [c.energy_per_atom for c in candidates]
    assert energies == sorted(energies)
    first = candidates[0].info
    assert (first["predictor"], first["model"]) == (cls.name, "tiny")
    assert first["seed"].split(":")[0] in ("data", "prototype", "random")
    assert len(first["trace"]) == predictor.steps + 1
    if cls is CDVAEPredictor:
        assert predictor.steps == 0
    else:  # the optimiser goes downhill on its own surrogate
        assert predictor.steps > 0 and all(c.info["trace"][-1] <= c.info["trace"][0] + 1e-6 for c in candidates)


def test_seeds_include_decorated_prototypes_of_the_cell_size(tiny_bundle):
    predictor = LCOMPredictor(tiny_bundle)
    _, cells, labels, _ = predictor.seeds("NaCl", 1, 4, np.random.default_rng(0))
    assert {"prototype:rocksalt", "prototype:cscl", "prototype:zincblende"} <= set(labels)
    assert all(cell.num_atoms == 2 for cell in cells)
    _, cells, labels, _ = predictor.seeds("NaCl", 2, 4, np.random.default_rng(0))
    assert "prototype:wurtzite" in labels and "prototype:rocksalt" not in labels  # rocksalt has 2 or 8 atoms
    _, _, labels, _ = LCOMPredictor(tiny_bundle, prototypes=False).seeds("NaCl", 1, 4, np.random.default_rng(0))
    assert labels == ["random"] * 4


def test_predict_unseen_composition_with_z_uses_random_seeds(tiny_bundle):
    candidates = LCOMPredictor(tiny_bundle, n_candidates=2, num_levels=4, steps_per_level=1,
                               prototypes=False, polish=None).predict_candidates("NaCl", formula_units=2)
    assert all(c.info["seed"] == "random" for c in candidates)
    assert all(c.structure.composition.reduced_formula == "NaCl" for c in candidates)
    assert all(c.info["num_atoms"] == 4 for c in candidates)


@pytest.mark.parametrize("bad", ["Xx2O", "NaCl0", "", "H2O)"])
def test_predict_rejects_bad_formulas(tiny_bundle, bad):
    with pytest.raises(FormulaError):
        LCOMPredictor(tiny_bundle).predict(bad)


def test_predict_with_relaxation_reranks_by_validated_energy(tiny_bundle):
    candidates = LCOMPredictor(tiny_bundle, n_candidates=2, num_levels=4, steps_per_level=1,
                               relax_steps=30).predict_candidates("NaCl", formula_units=1, relax=True)
    validated = [c.validated_energy_per_atom for c in candidates]
    assert all(v is not None and np.isfinite(v) for v in validated) and validated == sorted(validated)
    assert all("unrelaxed" in c.info for c in candidates)


def test_rank_by_calculator_orders_candidates_by_single_point_energy(tiny_bundle):
    candidates = LCOMPredictor(tiny_bundle, n_candidates=3, num_levels=4, steps_per_level=1,
                               rank_by="chgnet").predict_candidates("NaCl", formula_units=1)
    validated = [c.validated_energy_per_atom for c in candidates]
    assert all(np.isfinite(v) for v in validated) and validated == sorted(validated)
    assert all(c.info["ranked_by"] == "chgnet" and "unrelaxed" not in c.info for c in candidates)


def test_decoded_rows_are_scored_capped_and_resumed(tiny_bundle, tmp_path):
    model = LCOMModel.load(tiny_bundle)
    seeds = model.seeds
    head = SeedBank(seeds.latents[:4], seeds.formulas[:4], seeds.num_atoms[:4], seeds.energies[:4])
    path = tmp_path / "decoded.pt"
    first = decode_seed_bank(model, head, "chgnet", path, chunk=2, max_energy=1.0, progress=False)
    assert first.formulas == seeds.formulas[:4] and torch.all(first.energies <= 1.0)
    assert torch.all(torch.isfinite(first.energies)) and first.latents.shape == (4, 8)
    second = decode_seed_bank(model, SeedBank(seeds.latents[:6], seeds.formulas[:6], seeds.num_atoms[:6],
                                              seeds.energies[:6]), "chgnet", path, chunk=2, progress=False)
    assert len(second.formulas) == 6 and torch.equal(second.energies[:4], first.energies)  # kept, not redone


def test_strained_rows_are_scored_higher_than_the_relaxed_crystal_and_resumed(tiny_bundle, shared_data, tmp_path):
    model = LCOMModel.load(tiny_bundle)
    records = list(itertools.islice(read_records(shared_data / "cdvae" / "perov_5" / "val.csv"), 3))
    path = tmp_path / "strained.pt"
    first = strained_seed_bank(model, records[:2], (0.8, 1.25), "chgnet", path, chunk=3, progress=False)
    assert first.formulas == [r.structure.composition.reduced_formula for r in records[:2] for _ in range(2)]
    relaxed = [capped_formation_energy((0, r.structure.as_dict()), "chgnet", 5.0)[1] for r in records[:2]]
    for k, energy in enumerate(first.energies.tolist()):  # the DFT-relaxed cell sits near CHGNet's minimum
        assert energy > relaxed[k // 2] + 0.02
    unstrained = model.encode([r.structure for r in records[:2]]).half().float()  # stored latents are float16
    assert (first.latents[0::2] - unstrained).abs().max() > 1e-3  # the latent sees the volume
    marked = torch.load(path, weights_only=True)
    marked["energies"] = torch.full_like(marked["energies"], -9.0)  # a resumed run must keep these, not redo them
    torch.save(marked, path)
    second = strained_seed_bank(model, records, (0.8, 1.25), "chgnet", path, chunk=3, progress=False)
    assert len(second.formulas) == 6 and torch.all(second.energies[:4] == -9.0)
    assert torch.all(second.energies[4:] > -9.0)
    for factors, calculator in [((1.25, 0.8), "chgnet"), ((0.8, 1.25), "emt")]:
        with pytest.raises(CheckpointError, match="strained rows made with"):
            strained_seed_bank(model, records, factors, calculator, path, progress=False)
    with pytest.raises(CheckpointError, match="holds 6 strained rows .* not 2 with"):
        strained_seed_bank(model, records[:1], (0.8, 1.25), "chgnet", path, progress=False)


@pytest.mark.parametrize("factors", [(1.0,), (0.2,), (0.8, 4.0)])
def test_unusable_volume_factors_are_refused_before_any_work(factors, tiny_bundle, tmp_path):
    with pytest.raises(InvalidValueError, match="volume factor .* must lie between"):
        build_lcom_model(tiny_bundle.parent / "cdvae" / "best.pt", [], tmp_path / "m.pt", tmp_path / "w",
                         SMALL_COMS, progress=False, volume_factors=factors)
    assert not (tmp_path / "w").exists()


def test_volume_factors_without_a_calculator_are_refused(tiny_bundle, tmp_path):
    with pytest.raises(InvalidValueError, match="volume factors need a calculator"):
        build_lcom_model(tiny_bundle.parent / "cdvae" / "best.pt", [], tmp_path / "m.pt", tmp_path / "w",
                         SMALL_COMS, progress=False, volume_factors=(0.8,), decoded_calculator=None)


def test_a_build_with_volume_factors_trains_on_data_decoded_and_strained_rows(tiny_bundle, shared_data, tmp_path):
    records = list(itertools.islice(read_records(shared_data / "cdvae" / "perov_5" / "val.csv"), 6))
    model = build_lcom_model(tiny_bundle.parent / "cdvae" / "best.pt", records, tmp_path / "m.pt", tmp_path / "w",
                             SMALL_COMS, progress=False, volume_factors=(0.8,))
    card = model.card
    assert (card["structures"], card["decoded_rows"], card["strained_rows"]) == (6, 6, 6)
    assert card["volume_factors"] == [0.8] and card["strain_seconds"] > 0
    assert (tmp_path / "w" / "strained-chgnet.pt").exists() and len(model.seeds.formulas) == 6


@pytest.mark.slow
def test_decoded_rows_scored_in_worker_processes_equal_the_serial_ones(tiny_bundle, tmp_path):
    from ase_lcom.execution import ProcessExecutor

    model = LCOMModel.load(tiny_bundle)
    seeds = model.seeds
    head = SeedBank(seeds.latents[:4], seeds.formulas[:4], seeds.num_atoms[:4], seeds.energies[:4])
    serial = decode_seed_bank(model, head, "chgnet", tmp_path / "serial.pt", chunk=4, progress=False)
    with ProcessExecutor(2) as executor:
        parallel = decode_seed_bank(model, head, "chgnet", tmp_path / "parallel.pt", chunk=4, progress=False,
                                    executor=executor)
    assert torch.allclose(parallel.energies, serial.energies, atol=1e-5)
    assert parallel.formulas == serial.formulas


def test_seed_improvement_report(tiny_bundle, tmp_path):
    from ase_lcom.benchmarks import improvement

    model = LCOMModel.load(tiny_bundle)
    rows = improvement.seed_improvements(["NaCl"], model, {"NaCl": 1}, n_seeds=3, start="predictor", progress=False)
    assert len(rows[0]["seed_energy"]) == len(rows[0]["coms"]) == len(rows[0]["sl"]) == 3
    assert rows[0]["seeds"][0] == "prototype:rocksalt"
    summary = improvement.write_report(rows, tmp_path)
    expected = np.median(improvement.relative_improvement(rows[0], "coms"))
    assert summary["coms"]["per_compound"]["NaCl"] == pytest.approx(expected)
    assert summary["coms"]["mean_over_seeds"] == pytest.approx(np.mean(improvement.relative_improvement(rows[0],
                                                                                                         "coms")))
    assert (tmp_path / "improvement.png").stat().st_size > 10_000


def test_seed_improvement_budget_override(tiny_bundle):
    from ase_lcom.benchmarks import improvement

    model = LCOMModel.load(tiny_bundle)
    # a vanishing step leaves the latents where they were: same decoder noise, so the same crystals and energies
    (row,) = improvement.seed_improvements(["NaCl"], model, {"NaCl": 1}, n_seeds=2, start="predictor", steps=1,
                                           step_lr=1e-9, progress=False)
    assert (row["steps"], row["step_lr"]) == (1, 1e-9)
    assert row["coms"] == pytest.approx(row["seed_energy"], abs=1e-4)
    assert row["sl_predicted_drop"] == pytest.approx([0.0, 0.0], abs=1e-6)
    # the default budget moves the latents: the surrogates predict a drop (gradient descent on their own energy)
    (moved,) = improvement.seed_improvements(["NaCl"], model, {"NaCl": 1}, n_seeds=2, start="predictor",
                                             progress=False)
    assert all(drop > 0 for drop in moved["coms_predicted_drop"] + moved["sl_predicted_drop"])
    with pytest.raises(ValueError, match="steps >= 1 and step_lr > 0"):
        improvement.seed_improvements(["NaCl"], model, {"NaCl": 1}, start="predictor", step_lr=0.0)


def test_seed_improvement_from_relaxed_random_cells_as_in_the_paper(tiny_bundle, tmp_path):
    from ase_lcom.benchmarks import improvement

    model = LCOMModel.load(tiny_bundle)
    cache = tmp_path / "seeds.json"
    (row,) = improvement.seed_improvements(["NaCl"], model, {"NaCl": 2}, n_seeds=2, seed=(0, 1), progress=False,
                                           seed_cache=cache)
    assert row["seeds"] == ["relaxed-random"] * 4 and row["run"] == [0, 0, 1, 1] and len(row["coms"]) == 4
    assert len(row["coms_distance"]) == 4 and all(d > 0 for d in row["coms_distance"])
    # CHGNet relaxed the random 4-atom cells into bound NaCl crystals (rocksalt: about -2 eV/atom)
    assert all(-2.5 < e < -0.5 for e in row["relaxed_seed_energy"])
    # the cache holds the relaxed seeds: a second model (here the same) sees exactly the same ones, unrelaxed again
    assert sorted(json.loads(cache.read_text())) == ["chgnet/NaCl/2/0/2", "chgnet/NaCl/2/1/2"]
    (again,) = improvement.seed_improvements(["NaCl"], model, {"NaCl": 2}, n_seeds=2, seed=(0, 1), progress=False,
                                             seed_cache=cache)
    assert again["relaxed_seed_energy"] == pytest.approx(row["relaxed_seed_energy"], abs=1e-5)
    assert again["coms"] == pytest.approx(row["coms"], abs=1e-4)
    with pytest.raises(ValueError, match="unknown start"):
        improvement.seed_improvements(["NaCl"], model, {"NaCl": 1}, start="random")


def test_ase_optimizer_moves_atoms_writes_trajectory_and_chains(tiny_bundle, tmp_path):
    from ase.calculators.emt import EMT

    atoms = bulk("Cu", "fcc", a=3.6) * (2, 1, 1)
    atoms.calc = EMT()
    before = atoms.get_positions().copy(), atoms.cell.array.copy()
    calls = []
    traj = tmp_path / "lcom.traj"
    log = tmp_path / "lcom.log"
    opt = LCOM(atoms, model=tiny_bundle, trajectory=str(traj), logfile=str(log), num_levels=4, steps_per_level=1)
    opt.attach(lambda: calls.append(opt.nsteps))
    assert not opt.run(fmax=0.0, steps=3)  # a zero tolerance is never met: the step budget ends the run
    assert opt.nsteps == 3 and calls == [0, 1, 2, 3]
    assert not (np.allclose(atoms.get_positions(), before[0]) and np.allclose(atoms.cell.array, before[1]))
    frames = read(traj, ":")
    assert len(frames) == 4 and all("lcom_energy_per_atom" in f.info for f in frames)
    assert frames[-1].info["lcom_model"] == "tiny"
    assert len(log.read_text().splitlines()) == 5  # header + steps 0..3
    assert list(atoms.numbers) == [29, 29]
    BFGS(atoms, logfile=None).run(fmax=0.5, steps=5)  # an ordinary relaxation continues from the decoded crystal
    assert np.isfinite(atoms.get_potential_energy())


def test_transmuter_pipeline_predicts_the_substituted_compound(tiny_bundle, nacl):
    transmuter = StandardTransmuter.from_structures(
        [nacl], [SubstitutionTransformation({"Na": "K"}), LCOMTransformation(model=tiny_bundle, n_candidates=2)])
    final = transmuter.transformed_structures[0].final_structure
    assert final.composition.reduced_formula == "KCl"
    ranked = LCOMTransformation(model=tiny_bundle, n_candidates=3, polish=None).apply_transformation(
        nacl, return_ranked_list=2)
    assert len(ranked) == 2 and ranked[0]["energy_per_atom"] <= ranked[1]["energy_per_atom"]
    restored = LCOMTransformation.from_dict(LCOMTransformation(model=tiny_bundle).as_dict())
    assert restored.options["model"] == str(tiny_bundle)


def test_entry_point_predictors_load(tiny_bundle):
    for name, cls in (("lcom", LCOMPredictor), ("sl", SLPredictor), ("cdvae", CDVAEPredictor)):
        assert type(load_predictor(name, model=tiny_bundle)) is cls


def test_cli_predict_writes_structure_and_plot(tiny_bundle, tmp_path):
    out, plot = tmp_path / "pred.extxyz", tmp_path / "trace.png"
    done = subprocess.run([sys.executable, "-m", "ase_lcom.cli", "predict", "SrTiO3", "--model", str(tiny_bundle),
                           "-k", "2", "--pure", "-o", str(out), "--plot", str(plot)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "space group" in done.stdout and Composition(read(out).get_chemical_formula()).reduced_formula == "SrTiO3"
    assert plot.stat().st_size > 1000
    bad = subprocess.run([sys.executable, "-m", "ase_lcom.cli", "predict", "Qq2", "--model", str(tiny_bundle)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Qq" in bad.stderr


def test_default_model_loads_offline_and_predicts_zno(monkeypatch):
    """The shipped bundle is inside the package: no network is touched to load it or to predict with it."""
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the default model tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.delenv("ASE_LCOM_MODEL", raising=False)
    path = default_model_path()
    assert path.is_file(), f"the default model is not shipped at {path}"
    model = LCOMModel.load(path)
    assert set(model.surrogates) == {"coms", "sl"} and "ZnO" in model.seeds.formulas
    assert model.card["structures"] == len(model.seeds.formulas) > 1000
    candidates = LCOMPredictor(model, n_candidates=4, polish=None).predict_candidates("ZnO", seed=0)
    assert all(c.structure.composition.reduced_formula == "ZnO" for c in candidates)
    assert candidates[0].info["spacegroup"] and np.isfinite(candidates[0].energy_per_atom)
    assert candidates[0].info["trace"][-1] <= candidates[0].info["trace"][0] + 1e-6
