"""Fixtures of the training tests: the first perovskites of perov_5's val split, read once."""

from __future__ import annotations

import itertools

import pytest

from ase_lcom.data.readers import read_records


@pytest.fixture(scope="module")
def perovskite_structures(shared_data):
    """The first 24 structures of perov_5's val.csv (real DFT-relaxed perovskites)."""
    records = itertools.islice(read_records(shared_data / "cdvae" / "perov_5" / "val.csv"), 24)
    return [r.structure for r in records]
