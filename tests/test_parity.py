"""fastmlp against scikit-learn, trained side by side in each test.

The oracle is scikit-learn 1.9's ``sklearn.neural_network`` estimator fitted in the
test with the same parameters, data and ``random_state``: fastmlp must train the same
model to rounding (``tolerances.training_tol``): the same weights, loss curve,
``n_iter_``, stopping decisions, validation scores, fitted attributes, predictions,
warnings, printed lines and errors. No expected number is written down here.

Every fit is small (at most 50 epochs, at most 600 rows) so that the file runs in a
couple of minutes once the kernels are compiled.
"""

import functools
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numba.core.errors import NumbaWarning
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import neural_network
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_circles,
    make_classification,
    make_moons,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import fastmlp

from .tolerances import training_tol

# --------------------------------------------------------------------------------------
# Data. Built on first use (no work at import time), each from a fixed seed; tests get
# copies so that no fit can change another test's data.
# --------------------------------------------------------------------------------------


def _standardize(y):
    return (y - y.mean(axis=0)) / y.std(axis=0)


@functools.lru_cache(maxsize=None)
def _make_dataset(name, seed):
    if name == "digits":  # 10 classes
        X, y = load_digits(return_X_y=True)
        return X[:600] / 16.0, y[:600]
    if name == "digits_int":  # the same pixels as int64, 0..16
        X, y = load_digits(return_X_y=True)
        return X[:600].astype(np.int64), y[:600]
    if name == "digits_binary":
        X, y = load_digits(n_class=2, return_X_y=True)
        return X / 16.0, y
    if name == "digits_regression":  # digit value as a regression target
        X, y = load_digits(return_X_y=True)
        return X[:400] / 16.0, y[:400].astype(np.float64)
    if name == "iris":
        return load_iris(return_X_y=True)
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
        return StandardScaler().fit_transform(X), y
    if name == "diabetes":
        return load_diabetes(return_X_y=True)
    if name == "diabetes_scaled":  # standardized features, target in hundreds
        X, y = load_diabetes(return_X_y=True)
        return StandardScaler().fit_transform(X), y / 100.0
    if name == "circles":
        return make_circles(n_samples=300, noise=0.1, factor=0.5, random_state=seed)
    if name == "moons":
        return make_moons(n_samples=300, noise=0.2, random_state=seed)
    if name == "classification":  # 3 classes
        return make_classification(
            n_samples=400, n_features=20, n_informative=6, n_classes=3, random_state=seed
        )
    if name == "classification_binary":
        return make_classification(n_samples=400, n_features=10, random_state=seed)
    if name == "classification_strings":  # 3 classes named by strings (object dtype)
        X, y = make_classification(
            n_samples=200, n_features=10, n_classes=3, n_informative=5, random_state=seed
        )
        return X, np.array(["class_a", "class_b", "class_c"], dtype=object)[y]
    if name == "labels_pm1":  # binary labels -1 / +1
        X, y = make_classification(n_samples=300, n_features=8, random_state=seed)
        return X, 2 * y - 1
    if name == "digits_column":  # labels as an (n, 1) column
        X, y = load_digits(return_X_y=True)
        return X[:300] / 16.0, y[:300].reshape(-1, 1)
    if name == "digits_int_target":  # integer regression target
        X, y = load_digits(return_X_y=True)
        return X[:400] / 16.0, y[:400]
    if name == "labels_bool":  # binary labels as bools
        X, y = make_classification(n_samples=300, n_features=8, random_state=seed)
        return X, y.astype(bool)
    if name == "regression":
        X, y = make_regression(n_samples=300, n_features=10, noise=10.0, bias=20.0, random_state=seed)
        return X, _standardize(y)
    if name == "regression_column":  # y as an (n, 1) column
        X, y = make_regression(n_samples=300, n_features=10, noise=10.0, random_state=seed)
        return X, _standardize(y).reshape(-1, 1)
    if name == "regression_multi":  # 3 targets
        X, y = make_regression(n_samples=300, n_features=8, n_targets=3, noise=5.0, random_state=seed)
        return X, _standardize(y)
    if name == "multilabel":  # 5 labels
        return make_multilabel_classification(n_samples=300, n_features=20, n_classes=5, random_state=seed)
    if name == "poisson":  # counts with a log-linear mean
        rng = np.random.default_rng(seed)
        X = rng.uniform(-1.0, 1.0, size=(300, 5))
        y = rng.poisson(np.exp(X @ np.array([0.5, -0.3, 0.2, 0.0, 0.4]) + 0.5)).astype(np.float64)
        return X, y
    if name == "one_feature":
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(120, 1))
        return X, (X[:, 0] + 0.3 * rng.normal(size=120) > 0).astype(np.int64)
    if name == "tiny":  # scikit-learn's own two-sample case
        return np.array([[3.0, 2.0], [1.0, 6.0]]), np.array([1, 0])
    raise KeyError(name)


def dataset(name, seed=0):
    X, y = _make_dataset(name, seed)
    return X.copy(), y.copy()


def sample_weights(n, kind="uniform", seed=0):
    """Positive float weights, or integer repeat counts with zeros."""
    rng = np.random.default_rng(1000 + seed)
    if kind == "uniform":
        return rng.uniform(0.2, 3.0, size=n)
    if kind == "counts":
        return rng.integers(0, 4, size=n).astype(np.float64)
    raise KeyError(kind)


# --------------------------------------------------------------------------------------
# Running both estimators and comparing them.
# --------------------------------------------------------------------------------------

ESTIMATORS = {
    "classifier": (neural_network.MLPClassifier, fastmlp.MLPClassifier),
    "regressor": (neural_network.MLPRegressor, fastmlp.MLPRegressor),
}

# Every fitted attribute either estimator may set: both must set the same ones.
FITTED_ATTRIBUTES = (
    "coefs_",
    "intercepts_",
    "n_iter_",
    "t_",
    "loss_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "n_features_in_",
    "feature_names_in_",
    "n_layers_",
    "n_outputs_",
    "out_activation_",
    "classes_",
)

# NumPy's floating-point RuntimeWarnings (overflow in exp or matmul) come from
# scikit-learn's array expressions, which compiled kernels do not replay; Numba's cache
# notices are fastmlp's own. Every other warning (ConvergenceWarning, the batch_size
# UserWarning, DataConversionWarning) must be the same.
_UNCOMPARED_WARNINGS = (RuntimeWarning, NumbaWarning)


class FreshRandomState:
    """Stands for ``np.random.RandomState(seed)``, built anew for each estimator so
    that the two do not share (and consume) one generator."""

    def __init__(self, seed):
        self.seed = seed

    def __repr__(self):
        return f"FreshRandomState({self.seed})"


def make_pair(kind, params):
    """(scikit-learn estimator, fastmlp estimator) with the same parameters."""
    theirs_cls, ours_cls = ESTIMATORS[kind]

    def build(cls):
        kwargs = {
            key: (np.random.RandomState(value.seed) if isinstance(value, FreshRandomState) else value)
            for key, value in params.items()
        }
        return cls(**kwargs)

    return build(theirs_cls), build(ours_cls)


def call_recording(est, method, *args, **kwargs):
    """Call ``est.method(*args, **kwargs)``; return (error, warnings) where error is
    None or (type, message) and warnings is [(category, message), ...]."""
    error = None
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            getattr(est, method)(*args, **kwargs)
        except Exception as exc:  # compared with scikit-learn's below
            error = (type(exc), str(exc))
    seen = [(w.category, str(w.message)) for w in record if not issubclass(w.category, _UNCOMPARED_WARNINGS)]
    return error, seen


def assert_same_outcome(theirs, ours, what):
    their_error, their_warnings = theirs
    our_error, our_warnings = ours
    assert our_error == their_error, f"{what}: error differs from scikit-learn's"
    assert our_warnings == their_warnings, f"{what}: warnings differ from scikit-learn's"


def _assert_close_list(ours, theirs, tol, name):
    assert type(ours) is type(theirs), f"{name}: {type(ours)} vs scikit-learn's {type(theirs)}"
    if theirs is None:
        return
    assert len(ours) == len(theirs), f"{name}: length {len(ours)} vs scikit-learn's {len(theirs)}"
    assert_allclose(np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64), **tol,
                    err_msg=name)


def _assert_close_scalar_or_none(ours, theirs, tol, name):
    assert (ours is None) == (theirs is None), f"{name}: {ours!r} vs scikit-learn's {theirs!r}"
    if theirs is not None:
        assert_allclose(ours, theirs, **tol, err_msg=name)


def assert_same_model(theirs, ours, X_eval, tol_dtype=np.float64):
    """Fitted state and predictions of ``ours`` equal scikit-learn's ``theirs``."""
    tol = training_tol(tol_dtype)
    for name in FITTED_ATTRIBUTES:
        assert hasattr(ours, name) == hasattr(theirs, name), f"presence of {name}"

    assert ours.n_iter_ == theirs.n_iter_, "n_iter_"
    assert ours.t_ == theirs.t_, "t_"
    for name in ("n_layers_", "n_outputs_", "out_activation_", "n_features_in_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    if hasattr(theirs, "classes_"):
        assert_array_equal(ours.classes_, theirs.classes_)
        assert ours.classes_.dtype == theirs.classes_.dtype, "classes_ dtype"
    if hasattr(theirs, "feature_names_in_"):
        assert_array_equal(ours.feature_names_in_, theirs.feature_names_in_)

    assert len(ours.coefs_) == len(theirs.coefs_) and len(ours.intercepts_) == len(theirs.intercepts_)
    for label, our_list, their_list in (("coefs_", ours.coefs_, theirs.coefs_),
                                        ("intercepts_", ours.intercepts_, theirs.intercepts_)):
        for i, (a, b) in enumerate(zip(our_list, their_list)):
            assert a.shape == b.shape, f"{label}[{i}] shape"
            assert a.dtype == b.dtype, f"{label}[{i}] dtype {a.dtype} vs scikit-learn's {b.dtype}"
            assert_allclose(a, b, **tol, err_msg=f"{label}[{i}]")

    assert_allclose(ours.loss_, theirs.loss_, **tol, err_msg="loss_")
    if hasattr(theirs, "loss_curve_"):
        _assert_close_list(ours.loss_curve_, theirs.loss_curve_, tol, "loss_curve_")
        _assert_close_scalar_or_none(ours.best_loss_, theirs.best_loss_, tol, "best_loss_")
        _assert_close_list(ours.validation_scores_, theirs.validation_scores_, tol, "validation_scores_")
        _assert_close_scalar_or_none(ours.best_validation_score_, theirs.best_validation_score_, tol,
                                     "best_validation_score_")

    our_pred, their_pred = ours.predict(X_eval), theirs.predict(X_eval)
    assert our_pred.shape == their_pred.shape and our_pred.dtype == their_pred.dtype, "predict shape/dtype"
    if hasattr(theirs, "predict_proba"):
        assert_array_equal(our_pred, their_pred, err_msg="predict")
        our_proba, their_proba = ours.predict_proba(X_eval), theirs.predict_proba(X_eval)
        assert our_proba.shape == their_proba.shape and our_proba.dtype == their_proba.dtype, "predict_proba"
        _assert_close_outputs(our_proba, their_proba, tol, "predict_proba")
    else:
        _assert_close_outputs(our_pred, their_pred, tol, "predict")


def _assert_close_outputs(ours, theirs, tol, name):
    # Network outputs are sums of terms of the outputs' scale: an output near zero
    # carries the absolute rounding error of that scale, not a relative one.
    scale = float(np.max(np.abs(theirs))) if theirs.size else 0.0
    assert_allclose(ours, theirs, rtol=tol["rtol"], atol=max(tol["atol"], tol["rtol"] * scale), err_msg=name)


def fit_both(kind, params, X, y, method="fit", X_eval=None, tol_dtype=np.float64, **fit_kwargs):
    """Fit a new scikit-learn/fastmlp pair once and compare; return the pair."""
    theirs, ours = make_pair(kind, params)
    run_steps(theirs, ours, [(method, X, y, fit_kwargs)], X if X_eval is None else X_eval, tol_dtype)
    return theirs, ours


def run_steps(theirs, ours, steps, X_eval, tol_dtype=np.float64):
    """Apply each step to both estimators and compare after each one.

    steps : list of ``(method, X, y, fit_kwargs)`` for a fit/partial_fit that must
        succeed, ``(method, X, y, fit_kwargs, error_type)`` for one that must raise
        ``error_type`` in scikit-learn and the same error in fastmlp, or
        ``("set_params", params)``. A step not declared to raise must succeed: two
        estimators raising the same error do not pass for a fit.
    """
    for i, step in enumerate(steps):
        if step[0] == "set_params":
            theirs.set_params(**step[1])
            ours.set_params(**step[1])
            continue
        method, X, y, kwargs, *expected = step
        what = f"step {i} ({method})"
        their_outcome = call_recording(theirs, method, X, y, **kwargs)
        our_outcome = call_recording(ours, method, X, y, **kwargs)
        their_error = their_outcome[0]
        if expected:
            assert their_error is not None and issubclass(their_error[0], expected[0]), \
                f"{what}: scikit-learn gave {their_error}, not the declared {expected[0].__name__}"
        else:
            assert their_error is None, f"{what}: scikit-learn raised {their_error} in a step declared to succeed"
        assert_same_outcome(their_outcome, our_outcome, what)
        if not expected:
            assert_same_model(theirs, ours, X_eval, tol_dtype)


def convergence_warnings(outcome):
    return [message for category, message in outcome[1] if issubclass(category, ConvergenceWarning)]


# --------------------------------------------------------------------------------------
# Solvers: sgd (Nesterov, plain momentum, none) x (constant, invscaling, adaptive), adam,
# lbfgs; classifier and regressor; two seeds.
# --------------------------------------------------------------------------------------

SOLVERS = {
    "sgd-nesterov-constant": dict(solver="sgd", learning_rate_init=0.05),
    "sgd-momentum-constant": dict(solver="sgd", nesterovs_momentum=False, momentum=0.8, learning_rate_init=0.05),
    "sgd-nomomentum-constant": dict(solver="sgd", momentum=0.0, learning_rate_init=0.1),
    "sgd-nesterov-invscaling": dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5, power_t=0.25),
    "sgd-momentum-invscaling": dict(solver="sgd", learning_rate="invscaling", nesterovs_momentum=False,
                                    learning_rate_init=0.5, power_t=0.3),
    "sgd-nomomentum-invscaling": dict(solver="sgd", learning_rate="invscaling", momentum=0.0,
                                      learning_rate_init=1.0, power_t=0.2),
    "sgd-nesterov-adaptive": dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05,
                                  tol=1e-2, n_iter_no_change=2),
    "sgd-momentum-adaptive": dict(solver="sgd", learning_rate="adaptive", nesterovs_momentum=False,
                                  learning_rate_init=0.05, tol=1e-2, n_iter_no_change=2),
    "sgd-nomomentum-adaptive": dict(solver="sgd", learning_rate="adaptive", momentum=0.0,
                                    learning_rate_init=0.1, tol=1e-2, n_iter_no_change=2),
    "adam": dict(solver="adam", learning_rate_init=0.01),
    "adam-betas": dict(solver="adam", learning_rate_init=0.005, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
    "lbfgs": dict(solver="lbfgs"),
    "lbfgs-maxfun": dict(solver="lbfgs", max_fun=15),
}

SOLVER_DATA = {"classifier": "digits", "regressor": "regression"}


@pytest.mark.parametrize("seed", [0, 42], ids=["seed0", "seed42"])
@pytest.mark.parametrize("solver", list(SOLVERS), ids=list(SOLVERS))
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_solver(kind, solver, seed):
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=(20,), max_iter=30, random_state=seed, **SOLVERS[solver])
    fit_both(kind, params, X, y)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_adaptive_learning_rate_is_divided_until_it_stops(kind):
    # tol so large that every epoch is "bad": the rate is divided by 5 every 2 epochs
    # until it falls below 1e-6, which stops training before max_iter.
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=(10,), solver="sgd", learning_rate="adaptive", learning_rate_init=0.01,
                  tol=10.0, n_iter_no_change=1, max_iter=50, random_state=0)
    theirs, _ = fit_both(kind, params, X, y)
    assert theirs.n_iter_ < 50 and theirs._optimizer.learning_rate <= 1e-6  # the case is exercised


# --------------------------------------------------------------------------------------
# Hidden activations (scikit-learn's four) with each solver family.
# --------------------------------------------------------------------------------------

ACTIVATION_SETUPS = {
    "classifier-adam": ("classifier", "digits", dict(solver="adam", learning_rate_init=0.01)),
    "classifier-lbfgs": ("classifier", "breast_cancer", dict(solver="lbfgs")),
    "regressor-sgd": ("regressor", "regression", dict(solver="sgd", learning_rate_init=0.01)),
    "regressor-lbfgs": ("regressor", "regression", dict(solver="lbfgs")),
}


@pytest.mark.parametrize("setup", list(ACTIVATION_SETUPS))
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_activation(activation, setup):
    kind, data, solver_params = ACTIVATION_SETUPS[setup]
    X, y = dataset(data)
    params = dict(hidden_layer_sizes=(15, 10), activation=activation, max_iter=25, random_state=0, **solver_params)
    fit_both(kind, params, X, y)


# --------------------------------------------------------------------------------------
# Datasets, network shapes and regularisation.
# --------------------------------------------------------------------------------------

DATASET_CASES = [
    ("classifier", "digits", 0),
    ("classifier", "digits_binary", 0),
    ("classifier", "iris", 0),
    ("classifier", "breast_cancer", 0),
    ("classifier", "circles", 0),
    ("classifier", "circles", 7),
    ("classifier", "moons", 0),
    ("classifier", "moons", 7),
    ("classifier", "classification", 0),
    ("classifier", "classification", 1),
    ("classifier", "classification_binary", 3),
    ("classifier", "classification_strings", 42),
    ("classifier", "labels_pm1", 0),
    ("classifier", "labels_bool", 0),
    ("classifier", "multilabel", 0),
    ("classifier", "multilabel", 5),
    ("classifier", "one_feature", 0),
    ("classifier", "digits_column", 0),
    ("regressor", "diabetes", 0),
    ("regressor", "regression", 0),
    ("regressor", "regression", 1),
    ("regressor", "regression_multi", 0),
    ("regressor", "regression_column", 0),
    ("regressor", "digits_regression", 0),
    ("regressor", "digits_int_target", 0),
]


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize(
    "kind, data, data_seed", DATASET_CASES, ids=[f"{k}-{d}-{s}" for k, d, s in DATASET_CASES]
)
def test_dataset(kind, data, data_seed, solver):
    X, y = dataset(data, data_seed)
    params = dict(hidden_layer_sizes=(16,), solver=solver, learning_rate_init=0.01, max_iter=30, random_state=0)
    fit_both(kind, params, X, y)


ARCHITECTURES = {
    "no-hidden-layer": dict(hidden_layer_sizes=()),
    "int-size": dict(hidden_layer_sizes=7),
    "list-sizes": dict(hidden_layer_sizes=[12, 8]),
    "ndarray-sizes": dict(hidden_layer_sizes=np.array([12, 8])),
    "three-layers": dict(hidden_layer_sizes=(16, 12, 8)),
    "one-unit": dict(hidden_layer_sizes=(1,)),
    "alpha0": dict(hidden_layer_sizes=(16,), alpha=0.0),
    "alpha-large": dict(hidden_layer_sizes=(16,), alpha=1.0),
    "no-shuffle": dict(hidden_layer_sizes=(16,), shuffle=False),
    "batch-1": dict(hidden_layer_sizes=(4,), batch_size=1, max_iter=3),
    "batch-37": dict(hidden_layer_sizes=(16,), batch_size=37),
    "batch-equals-n": dict(hidden_layer_sizes=(16,), batch_size=600),
}


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_architecture_and_batching(arch, solver):
    X, y = dataset("digits")
    params = dict(solver=solver, learning_rate_init=0.01, max_iter=20, random_state=0)
    params.update(ARCHITECTURES[arch])
    fit_both("classifier", params, X, y)


@pytest.mark.parametrize("sizes", [[12, 8, 5], ()], ids=["three-layers", "no-hidden-layer"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_lbfgs_architecture(kind, sizes):
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=sizes, solver="lbfgs", alpha=1e-3, max_iter=40, random_state=3)
    fit_both(kind, params, X, y)


# L-BFGS runs to its default max_iter=200 here: it turns a 1-ulp difference in one
# gradient into another model long before that (measured with compiled gradients: 57%
# apart on iris-tanh), so these hold only because every evaluation is bit for bit
# scikit-learn's (``engine.loss_and_grad``). float32 fits are held to the float64
# tolerance for the same reason.
LONG_LBFGS_CASES = {
    "classifier-iris-tanh": ("classifier", "iris", dict(activation="tanh")),
    "classifier-iris-logistic": ("classifier", "iris", dict(activation="logistic")),
    "classifier-moons-logistic": ("classifier", "moons", dict(activation="logistic")),
    "classifier-breast-cancer-identity": ("classifier", "breast_cancer", dict(activation="identity")),
    "classifier-multilabel-relu": ("classifier", "multilabel", dict(activation="relu")),
    "regressor-diabetes-relu": ("regressor", "diabetes_scaled", dict(activation="relu")),
    "regressor-multi-tanh": ("regressor", "regression_multi", dict(activation="tanh", alpha=0.1)),
    "regressor-poisson-logistic": ("regressor", "poisson", dict(activation="logistic", loss="poisson")),
}


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", list(LONG_LBFGS_CASES))
def test_lbfgs_to_default_max_iter(case, weighted, dtype):
    kind, data, extra = LONG_LBFGS_CASES[case]
    X, y = dataset(data)
    X = X.astype(dtype)  # a float32 regressor keeps its float64 y, as scikit-learn does
    params = dict(hidden_layer_sizes=(20,), solver="lbfgs", random_state=0, **extra)
    fit_kwargs = {"sample_weight": sample_weights(X.shape[0])} if weighted else {}
    theirs, _ = fit_both(kind, params, X, y, **fit_kwargs)
    assert theirs.n_iter_ > 50  # the case is a long run


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("sparse_format", ["csr", "csc"])
@pytest.mark.parametrize("case", ["classifier-iris-tanh", "regressor-diabetes-relu"])
def test_lbfgs_on_sparse_X_to_default_max_iter(case, sparse_format, dtype):
    # Sparse X stays sparse for L-BFGS: its products are SciPy's, as scikit-learn's.
    kind, data, extra = LONG_LBFGS_CASES[case]
    X, y = dataset(data)
    X = sp.csr_matrix(X.astype(dtype)) if sparse_format == "csr" else sp.csc_matrix(X.astype(dtype))
    params = dict(hidden_layer_sizes=(20,), solver="lbfgs", random_state=0, **extra)
    theirs, _ = fit_both(kind, params, X, y)
    assert theirs.n_iter_ > 50  # the case is a long run


def _layout(X, layout):
    if layout == "list":
        return X.tolist()
    if layout == "fortran":
        return np.asfortranarray(X)
    if layout == "strided":  # a non-contiguous view
        wide = np.zeros((X.shape[0], 2 * X.shape[1]))
        wide[:, ::2] = X
        return wide[:, ::2]
    if layout == "readonly":
        X = X.copy()
        X.flags.writeable = False
        return X
    raise KeyError(layout)


@pytest.mark.parametrize("layout", ["list", "fortran", "strided", "readonly"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_input_layout(solver, layout):
    X, y = dataset("iris")
    params = dict(hidden_layer_sizes=(8,), solver=solver, learning_rate_init=0.01, max_iter=15, random_state=0)
    theirs, ours = make_pair("classifier", params)
    run_steps(theirs, ours, [("fit", _layout(X, layout), y.tolist() if layout == "list" else y, {})],
              _layout(X, layout))


def test_tiny_two_sample_problem():
    # scikit-learn's test_tolerance setup: converges on tol well before max_iter.
    X, y = dataset("tiny")
    params = dict(tol=0.5, max_iter=50, solver="sgd", hidden_layer_sizes=(5,), random_state=0)
    theirs, _ = fit_both("classifier", params, X, y)
    assert theirs.n_iter_ < 50


# --------------------------------------------------------------------------------------
# Poisson regression, multilabel, multi-output.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_poisson_regression(solver):
    X, y = dataset("poisson")
    params = dict(loss="poisson", hidden_layer_sizes=(10,), solver=solver, learning_rate_init=0.01, max_iter=30,
                  random_state=0)
    fit_both("regressor", params, X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_multilabel(solver):
    X, y = dataset("multilabel")
    params = dict(hidden_layer_sizes=(20,), activation="logistic", solver=solver, learning_rate_init=0.1,
                  max_iter=30, random_state=0)
    fit_both("classifier", params, X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_multioutput_regression(solver):
    X, y = dataset("regression_multi")
    params = dict(hidden_layer_sizes=(20,), solver=solver, learning_rate_init=0.01, max_iter=30, random_state=0)
    fit_both("regressor", params, X, y)


# --------------------------------------------------------------------------------------
# Early stopping: binary (stratified split), multiclass and multilabel (not stratified),
# regression, sample weights, string labels.
# --------------------------------------------------------------------------------------

EARLY_STOPPING_CASES = {
    "binary-stratified-adam": ("classifier", "digits_binary", dict(solver="adam")),
    "binary-breast-cancer-sgd": ("classifier", "breast_cancer", dict(solver="sgd", learning_rate_init=0.05)),
    "multiclass-adam": ("classifier", "digits", dict(solver="adam")),
    "multiclass-iris-sgd": ("classifier", "iris", dict(solver="sgd", learning_rate_init=0.05)),
    "multiclass-strings": ("classifier", "classification_strings", dict(solver="adam")),
    "multilabel-adam": ("classifier", "multilabel", dict(solver="adam")),
    "regressor-adam": ("regressor", "regression", dict(solver="adam")),
    "regressor-sgd-adaptive": ("regressor", "diabetes", dict(solver="sgd", learning_rate="adaptive",
                                                             learning_rate_init=1e-3)),
    "regressor-multioutput": ("regressor", "regression_multi", dict(solver="adam")),
    "regressor-poisson": ("regressor", "poisson", dict(solver="adam", loss="poisson")),
    "validation-fraction-0.3": ("classifier", "moons", dict(solver="adam", validation_fraction=0.3)),
    "multiclass-tol-stop": ("classifier", "digits", dict(solver="adam", tol=0.05, n_iter_no_change=2)),
    "regressor-tol-stop": ("regressor", "regression", dict(solver="sgd", tol=0.05, n_iter_no_change=2)),
}


@pytest.mark.parametrize("seed", [0, 42], ids=["seed0", "seed42"])
@pytest.mark.parametrize("case", list(EARLY_STOPPING_CASES))
def test_early_stopping(case, seed):
    kind, data, solver_params = EARLY_STOPPING_CASES[case]
    X, y = dataset(data)
    params = dict(hidden_layer_sizes=(16,), early_stopping=True, learning_rate_init=0.01, max_iter=40,
                  random_state=seed)
    params.update(solver_params)
    theirs, _ = fit_both(kind, params, X, y)
    assert theirs.validation_scores_ is not None and theirs.best_loss_ is None  # the case is exercised


@pytest.mark.parametrize("sw_kind", ["uniform", "counts"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_early_stopping_with_sample_weight(kind, sw_kind):
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=(16,), early_stopping=True, learning_rate_init=0.01, max_iter=30,
                  random_state=0)
    fit_both(kind, params, X, y, sample_weight=sample_weights(len(y), sw_kind))


def test_early_stopping_diverging_regressor_keeps_nan_scores():
    # scikit-learn's test_mlp_diverging_loss: validation scores become NaN, the best
    # (initial) weights are restored, no error.
    X, y = dataset("iris")
    params = dict(hidden_layer_sizes=100, activation="identity", solver="sgd", learning_rate_init=1.0,
                  max_iter=20, early_stopping=True, n_iter_no_change=10, random_state=0)
    theirs, ours = fit_both("regressor", params, X, y)
    assert np.isnan(theirs.validation_scores_[-1])  # the case is exercised
    assert all(isinstance(score, float) for score in ours.validation_scores_)


# --------------------------------------------------------------------------------------
# Stopping on tol / n_iter_no_change before max_iter.
# --------------------------------------------------------------------------------------

STOPPING_CASES = {
    "sgd-tol": ("classifier", dict(solver="sgd", tol=0.05, n_iter_no_change=2, learning_rate_init=0.05)),
    "adam-tol": ("classifier", dict(solver="adam", tol=0.02, n_iter_no_change=3, learning_rate_init=0.01)),
    "sgd-n_iter_no_change-1": ("classifier", dict(solver="sgd", tol=0.01, n_iter_no_change=1)),
    "regressor-sgd-tol": ("regressor", dict(solver="sgd", tol=0.01, n_iter_no_change=2, learning_rate_init=0.01)),
    "regressor-adam-tol": ("regressor", dict(solver="adam", tol=0.01, n_iter_no_change=2, learning_rate_init=0.01)),
    "lbfgs-gtol": ("classifier", dict(solver="lbfgs", tol=1e-2)),
}


@pytest.mark.parametrize("case", list(STOPPING_CASES))
def test_stops_before_max_iter(case):
    kind, solver_params = STOPPING_CASES[case]
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=(16,), max_iter=50, random_state=0, **solver_params)
    theirs, _ = fit_both(kind, params, X, y)
    assert theirs.n_iter_ < 50  # the case is exercised


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_n_iter_no_change_inf_runs_to_max_iter(solver):
    X, y = dataset("digits_binary")
    params = dict(hidden_layer_sizes=(8,), solver=solver, tol=1e9, n_iter_no_change=np.inf, max_iter=30,
                  random_state=0)
    theirs, _ = fit_both("classifier", params, X, y)
    assert theirs.n_iter_ == 30


# --------------------------------------------------------------------------------------
# Sample weights.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("sw_kind", ["uniform", "counts"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_sample_weight(kind, solver, sw_kind):
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=(16,), solver=solver, learning_rate_init=0.01, max_iter=25, random_state=0)
    fit_both(kind, params, X, y, sample_weight=sample_weights(len(y), sw_kind))


def test_sample_weight_as_list_of_ints():
    X, y = dataset("iris")
    params = dict(hidden_layer_sizes=(8,), solver="adam", learning_rate_init=0.01, max_iter=20, random_state=0)
    fit_both("classifier", params, X, y, sample_weight=[1 + i % 3 for i in range(len(y))])


# --------------------------------------------------------------------------------------
# partial_fit sequences and warm_start refits.
# --------------------------------------------------------------------------------------


def _chunks(X, y, n_chunks):
    return list(zip(np.array_split(X, n_chunks), np.array_split(y, n_chunks)))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("random_state", [0, FreshRandomState(0)], ids=["int", "RandomState"])
def test_classifier_partial_fit_sequence(solver, random_state):
    # An int random_state re-seeds on every call (each call replays the same shuffle);
    # a RandomState instance continues its stream.
    X, y = dataset("digits")
    params = dict(hidden_layer_sizes=(16,), solver=solver, learning_rate_init=0.01, random_state=random_state)
    theirs, ours = make_pair("classifier", params)
    classes = np.unique(y)
    steps = []
    for epoch in range(3):
        for Xc, yc in _chunks(X, y, 3):
            steps.append(("partial_fit", Xc, yc, {"classes": classes} if not steps else {}))
    run_steps(theirs, ours, steps, X)


def test_classifier_partial_fit_first_chunk_missing_classes():
    # Sorted labels: the first chunks hold only some classes; ``classes`` declares all.
    X, y = dataset("digits")
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    params = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.05, random_state=1)
    theirs, ours = make_pair("classifier", params)
    steps = [("partial_fit", Xc, yc, {"classes": np.arange(10)} if i == 0 else {})
             for i, (Xc, yc) in enumerate(_chunks(X, y, 4))]
    run_steps(theirs, ours, steps, X)


def test_classifier_partial_fit_string_classes_unseen_in_first_call():
    # scikit-learn's test_partial_fit_unseen_classes.
    X = np.array([[1.0], [2.0], [3.0], [4.0]])
    y = np.array(["a", "b", "c", "d"])
    theirs, ours = make_pair("classifier", dict(hidden_layer_sizes=(4,), random_state=0))
    steps = [("partial_fit", X[:3], y[:3], {"classes": ["a", "b", "c", "d"]}), ("partial_fit", X[3:], y[3:], {})]
    run_steps(theirs, ours, steps, X)


def test_classifier_partial_fit_label_errors():
    # New labels after the first call, then other ``classes``: scikit-learn's errors.
    X, y = dataset("iris")
    theirs, ours = make_pair("classifier", dict(hidden_layer_sizes=(4,), solver="sgd", random_state=0))
    keep = y < 2
    steps = [
        ("partial_fit", X[keep], y[keep], {"classes": [0, 1]}),
        ("partial_fit", X, y, {}, ValueError),
        ("partial_fit", X[keep], y[keep], {"classes": [0, 1, 2]}, ValueError),
        ("partial_fit", X[keep], y[keep], {"classes": [0, 1]}),
    ]
    run_steps(theirs, ours, steps, X)


def test_classifier_partial_fit_with_warm_start_needs_all_classes():
    # With warm_start=True, partial_fit checks classes with the warm-start rule (the
    # same set as before), so a chunk missing a class is an error in scikit-learn.
    X, y = dataset("iris")
    params = dict(hidden_layer_sizes=(4,), solver="adam", warm_start=True, random_state=0)
    theirs, ours = make_pair("classifier", params)
    steps = [("partial_fit", X, y, {"classes": [0, 1, 2]}), ("partial_fit", X[y < 2], y[y < 2], {}, ValueError),
             ("partial_fit", X, y, {})]
    run_steps(theirs, ours, steps, X)


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_partial_fit_learning_rate_schedules(kind, learning_rate):
    # invscaling updates the rate from t_ after every call; adaptive counts bad epochs
    # across calls and divides the rate (tol is large so that every epoch is bad).
    X, y = dataset("iris" if kind == "classifier" else "regression")
    params = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate=learning_rate, learning_rate_init=0.05,
                  tol=10.0, n_iter_no_change=1, random_state=0, verbose=False)
    theirs, ours = make_pair(kind, params)
    extra = {"classes": np.unique(y)} if kind == "classifier" else {}
    steps = [("partial_fit", X, y, extra if i == 0 else {}) for i in range(8)]
    run_steps(theirs, ours, steps, X)


def test_multilabel_partial_fit_sequence():
    X, y = dataset("multilabel")
    params = dict(hidden_layer_sizes=(16,), solver="sgd", activation="logistic", learning_rate_init=0.2,
                  random_state=0)
    theirs, ours = make_pair("classifier", params)
    steps = [("partial_fit", X, y, {"classes": [0, 1, 2, 3, 4]}) for _ in range(4)]
    run_steps(theirs, ours, steps, X)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("random_state", [0, FreshRandomState(3)], ids=["int", "RandomState"])
def test_regressor_partial_fit_sequence(solver, random_state):
    # lbfgs: scikit-learn 1.9's MLPRegressor.partial_fit runs a whole L-BFGS fit, here
    # max_iter=50 each, 300 L-BFGS iterations in all: L-BFGS amplifies any rounding
    # difference by ~10x every few iterations, so this holds because its evaluations
    # are bit for bit scikit-learn's.
    X, y = dataset("regression")
    params = dict(hidden_layer_sizes=(16,), solver=solver, learning_rate_init=0.01,
                  max_iter=50 if solver == "lbfgs" else 15, random_state=random_state)
    theirs, ours = make_pair("regressor", params)
    steps = [("partial_fit", Xc, yc, {}) for _ in range(2) for Xc, yc in _chunks(X, y, 3)]
    run_steps(theirs, ours, steps, X)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_partial_fit_with_sample_weight(kind):
    X, y = dataset(SOLVER_DATA[kind])
    sw = sample_weights(len(y), "uniform")
    theirs, ours = make_pair(kind, dict(hidden_layer_sizes=(16,), solver="adam", random_state=0))
    extra = {"classes": np.unique(y)} if kind == "classifier" else {}
    steps = [("partial_fit", X, y, {"sample_weight": sw, **extra}), ("partial_fit", X, y, {"sample_weight": sw})]
    run_steps(theirs, ours, steps, X)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_partial_fit_after_fit(kind, solver):
    # partial_fit continues a fit, keeping the fit's optimizer state.
    X, y = dataset(SOLVER_DATA[kind])
    theirs, ours = make_pair(kind, dict(hidden_layer_sizes=(16,), solver=solver, max_iter=10, random_state=0))
    run_steps(theirs, ours, [("fit", X, y, {}), ("partial_fit", X, y, {}), ("partial_fit", X, y, {})], X)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_fit_after_partial_fit_starts_over(kind):
    X, y = dataset(SOLVER_DATA[kind])
    theirs, ours = make_pair(kind, dict(hidden_layer_sizes=(8,), solver="adam", max_iter=5, random_state=0))
    extra = {"classes": np.unique(y)} if kind == "classifier" else {}
    run_steps(theirs, ours, [("partial_fit", X, y, extra), ("partial_fit", X, y, {}), ("fit", X, y, {})], X)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_solver_switch_between_partial_fit_calls(kind):
    # partial_fit keeps the optimizer it has (SGD here) after set_params(solver="adam");
    # the next fit builds a new one.
    X, y = dataset(SOLVER_DATA[kind])
    theirs, ours = make_pair(kind, dict(hidden_layer_sizes=(8,), solver="sgd", max_iter=5, random_state=0))
    extra = {"classes": np.unique(y)} if kind == "classifier" else {}
    steps = [("partial_fit", X, y, extra), ("set_params", {"solver": "adam", "learning_rate_init": 0.01}),
             ("partial_fit", X, y, {}), ("fit", X, y, {})]
    run_steps(theirs, ours, steps, X)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_with_changed_hidden_layer_sizes(solver):
    # A deliberate difference (README): scikit-learn 1.9 does not re-initialise on a
    # warm start, so after set_params(hidden_layer_sizes=...) it silently keeps training
    # the old network and ignores the new sizes. fastmlp says so with a ValueError.
    X, y = dataset("iris")
    params = dict(hidden_layer_sizes=(5,), solver=solver, warm_start=True, max_iter=5, random_state=0)
    theirs, ours = make_pair("classifier", params)
    run_steps(theirs, ours, [("fit", X, y, {})], X)
    theirs.set_params(hidden_layer_sizes=(6,))
    ours.set_params(hidden_layer_sizes=(6,))
    their_error, _ = call_recording(theirs, "fit", X, y)
    assert their_error is None and [c.shape for c in theirs.coefs_] == [(4, 5), (5, 3)]  # the old network
    with pytest.raises(ValueError, match="warm_start/partial_fit needs the fitted layer shapes"):
        ours.fit(X, y)


def test_warm_start_lbfgs_with_changed_hidden_layer_sizes_raises():
    # scikit-learn's L-BFGS unpacking fails (a NumPy broadcasting ValueError).
    X, y = dataset("iris")
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", warm_start=True, max_iter=5, random_state=0)
    theirs, ours = make_pair("classifier", params)
    run_steps(theirs, ours, [("fit", X, y, {}), ("set_params", {"hidden_layer_sizes": (6,)})], X)
    their_error, _ = call_recording(theirs, "fit", X, y)
    our_error, _ = call_recording(ours, "fit", X, y)
    assert their_error is not None and their_error[0] is ValueError  # the case is exercised
    assert our_error is not None and our_error[0] is ValueError


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_warm_start_refits(kind, solver):
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=(16,), solver=solver, warm_start=True, learning_rate="invscaling",
                  learning_rate_init=0.05, max_iter=10, n_iter_no_change=np.inf, random_state=0)
    theirs, ours = make_pair(kind, params)
    steps = [("fit", X, y, {}), ("fit", X, y, {}), ("set_params", {"max_iter": 20}), ("fit", X, y, {})]
    run_steps(theirs, ours, steps, X)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_warm_start_lbfgs_refit_of_float32_data(kind):
    # The first fit evaluates in float32 and leaves float64 coefs_ (SciPy's result); the
    # refits start from those and so evaluate in float64, as scikit-learn's do.
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=(16,), solver="lbfgs", warm_start=True, max_iter=40, random_state=0)
    theirs, ours = make_pair(kind, params)
    X = X.astype(np.float32)
    run_steps(theirs, ours, [("fit", X, y, {}), ("fit", X, y, {}), ("fit", X, y, {})], X)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_warm_start_with_early_stopping(kind):
    # scikit-learn's test_mlp_warm_start_with_early_stopping: validation scores and the
    # best score carry over from one warm-started fit to the next.
    X, y = dataset("iris")
    params = dict(hidden_layer_sizes=(16,), max_iter=10, random_state=0, warm_start=True, early_stopping=True)
    theirs, ours = make_pair(kind, params)
    steps = [("fit", X, y, {}), ("set_params", {"max_iter": 20}), ("fit", X, y, {}), ("fit", X, y, {})]
    run_steps(theirs, ours, steps, X)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_warm_start_after_early_stop_without_improvement(kind):
    # After an early-stopped fit, scikit-learn's coefs_ *are* its _best_coefs arrays; a
    # warm-started refit that never beats best_validation_score_ "restores" those same
    # arrays, which the optimizer has been updating in place.
    X, y = dataset("breast_cancer" if kind == "classifier" else "regression")
    params = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=0.05, max_iter=30, random_state=0,
                  warm_start=True, early_stopping=True, n_iter_no_change=2, tol=0.5)
    theirs, ours = make_pair(kind, params)
    run_steps(theirs, ours, [("fit", X, y, {})], X)
    best_after_first_fit = theirs.best_validation_score_
    run_steps(theirs, ours, [("fit", X, y, {})], X)
    assert theirs.best_validation_score_ == best_after_first_fit  # the case is exercised


def test_warm_start_classifier_other_classes_error():
    X, y = dataset("iris")
    params = dict(hidden_layer_sizes=2, solver="lbfgs", warm_start=True, random_state=42, tol=1e-2, max_iter=20)
    theirs, ours = make_pair("classifier", params)
    y_other = np.array([0] * 50 + [1] * 50 + [3] * 50)
    run_steps(theirs, ours, [("fit", X, y, {}), ("fit", X, y_other, {}, ValueError)], X)
    with pytest.raises(ValueError, match="warm_start can only be used"):
        ours.fit(X, y_other)


# --------------------------------------------------------------------------------------
# Input types: float32 (kept), int (float64), sparse CSR/CSC.
# --------------------------------------------------------------------------------------

FLOAT32_CASES = {
    "classifier-adam": ("classifier", "digits", dict(solver="adam", learning_rate_init=0.01)),
    "classifier-sgd": ("classifier", "digits", dict(solver="sgd", learning_rate_init=0.05)),
    "classifier-sgd-invscaling": ("classifier", "digits", dict(solver="sgd", learning_rate="invscaling",
                                                               learning_rate_init=0.5)),
    "classifier-lbfgs": ("classifier", "digits", dict(solver="lbfgs", max_iter=15)),
    "classifier-early-stopping": ("classifier", "digits", dict(solver="adam", early_stopping=True)),
    "classifier-multilabel-adam": ("classifier", "multilabel", dict(solver="adam", learning_rate_init=0.01)),
    # Binary fits whose logistic outputs saturate near 1, where one float32 ulp of the
    # output is a large relative change of 1 - p (in the loss and in the output delta).
    "classifier-binary-saturating-sgd": ("classifier", "breast_cancer", dict(solver="sgd", activation="identity",
                                                                             learning_rate_init=0.5)),
    "classifier-binary-saturating-adam": ("classifier", "digits_binary", dict(solver="adam",
                                                                              learning_rate_init=0.1)),
    "regressor-adam": ("regressor", "regression", dict(solver="adam", learning_rate_init=0.01)),
    "regressor-sgd": ("regressor", "regression", dict(solver="sgd", learning_rate_init=0.01)),
    "regressor-lbfgs": ("regressor", "regression", dict(solver="lbfgs", max_iter=15)),
    "regressor-early-stopping": ("regressor", "regression", dict(solver="sgd", learning_rate_init=0.01,
                                                                 early_stopping=True)),
    "regressor-poisson-adam": ("regressor", "poisson", dict(solver="adam", loss="poisson",
                                                            learning_rate_init=0.01)),
}


@pytest.mark.parametrize("case", list(FLOAT32_CASES))
def test_float32(case):
    kind, data, solver_params = FLOAT32_CASES[case]
    X, y = dataset(data)
    X = X.astype(np.float32)
    params = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    params.update(solver_params)
    theirs, ours = fit_both(kind, params, X, y, tol_dtype=np.float32)
    # coefs_ dtype equality with scikit-learn is asserted in assert_same_model; spell out
    # what it means: float32 kept by the stochastic solvers, float64 from L-BFGS.
    expected = np.float64 if params["solver"] == "lbfgs" else np.float32
    assert all(w.dtype == expected for w in ours.coefs_ + ours.intercepts_)


@pytest.mark.parametrize("case", ["regressor-adam", "regressor-sgd", "regressor-early-stopping",
                                  "regressor-poisson-adam"])
def test_float32_regressor_with_float64_targets_has_scikit_learns_weights_bit_for_bit(case):
    # scikit-learn keeps y float64: deltas, gradients and the optimizer's vectors are then
    # float64 beside float32 activations and weights. fastmlp does the same arithmetic
    # (relu, identity, and the Poisson output's exp by NumPy's own loop), so weights and
    # predictions are identical. The loss values are fastmlp's compiled code and differ
    # in their last bits (measured: up to 2.4e-11 relative): float64 tolerance for those.
    kind, data, solver_params = FLOAT32_CASES[case]
    X, y = dataset(data)
    X = X.astype(np.float32)
    params = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0, **solver_params)
    theirs, ours = fit_both(kind, params, X, y, tol_dtype=np.float64)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert_array_equal(a, b, strict=True)
    assert_array_equal(ours.predict(X), theirs.predict(X), strict=True)
    assert all(w.dtype == np.float32 for w in ours.coefs_ + ours.intercepts_)
    state = ours._optimizer.velocity if ours.solver == "sgd" else ours._optimizer.m
    assert state.dtype == np.float64


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_float32_sample_weight(kind):
    X, y = dataset(SOLVER_DATA[kind])
    X = X.astype(np.float32)
    params = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=20, random_state=0)
    fit_both(kind, params, X, y, tol_dtype=np.float32, sample_weight=sample_weights(len(y)))


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("fit_dtype, predict_dtype", [(np.float32, np.float64), (np.float64, np.float32),
                                                      (np.float32, np.int64)],
                         ids=["fit32-predict64", "fit64-predict32", "fit32-predict-int"])
def test_predict_dtype_other_than_fit_dtype(kind, solver, fit_dtype, predict_dtype):
    X, y = dataset("digits_int")
    if kind == "regressor":
        y = y.astype(np.float64)
    params = dict(hidden_layer_sizes=(8,), solver=solver, learning_rate_init=1e-3, max_iter=10, random_state=0)
    tol_dtype = np.float32 if np.float32 in (fit_dtype, predict_dtype) else np.float64
    fit_both(kind, params, (X / 16.0).astype(fit_dtype), y, X_eval=X.astype(predict_dtype), tol_dtype=tol_dtype)


def test_float32_partial_fit():
    X, y = dataset("digits")
    X = X.astype(np.float32)
    theirs, ours = make_pair("classifier", dict(hidden_layer_sizes=(16,), random_state=0))
    steps = [("partial_fit", X, y, {"classes": np.unique(y)}), ("partial_fit", X, y, {})]
    run_steps(theirs, ours, steps, X, tol_dtype=np.float32)


@pytest.mark.parametrize(
    "kind, solver",
    [("classifier", "adam"), ("classifier", "sgd"), ("classifier", "lbfgs"), ("regressor", "adam")],
)
def test_int_input_trains_in_float64(kind, solver):
    X, y = dataset("digits_int")
    assert X.dtype == np.int64
    params = dict(hidden_layer_sizes=(16,), solver=solver, learning_rate_init=0.001, max_iter=15, random_state=0)
    theirs, ours = fit_both(kind, params, X, y)
    assert all(w.dtype == np.float64 for w in ours.coefs_ + ours.intercepts_)


SPARSE_CASES = {
    "csr-adam": ("csr", "classifier", dict(solver="adam")),
    "csr-sgd": ("csr", "classifier", dict(solver="sgd", learning_rate_init=0.05)),
    "csr-lbfgs": ("csr", "classifier", dict(solver="lbfgs")),
    "csr-early-stopping": ("csr", "classifier", dict(solver="adam", early_stopping=True)),
    "csr-sample-weight": ("csr", "classifier", dict(solver="sgd", learning_rate_init=0.05)),
    "csr-regressor-adam": ("csr", "regressor", dict(solver="adam")),
    "csr-regressor-lbfgs": ("csr", "regressor", dict(solver="lbfgs")),
    "csc-adam": ("csc", "classifier", dict(solver="adam")),
    "csr-float32-adam": ("csr", "classifier", dict(solver="adam")),
    "csr-float32-sgd": ("csr", "regressor", dict(solver="sgd")),
}


@pytest.mark.parametrize("case", list(SPARSE_CASES))
def test_sparse_input(case):
    fmt, kind, solver_params = SPARSE_CASES[case]
    X, y = dataset("digits" if kind == "classifier" else "digits_regression")
    tol_dtype = np.float32 if "float32" in case else np.float64
    X = X.astype(tol_dtype)
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    params = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=20, random_state=0)
    params.update(solver_params)
    fit_kwargs = {"sample_weight": sample_weights(len(y))} if case == "csr-sample-weight" else {}
    theirs, ours = fit_both(kind, params, Xs, y, tol_dtype=tol_dtype, **fit_kwargs)
    # Dense and sparse rows of the same data predict alike.
    assert_array_equal(ours.predict(X), ours.predict(Xs))


# --------------------------------------------------------------------------------------
# Warnings, errors and printed output.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_batch_size_larger_than_n_warns_and_clips(solver):
    X, y = dataset("iris")
    params = dict(hidden_layer_sizes=(8,), solver=solver, batch_size=500, max_iter=10, random_state=0)
    theirs, ours = make_pair("classifier", params)
    their_outcome = call_recording(theirs, "fit", X, y)
    our_outcome = call_recording(ours, "fit", X, y)
    assert their_outcome[0] is None, their_outcome[0]
    assert_same_outcome(their_outcome, our_outcome, "fit")
    assert any(issubclass(c, UserWarning) and "batch_size" in m for c, m in our_outcome[1])
    assert_same_model(theirs, ours, X)


@pytest.mark.parametrize(
    "kind, solver, extra",
    [
        ("classifier", "sgd", {}),
        ("classifier", "adam", {}),
        ("classifier", "lbfgs", {}),
        ("classifier", "lbfgs", {"max_fun": 10}),
        ("regressor", "sgd", {}),
        ("regressor", "adam", {}),
        ("regressor", "lbfgs", {}),
    ],
    ids=["classifier-sgd", "classifier-adam", "classifier-lbfgs", "classifier-lbfgs-maxfun", "regressor-sgd",
         "regressor-adam", "regressor-lbfgs"],
)
def test_convergence_warning_when_sklearn_warns(kind, solver, extra):
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=(16,), solver=solver, max_iter=8, random_state=0, **extra)
    theirs, ours = make_pair(kind, params)
    their_outcome = call_recording(theirs, "fit", X, y)
    our_outcome = call_recording(ours, "fit", X, y)
    assert their_outcome[0] is None, their_outcome[0]
    assert convergence_warnings(their_outcome)  # the case is exercised
    assert convergence_warnings(our_outcome) == convergence_warnings(their_outcome)
    assert_same_outcome(their_outcome, our_outcome, "fit")
    assert_same_model(theirs, ours, X)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_no_convergence_warning_when_sklearn_converges(solver):
    X, y = dataset("tiny")
    params = dict(hidden_layer_sizes=(4,), solver=solver, tol=0.5, max_iter=50, random_state=0)
    theirs, ours = make_pair("classifier", params)
    their_outcome = call_recording(theirs, "fit", X, y)
    our_outcome = call_recording(ours, "fit", X, y)
    assert their_outcome[0] is None, their_outcome[0]
    assert not convergence_warnings(their_outcome)  # the case is exercised
    assert_same_outcome(their_outcome, our_outcome, "fit")
    assert_same_model(theirs, ours, X)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_non_finite_weights_error(solver):
    # scikit-learn's test_nonfinite_params: inputs near float64's max.
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.standard_normal(size=10)
    theirs, ours = make_pair("regressor", dict(solver=solver, max_iter=20, random_state=0))
    their_outcome = call_recording(theirs, "fit", X, y)
    our_outcome = call_recording(ours, "fit", X, y)
    if solver != "lbfgs":
        # The same error, raised as soon as the weights are NaN; fastmlp's message goes on
        # to name the loss and the remedy (tests/test_divergence.py).
        assert their_outcome[0] is not None and "non-finite parameter weights" in their_outcome[0][1]
        assert our_outcome[0][0] is their_outcome[0][0] and our_outcome[0][1].startswith(their_outcome[0][1])
        # scikit-learn first runs the remaining epochs on NaN weights and warns that it
        # reached max_iter; fastmlp stops at the first NaN epoch, before that warning.
        assert [w[0] for w in their_outcome[1]] == [ConvergenceWarning] and our_outcome[1] == []
    else:
        # A deliberate difference (README): L-BFGS stops at once on a non-finite loss;
        # scikit-learn returns its untrained start with loss_ = nan, fastmlp raises a
        # ValueError that names the loss and the remedy.
        assert their_outcome[0] is None and np.isnan(theirs.loss_) and theirs.n_iter_ == 0, their_outcome[0]
        assert our_outcome[0] is not None and our_outcome[0][0] is ValueError, our_outcome[0]
        assert "the training loss is nan where L-BFGS stopped" in our_outcome[0][1]


def test_classifier_diverging_sgd_matches():
    # A learning rate so large that the loss explodes (to ~1e17 within 5 epochs) without
    # overflowing: scikit-learn stops after 12 epochs without error; the same model.
    X, y = dataset("digits_int")
    params = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=1e3, momentum=0.9, max_iter=20,
                  random_state=0)
    theirs, ours = make_pair("classifier", params)
    run_steps(theirs, ours, [("fit", X, y, {})], X)


ERROR_CASES = {
    "validation-set-too-small": ("regressor", dict(early_stopping=True), "tiny", "fit", {}),
    "stratify-too-few-members": ("classifier", dict(early_stopping=True), "stratify_small", "fit", {}),
    "partial-fit-early-stopping": ("regressor", dict(early_stopping=True), "regression", "partial_fit", {}),
    "partial-fit-no-classes": ("classifier", dict(solver="sgd"), "iris", "partial_fit", {}),
    "partial-fit-bad-classes": ("classifier", dict(solver="sgd"), "iris", "partial_fit", {"classes": [0, 1]}),
    "hidden-layer-size-zero": ("classifier", dict(hidden_layer_sizes=(3, 0)), "iris", "fit", {}),
    "sample-weight-wrong-length": ("regressor", dict(), "regression", "fit", {"sample_weight": np.ones(3)}),
    "nan-in-X": ("classifier", dict(), "nan", "fit", {}),
    # A minibatch whose sample weights are all zero: NumPy's ZeroDivisionError from
    # scikit-learn's np.average, raised before that batch's update.
    "zero-weight-minibatch-sgd": ("classifier", dict(solver="sgd", batch_size=2), "iris", "fit",
                                  {"sample_weight": np.repeat([1.0, 0.0], [100, 50])}),
    "zero-weight-minibatch-adam": ("regressor", dict(solver="adam", batch_size=4, shuffle=False), "regression",
                                   "fit", {"sample_weight": np.repeat([1.0, 0.0], [200, 100])}),
    "zero-weights-lbfgs": ("regressor", dict(solver="lbfgs"), "regression", "fit",
                           {"sample_weight": np.zeros(300)}),
}


def _error_data(name):
    if name == "stratify_small":
        return np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [4.0, 5.0]]), np.array([0, 0, 0, 1])
    if name == "nan":
        X, y = dataset("iris")
        X[3, 1] = np.nan
        return X, y
    return dataset(name)


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_same_error_as_sklearn(case):
    kind, params, data, method, kwargs = ERROR_CASES[case]
    X, y = _error_data(data)
    theirs, ours = make_pair(kind, dict(max_iter=5, random_state=0, **params))
    their_outcome = call_recording(theirs, method, X, y, **kwargs)
    our_outcome = call_recording(ours, method, X, y, **kwargs)
    assert their_outcome[0] is not None  # the case is exercised
    assert_same_outcome(their_outcome, our_outcome, method)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_zero_weight_minibatch_stops_where_sklearn_does(solver):
    # Rows 200..299 weigh nothing; unshuffled batches of 4 reach them in batch 51 of the
    # first epoch. Both raise there, with the first 50 updates applied.
    X, y = dataset("regression")
    sw = np.repeat([1.0, 0.0], [200, 100])
    theirs, ours = make_pair("regressor", dict(solver=solver, batch_size=4, shuffle=False, random_state=0))
    for est in (theirs, ours):
        with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
            est.fit(X, y, sample_weight=sw)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert_allclose(a, b, **training_tol(np.float64))
    # The state those 50 updates give: one unshuffled epoch over the first 200 rows.
    reference = make_pair("regressor", dict(solver=solver, batch_size=4, shuffle=False, random_state=0))[0]
    reference.partial_fit(X[:200], y[:200], sample_weight=sw[:200])
    for a, b in zip(ours.coefs_ + ours.intercepts_, reference.coefs_ + reference.intercepts_):
        assert_allclose(a, b, **training_tol(np.float64))


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_partial_fit_continues_from_state_left_by_an_error(kind):
    # partial_fit with early_stopping=True fails after initialising the weights and the
    # optimizer (best_loss_ stays None, as early stopping has it). The next partial_fit,
    # without early stopping, continues from that state: it trains one epoch, then
    # scikit-learn 1.9 fails comparing the loss with best_loss_ (None - float, a
    # TypeError). fastmlp raises the same error and leaves the same model.
    X, y = dataset(SOLVER_DATA[kind])
    theirs, ours = make_pair(kind, dict(hidden_layer_sizes=(8,), early_stopping=True, random_state=0))
    extra = {"classes": np.unique(y)} if kind == "classifier" else {}
    steps = [("partial_fit", X, y, extra, ValueError), ("set_params", {"early_stopping": False, "random_state": 5}),
             ("partial_fit", X, y, {}, TypeError)]
    run_steps(theirs, ours, steps, X)
    assert len(theirs.loss_curve_) == 1  # the case is exercised: the epoch ran before the error
    assert_same_model(theirs, ours, X)


def test_partial_fit_after_early_stopping_fit_error():
    # scikit-learn's test_mlp_partial_fit_after_fit.
    X, y = dataset("iris")
    theirs, ours = make_pair("classifier", dict(early_stopping=True, max_iter=10, random_state=0))
    run_steps(theirs, ours, [("fit", X, y, {}), ("partial_fit", X, y, {}, ValueError)], X)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        ours.partial_fit(X, y)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|nan|-?inf")


def _split_numbers(text):
    """(text with numbers replaced by '#', list of the numbers)."""
    return _NUMBER.sub("#", text), [float(m) for m in _NUMBER.findall(text)]


VERBOSE_CASES = {
    "classifier-sgd": ("classifier", dict(solver="sgd", max_iter=5)),
    "classifier-adam-tol-stop": ("classifier", dict(solver="adam", tol=0.05, n_iter_no_change=2, max_iter=30)),
    "classifier-early-stopping": ("classifier", dict(solver="adam", early_stopping=True, max_iter=8)),
    "classifier-adaptive": ("classifier", dict(solver="sgd", learning_rate="adaptive", tol=10.0,
                                               n_iter_no_change=1, max_iter=30)),
    "classifier-lbfgs": ("classifier", dict(solver="lbfgs", max_iter=5)),
    "regressor-sgd-early-stopping": ("regressor", dict(solver="sgd", early_stopping=True, tol=0.05,
                                                       n_iter_no_change=2, max_iter=30)),
    "regressor-verbose-int": ("regressor", dict(solver="adam", max_iter=4, verbose=10)),
}


@pytest.mark.parametrize("case", list(VERBOSE_CASES))
def test_verbose_output(case, capsys):
    kind, solver_params = VERBOSE_CASES[case]
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0, verbose=True)
    params.update(solver_params)
    theirs, ours = make_pair(kind, params)
    capsys.readouterr()
    then_partial_fit = params["solver"] != "lbfgs" and not params.get("early_stopping", False)
    outcomes = {}
    lines = {}
    for who, est in (("theirs", theirs), ("ours", ours)):
        outcomes[who] = [call_recording(est, "fit", X, y)]
        if then_partial_fit:  # one more epoch, printed the same way
            outcomes[who].append(call_recording(est, "partial_fit", X, y))
        lines[who] = capsys.readouterr().out.splitlines()
    for their_outcome, our_outcome in zip(outcomes["theirs"], outcomes["ours"]):
        assert their_outcome[0] is None, their_outcome[0]
        assert_same_outcome(their_outcome, our_outcome, "fit/partial_fit")
    their_lines, our_lines = lines["theirs"], lines["ours"]

    assert len(our_lines) == len(their_lines), (our_lines, their_lines)
    for ours_line, theirs_line in zip(our_lines, their_lines):
        our_text, our_numbers = _split_numbers(ours_line)
        their_text, their_numbers = _split_numbers(theirs_line)
        assert our_text == their_text
        # Losses are printed with 8 decimals, scores and rates with 6.
        assert_allclose(our_numbers, their_numbers, rtol=1e-6, atol=2e-6, err_msg=ours_line)
    if params["solver"] != "lbfgs":
        assert their_lines  # the case is exercised


# --------------------------------------------------------------------------------------
# Seeds: the same random_state (int or RandomState) gives the same model.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "random_state", [0, 42, 2**31 - 1, FreshRandomState(7)], ids=["0", "42", "2**31-1", "RandomState7"]
)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_random_state(solver, random_state):
    X, y = dataset("classification")
    params = dict(hidden_layer_sizes=(12, 6), solver=solver, learning_rate_init=0.01, max_iter=15,
                  early_stopping=solver != "lbfgs", random_state=random_state)
    fit_both("classifier", params, X, y)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_random_state_instance_refit_continues_stream(kind):
    # One RandomState consumed by successive fits: each fit draws new weights.
    X, y = dataset(SOLVER_DATA[kind])
    params = dict(hidden_layer_sizes=(8,), solver="adam", max_iter=5, random_state=FreshRandomState(11))
    theirs, ours = make_pair(kind, params)
    run_steps(theirs, ours, [("fit", X, y, {}), ("fit", X, y, {})], X)


# --------------------------------------------------------------------------------------
# DataFrames: feature_names_in_.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("early_stopping", [False, True], ids=["plain", "early-stopping"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_dataframe_feature_names(kind, early_stopping):
    pd = pytest.importorskip("pandas")
    X, y = dataset(SOLVER_DATA[kind])
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    params = dict(hidden_layer_sizes=(8,), early_stopping=early_stopping, max_iter=10, random_state=0)
    theirs, ours = fit_both(kind, params, X, y)
    assert hasattr(ours, "feature_names_in_")
