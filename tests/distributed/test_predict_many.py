"""``predict-many``: results stream into an ASE database, reruns skip finished formulas, failures are rows with
their one-line error, a killed run loses nothing written, one writer per database, Dask runs it unchanged."""

from __future__ import annotations

import fcntl
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace

import pytest
from ase.db import connect

from ase_lcom.distributed.predict_many import (
    BatchError,
    PredictionTask,
    predict_many,
    read_formulas,
)
from ase_lcom.execution import SerialExecutor

PURE = PredictionTask("", "lcom", (("polish", "none"),), formula_units=1, n_candidates=2, keep=2)


def _rows(db_path):
    return list(connect(db_path).select())


def test_read_formulas_skips_comments_blanks_and_repeats(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("NaCl\n\n# a comment\nKF  # fluoride\nNa2Cl2\nnot a formula\n")
    assert read_formulas(path) == ["NaCl", "KF", "not a formula"]
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(BatchError, match="no formula"):
        read_formulas(tmp_path / "empty.txt")
    with pytest.raises(BatchError, match="cannot read"):
        read_formulas(tmp_path / "missing.txt")


def test_results_stream_in_and_a_rerun_skips_finished_formulas(tmp_path):
    db_path = tmp_path / "r.db"
    first = predict_many(["NaCl", "Xx2O"], db_path, SerialExecutor(), PURE, progress=False)
    assert (first.done, first.failed, first.skipped) == (1, 1, 0)
    rows = _rows(db_path)
    ok = [r for r in rows if r.status == "ok"]
    assert [r.rank for r in ok] == [1, 2] and all(r.target == "NaCl" and r.natoms == 2 for r in ok)
    assert all(r.model == "lcom-default-v5" and r.predictor == "lcom" and r.package_version for r in ok)
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 1 and failed[0].natoms == 0 and "unknown element symbol 'Xx'" in failed[0].error
    assert "\n" not in failed[0].error

    second = predict_many(["NaCl", "Xx2O", "KF"], db_path, SerialExecutor(), PURE, progress=False)
    assert (second.done, second.failed, second.skipped) == (1, 0, 2)
    again = predict_many(["Xx2O"], db_path, SerialExecutor(), PURE, retry_failed=True, progress=False)
    assert again.failed == 1
    counts = Counter((r.target, r.status) for r in _rows(db_path))
    assert counts == {("NaCl", "ok"): 2, ("KF", "ok"): 2, ("Xx2O", "failed"): 1}


def test_a_rerun_with_other_predictor_settings_is_refused(tmp_path):
    db_path = tmp_path / "r.db"
    predict_many(["NaCl"], db_path, SerialExecutor(), PURE, progress=False)
    with pytest.raises(BatchError, match="predict-many setting seed is 0 in .* but 1 now") as error:
        predict_many(["KF"], db_path, SerialExecutor(), replace(PURE, seed=1), progress=False)
    assert "\n" not in str(error.value)
    assert {r.target for r in _rows(db_path)} == {"NaCl"}


def test_a_second_writer_is_refused(tmp_path):
    db_path = tmp_path / "r.db"
    with open(tmp_path / "r.db.writer.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BatchError, match="being written by another run"):
            predict_many(["NaCl"], db_path, SerialExecutor(), PURE, progress=False)
    with pytest.raises(BatchError, match=r"\.db file"):
        predict_many(["NaCl"], tmp_path / "r.json", SerialExecutor(), PURE, progress=False)


def test_predict_many_on_dask_resumes_and_matches_a_serial_run(tmp_path):
    pytest.importorskip("distributed")
    from ase_lcom.execution.dask_cluster import DaskExecutor

    serial = tmp_path / "serial.db"
    predict_many(["NaCl", "KF", "MgO"], serial, SerialExecutor(), PURE, progress=False)
    db_path = tmp_path / "dask.db"
    with DaskExecutor(workers=2) as executor:
        first = predict_many(["NaCl", "KF"], db_path, executor, PURE, progress=False)
        second = predict_many(["NaCl", "KF", "MgO"], db_path, executor, PURE, progress=False)
    assert (first.done, second.done, second.skipped) == (2, 1, 2)
    key = lambda r: (r.target, r.rank)  # noqa: E731
    dask_rows = {key(r): r for r in _rows(db_path)}
    serial_rows = {key(r): r for r in _rows(serial)}
    assert set(dask_rows) == set(serial_rows)
    for k, row in serial_rows.items():  # seeded: the same candidates wherever they ran
        assert dask_rows[k].spacegroup == row.spacegroup
        assert dask_rows[k].energy_per_atom == pytest.approx(row.energy_per_atom, abs=1e-4)


@pytest.mark.slow
def test_a_killed_predict_many_loses_and_duplicates_nothing(tmp_path):
    formulas = ["NaCl", "KF", "MgO", "LiF", "CaS", "KCl", "NaF", "RbBr", "SrO", "BaS"]
    (tmp_path / "f.txt").write_text("\n".join(formulas) + "\n")
    db_path = tmp_path / "r.db"
    command = [sys.executable, "-m", "ase_lcom.cli", "predict-many", str(tmp_path / "f.txt"), "--out", str(db_path),
               "--pure", "--formula-units", "1", "-k", "2", "-q"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if db_path.exists() and len({r.target for r in _rows(db_path)}) >= 2:
            break
        time.sleep(0.1)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = Counter(r.target for r in _rows(db_path))
    assert 2 <= len(before) < len(formulas)
    assert all(count == 2 for count in before.values()), "a formula was half written"

    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert f"{len(before)} already in" in result.stdout
    after = Counter((r.target, r.rank) for r in _rows(db_path))
    assert set(t for t, _ in after) == set(formulas) and set(after.values()) == {1}
