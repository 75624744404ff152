"""The results store: atomic appends, tolerant reads, resuming by key, atomic JSON documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ase_lcom.errors import LCOMError
from ase_lcom.store import ResultsStore, StoreError, StoreWarning, read_json, write_json, write_text


def test_append_writes_whole_lines_and_rerun_keys(tmp_path):
    store = ResultsStore(tmp_path / "sub" / "rows.jsonl", key=("formula", "seed"))
    assert store.rows() == [] and store.stored_keys() == set()
    store.append({"formula": "NaCl", "seed": 0, "value": 1.5, "trace": [1, 2]})
    store.append({"formula": "NaCl", "seed": 1, "value": None})
    text = store.path.read_text()
    assert text.endswith("\n") and len(text.splitlines()) == 2
    assert [r["seed"] for r in store.rows()] == [0, 1]
    assert store.stored_keys() == {("NaCl", 0), ("NaCl", 1)}
    assert ResultsStore(store.path, key=("trace",)).stored_keys() == {((1, 2),)}  # lists key as tuples
    with pytest.raises(StoreError, match="lacks the key field.*seed") as info:
        store.append({"formula": "KCl"})
    assert isinstance(info.value, LCOMError) and len(store.rows()) == 2
    with pytest.raises(StoreError, match="without key fields"):
        ResultsStore(store.path).stored_keys()


def test_a_cut_last_line_is_dropped_with_a_warning_and_removed_by_the_next_append(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"uid": "a"}\n{"uid": "b", "sta')  # a process killed mid-write
    store = ResultsStore(path, key=("uid",))
    with pytest.warns(StoreWarning, match="skipped 1 unreadable line"):
        assert store.stored_keys() == {("a",)}
    store.append({"uid": "c"})
    assert path.read_text() == '{"uid": "a"}\n{"uid": "c"}\n'
    path.write_text('{"uid": "a"}\n{"uid": "b"}')  # complete but without its newline: kept
    store.append({"uid": "c"})
    assert [r["uid"] for r in store.rows()] == ["a", "b", "c"]
    path.write_text('{"uid": "a"}\n[1, 2]\n')
    with pytest.raises(StoreError, match="line 2 is not a JSON object"):
        store.rows()


WRITER = """
import sys
from ase_lcom.store import ResultsStore
store = ResultsStore(sys.argv[1])
for k in range(int(sys.argv[3])):
    store.append({"writer": sys.argv[2], "k": k, "padding": sys.argv[2] * 30000})
"""


def test_two_processes_appending_at_once_never_interleave_lines(tmp_path):
    path = tmp_path / "rows.jsonl"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "60"]) for name in "xy"]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    lines = path.read_text().splitlines()
    rows = [json.loads(line) for line in lines]  # every line is one whole row
    assert len(rows) == 120
    for name in "xy":
        assert [r["k"] for r in rows if r["writer"] == name] == list(range(60))
        assert all(r["padding"] == name * 30000 for r in rows if r["writer"] == name)


def test_json_documents_are_replaced_atomically(tmp_path):
    path = tmp_path / "deep" / "refs.json"
    assert read_json(path, default={}) == {}
    write_json(path, {"NaCl": [1.0, 2.0]})
    write_json(path, {"NaCl": [3.0]}, indent=1)
    assert read_json(path) == {"NaCl": [3.0]} and path.read_text().startswith("{\n")
    assert os.listdir(path.parent) == ["refs.json"]  # no temporary file left behind
    assert path.stat().st_mode & 0o777 == 0o644
    write_text(tmp_path / "report.md", "# report\n")
    assert (tmp_path / "report.md").read_text() == "# report\n"
    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})  # a failed write leaves the old document
    assert read_json(path) == {"NaCl": [3.0]} and os.listdir(path.parent) == ["refs.json"]
    path.write_text("{not json")
    with pytest.raises(StoreError, match="not valid JSON"):
        read_json(path)
