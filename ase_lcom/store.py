"""Results on disk that survive interruption: an append-only JSON-lines store and atomic JSON documents.

A benchmark or long job appends each finished result as one line of ``rows.jsonl``; a rerun reads the file,
skips every key already there and appends the rest. Appending a row writes the whole line in one call, flushes
and fsyncs it, under an exclusive lock where the platform has one, so two processes appending to the same file
never interleave their lines and a killed process leaves at most its last line cut short. Reading drops such a
line, with a warning, and the next append removes it before writing.

Whole-file documents (cached references, reports) are written to a temporary file beside the target and
moved over it (``os.replace``), so a reader sees the old document or the new one, never half of either.

A resumed run keeps the settings it was started with: :func:`check_unchanged` compares them with the new ones
and names the first that differs (training checkpoints, databases, benchmark and dataset folders all use it).

Examples
--------
>>> store = ResultsStore("runs/csp26/rows.jsonl", key=("formula", "seed"))  # doctest: +SKIP
>>> done = store.stored_keys()  # doctest: +SKIP
>>> store.append({"formula": "NaCl", "seed": 0, "criterion": True})  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ase_lcom.errors import LCOMError

try:
    import fcntl
except ImportError:  # Windows: appends are still single writes, without an advisory lock
    fcntl = None  # type: ignore[assignment]


@contextmanager
def sole_writer(path: str | os.PathLike, error: type[LCOMError] = LCOMError) -> Iterator[None]:
    """Hold ``<path>.writer.lock`` (``fcntl.flock``, non-blocking) while a run writes ``path``: a second run gets
    a one-line ``error`` instead of writing alongside (ASE takes ``<db>.lock`` per write only)."""
    path = Path(path)
    lock_path = path.with_name(path.name + ".writer.lock")
    if fcntl is None:  # Windows: no advisory lock
        yield
        return
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise error(f"{path} is being written by another run (lock {lock_path}); wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def check_unchanged(what: str, stored: Mapping[str, Any], given: Mapping[str, Any], where: str | os.PathLike,
                    may_change: Sequence[str] = (), error: type[LCOMError] = LCOMError,
                    fix: str = "use a new output folder to run with other settings") -> None:
    """Refuse to resume a run with settings other than those ``where`` records.

    Nested mappings are compared entry by entry (tuples as lists, as JSON stores them); a setting whose name
    (the last part of its dotted key) is in ``may_change`` may differ.

    Raises
    ------
    LCOMError
        ``error``, one line naming the first setting that differs, both values and ``fix``.
    """
    old, new = _flat(stored), _flat(given)
    for key in sorted(set(old) | set(new)):
        name = key.rsplit(".", 1)[-1]
        if name not in may_change and old.get(key) != new.get(key):
            label = name if name == key else f"{name} ({key})"
            allowed = f" (only {', '.join(may_change)} may change)" if may_change else ""
            raise error(f"{what} {label} is {old.get(key)!r} in {where} but {new.get(key)!r} now: a resumed run "
                        f"keeps its settings{allowed}; {fix}")


def _flat(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = _as_json(value)
    return flat


def _as_json(value: Any) -> Any:
    """Tuples as lists, recursively: a setting read back from JSON equals the one given."""
    return [_as_json(v) for v in value] if isinstance(value, (list, tuple)) else value


class StoreError(LCOMError, ValueError):
    """A results file cannot be read or a row cannot be stored."""


class StoreWarning(UserWarning):
    """A results file held an unreadable line (cut by an interrupted write); the line was skipped."""


class ResultsStore:
    """Rows (JSON objects) appended one per line to a file, read back tolerantly, keyed for resuming.

    Parameters
    ----------
    path
        The ``.jsonl`` file; it and its folder are created on the first append.
    key
        Fields that identify a row: :meth:`stored_keys` returns their values per row, so a rerun skips finished work.
        Without a key the store is a plain log.
    """

    def __init__(self, path: str | os.PathLike, key: Sequence[str] = ()) -> None:
        self.path = Path(path)
        self.key = tuple(key)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        skipped = 0
        with self.path.open("rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    skipped += 1
                    continue
                if not isinstance(row, dict):
                    raise StoreError(f"{self.path}: line {number} is not a JSON object")
                yield row
        if skipped:
            warnings.warn(f"{self.path}: skipped {skipped} unreadable line(s), left by an interrupted write; "
                          "their work is redone", StoreWarning, stacklevel=2)

    def rows(self) -> list[dict[str, Any]]:
        """Every readable row, in the order written."""
        return list(self)

    def key_of(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """The key of a row (a tuple of its key fields' values)."""
        missing = [name for name in self.key if name not in row]
        if missing:
            raise StoreError(f"{self.path}: a row lacks the key field(s) {', '.join(missing)}")
        return tuple(_hashable(row[name]) for name in self.key)

    def stored_keys(self) -> set[tuple[Any, ...]]:
        """Keys of the rows already stored (rows without every key field are ignored)."""
        if not self.key:
            raise StoreError(f"{self.path}: the store was opened without key fields")
        return {self.key_of(row) for row in self if all(name in row for name in self.key)}

    def append(self, row: dict[str, Any]) -> None:
        """Write one row as one line, durably (flush and fsync) and without interleaving with other writers."""
        if self.key:
            self.key_of(row)
        data = (json.dumps(row) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            _close_last_line(fd)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock


def _hashable(value: Any) -> Any:
    """JSON values as set members: lists become tuples."""
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def _close_last_line(fd: int) -> None:
    """Make the file end with a complete line: a cut last line (not JSON) is removed, a complete one without
    its newline gets one."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = size
    while start > 0:  # find the start of the last line, reading backwards in blocks
        block = os.pread(fd, min(65536, start), max(0, start - 65536))
        cut = block.rfind(b"\n")
        if cut >= 0:
            start = start - len(block) + cut + 1
            break
        start -= len(block)
    tail = os.pread(fd, size - start, start)
    try:
        json.loads(tail)
    except (json.JSONDecodeError, UnicodeDecodeError):
        os.ftruncate(fd, start)
    else:
        os.write(fd, b"\n")


def read_json(path: str | os.PathLike, default: Any = None) -> Any:
    """The JSON document in ``path``, or ``default`` when there is no such file.

    Raises
    ------
    StoreError
        The file exists but does not hold JSON.
    """
    path = Path(path)
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path} is not valid JSON ({exc}); remove it to start afresh") from None


def write_text(path: str | os.PathLike, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (temporary file in the same folder, fsync, ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644  # a temporary file is private (0600)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                     delete=False) as handle:
        try:
            handle.write(text)
            handle.flush()
            os.chmod(handle.name, mode)
            os.fsync(handle.fileno())
        except BaseException:
            handle.close()
            os.unlink(handle.name)
            raise
    os.replace(handle.name, path)


def write_json(path: str | os.PathLike, document: Any, indent: int | None = None) -> None:
    """Replace ``path`` with a JSON document atomically (see :func:`write_text`)."""
    write_text(path, json.dumps(document, indent=indent))
