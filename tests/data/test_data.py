"""Dataset records, readers, generator (resumption, leakage control) and splits."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Lattice, Structure

from ase_lcom.data.compositions import CSP26, benchmark_polymorphs, charge_balanced, default_compositions
from ase_lcom.data.prototypes import PROTOTYPES, decorate
from ase_lcom.data.readers import RowWarning, read_records
from ase_lcom.data.records import CrystalDatabase, CrystalRecord, DataError
from ase_lcom.data.splits import exclude_compositions, exclude_matching, split_by_composition


# ------------------------------------------------------------------------------------------------ readers
def test_cdvae_perov_csv_reads_formation_energies(shared_data):
    records = list(itertools.islice(read_records(shared_data / "cdvae" / "perov_5" / "val.csv"), 20))
    assert len(records) == 20
    assert all(len(r.structure) == 5 and r.formation_energy_per_atom is not None for r in records)
    assert all(r.energy_per_atom is None for r in records)
    assert records[0].source == "val.csv" and records[0].id


def test_cdvae_carbon_csv_reads_total_energies(shared_data):
    records = list(itertools.islice(read_records(shared_data / "cdvae" / "carbon_24" / "test.csv"), 10))
    assert all(r.formula == "C" and r.energy_per_atom is not None for r in records)
    assert all(r.formation_energy_per_atom is None for r in records)


def test_csv_corrupt_row_is_skipped_with_a_warning_naming_it(shared_data, tmp_path):
    with (shared_data / "cdvae" / "perov_5" / "test.csv").open() as handle:
        reader = csv.DictReader(handle)
        columns, real = reader.fieldnames, next(reader)
    path = tmp_path / "mixed.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerow(real)
        writer.writerow({**real, "material_id": "broken-row", "cif": "data_x\n_cell_length_a banana\n"})
    with pytest.warns(RowWarning, match=r"mixed.csv: skipped row 1 \(broken-row\)"):
        records = list(read_records(path))
    assert len(records) == 1 and records[0].id == real["material_id"]


def _matbench_file(tmp_path, rows):
    path = tmp_path / "matbench_mp_e_form.json"
    path.write_text(json.dumps({"index": list(range(len(rows))), "columns": ["structure", "e_form"], "data": rows}))
    return path


def test_matbench_json(tmp_path, nacl):
    mgo = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.21), ["Mg", "O"], [[0, 0, 0], [0.5] * 3])
    path = _matbench_file(tmp_path, [[nacl.as_dict(), -2.1], [mgo.as_dict(), -3.0], [{"bad": 1}, -1.0]])
    with pytest.warns(RowWarning, match="skipped row 2"):
        records = list(read_records(path))
    assert [r.formula for r in records] == ["NaCl", "MgO"]
    assert [r.formation_energy_per_atom for r in records] == [-2.1, -3.0]
    assert records[1].structure.matches(mgo)


def test_optimade_json(tmp_path, nacl):
    entry = {
        "id": "oqmd-1", "type": "structures",
        "attributes": {
            "lattice_vectors": nacl.lattice.matrix.tolist(),
            "cartesian_site_positions": nacl.cart_coords.tolist(),
            "species_at_sites": [s.specie.symbol for s in nacl],
            "species": [{"name": "Na", "chemical_symbols": ["Na"], "concentration": [1.0]},
                        {"name": "Cl", "chemical_symbols": ["Cl"], "concentration": [1.0]}],
            "_oqmd_delta_e": -2.05,
        },
    }
    disordered = json.loads(json.dumps(entry))
    disordered["id"] = "oqmd-2"
    disordered["attributes"]["species"][0] = {"name": "Na", "chemical_symbols": ["Na", "K"], "concentration": [0.5, 0.5]}
    path = tmp_path / "optimade.json"
    path.write_text(json.dumps({"data": [entry, disordered], "meta": {}}))
    with pytest.warns(RowWarning, match=r"entry 1 \(oqmd-2\).*disordered"):
        records = list(read_records(path))
    assert len(records) == 1
    assert records[0].id == "oqmd-1" and records[0].formation_energy_per_atom == -2.05
    assert StructureMatcher().fit(records[0].structure, nacl)


def test_extxyz_with_energies(tmp_path):
    frames = []
    for a in (3.5, 3.6, 3.7):
        atoms = bulk("Cu", "fcc", a=a)
        atoms.calc = SinglePointCalculator(atoms, energy=-3.0 * a)
        frames.append(atoms)
    frames[1].info["formation_energy_per_atom"] = 0.0
    write(tmp_path / "cu.extxyz", frames)
    records = list(read_records(tmp_path / "cu.extxyz"))
    assert [round(r.energy_per_atom, 6) for r in records] == [-10.5, -10.8, -11.1]
    assert records[1].formation_energy_per_atom == 0.0 and records[0].formation_energy_per_atom is None


def test_ase_db_roundtrip(tmp_path, nacl):
    db = CrystalDatabase(tmp_path / "x.db")
    db.add(CrystalRecord(nacl, -3.6, -2.0, source="test", id="nacl-1", info={"prototype": "rocksalt"}))
    (record,) = list(read_records(tmp_path / "x.db"))
    assert (record.id, record.energy_per_atom, record.formation_energy_per_atom) == ("nacl-1", -3.6, -2.0)
    assert record.info["prototype"] == "rocksalt" and record.structure.matches(nacl)
    with pytest.raises(DataError, match="reserved"):
        db.add(CrystalRecord(nacl, id="x", info={"energy": 1.0}))


def test_matbench_non_energy_target_is_refused(tmp_path, nacl):
    path = tmp_path / "matbench_mp_gap.json"
    path.write_text(json.dumps({"columns": ["structure", "gap pbe"], "data": [[nacl.as_dict(), 5.0]]}))
    with pytest.raises(DataError, match="not an energy"):
        list(read_records(path))


def test_numeric_looking_ids_roundtrip(tmp_path, nacl):
    db = CrystalDatabase(tmp_path / "ids.db")
    ids = ["18517", "0123", "1e3", "nan", "'x'"]
    db.add_many([CrystalRecord(nacl, id=i, source="123") for i in ids])
    assert db.ids() == set(ids)
    assert {r.source for r in db} == {"123"}


def test_reader_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        list(read_records(tmp_path / "none.csv"))
    (tmp_path / "empty.csv").write_text("cif,heat_ref\n")
    with pytest.raises(DataError, match="no usable crystal record"):
        list(read_records(tmp_path / "empty.csv"))
    (tmp_path / "nocif.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="no 'cif' column"):
        list(read_records(tmp_path / "nocif.csv"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        list(read_records(tmp_path / "bad.json"))
    (tmp_path / "x.dat").write_text("")
    with pytest.raises(DataError, match="cannot tell the dataset format"):
        list(read_records(tmp_path / "x.dat"))


# ------------------------------------------------------------------------------------------ compositions
def test_default_compositions_contain_the_benchmark_and_are_charge_balanced():
    formulas = default_compositions()
    assert len(formulas) == len(set(formulas)) >= 150
    assert set(CSP26) <= set(formulas)
    for formula in formulas[26:]:
        assert Composition(formula).oxi_state_guesses(), formula  # pymatgen agrees they balance
    assert not charge_balanced(Composition("CsSiCl3"))  # Cl is an anion: no Cl+ to balance Si-4
    assert default_compositions(seed=1) != formulas and default_compositions() == formulas


def test_prototypes_have_the_right_symmetry():
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    expected = {"rocksalt": 225, "cscl": 221, "zincblende": 216, "wurtzite": 186, "nias": 194}
    for name, structure in decorate("ZnO"):
        if name in expected:
            assert SpacegroupAnalyzer(structure).get_space_group_number() == expected[name]
    # cells start with the cation-anion contact at the sum of covalent radii (x 1.05), perovskites included
    from ase_lcom.data.prototypes import contact_distance

    for formula, cation, anion in (("SrTiO3", "Ti", "O"), ("FeS2", "Fe", "S"), ("MgF2", "Mg", "F")):
        for name, structure in decorate(formula):
            cations = [i for i, s in enumerate(structure) if s.specie.symbol == cation]
            anions = [i for i, s in enumerate(structure) if s.specie.symbol == anion]
            shortest = structure.distance_matrix[np.ix_(cations, anions)].min()
            binary_type = name.removeprefix("anti-").split("-")[0] in PROTOTYPES
            if binary_type and not name.endswith("swapped"):  # the multinary types scale on all their contacts
                assert shortest == pytest.approx(contact_distance(cation, anion), rel=1e-6), (formula, name)
    names = [name for name, _ in decorate("Li2O")]
    assert "anti-fluorite" in names and "fluorite" not in names
    assert {len(benchmark_polymorphs(f)) for f in ("NaCl", "ZnO")} == {4} and len(benchmark_polymorphs("C")) == 2


def test_record_filters_and_splits(nacl):
    cscl = Structure(Lattice.cubic(3.3), ["Na", "Cl"], [[0, 0, 0], [0.5] * 3])
    mgo = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.21), ["Mg", "O"], [[0, 0, 0], [0.5] * 3])
    records = [CrystalRecord(nacl, id="rs"), CrystalRecord(cscl, id="cscl"), CrystalRecord(mgo, id="mgo")]
    assert [r.id for r in exclude_matching(records, [nacl])] == ["cscl", "mgo"]
    assert [r.id for r in exclude_compositions(records, ["MgO"])] == ["rs", "cscl"]

    many = [CrystalRecord(nacl, id=f"{f}-{i}") for f in range(30) for i in range(2)]
    for record in many:  # thirty formulas, two records each
        formula = ["Na", "K", "Rb", "Cs", "Li"][int(record.id.split("-")[0]) % 5]
        anion = ["F", "Cl"][int(record.id.split("-")[0]) // 15]
        record.structure = Structure(Lattice.cubic(4), [formula, anion], [[0, 0, 0], [0.5] * 3]) * (
            1, 1, int(record.id.split("-")[0]) % 3 + 1)
    splits = split_by_composition(many, (0.6, 0.2, 0.2), seed=3)
    formulas = {name: {r.formula for r in part} for name, part in splits.items()}
    assert not (formulas["train"] & formulas["val"] or formulas["train"] & formulas["test"]
                or formulas["val"] & formulas["test"])
    assert sum(len(p) for p in splits.values()) == len(many)
    shuffled = split_by_composition(list(reversed(many)), (0.6, 0.2, 0.2), seed=3)
    assert {k: {r.id for r in v} for k, v in shuffled.items()} == {k: {r.id for r in v} for k, v in splits.items()}
    with pytest.raises(DataError, match="fractions"):
        split_by_composition(many, (0.5, 0.5, 0.5))


def test_summary_and_plot_of_real_records(shared_data, tmp_path):
    path = shared_data / "cdvae" / "perov_5" / "val.csv"
    records = list(itertools.islice(read_records(path), 40))
    db = CrystalDatabase(tmp_path / "perov.db")
    db.add_many(records + [CrystalRecord(records[0].structure * (1, 1, 2), formation_energy_per_atom=
                                         records[0].formation_energy_per_atom + 0.5, id="doubled")])
    result = subprocess.run([sys.executable, "-m", "ase_lcom.cli", "data", "summary", str(tmp_path / "perov.db"),
                             "--plot", str(tmp_path / "summary.png")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["structures"] == 41
    assert summary["compositions"] == len({r.formula for r in records})
    assert summary["atoms_per_cell"] == {"5": 40, "10": 1}
    assert summary["structures_per_composition"]["max"] >= 2
    assert summary["energy_spread_per_composition_eV"]["max"] == pytest.approx(0.5, abs=1e-6)
    assert (tmp_path / "summary.png").stat().st_size > 10_000
