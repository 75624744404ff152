"""The Dask executor: the same outcomes as the others, resources once per worker, a killed worker's task run
again elsewhere with nothing finished lost, settings checked."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

distributed = pytest.importorskip("distributed")

from ase_lcom.execution import ExecutionError, SerialExecutor, executor_for  # noqa: E402
from ase_lcom.execution.dask_cluster import DaskExecutor  # noqa: E402

TASKS = textwrap.dedent('''
    import os, signal
    from pathlib import Path

    def inverse(x):
        return 1.0 / x  # ZeroDivisionError for 0

    def resource_identity(_):
        from ase_lcom.execution import worker_resource
        return os.getpid(), id(worker_resource("thing", object)), os.environ["OMP_NUM_THREADS"]

    def dies_once(item):
        """Item 2 kills its worker process the first time it runs (a marker file remembers)."""
        value, marker = item
        if value == 2 and not Path(marker).exists():
            Path(marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return value * 10, os.getpid()
''')


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    """Task functions in a module the Dask workers can import (pickled by value: workers have other paths)."""
    import cloudpickle

    folder = tmp_path_factory.mktemp("dask_tasks")
    (folder / "dask_tasks.py").write_text(TASKS)
    sys.path.insert(0, str(folder))
    import dask_tasks

    cloudpickle.register_pickle_by_value(dask_tasks)
    yield dask_tasks
    cloudpickle.unregister_pickle_by_value(dask_tasks)
    sys.path.remove(str(folder))
    sys.modules.pop("dask_tasks", None)


@pytest.fixture(scope="module")
def cluster_executor():
    """One local cluster of 2 workers for the module (starting one costs seconds)."""
    with DaskExecutor(workers=2) as executor:
        yield executor


def test_dask_gives_the_serial_outcomes_and_reports_a_failure_for_its_item(tasks, cluster_executor):
    items = [4, 0, 1, 2, 5]
    serial = {o.item: o for o in SerialExecutor().map_unordered(tasks.inverse, items)}
    dask = {o.item: o for o in cluster_executor.map_unordered(tasks.inverse, items)}
    assert set(dask) == set(items)
    for item in items:
        assert dask[item].ok == serial[item].ok
        if item:
            assert dask[item].get() == serial[item].get()
    assert isinstance(dask[0].error, ZeroDivisionError)


def test_dask_workers_build_resources_once_and_use_one_thread(tasks, cluster_executor):
    outcomes = list(cluster_executor.map_unordered(tasks.resource_identity, range(12)))
    by_pid: dict[int, set[int]] = {}
    for outcome in outcomes:
        pid, identity, threads = outcome.get()
        by_pid.setdefault(pid, set()).add(identity)
        assert threads == "1"
    assert 1 <= len(by_pid) <= 2 and os.getpid() not in by_pid
    assert all(len(ids) == 1 for ids in by_pid.values()), "a resource was built twice in one worker"


def test_a_killed_worker_loses_no_finished_result_and_its_task_runs_elsewhere(tasks, tmp_path):
    marker = tmp_path / "killed"
    with DaskExecutor(workers=2) as executor:
        outcomes = list(executor.map_unordered(tasks.dies_once, [(k, str(marker)) for k in range(8)]))
    assert marker.exists(), "the worker was not killed"
    values = sorted(o.get()[0] for o in outcomes)
    assert values == [10 * k for k in range(8)], "a result was lost or duplicated"
    rerun = next(o for o in outcomes if o.item[0] == 2)
    assert rerun.get()[1] != int(marker.read_text()), "the killed worker cannot have finished the task"


def test_dask_settings_are_checked():
    with pytest.raises(ExecutionError, match="at least 1"):
        DaskExecutor(workers=0)
    with pytest.raises(ExecutionError, match="scheduler address"):
        DaskExecutor("not-an-address")
    with pytest.raises(ExecutionError, match="no Dask scheduler reachable"):
        with DaskExecutor("tcp://127.0.0.1:9") as executor:
            list(executor.map_unordered(abs, [1]))
    assert isinstance(executor_for(2, dask="local"), DaskExecutor)
