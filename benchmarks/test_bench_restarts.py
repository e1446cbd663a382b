"""What restarts (``n_init``) cost a fit: one network against two, side by side or not.

Run: ``pytest benchmarks/test_bench_restarts.py --benchmark-enable``. One group per
solver (``restarts digits-64 <solver>``), each round a fresh fastmlp fit of digits (X / 16,
1797x64) with a (64,) relu network, batch 64, 30 epochs (no stopping rule fires), with:

- ``n_init=1``: one network (the default);
- ``n_init=2``: two restarts, side by side in threads on a machine with 2 or more cores
  (``n_threads=None``);
- ``n_init=2-serial``: two restarts one after another (``n_threads=1``).

The issue's target: ``n_init=2`` at most 1.3x ``n_init=1`` on 2 cores. pytest-benchmark
runs each variant's rounds back to back, so on a shared machine compare the groups'
medians with care; ``python benchmarks/test_bench_restarts.py [rounds]`` interleaves
the three variants and prints paired ratios. With ``--benchmark-disable`` each fit runs
once, for one epoch.
"""

import statistics
import sys
import time
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

import fastmlp

if __package__:
    from ._helpers import run
    from .workloads import WORKLOADS
else:  # run as a script
    from _helpers import run
    from workloads import WORKLOADS

EPOCHS = 30
VARIANTS = {"n_init=1": {}, "n_init=2": {"n_init": 2}, "n_init=2-serial": {"n_init": 2, "n_threads": 1}}


def _estimator(solver, epochs, variant):
    params = dict(hidden_layer_sizes=(64,), solver=solver, batch_size=64, max_iter=epochs, tol=0.0,
                  n_iter_no_change=epochs + 1, random_state=0)
    return fastmlp.MLPClassifier(**params, **VARIANTS[variant])


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("solver", [pytest.param(s, marks=pytest.mark.benchmark(group=f"restarts digits-64 {s}"))
                                    for s in ("adam", "lbfgs")])
def test_fit_with_restarts(benchmark, solver, variant):
    X, y = WORKLOADS["digits"].data()
    epochs = 1 if benchmark.disabled else EPOCHS
    est = _estimator(solver, epochs, variant)
    benchmark.extra_info.update(solver=solver, variant=variant, epochs=epochs)
    run(benchmark, _fit, est, X, y)


def interleaved(rounds=15, solver="adam"):
    """Median seconds per variant and paired median ratios, the variants interleaved."""
    X, y = WORKLOADS["digits"].data()
    for variant in VARIANTS:  # warm-up: Numba's cache
        _fit(_estimator(solver, 1, variant), X, y)
    times = {variant: [] for variant in VARIANTS}
    for _ in range(rounds):
        for variant in VARIANTS:
            start = time.perf_counter()
            _fit(_estimator(solver, EPOCHS, variant), X, y)
            times[variant].append(time.perf_counter() - start)

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(times[a], times[b]))

    return ({variant: statistics.median(t) for variant, t in times.items()},
            {"n_init=2 / n_init=1": ratio("n_init=2", "n_init=1"),
             "n_init=2-serial / n_init=1": ratio("n_init=2-serial", "n_init=1"),
             "n_init=2 / n_init=2-serial": ratio("n_init=2", "n_init=2-serial")})


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    for solver in sys.argv[2:] or ["adam"]:
        medians, ratios = interleaved(rounds, solver)
        print(solver, {k: f"{v * 1e3:.1f} ms" for k, v in medians.items()}, {k: f"{v:.2f}" for k, v in ratios.items()})
