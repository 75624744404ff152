"""Compressed snapshots of a dataset being generated: the ``.db`` and its task log, gzipped beside them.

A dataset's ``.db`` is too large to commit uncompressed and is ignored by git; its ``.db.gz`` is what lands. A
generation that runs for hours and ends with its process (a session's end, a kill) loses every row since
the last hand-made ``gzip``. :class:`PeriodicSnapshot` refreshes the ``.gz`` files every few minutes while it
runs, from a consistent copy (SQLite's online backup), so the tracked files never lag far behind.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import tempfile
import threading
import warnings
from pathlib import Path
from types import TracebackType

from ase_lcom.errors import InvalidValueError


def gzip_snapshot(db_path: str | os.PathLike) -> list[Path]:
    """Write ``<db>.gz`` (a consistent copy of the database, even while another process writes it) and
    ``<db>.tasks.jsonl.gz`` if the task log exists; each replaced atomically. Returns the files written."""
    db_path = Path(db_path)
    written = []
    with tempfile.TemporaryDirectory(prefix=".snapshot-", dir=db_path.parent) as tmp:
        copy = Path(tmp) / "copy.db"
        source = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        for plain, zipped in ((copy, db_path.with_name(db_path.name + ".gz")),
                              (db_path.with_name(db_path.name + ".tasks.jsonl"),
                               db_path.with_name(db_path.name + ".tasks.jsonl.gz"))):
            if not plain.exists():
                continue
            partial = Path(tmp) / (zipped.name + ".partial")
            with plain.open("rb") as handle, partial.open("wb") as raw, \
                    gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:  # same bytes for same data
                shutil.copyfileobj(handle, out)
            os.replace(partial, zipped)
            written.append(zipped)
    return written


class PeriodicSnapshot:
    """A context manager that calls :func:`gzip_snapshot` every ``minutes`` in a background thread and once
    more on exit (also after an exception or ``KeyboardInterrupt``)."""

    def __init__(self, db_path: str | os.PathLike, minutes: float = 20.0) -> None:
        if not minutes > 0:
            raise InvalidValueError(f"snapshot interval must be greater than 0 minutes, got {minutes:g}")
        self.db_path, self.seconds = Path(db_path), 60.0 * minutes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="gzip-snapshot")

    def _snapshot(self) -> None:
        if not self.db_path.exists():
            return
        try:
            gzip_snapshot(self.db_path)
        except (OSError, sqlite3.Error) as exc:  # a full disk, say: warn, and keep the run (or its error) going
            warnings.warn(f"snapshot of {self.db_path} failed: {exc}", RuntimeWarning, stacklevel=1)

    def _loop(self) -> None:
        while not self._stop.wait(self.seconds):
            self._snapshot()

    def __enter__(self) -> PeriodicSnapshot:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._snapshot()
