"""A hyperparameter search on a Dask cluster and on one machine: fastmlp against
scikit-learn's MLP, a fresh cluster against a warm one, with and without
``fastmlp.dask.WarmUpPlugin``, and joblib's threading against its loky backend.

    python benchmarks/dask_search.py                 # 3 interleaved rounds (~3 minutes on 2 cores)
    python benchmarks/dask_search.py --rounds 5 --cold-cache

The search: ``GridSearchCV`` of 16 candidates (alpha x hidden_layer_sizes) x 3 folds on
digits / 16, ``max_iter=30`` (``tol=0``: every fit runs 30 epochs), ``random_state=0``.

- Cluster (``LocalCluster``, 2 worker processes of 1 thread, started anew for each
  measurement): the first search on the fresh cluster and the second one on the same
  workers, through joblib's Dask backend; for fastmlp also with the plugin registered
  first (its ``register_plugin`` time reported apart).
- First task per worker: on another fresh cluster, one fit of the grid's largest
  candidate on one fold, pinned to each worker, timed inside the task; then the same
  task again. The difference is what a worker's first fastmlp task pays (Numba's start,
  loading or compiling the kernels). With the plugin, the first task runs after
  ``register_plugin`` returns.
- One machine: ``GridSearchCV(n_jobs=2)`` under ``joblib.parallel_backend("threading")``
  with BLAS limited to 1 thread (threadpoolctl) and under ``"loky"`` (its workers started
  before timing; loky limits their BLAS threads itself). Threading with BLAS left at its
  2 threads is not measured: on 2 cores scikit-learn's search did not finish in 4 minutes
  (two OpenBLAS callers of 2 threads each on 2 cores).

Numba's disk cache is what the machine has (warm after any earlier fit); ``--cold-cache``
adds one round where each fresh cluster's workers get an empty ``NUMBA_CACHE_DIR``, so
that their first task compiles. Measurements are interleaved per round; medians printed.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager

from joblib import parallel_backend
from sklearn import neural_network
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, KFold
from threadpoolctl import threadpool_limits

import fastmlp

GRID = {"alpha": [1e-5, 1e-4, 1e-3, 1e-2], "hidden_layer_sizes": [(32,), (64,), (100,), (128,)]}
PARAMS = dict(max_iter=30, tol=0, n_iter_no_change=31, random_state=0)
LIBRARIES = {"fastmlp": fastmlp.MLPClassifier, "sklearn": neural_network.MLPClassifier}


def _data():
    X, y = load_digits(return_X_y=True)
    return X / 16, y


def _search(library, n_jobs=None):
    return GridSearchCV(LIBRARIES[library](**PARAMS), GRID, cv=3, n_jobs=n_jobs)


def _quiet():
    warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter, on purpose


def _fit_one(library, X, y):
    """One fit of the grid's largest candidate on the first training fold, timed inside."""
    _quiet()
    train, _ = next(KFold(3).split(X))
    start = time.perf_counter()
    LIBRARIES[library](hidden_layer_sizes=(128,), **PARAMS).fit(X[train], y[train])
    return time.perf_counter() - start


@contextmanager
def _client(cold_cache):
    """A client of a fresh 2-worker LocalCluster, both closed on exit."""
    from distributed import Client, LocalCluster

    env = {"NUMBA_CACHE_DIR": tempfile.mkdtemp(prefix="fastmlp-dask-bench-")} if cold_cache else {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, env=env) as cluster, \
            Client(cluster) as client:
        client.run(_quiet)
        yield client


def _register(client):
    from fastmlp.dask import WarmUpPlugin

    start = time.perf_counter()
    client.register_plugin(WarmUpPlugin())
    return time.perf_counter() - start


def cluster_searches(library, plugin, cold_cache=False):
    """Seconds: plugin registration (or None), first search, second search."""
    X, y = _data()
    with _client(cold_cache) as client:
        warm_up = _register(client) if plugin else None
        times = []
        for _ in range(2):
            start = time.perf_counter()
            with parallel_backend("dask"):
                _search(library).fit(X, y)
            times.append(time.perf_counter() - start)
    return warm_up, times[0], times[1]


def first_tasks(library, plugin, cold_cache=False):
    """Seconds per worker: plugin registration (or None), first fit task, second fit task."""
    X, y = _data()
    with _client(cold_cache) as client:
        warm_up = _register(client) if plugin else None
        workers = list(client.scheduler_info()["workers"])
        rounds = []
        for _ in range(2):
            futures = [client.submit(_fit_one, library, X, y, workers=[w], pure=False) for w in workers]
            rounds.append(client.gather(futures))
    return warm_up, rounds[0], rounds[1]


def one_machine(library, backend, blas_one=False):
    X, y = _data()
    start = time.perf_counter()
    with warnings.catch_warnings(), parallel_backend(backend, n_jobs=2):
        _quiet()
        if blas_one:
            with threadpool_limits(limits=1, user_api="blas"):
                _search(library).fit(X, y)
        else:
            _search(library).fit(X, y)
    return time.perf_counter() - start


def _median(values):
    return statistics.median(values)


def _spread(values):
    return f"{_median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold-cache", action="store_true", help="one more round with empty Numba caches")
    args = parser.parse_args(argv)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    os.environ["PYTHONWARNINGS"] = "ignore"  # loky's worker processes start with it: no ConvergenceWarnings

    # One machine first: loky's workers are started (and import fastmlp, load its
    # kernels) by an untimed search of each library.
    for library in LIBRARIES:
        one_machine(library, "loky")
    local = {(lib, backend): [] for lib in LIBRARIES for backend in ("threading+blas1", "loky")}
    search = {key: [] for key in (("fastmlp", False), ("fastmlp", True), ("sklearn", False))}
    warm_ups, tasks = [], {False: ([], []), True: ([], [])}
    for r in range(args.rounds):
        for library in LIBRARIES:
            local[library, "threading+blas1"].append(one_machine(library, "threading", blas_one=True))
            local[library, "loky"].append(one_machine(library, "loky"))
        for library, plugin in search:
            warm_up, first, second = cluster_searches(library, plugin)
            search[library, plugin].append((first, second))
            if warm_up is not None:
                warm_ups.append(warm_up)
        for plugin in (False, True):
            _, first, second = first_tasks("fastmlp", plugin)
            tasks[plugin][0].extend(first)
            tasks[plugin][1].extend(second)
        log(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{lib}{'+plugin' if p else ''} {v[-1][0]:.2f}/{v[-1][1]:.2f} s" for (lib, p), v in search.items()))

    print(f"Grid search, 16 candidates x 3 folds, digits, 30 epochs; median (min-max) of {args.rounds} rounds.\n")
    print("On a fresh 2-worker LocalCluster (1 thread each), joblib's Dask backend:\n")
    print("| | first search (fresh cluster) | second search (warm) | first / second |")
    print("|---|---|---|---|")
    for (library, plugin), values in search.items():
        first, second = [v[0] for v in values], [v[1] for v in values]
        label = f"{library}{' + WarmUpPlugin' if plugin else ''}"
        print(f"| {label} | {_spread(first)} | {_spread(second)} | "
              f"{_median([a / b for a, b in values]):.2f}x |")
    if warm_ups:
        print(f"\n`register_plugin(WarmUpPlugin())` before the first search: {_spread(warm_ups)}.")
    sk = search["sklearn", False]
    for plugin in (False, True):
        ours = search["fastmlp", plugin]
        print(f"scikit-learn / fastmlp{' + plugin' if plugin else ''}: first search "
              f"{_median([s[0] / o[0] for s, o in zip(sk, ours)]):.2f}x, second "
              f"{_median([s[1] / o[1] for s, o in zip(sk, ours)]):.2f}x")
    print("\nFirst fit task per worker (the largest candidate on one fold, timed inside the task), "
          "fastmlp, fresh cluster:\n")
    print("| | first task | second task | first-task cost |")
    print("|---|---|---|---|")
    for plugin in (False, True):
        first, second = tasks[plugin]
        print(f"| {'with WarmUpPlugin' if plugin else 'without plugin'} | {_spread(first)} | {_spread(second)} | "
              f"{_median(first) - _median(second):+.2f} s |")
    if args.cold_cache:
        print("\nEmpty Numba cache on the workers (one round):\n")
        print("| | plugin registration | first task per worker | second task |")
        print("|---|---|---|---|")
        for plugin in (False, True):
            warm_up, first, second = first_tasks("fastmlp", plugin, cold_cache=True)
            print(f"| {'with WarmUpPlugin' if plugin else 'without plugin'} | "
                  f"{'-' if warm_up is None else f'{warm_up:.2f} s'} | "
                  f"{', '.join(f'{t:.2f}' for t in first)} s | {', '.join(f'{t:.2f}' for t in second)} s |")
    print("\nOne machine, GridSearchCV(n_jobs=2), same grid:\n")
    print("| | threading, BLAS 1 thread | loky |")
    print("|---|---|---|")
    backends = ("threading+blas1", "loky")
    for library in LIBRARIES:
        print(f"| {library} | " + " | ".join(_spread(local[library, b]) for b in backends) + " |")
    for library in LIBRARIES:
        th1, lk = (local[library, b] for b in backends)
        print(f"{library}: loky / threading (BLAS 1) {_median([b / a for a, b in zip(th1, lk)]):.2f}x")
    for backend in backends:
        print(f"{backend}: scikit-learn / fastmlp "
              f"{_median([s / f for s, f in zip(local['sklearn', backend], local['fastmlp', backend])]):.2f}x")
    cluster_vs_local = [o[1] / t for o, t in zip(search["fastmlp", True], local["fastmlp", "threading+blas1"])]
    print(f"fastmlp, warm 2-worker cluster / threading with BLAS 1 on one machine: {_median(cluster_vs_local):.2f}x")


if __name__ == "__main__":
    main()
