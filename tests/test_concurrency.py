"""Threads and processes: concurrent fits neither crash, hang nor change results.

fastmlp's kernels release the GIL, keep no global state and never use Numba's
parallel threading layer, so no OpenMP pool exists to break a fork(). Process tests
run in subprocesses with timeouts so that a hang fails instead of blocking CI.
"""

import copy
import gc
import multiprocessing
import os
import pickle
import subprocess
import sys
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info

import fastmlp
from fastmlp import _fit_lock

from ._fit_hash import fit_hash

SCRIPT = Path(__file__).with_name("_fit_hash.py")


def _data():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def _fit(seed, solver="adam", activation="relu"):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fastmlp.MLPClassifier(hidden_layer_sizes=(24,), solver=solver, activation=activation, max_iter=8,
                                     random_state=seed).fit(X, y)


def _params(model):
    return model.coefs_ + model.intercepts_


def test_threads_fit_and_predict_as_serial():
    X, _ = _data()
    # relu and tanh: the tanh layers and the softmax call NumPy's own loops from the kernels.
    jobs = [(seed, solver, activation) for seed in range(4) for solver in ("sgd", "adam", "lbfgs")
            for activation in ("relu", "tanh")]
    serial = [_fit(*job) for job in jobs]
    blas_before = [lib["num_threads"] for lib in threadpool_info()]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda job: _fit(*job), jobs))
        predictions = list(pool.map(lambda m: m.predict_proba(X), threaded))
    for a, b, proba in zip(serial, threaded, predictions):
        for x, y in zip(_params(a), _params(b)):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(a.predict_proba(X), proba)
    # Fits in worker threads leave the process-wide BLAS thread counts as they were.
    assert [lib["num_threads"] for lib in threadpool_info()] == blas_before


@pytest.mark.parametrize("backend", ["threading", "loky", "multiprocessing"])
def test_grid_search_backends(backend):
    X, y = _data()
    grid = {"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(8,), (16,)]}
    estimator = fastmlp.MLPClassifier(max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        serial = GridSearchCV(estimator, grid, cv=2, n_jobs=1).fit(X, y)
        with parallel_backend(backend, n_jobs=2):
            parallel = GridSearchCV(estimator, grid, cv=2).fit(X, y)
    np.testing.assert_array_equal(serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"])
    assert serial.best_params_ == parallel.best_params_


def _child_fit(queue):
    queue.put(fit_hash("adam"))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method is Linux's default")
def test_fork_after_fitting_in_parent():
    parent = fit_hash("adam")  # the parent has run every kernel a fit uses
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_fit, args=(queue,))
    child.start()
    child.join(timeout=300)
    assert child.exitcode == 0
    assert queue.get(timeout=10) == parent


def test_processes_compiling_into_one_cold_cache(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    # A cold cache in a fresh directory means the package's own cache must not be used.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    children = [
        subprocess.Popen([sys.executable, "-c", _COLD_CACHE_SCRIPT], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=400) for child in children]
    for child, (out, err) in zip(children, outputs):
        assert child.returncode == 0, err
    hashes = {out.strip() for out, _ in outputs}
    assert hashes == {fit_hash("adam")}


# Copies fastmlp into a temporary package directory first, so that its kernels are
# compiled from scratch into NUMBA_CACHE_DIR instead of loaded from the in-tree cache.
_COLD_CACHE_SCRIPT = f"""
import importlib.util, os, shutil, sys, tempfile
src = os.path.dirname(importlib.util.find_spec("fastmlp").origin)
root = tempfile.mkdtemp()
shutil.copytree(src, os.path.join(root, "fastmlp"), ignore=shutil.ignore_patterns("__pycache__"))
sys.path.insert(0, root)
sys.path.append({str(Path(__file__).parent.parent)!r})
import fastmlp
assert fastmlp.__file__.startswith(root), fastmlp.__file__
from tests._fit_hash import fit_hash
print(fit_hash("adam"))
"""


def _same_fit(a, b):
    assert a.n_iter_ == b.n_iter_ and a.loss_curve_ == b.loss_curve_ and a.t_ == b.t_
    for x, y in zip(_params(a), _params(b)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_one_estimator_fitted_from_threads_is_one_fit(solver):
    # Before fit and partial_fit took a per-object lock (fastmlp/_fit_lock.py), four
    # threads fitting one object gave a mixed loss curve or an AttributeError in 8 of 10
    # tries; now the calls run one after another and the model is a single fit's.
    X, y = _data()
    params = dict(hidden_layer_sizes=(16,), solver=solver, max_iter=12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = fastmlp.MLPClassifier(**params).fit(X, y)
        for _ in range(5):
            shared = fastmlp.MLPClassifier(**params)
            with ThreadPoolExecutor(max_workers=4) as pool:
                returned = list(pool.map(lambda _: shared.fit(X, y), range(4)))
            assert all(model is shared for model in returned)
            _same_fit(shared, expected)


def test_partial_fit_from_threads_equals_the_calls_in_sequence():
    # Each partial_fit re-seeds its shuffle from random_state, so 12 calls give the same
    # model in any order, provided each call runs whole.
    X, y = _data()
    classes = np.unique(y)
    params = dict(hidden_layer_sizes=(16,), random_state=0)
    expected = fastmlp.MLPClassifier(**params)
    for _ in range(12):
        expected.partial_fit(X, y, classes=classes)
    shared = fastmlp.MLPClassifier(**params)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: shared.partial_fit(X, y, classes=classes), range(12)))
    _same_fit(shared, expected)


def test_the_fit_lock_keeps_estimators_picklable_and_collectable():
    X, _ = _data()
    model = _fit(0)
    assert model in _fit_lock._locks  # fit took the lock ...
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(other.predict_proba(X), model.predict_proba(X))
        assert _fit_lock._lock_of(other) is not _fit_lock._lock_of(model)
    assert clone(model).get_params() == model.get_params()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None  # ... and the table does not keep the estimator alive
