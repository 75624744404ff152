"""Executors: serial and process executors agree, a failing task is reported for its item, resources are
built once per worker."""

from __future__ import annotations

import sys
import textwrap
from functools import partial

import pytest

from ase_lcom.errors import LCOMError
from ase_lcom.execution import (
    ExecutionError,
    Outcome,
    ProcessExecutor,
    SerialExecutor,
    executor_for,
    worker_calculator,
)

TASKS = textwrap.dedent('''
    import os

    def inverse(x, scale=1.0):
        return scale / x  # ZeroDivisionError for 0

    def resource_identity(_):
        import numpy  # loads a BLAS after the worker's setup
        from threadpoolctl import threadpool_info
        from ase_lcom.execution import worker_resource
        threads = {pool["num_threads"] for pool in threadpool_info()}
        return os.getpid(), id(worker_resource("thing", object)), (os.environ["OMP_NUM_THREADS"], *sorted(threads))

    def calculator_identity(_):
        from ase_lcom.execution import worker_calculator
        return id(worker_calculator("emt"))
''')


@pytest.fixture
def tasks(tmp_path, monkeypatch):
    """Task functions in a module that worker processes can import (spawned workers inherit sys.path)."""
    (tmp_path / "executor_tasks.py").write_text(TASKS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import executor_tasks

    yield executor_tasks
    sys.modules.pop("executor_tasks", None)


def _results(executor, function, items):
    with executor:
        outcomes = list(executor.map_unordered(function, items))
    return outcomes


def test_serial_and_process_executors_agree_and_report_a_failure_for_its_item(tasks):
    items = [4, 0, 1, 2, 5]
    function = partial(tasks.inverse, scale=2.0)
    serial = _results(SerialExecutor(), function, items)
    parallel = _results(ProcessExecutor(2), function, items)
    assert [o.item for o in serial] == items  # serial keeps the order
    for outcomes in (serial, parallel):
        assert sorted(o.item for o in outcomes) == sorted(items)
        by_item = {o.item: o for o in outcomes}
        assert isinstance(by_item[0].error, ZeroDivisionError) and not by_item[0].ok
        with pytest.raises(ZeroDivisionError):
            by_item[0].get()
        assert {x: by_item[x].get() for x in items if x} == {4: 0.5, 1: 2.0, 2: 1.0, 5: 0.4}
    assert Outcome("a", result=1).ok


def test_resources_are_built_once_per_worker_and_threads_are_limited(tasks):
    with ProcessExecutor(2, threads_per_worker=2) as executor:
        first = [o.get() for o in executor.map_unordered(tasks.resource_identity, range(8))]
        second = [o.get() for o in executor.map_unordered(tasks.resource_identity, range(4))]
    per_worker: dict[int, set[int]] = {}
    for pid, resource, _ in first + second:
        per_worker.setdefault(pid, set()).add(resource)
    assert 1 <= len(per_worker) <= 2 and all(len(ids) == 1 for ids in per_worker.values())
    assert {threads for _, _, threads in first} == {("2", 2)}  # torch reads OMP_NUM_THREADS when it loads


def test_calculators_are_cached_per_executor_not_outside_one(tasks):
    serial = SerialExecutor()
    ids = {o.get() for o in serial.map_unordered(tasks.calculator_identity, range(3))}
    assert len(ids) == 1  # one calculator for every task of this executor
    assert ids != {o.get() for o in SerialExecutor().map_unordered(tasks.calculator_identity, range(1))}
    assert worker_calculator("emt") is not worker_calculator("emt")  # outside a task: nothing is cached


def test_executor_settings_are_checked():
    assert isinstance(executor_for(1), SerialExecutor) and isinstance(executor_for(3), ProcessExecutor)
    for bad in ({"workers": 0}, {"workers": 2, "threads_per_worker": 0}, {"workers": 2, "context": "fork"}):
        with pytest.raises(ExecutionError) as info:
            ProcessExecutor(**bad)
        assert isinstance(info.value, LCOMError)
