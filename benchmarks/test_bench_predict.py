"""Prediction latency on a few rows, the served-model case: fastmlp against scikit-learn.

Run: ``pytest benchmarks/test_bench_predict.py --benchmark-enable``. One group per
method, row count and dtype (``predict latency <method> <rows> <dtype>``, e.g.
``predict latency predict_proba 1row float64``), each holding

- ``fastmlp``: a plain ndarray, the fast path (``fastmlp/_fast_predict.py``);
- ``fastmlp-validated``: the same rows with ``is_plain_rows`` switched off, so through
  ``validate_data``, the weight conversions and the engine's ``forward``: what a
  DataFrame, a list or any other input that is not plain rows costs (the fitted check
  and the labels stay the fast ones);
- ``sklearn``: scikit-learn's MLP, fitted on the same data.

The model is the digits workload's network (load_digits / 16, 64 features, (100,) relu,
10 classes; the regressor predicts the digit / 9), trained a few epochs: prediction cost
does not depend on the weights. Data and models are made in the rows' dtype. Every test
calls its method once before ``benchmark(...)`` (Numba compiles or loads its cache there).
"""

import warnings

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.exceptions import ConvergenceWarning

import fastmlp
from fastmlp import _fast_predict

from ._helpers import cases, run
from .workloads import WORKLOADS

IMPLEMENTATIONS = ("fastmlp", "fastmlp-validated", "sklearn")
METHODS = {"predict_proba": ("classifier", "predict_proba"), "predict": ("classifier", "predict"),
           "regressor-predict": ("regressor", "predict")}
ROWS = {"1row": 1, f"{_fast_predict.MAX_ROWS}rows": _fast_predict.MAX_ROWS}
DTYPES = {"float64": np.float64, "float32": np.float32}

_MODELS = {}


def _model(impl, kind, dtype):
    """(fitted model, X): the model of ``impl`` (fastmlp or scikit-learn), ``kind`` and
    dtype, made once, and the data in that dtype."""
    library = "sklearn" if impl == "sklearn" else "fastmlp"
    key = (library, kind, dtype)
    if key not in _MODELS:
        workload = WORKLOADS["digits"]
        X, y = workload.data()
        X = X.astype(dtype)
        module = neural_network if library == "sklearn" else fastmlp
        cls = module.MLPClassifier if kind == "classifier" else module.MLPRegressor
        params = {"hidden_layer_sizes": workload.hidden_layer_sizes, "activation": workload.activation,
                  "max_iter": 3, "random_state": 0}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _MODELS[key] = cls(**params).fit(X, y if kind == "classifier" else y / 9.0), X
    return _MODELS[key]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("method, rows, dtype", cases("predict latency", method=METHODS, rows=ROWS, dtype=DTYPES))
def test_predict(benchmark, monkeypatch, impl, method, rows, dtype):
    kind, name = method
    est, X = _model(impl, kind, dtype)
    if impl == "fastmlp-validated":
        monkeypatch.setattr(_fast_predict, "is_plain_rows", lambda est, X: False)
    X = np.ascontiguousarray(X[:rows])
    benchmark.extra_info.update(impl=impl, method=name, kind=kind, rows=rows, dtype=np.dtype(dtype).name)
    run(benchmark, getattr(est, name), X)
