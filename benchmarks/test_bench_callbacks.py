"""What scikit-learn's callbacks (``set_callbacks``) cost a fit.

Run: ``pytest benchmarks/test_bench_callbacks.py --benchmark-enable``. One group per
workload (``callbacks <workload>``), each round a fresh fastmlp fit of the workload's
``epochs`` epochs (no stopping rule fires), with:

- ``none``: no callback, the fit makes no callback context (the default);
- ``trivial``: one callback whose hooks do nothing (the task tree: a context per epoch,
  two hook calls);
- ``fitted-estimator``: one callback whose ``on_fit_task_end`` asks for
  ``fitted_estimator``, so that every epoch copies the weights and the optimizer's state
  (what ``ScoringMonitor`` costs before it scores).

circles has the shortest epochs (~0.1 ms), where a per-epoch cost shows most; digits is a
mid-sized one. ``extra_info`` carries seconds per epoch. With ``--benchmark-disable``
each fit runs once, for one epoch.
"""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

import fastmlp

from ._helpers import cases, run
from .workloads import WORKLOADS


class _Trivial:
    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass


class _AsksForFittedEstimator(_Trivial):
    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        pass


CALLBACKS = {"none": (), "trivial": (_Trivial,), "fitted-estimator": (_AsksForFittedEstimator,)}


@pytest.mark.parametrize("callbacks", list(CALLBACKS))
@pytest.mark.parametrize("workload", cases("callbacks", workload={name: WORKLOADS[name] for name in
                                                                  ("circles", "digits")}))
def test_fit_with_callbacks(benchmark, workload, callbacks):
    X, y = workload.data()
    epochs = 1 if benchmark.disabled else workload.epochs
    est = fastmlp.MLPClassifier(**workload.estimator_params(epochs))
    est.set_callbacks(*(callback() for callback in CALLBACKS[callbacks]))

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return est.fit(X, y)

    benchmark.extra_info.update(workload=workload.name, callbacks=callbacks, epochs=epochs)
    run(benchmark, fit)
    if benchmark.stats is not None:
        benchmark.extra_info["seconds_per_epoch_median"] = benchmark.stats.stats.median / epochs
