"""Compressed snapshots of a dataset while it is written (``ase_lcom.data.snapshots``)."""

from __future__ import annotations

import gzip
import shutil
import time

import pytest

from ase_lcom.data.readers import read_records
from ase_lcom.data.records import CrystalDatabase, CrystalRecord
from ase_lcom.data.snapshots import PeriodicSnapshot, gzip_snapshot
from ase_lcom.errors import InvalidValueError


def _unzipped(path, out):
    with gzip.open(path) as zipped, out.open("wb") as handle:
        shutil.copyfileobj(zipped, handle)
    return out


def test_a_snapshot_of_an_open_database_holds_its_rows_and_task_log(tmp_path, nacl):
    path = tmp_path / "set.db"
    db = CrystalDatabase(path)  # kept open, as a running generator keeps it
    db.add_many([CrystalRecord(nacl, -3.6, -2.0, id=f"r{k}") for k in range(3)])
    path.with_name("set.db.tasks.jsonl").write_text('{"uid": "x", "status": "failed"}\n')
    written = gzip_snapshot(path)
    assert [p.name for p in written] == ["set.db.gz", "set.db.tasks.jsonl.gz"]
    copy = _unzipped(written[0], tmp_path / "copy.db")
    assert sorted(r.id for r in read_records(copy)) == ["r0", "r1", "r2"]
    with gzip.open(written[1], "rt") as log:
        assert log.read() == '{"uid": "x", "status": "failed"}\n'
    db.add(CrystalRecord(nacl, -3.5, -1.9, id="r3"))
    gzip_snapshot(path)  # replaces the earlier snapshot
    assert len(list(read_records(_unzipped(written[0], tmp_path / "copy2.db")))) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.db", "copy2.db", "set.db", "set.db.gz",
                                                          "set.db.tasks.jsonl", "set.db.tasks.jsonl.gz"]


def test_periodic_snapshots_run_in_the_background_and_once_more_on_exit(tmp_path, nacl):
    path = tmp_path / "set.db"
    db = CrystalDatabase(path)
    db.add(CrystalRecord(nacl, -3.6, -2.0, id="first"))
    with PeriodicSnapshot(path, minutes=0.002):  # every 0.12 s
        for _ in range(100):
            if path.with_name("set.db.gz").exists():
                break
            time.sleep(0.05)
        assert path.with_name("set.db.gz").exists()  # written while the block runs
        db.add(CrystalRecord(nacl, -3.5, -1.9, id="last"))
    ids = sorted(r.id for r in read_records(_unzipped(path.with_name("set.db.gz"), tmp_path / "copy.db")))
    assert ids == ["first", "last"]  # the exit snapshot has the last row
    assert not path.with_name("set.db.tasks.jsonl.gz").exists()  # no task log, none written
    assert not list(tmp_path.glob(".snapshot-*"))  # the working copies are gone


def test_the_exit_snapshot_is_taken_when_the_run_fails_and_a_bad_interval_is_refused(tmp_path, nacl):
    path = tmp_path / "set.db"
    db = CrystalDatabase(path)
    with pytest.raises(KeyboardInterrupt), PeriodicSnapshot(path, minutes=60):
        db.add(CrystalRecord(nacl, -3.6, -2.0, id="before-the-interrupt"))
        raise KeyboardInterrupt
    ids = [r.id for r in read_records(_unzipped(path.with_name("set.db.gz"), tmp_path / "copy.db"))]
    assert ids == ["before-the-interrupt"]
    first = path.with_name("set.db.gz").read_bytes()
    gzip_snapshot(path)
    assert path.with_name("set.db.gz").read_bytes() == first  # unchanged data, unchanged file
    for minutes in (0, -1):
        with pytest.raises(InvalidValueError, match="greater than 0 minutes"):
            PeriodicSnapshot(path, minutes)
