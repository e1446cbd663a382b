"""scikit-learn's own MLP tests, run against fastmlp.

The installed ``sklearn/neural_network/tests/test_mlp.py`` runs in a pytest subprocess
whose plugin (written to a temporary folder) puts fastmlp's classes into
``sklearn.neural_network`` before the test module imports them, so that its module-level
names and its parametrizations (``[MLPClassifier, MLPRegressor]``) are fastmlp's. The
plugin refuses to run a test that still refers to scikit-learn's classes; the results
come back as JUnit XML. Nothing of scikit-learn's is copied here.

Two of those tests reach into private API: ``test_fit`` sets weights and training state
by hand and calls ``partial_fit``, ``test_gradient`` calls ``_loss_grad_lbfgs``. The tests
below the suite hold fastmlp to scikit-learn's own results on both.
"""

import os
import subprocess
import sys
import textwrap
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn import neural_network
from sklearn.base import is_classifier

import fastmlp

from .tolerances import training_tol

SUITE = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"

# Tests that must be among those run (the two that use private API and a few that cover
# each solver), so that a renamed or emptied file cannot pass unnoticed.
REQUIRED = {
    "test_fit", "test_gradient", "test_lbfgs_classification", "test_lbfgs_regression",
    "test_partial_fit_classification", "test_partial_fit_regression", "test_early_stopping",
    "test_warm_start", "test_mlp_param_dtypes", "test_sparse_matrices",
}
# scikit-learn 1.9.1's file holds 59 test cases, none skipped where pandas is installed.
MIN_CASES = 55

PLUGIN = """
import pytest
import sklearn.neural_network
from sklearn.neural_network import _multilayer_perceptron

import fastmlp

sklearn.neural_network.MLPClassifier = fastmlp.MLPClassifier
sklearn.neural_network.MLPRegressor = fastmlp.MLPRegressor
_SKLEARNS = (_multilayer_perceptron.MLPClassifier, _multilayer_perceptron.MLPRegressor)


def pytest_collection_modifyitems(items):
    for item in items:
        names = list(vars(item.module).values())
        params = list(getattr(getattr(item, "callspec", None), "params", {}).values())
        if any(value is cls for value in names + params for cls in _SKLEARNS):
            raise pytest.UsageError(item.nodeid + " still uses scikit-learn's MLP, not fastmlp's")
"""

# The project's warning policy (setup.cfg), not the repository's pytest configuration.
INI = """
[pytest]
filterwarnings =
    error
    ignore:Cannot cache compiled function:numba.core.errors.NumbaWarning
"""


def _outcomes(junit_xml):
    """{test name: (outcome, message)} from pytest's JUnit XML."""
    outcomes = {}
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome, message = child.tag, (child.get("message") or "").splitlines()[0][:300]
                break
        outcomes[case.get("name")] = (outcome, message)
    return outcomes


@pytest.mark.slow
def test_sklearn_mlp_suite_passes_with_fastmlp(tmp_path):
    assert SUITE.is_file(), f"scikit-learn's MLP tests are not installed at {SUITE}"
    (tmp_path / "fastmlp_in_sklearn_suite.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "pytest.ini").write_text(textwrap.dedent(INI))
    junit = tmp_path / "results.xml"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "SKLEARN_TESTS_GLOBAL_RANDOM_SEED")}
    # The plugin, and the fastmlp this process imported (the checkout, installed or not).
    paths = [str(tmp_path), str(Path(fastmlp.__file__).parents[1]), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    cmd = [sys.executable, "-m", "pytest", str(SUITE), "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
           "-p", "fastmlp_in_sklearn_suite", "-p", "no:cacheprovider", "-q", f"--junitxml={junit}"]
    run = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200)
    log = run.stdout[-4000:] + "\n" + run.stderr[-2000:]
    assert junit.is_file(), f"pytest wrote no results (exit {run.returncode}):\n{log}"
    outcomes = _outcomes(junit)
    not_passed = {name: o for name, o in outcomes.items() if o[0] != "passed"}
    assert not not_passed, "scikit-learn's MLP tests that fastmlp does not pass:\n" + "\n".join(
        f"  {name}: {outcome}: {message}" for name, (outcome, message) in sorted(not_passed.items())
    ) + "\n" + log
    assert run.returncode == 0, log
    assert len(outcomes) >= MIN_CASES, f"only {len(outcomes)} test cases ran: {sorted(outcomes)}"
    ran = {name.split("[")[0] for name in outcomes}
    assert REQUIRED <= ran, f"missing from the run: {sorted(REQUIRED - ran)}"


# -- _loss_grad_lbfgs: scikit-learn's signature, values and dtypes ------------------------------

# theta: the fitted parameters (float64, L-BFGS's result) or, for float32 X, theta in X's dtype.
LBFGS_CASES = [
    (kind, activation, dtype, weighted, sparse, theta_dtype)
    for kind in ("binary", "multiclass", "regression")
    for activation in ("identity", "logistic", "tanh", "relu")
    for dtype, theta_dtypes in ((np.float64, ("float64",)), (np.float32, ("float64", "float32")))
    for weighted, sparse in ((False, False), (True, False), (False, True))
    for theta_dtype in theta_dtypes
]


def _lbfgs_problem(kind, activation, dtype, sparse):
    rng = np.random.default_rng(0)
    X = rng.random((25, 6)).astype(dtype)
    if kind == "regression":
        y = rng.standard_normal(25)
        pair = (neural_network.MLPRegressor, fastmlp.MLPRegressor)
    else:
        y = rng.integers(0, 2 if kind == "binary" else 3, 25)
        pair = (neural_network.MLPClassifier, fastmlp.MLPClassifier)
    X = sp.csr_matrix(X) if sparse else X
    kwargs = dict(hidden_layer_sizes=(5, 4), activation=activation, solver="lbfgs", max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: 3 iterations
        theirs, ours = (cls(**kwargs).fit(X, y) for cls in pair)
    Y = y.reshape(-1, 1) if kind == "regression" else theirs._label_binarizer.transform(y).astype(bool)
    return theirs, ours, X, Y


@pytest.mark.parametrize("kind, activation, dtype, weighted, sparse, theta_dtype", LBFGS_CASES,
                         ids=[f"{k}-{a}-X{np.dtype(d).name}-theta{t}{'-weighted' * w}{'-sparse' * s}"
                              for k, a, d, w, s, t in LBFGS_CASES])
def test_loss_grad_lbfgs_is_sklearns_bit_for_bit(kind, activation, dtype, weighted, sparse, theta_dtype):
    theirs, ours, X, Y = _lbfgs_problem(kind, activation, dtype, sparse)
    sw = np.random.default_rng(1).random(X.shape[0]) if weighted else None
    theta = np.hstack([p.ravel() for p in theirs.coefs_ + theirs.intercepts_]).astype(theta_dtype)
    results = []
    for model in (theirs, ours):
        n_layers = len(model.coefs_)
        lists = ([X] + [None] * n_layers, [None] * n_layers, [None] * n_layers, [None] * n_layers)
        loss, grad = model._loss_grad_lbfgs(theta.copy(), X, Y, sw, *lists)
        results.append((loss, grad, lists[2] + lists[3], model.coefs_ + model.intercepts_))
    (loss_t, grad_t, layer_grads_t, params_t), (loss_o, grad_o, layer_grads_o, params_o) = results
    assert type(loss_o) is type(loss_t) and loss_o == loss_t
    assert grad_o.dtype == grad_t.dtype
    np.testing.assert_array_equal(grad_o, grad_t)
    assert [g.dtype for g in layer_grads_o] == [g.dtype for g in layer_grads_t]
    for a, b in zip(layer_grads_o, layer_grads_t):
        np.testing.assert_array_equal(a, b)
    # Both leave the model's parameters at theta.
    for a, b in zip(params_o, params_t):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


# -- a model whose weights and training state were set by hand --------------------------------

def _hand_set(cls, dtype, **params):
    """scikit-learn's test_fit set-up: weights and stochastic-training state assigned, no fit."""
    model = cls(hidden_layer_sizes=2, activation="logistic", max_iter=1, random_state=1, **params)
    model.coefs_ = [np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0.0]], dtype=dtype), np.array([[0.1], [0.2]], dtype=dtype)]
    model.intercepts_ = [np.array([0.1, 0.1], dtype=dtype), np.array([1.0], dtype=dtype)]
    model.n_features_in_ = 3
    model.n_outputs_ = 1
    model.n_layers_ = 3
    model.out_activation_ = "logistic" if is_classifier(model) else "identity"
    model.n_iter_ = 0
    model.t_ = 0
    model.best_loss_ = np.inf
    model.loss_curve_ = []
    model._no_improvement_count = 0
    return model


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver, momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.9)])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_partial_fit_of_hand_set_model_matches_sklearn(kind, solver, momentum, dtype):
    pair = ((neural_network.MLPClassifier, fastmlp.MLPClassifier) if kind == "classifier"
            else (neural_network.MLPRegressor, fastmlp.MLPRegressor))
    rng = np.random.default_rng(0)
    X = rng.random((20, 3)).astype(dtype)
    y = (X.sum(axis=1) > 1.5).astype(int) if kind == "classifier" else X.sum(axis=1)
    params = dict(solver=solver, momentum=momentum, learning_rate_init=0.1, alpha=0.1, batch_size=7)
    models = [_hand_set(cls, dtype, **params) for cls in pair]
    for _ in range(3):
        for model in models:
            if kind == "classifier":
                model.partial_fit(X, y, classes=[0, 1])
            else:
                model.partial_fit(X, y)
    theirs, ours = models
    tol = training_tol(dtype)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **tol)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, **tol)
    assert (ours.n_iter_, ours.t_) == (theirs.n_iter_, theirs.t_)


def test_hand_set_model_worked_example():
    """scikit-learn's test_fit example, one SGD step on one sample, to fastmlp's own
    tolerance rather than the suite's three decimals."""
    X = np.array([[0.6, 0.8, 0.7]])
    models = [_hand_set(cls, np.float64, solver="sgd", learning_rate_init=0.1, alpha=0.1, momentum=0)
              for cls in (neural_network.MLPClassifier, fastmlp.MLPClassifier)]
    for model in models:
        model.partial_fit(X, [0], classes=[0, 1])
    theirs, ours = models
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, **training_tol(np.float64))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), **training_tol(np.float64))
    np.testing.assert_allclose(ours.predict_proba(X)[0, 1], 0.739, atol=5e-4)  # the test's hand-worked value

