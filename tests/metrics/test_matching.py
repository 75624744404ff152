"""Structure matching under the strict (project standard) and CDVAE tolerance settings."""

from __future__ import annotations

import pytest

from ase_lcom.data.prototypes import decorate
from ase_lcom.errors import LCOMError
from ase_lcom.metrics.matching import (
    CDVAE,
    STRICT,
    MatchTolerances,
    MetricError,
    first_match,
    is_match,
    rms_distance,
    structure_matcher,
    tolerances,
)


@pytest.fixture(scope="module")
def nacl_polymorphs():
    return dict(decorate("NaCl"))


def test_settings_are_pymatgen_defaults_and_the_cdvae_convention():
    assert STRICT.as_dict() == {"stol": 0.3, "ltol": 0.2, "angle_tol": 5}
    assert CDVAE.as_dict() == {"stol": 0.5, "ltol": 0.3, "angle_tol": 10}
    matcher = structure_matcher("cdvae")
    assert (matcher.stol, matcher.ltol, matcher.angle_tol) == (0.5, 0.3, 10)
    assert tolerances(MatchTolerances(0.1, 0.1, 1)) == MatchTolerances(0.1, 0.1, 1)
    with pytest.raises(MetricError, match="unknown structure-matching setting 'loose'") as info:
        tolerances("loose")
    assert isinstance(info.value, LCOMError)


def test_zincblende_is_not_rocksalt_strictly_but_is_under_cdvae_tolerances(nacl_polymorphs):
    rocksalt, zincblende = nacl_polymorphs["rocksalt"], nacl_polymorphs["zincblende"]
    assert not is_match(zincblende, rocksalt, "strict")
    assert is_match(zincblende, rocksalt, "cdvae")
    assert not is_match(nacl_polymorphs["cscl"], rocksalt, "cdvae")  # even the loose setting has limits


def test_a_scaled_supercell_still_matches_and_first_match_follows_the_order(nacl_polymorphs):
    rocksalt = nacl_polymorphs["rocksalt"]
    variant = rocksalt * (2, 1, 1)
    variant.scale_lattice(variant.volume * 1.05)
    assert is_match(variant, rocksalt)
    assert rms_distance(variant, rocksalt) == pytest.approx(0.0, abs=1e-6)
    assert rms_distance(nacl_polymorphs["zincblende"], rocksalt) is None
    references = {name: nacl_polymorphs[name] for name in ("cscl", "rocksalt", "zincblende")}
    assert first_match(nacl_polymorphs["zincblende"], references, "strict") == "zincblende"
    assert first_match(nacl_polymorphs["zincblende"], references, "cdvae") == "rocksalt"  # listed first
    assert first_match(nacl_polymorphs["wurtzite"], {"rocksalt": rocksalt}) is None
