"""fastmlp on a Dask cluster: searches through joblib's Dask backend, dask-ml's
Incremental, models moving between client and workers, and the warm-up plugin
(fastmlp/dask.py). One LocalCluster of 2 worker processes, 1 thread each, for the module."""

import pickle
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

import fastmlp

da = pytest.importorskip("dask.array")  # the test extra installs Dask: CI runs these
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

from fastmlp.dask import WarmUpPlugin  # noqa: E402  (needs distributed)

from ._readme import readme_example  # noqa: E402

TIMEOUT = 120  # seconds for any one result; a hang fails instead of blocking CI

# What the module's fits use (relu, adam, float64; digits is multiclass): the plugin warms it.
WARMED = dict(activations=("relu",), solvers=("adam",), outputs=("multiclass",), dtypes=("float64",))


@pytest.fixture(scope="module")
def client():
    # OPENBLAS_NUM_THREADS=2 in the workers' environment, so that the test of the
    # plugin's BLAS limit sees the plugin's doing, not the nanny's default of 1.
    # dashboard_address=":0": the scheduler's HTTP server (dashboard, metrics) on a free port.
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   env={"OPENBLAS_NUM_THREADS": "2"}, death_timeout=60) as cluster,
          distributed.Client(cluster, timeout=60) as client):
        client.register_plugin(WarmUpPlugin(**WARMED))
        yield client


def _data(n=600):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16, y[:n]


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short fits stop at max_iter
        return function(*args, **kwargs)


def _params(model):
    return model.coefs_ + model.intercepts_


def _assert_same_model(a, b):
    assert a.n_iter_ == b.n_iter_ and a.loss_curve_ == b.loss_curve_
    for x, y in zip(_params(a), _params(b)):
        np.testing.assert_array_equal(x, y)


def _searches():
    estimator = fastmlp.MLPClassifier(max_iter=5, random_state=0)
    yield GridSearchCV(estimator, {"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(8,), (16,)]}, cv=2)
    yield RandomizedSearchCV(estimator, {"alpha": [1e-5, 1e-4, 1e-3, 1e-2], "learning_rate_init": [1e-3, 3e-3, 1e-2]},
                             n_iter=3, cv=2, random_state=0)


@pytest.mark.parametrize("search", list(_searches()), ids=["grid", "randomized"])
def test_search_on_the_cluster_equals_the_local_search(client, search):
    X, y = _data()
    local = _quiet(search.set_params(n_jobs=1).fit, X, y)
    local_results = {k: v for k, v in local.cv_results_.items() if "test_score" in k or k == "params"}
    with parallel_backend("dask"):
        remote = search.set_params(n_jobs=None).fit(X, y)  # the client's cluster runs the fits
    assert remote.best_params_ == local.best_params_
    for key, value in local_results.items():
        if key == "params":
            assert remote.cv_results_[key] == value
        else:
            np.testing.assert_array_equal(remote.cv_results_[key], value, err_msg=key)
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
    # The workers ran the fits: each of the 2 worker processes ran some.
    assert len(client.scheduler_info()["workers"]) == 2


def test_incremental_over_chunks_equals_partial_fit_over_them_in_order(client):
    X, y = _data()
    X_val, y_val = load_digits(return_X_y=True)[0][1200:] / 16, load_digits(return_X_y=True)[1][1200:]
    classes = np.unique(y)
    dX, dy = da.from_array(X, chunks=(150, 64)), da.from_array(y, chunks=150)
    assert dX.numblocks == (4, 1)
    params = dict(hidden_layer_sizes=(32,), learning_rate_init=1e-2, random_state=0)
    # shuffle_blocks=False: the blocks in order. (With True and an int random_state the
    # order is RandomState(random_state).shuffle(range(n_blocks)), the same every call.)
    incremental = dask_ml_wrappers.Incremental(fastmlp.MLPClassifier(**params), shuffle_blocks=False)
    local = fastmlp.MLPClassifier(**params)
    scores, local_scores = [], []
    for _ in range(4):  # epochs: one partial_fit per chunk, in order, then a validation score
        incremental.partial_fit(dX, dy, classes=classes)
        for start in range(0, len(X), 150):
            local.partial_fit(X[start:start + 150], y[start:start + 150], classes=classes)
        scores.append(incremental.score(X_val, y_val))
        local_scores.append(local.score(X_val, y_val))
    _assert_same_model(incremental.estimator_, local)
    assert scores == local_scores
    assert scores[-1] > 0.6 and scores[-1] > scores[0]
    np.testing.assert_array_equal(incremental.predict(dX).compute(), local.predict(X))


def _fit_on_worker(X, y):
    return _quiet(fastmlp.MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0).fit, X, y)


def test_models_move_between_client_and_workers(client):
    X, y = _data()
    here = _fit_on_worker(X, y)
    there = client.submit(_fit_on_worker, X, y, pure=False).result(timeout=TIMEOUT)  # pickled back
    _assert_same_model(there, here)
    np.testing.assert_array_equal(there.predict_proba(X), here.predict_proba(X))
    # A model fitted (and pickled) on the client predicts on each worker as here.
    sent = pickle.loads(pickle.dumps(here))
    for address in client.scheduler_info()["workers"]:
        proba = client.submit(lambda model, X: model.predict_proba(X), sent, X, workers=[address],
                              pure=False).result(timeout=TIMEOUT)
        np.testing.assert_array_equal(proba, here.predict_proba(X))


def _blas_threads():
    from threadpoolctl import threadpool_info

    return sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})


def test_workers_run_blas_on_the_plugins_thread_count(client):
    import os

    # The workers started with OPENBLAS_NUM_THREADS=2; the plugin limited BLAS to 1 thread,
    # and a fit in a task (a worker thread) leaves it there.
    assert set(client.run(lambda: os.environ["OPENBLAS_NUM_THREADS"]).values()) == {"2"}
    assert list(client.run(_blas_threads).values()) == [[1], [1]]

    def fit_then_count():
        _fit_on_worker(*_data(200))
        return _blas_threads()

    for address in client.scheduler_info()["workers"]:
        assert client.submit(fit_then_count, workers=[address], pure=False).result(timeout=TIMEOUT) == [1]
    with pytest.raises(ValueError, match="blas_threads"):
        WarmUpPlugin(blas_threads=0)


def _first_fit_compiles_and_loads(activation, solver):
    """Fits a model of this kind, counting fastmlp's kernels compiled (Numba's compile
    events) and looked up in Numba's on-disk cache (a kernel not yet in memory)."""
    from numba.core import caching, event

    looked_up = []
    original = caching.Cache.load_overload

    def counting(self, sig, target_context):
        looked_up.append(self._py_func.__module__)
        return original(self, sig, target_context)

    recorder = event.RecordingListener()
    event.register("numba:compile", recorder)
    caching.Cache.load_overload = counting
    try:
        X, y = _data(100)
        _quiet(fastmlp.MLPClassifier(hidden_layer_sizes=(8,), activation=activation, solver=solver, max_iter=2,
                                     random_state=0).fit, X, y).predict(X)
    finally:
        caching.Cache.load_overload = original
        event.unregister("numba:compile", recorder)
    compiled = [ev.data["dispatcher"].py_func.__module__ for _, ev in recorder.buffer if ev.is_start]
    return (sum(name.startswith("fastmlp") for name in compiled),
            sum(name.startswith("fastmlp") for name in looked_up))


def test_warm_up_plugin_leaves_nothing_to_compile_or_load_for_a_new_workers_first_task(client):
    cluster = client.cluster
    before = set(client.scheduler_info()["workers"])
    cluster.scale(3)  # a fresh worker process: the registered plugin runs on it as it joins
    client.wait_for_workers(3, timeout=TIMEOUT)
    (new,) = set(client.scheduler_info()["workers"]) - before
    try:
        seconds = client.run(lambda dask_worker: dask_worker.plugins["fastmlp-warmup"].seconds, workers=[new])
        assert seconds[new] > 0
        # Its first task, of the warmed kind: every kernel it runs is in memory already.
        first = client.submit(_first_fit_compiles_and_loads, "relu", "adam", workers=[new], pure=False)
        assert first.result(timeout=TIMEOUT) == (0, 0)
        # A kind not warmed (tanh, sgd) does look kernels up (or compile them): the check sees them.
        other = client.submit(_first_fit_compiles_and_loads, "tanh", "sgd", workers=[new], pure=False)
        assert sum(other.result(timeout=TIMEOUT)) > 0
    finally:
        cluster.scale(2)  # closes the newest worker, this one
        deadline = time.monotonic() + TIMEOUT
        while new in client.scheduler_info()["workers"] and time.monotonic() < deadline:
            time.sleep(0.1)



def test_import_fastmlp_does_not_import_dask():
    code = "import sys, fastmlp; print(sorted({'dask', 'distributed', 'dask_ml'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=TIMEOUT)
    assert out.stdout.strip() == "[]"


def test_readme_streaming_recipe_trains_on_the_cluster(client):
    namespace = {}
    exec(readme_example("### Streaming training with dask-ml"), namespace)
    scores = namespace["val_scores"]
    assert len(scores) == 5 and scores[-1] > 0.8 and scores[-1] > scores[0]


def test_readme_scaling_out_example():
    # As written, with its own LocalCluster (closed by it), run as a script's main module.
    namespace = {"__name__": "__main__"}
    with warnings.catch_warnings():
        # Its dashboard's port, 8787, may be taken (another cluster on this machine): Dask
        # warns and takes another.
        warnings.filterwarnings("ignore", message="Port 8787 is already in use", category=UserWarning)
        exec(readme_example("## Scaling out"), namespace)
    search, local = namespace["search"], namespace["local"]
    assert search.best_params_ == local.best_params_
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
