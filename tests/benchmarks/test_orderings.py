"""Polymorph-ordering agreement between calculators (``ase_lcom.benchmarks.orderings``), on hand-made caches."""

from __future__ import annotations

import pytest

from ase_lcom.benchmarks.orderings import (
    agreement_table,
    compare,
    energies_above_lowest,
    experimental_ground_states,
    markdown,
    plot_orderings,
)


def cache(energies: dict[str, dict[str, float]], experimental: dict[str, str] | None = None) -> dict:
    return {formula: {"polymorphs": {p: {"energy_per_atom": e} for p, e in polymorphs.items()},
                      "experimental": (experimental or {}).get(formula)}
            for formula, polymorphs in energies.items()}


A = cache({"NaCl": {"rocksalt": -3.40, "cscl": -3.35, "zincblende": -3.30},
           "ZnO": {"wurtzite": -4.50, "zincblende": -4.495, "rocksalt": -4.40},
           "Si": {"diamond": -5.4}},
          {"NaCl": "rocksalt", "ZnO": "wurtzite", "Si": "diamond"})
B = cache({"NaCl": {"rocksalt": -3.10, "cscl": -3.12, "zincblende": -3.00},
           "ZnO": {"wurtzite": -4.00, "zincblende": -3.98, "rocksalt": -3.90},
           "MgO": {"rocksalt": -5.9, "cscl": -5.7}},
          {"NaCl": "rocksalt", "ZnO": "wurtzite", "MgO": "rocksalt"})


def test_energies_above_lowest() -> None:
    assert energies_above_lowest(A["NaCl"]) == pytest.approx({"rocksalt": 0.0, "cscl": 0.05, "zincblende": 0.10})


def test_compare_counts_agreements_ties_and_disagreements() -> None:
    result = compare(A, B, ("a", "b"))
    # compounds in both with two or more polymorphs: NaCl and ZnO (Si is only in A, MgO only in B)
    assert result.compounds == 2
    # NaCl: rs-cscl disagrees (-50 vs +20), rs-zb agrees, cscl-zb agrees;
    # ZnO: wz-zb is a tie in A (5 meV/atom), wz-rs and zb-rs agree
    assert (result.judged, result.agreed, result.ties) == (5, 4, 1)
    assert result.share == pytest.approx(0.8)
    assert result.same_ground_state == 1  # NaCl: rocksalt by a, cscl by b
    assert len(result.disagreements) == 1 and result.disagreements[0].startswith("NaCl cscl - rocksalt")


def test_identical_caches_agree_fully_and_the_tie_window_matters() -> None:
    assert compare(A, A).share == 1.0
    assert compare(A, B, tie=0.0).ties == 0
    assert compare(A, B, tie=1.0).judged == 0 and compare(A, B, tie=1.0).share is None


def test_experimental_ground_states_skip_single_polymorph_compounds() -> None:
    assert experimental_ground_states(A) == (2, 2)  # Si (one polymorph) not counted; ZnO wurtzite lowest
    assert experimental_ground_states(B) == (2, 3)  # NaCl: cscl below rocksalt by 20 meV/atom


def test_markdown_and_plot(tmp_path) -> None:
    caches = {"a": A, "b": B, "c": A}
    assert [(r.first, r.second) for r in agreement_table(caches)] == [("a", "b"), ("a", "c"), ("b", "c")]
    text = markdown(caches)
    assert "| a / b | 2 | 5 | 4/5 (80%) | 1 | 1/2 |" in text
    assert "| NaCl | cscl | 50 | 0 | 50 |" in text and "| MgO | **rocksalt** | - | 0 | - |" in text
    plot_orderings(caches, tmp_path / "o.png")
    assert (tmp_path / "o.png").stat().st_size > 1000
