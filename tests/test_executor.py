"""Executor back-ends give identical, ordered results; progress, cancellation, error collection."""
from __future__ import annotations

import math

import pytest

from gwidgets.core.executor import ItemError, get_executor
from gwidgets.core.progress import CancelToken, Cancelled, make_progress
from gwidgets.errors import GwidgetsError


def _work(x):
    if x == 3:
        raise GwidgetsError("item 3 is bad")
    return math.sqrt(x) * 2


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_same_results_in_order(backend):
    items = [0, 1, 2, 4, 9, 16, 25]
    calls = []
    out = get_executor(backend).map(_work, items, progress=lambda d, t, m: calls.append((d, t)))
    assert out == [math.sqrt(x) * 2 for x in items]
    assert calls[-1] == (len(items), len(items))


def test_dask_local_cluster_same_as_serial():
    distributed = pytest.importorskip("dask.distributed")
    items = [0, 1, 2, 4, 9]
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        assert get_executor(client).map(_work, items) == get_executor("serial").map(_work, items)


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_errors_collected_or_raised(backend):
    ex = get_executor(backend)
    out = ex.map(_work, [1, 3, 4], errors="collect")
    assert out[0] == 2 and out[2] == 4
    assert isinstance(out[1], ItemError) and "item 3 is bad" in out[1].error
    with pytest.raises(GwidgetsError, match="item 3"):
        ex.map(_work, [1, 3, 4])


def test_cancel_and_callback_stop():
    token = CancelToken()
    seen = []

    def func(x):
        seen.append(x)
        if x == 2:
            token.cancel()
        return x

    with pytest.raises(Cancelled, match="step 3/5"):
        get_executor("serial").map(func, range(5), token=token)
    assert seen == [0, 1, 2]
    with pytest.raises(Cancelled):
        make_progress(lambda d, t, m: False)(1, 2, "x")


def test_unknown_backend():
    with pytest.raises(GwidgetsError, match="Unknown executor"):
        get_executor("gpu-cluster")
