"""Where a fit puts BLAS threads (``fastmlp._threads``): limits hold during the fit,
are lifted after it, and are left alone by fits from other threads."""

import os
import threading
import warnings

import pytest
import scipy
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_info, threadpool_limits

import fastmlp
from fastmlp.engines import numba_engine

SCIPY_ROOT = os.path.dirname(scipy.__file__)


def blas_threads_now():
    """{"scipy": n, "other": n}: thread counts of SciPy's own BLAS and of the rest."""
    counts = {}
    for info in threadpool_info():
        if info["user_api"] == "blas":
            counts["scipy" if info["filepath"].startswith(SCIPY_ROOT) else "other"] = info["num_threads"]
    return counts


def lbfgs_fit_recording_threads(monkeypatch, n_rows, hidden, n_threads=None, n_features=20):
    """Fit with lbfgs; return the BLAS thread counts seen inside its first evaluation."""
    seen = []
    original = numba_engine.loss_and_grad

    def recording(*args):
        if not seen:
            seen.append(blas_threads_now())
        return original(*args)

    monkeypatch.setattr(numba_engine, "loss_and_grad", recording)
    X, y = make_classification(n_samples=n_rows, n_features=n_features, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fastmlp.MLPClassifier(hidden, solver="lbfgs", max_iter=2, random_state=0, n_threads=n_threads).fit(X, y)
    return seen[0]


needs_two_blas = pytest.mark.skipif(
    set(blas_threads_now()) != {"scipy", "other"},
    reason="SciPy shares NumPy's BLAS here: there is no SciPy-only pool to limit",
)


@needs_two_blas
def test_lbfgs_runs_scipys_blas_on_one_thread_and_restores_it(monkeypatch):
    with threadpool_limits(2, user_api="blas"):
        before = blas_threads_now()
        # 2000 rows x (200*1000 + 1000*1) multiply-adds: past the full-batch threshold.
        inside = lbfgs_fit_recording_threads(monkeypatch, 2000, (1000,), n_features=200)
        after = blas_threads_now()
    assert before == after == {"scipy": 2, "other": 2}
    assert inside == {"scipy": 1, "other": 2}


@needs_two_blas
def test_small_lbfgs_fit_runs_all_blas_on_one_thread(monkeypatch):
    with threadpool_limits(2, user_api="blas"):
        inside = lbfgs_fit_recording_threads(monkeypatch, 200, (10,))
        assert blas_threads_now() == {"scipy": 2, "other": 2}
    assert inside == {"scipy": 1, "other": 1}


@needs_two_blas
def test_n_threads_sets_the_gemm_pool(monkeypatch):
    with threadpool_limits(1, user_api="blas"):
        inside = lbfgs_fit_recording_threads(monkeypatch, 200, (10,), n_threads=2)
    assert inside == {"scipy": 1, "other": 2}


@needs_two_blas
def test_fit_from_a_worker_thread_leaves_blas_alone(monkeypatch):
    seen = []
    with threadpool_limits(2, user_api="blas"):
        worker = threading.Thread(target=lambda: seen.append(lbfgs_fit_recording_threads(monkeypatch, 200, (10,))))
        worker.start()
        worker.join()
    assert seen == [{"scipy": 2, "other": 2}]
