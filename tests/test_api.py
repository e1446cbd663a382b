"""fastmlp's public surface against scikit-learn 1.9's MLPs.

Signatures, parameters, validation (InvalidParameterError for every constraint
scikit-learn declares, with its message), method availability, estimator type, tags,
probabilities, and fastmlp's additions (``engine``, ``n_threads``, ``n_init``, the
``leaky_relu`` and ``softplus`` activations). The oracle is scikit-learn, or plain NumPy math for what
scikit-learn does not have.
"""

import inspect
import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import neural_network
from sklearn.base import ClassifierMixin, RegressorMixin, clone, is_classifier, is_regressor
from sklearn.datasets import load_digits, load_iris, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError, make_constraint

import fastmlp

from .tolerances import training_tol

NAMES = ["MLPClassifier", "MLPRegressor"]

# What fastmlp adds to scikit-learn's parameters: keyword-only, after scikit-learn's.
FASTMLP_EXTRA_PARAMS = {"engine": "numba", "n_threads": None, "n_init": 1}
# The classifier's own addition, after those.
FASTMLP_CLASSIFIER_EXTRA_PARAMS = {"class_weight": None}
# Fitted attributes beyond scikit-learn's (both estimators, sgd and adam).
FASTMLP_EXTRA_ATTRIBUTES = {"validation_loss_curve_"}
# Public methods beyond scikit-learn's MLPs: set_callbacks is scikit-learn's own
# (sklearn.callback.CallbackSupportMixin, as LogisticRegression has it); to_sklearn
# converts a fitted model (fastmlp/_conversion.py).
FASTMLP_EXTRA_METHODS = {"set_callbacks", "to_sklearn"}
FASTMLP_EXTRA_ACTIVATIONS = ("leaky_relu", "softplus")


def _classes(name):
    return getattr(neural_network, name), getattr(fastmlp, name)


def _extra_params(name):
    return {**FASTMLP_EXTRA_PARAMS, **(FASTMLP_CLASSIFIER_EXTRA_PARAMS if name == "MLPClassifier" else {})}


def _data(name):
    """Small data: iris for the classifier, a 5-feature regression for the regressor."""
    if name == "MLPClassifier":
        return load_iris(return_X_y=True)
    X, y = make_regression(n_samples=80, n_features=5, noise=1.0, random_state=0)
    return X, y / np.std(y)


# --------------------------------------------------------------------------------------
# Signatures and parameters.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_init_signature_is_sklearns_then_keyword_only_extras(name):
    theirs_cls, ours_cls = _classes(name)
    theirs = list(inspect.signature(theirs_cls.__init__).parameters.values())
    ours = list(inspect.signature(ours_cls.__init__).parameters.values())
    # scikit-learn's parameters first: same names, order, kinds and defaults.
    assert [(p.name, p.kind, p.default) for p in ours[: len(theirs)]] == [
        (p.name, p.kind, p.default) for p in theirs
    ]
    # Then fastmlp's own, all keyword-only, engine first.
    extras = ours[len(theirs):]
    assert [p.name for p in extras][:1] == ["engine"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in extras)
    assert {p.name: p.default for p in extras} == _extra_params(name)


def test_regressor_first_positional_parameter_is_loss():
    ours = fastmlp.MLPRegressor("poisson", (7,), "tanh")
    theirs = neural_network.MLPRegressor("poisson", (7,), "tanh")
    assert (ours.loss, ours.hidden_layer_sizes, ours.activation) == (
        theirs.loss, theirs.hidden_layer_sizes, theirs.activation)
    with pytest.raises(TypeError):
        fastmlp.MLPRegressor("poisson", (7,), "tanh", "adam")  # solver is keyword-only
    with pytest.raises(TypeError):
        fastmlp.MLPClassifier((7,), "tanh", "adam")


@pytest.mark.parametrize("name", NAMES)
def test_get_params_are_sklearns_plus_extras(name):
    theirs_cls, ours_cls = _classes(name)
    ours, theirs = ours_cls().get_params(), theirs_cls().get_params()
    assert ours == {**theirs, **_extra_params(name)}


@pytest.mark.parametrize("name", NAMES)
def test_set_params_and_clone(name):
    _, ours_cls = _classes(name)
    est = ours_cls()
    assert est.set_params(hidden_layer_sizes=(3, 2), alpha=0.5, engine="numpy", n_threads=1) is est
    assert est.get_params()["hidden_layer_sizes"] == (3, 2)
    assert (est.alpha, est.engine, est.n_threads) == (0.5, "numpy", 1)
    copy = clone(est)
    assert copy is not est and copy.get_params() == est.get_params()
    with pytest.raises(ValueError, match="Invalid parameter"):
        est.set_params(not_a_parameter=1)


@pytest.mark.parametrize("name", NAMES)
def test_clone_of_fitted_estimator_is_unfitted(name):
    _, ours_cls = _classes(name)
    X, y = _data(name)
    est = ours_cls(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    copy = clone(est)
    assert not hasattr(copy, "coefs_")
    with pytest.raises(NotFittedError):
        copy.predict(X)


@pytest.mark.parametrize("name", NAMES)
def test_public_attributes_are_sklearns_plus_extras(name):
    theirs_cls, ours_cls = _classes(name)
    X, y = _data(name)
    kwargs = dict(hidden_layer_sizes=(4,), solver="adam", max_iter=3, random_state=0)
    theirs, ours = theirs_cls(**kwargs), ours_cls(**kwargs)
    public = {n for n in dir(theirs) if not n.startswith("_")}
    extras = set(_extra_params(name)) | FASTMLP_EXTRA_METHODS
    assert {n for n in dir(ours) if not n.startswith("_")} == public | extras
    theirs.fit(X, y)
    ours.fit(X, y)
    fitted = {n for n in vars(theirs) if n.endswith("_") and not n.startswith("_")}
    assert {n for n in vars(ours) if n.endswith("_") and not n.startswith("_")} == fitted | FASTMLP_EXTRA_ATTRIBUTES


@pytest.mark.parametrize("name", NAMES)
def test_estimator_type_and_tags(name):
    theirs_cls, ours_cls = _classes(name)
    ours, theirs = ours_cls(), theirs_cls()
    assert is_classifier(ours) == is_classifier(theirs) == (name == "MLPClassifier")
    assert is_regressor(ours) == is_regressor(theirs) == (name == "MLPRegressor")
    assert isinstance(ours, ClassifierMixin if name == "MLPClassifier" else RegressorMixin)
    assert get_tags(ours) == get_tags(theirs)


# --------------------------------------------------------------------------------------
# Validation: every constraint scikit-learn declares, same error and message.
# --------------------------------------------------------------------------------------

# At least one invalid value for every alternative each constraint allows.
INVALID_VALUES = {
    "hidden_layer_sizes": [0, -3, 1.5, "10", None],
    "activation": ["softmax", "exp", "sigmoid", "ReLU", None],
    "solver": ["newton-cg", "SGD", None],
    "alpha": [-1.0, "0.1", None],
    "batch_size": [0, -5, 1.5, "all", None],
    "learning_rate": ["optimal", None],
    "learning_rate_init": [0.0, -0.1, "0.1"],
    "power_t": [-0.5, "0.5"],
    "max_iter": [0, -1, 1.5, None],
    "shuffle": ["yes", 1, None],
    "random_state": [-1, 2**32, 1.5, "seed"],
    "tol": [-1e-4, "0.1", None],
    "verbose": [-1, 1.5, "loud"],
    "warm_start": ["no", 0, None],
    "momentum": [-0.1, 1.1, "0.9"],
    "nesterovs_momentum": ["True", 1],
    "early_stopping": [None, 1],
    "validation_fraction": [1.0, -0.1, 1.5],
    "beta_1": [1.0, -0.1],
    "beta_2": [1.0, -0.1],
    "epsilon": [0.0, -1e-8],
    "n_iter_no_change": [0, 1.5, -np.inf, None],
    "max_fun": [0, 1.5],
    "loss": ["absolute_error", "log_loss", None],  # MLPRegressor only
}

INVALID_EXTRA_VALUES = {
    "engine": ["torch", "NUMBA", None, 1],
    "n_threads": [0, -1, 1.5, "2"],
    "n_init": [0, -1, 1.5, "2", None],
    "class_weight": ["auto", ["balanced"], 1.0],  # MLPClassifier only
}


def test_invalid_value_table_covers_every_sklearn_constraint():
    declared = set(neural_network.MLPClassifier._parameter_constraints) | set(
        neural_network.MLPRegressor._parameter_constraints)
    assert declared == set(INVALID_VALUES)
    ours = set(fastmlp.MLPClassifier._parameter_constraints) | set(fastmlp.MLPRegressor._parameter_constraints)
    assert ours == declared | set(INVALID_EXTRA_VALUES)


def _invalid_cases(table):
    return [
        pytest.param(name, param, value, id=f"{name}-{param}={value!r}")
        for name in NAMES
        for param, values in table.items()
        for value in values
        if not (param == "loss" and name == "MLPClassifier")
        and not (param == "class_weight" and name == "MLPRegressor")
    ]


def _fit_error(est, X, y, method="fit"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as info:
            if method == "partial_fit" and is_classifier(est):
                est.partial_fit(X, y, classes=np.unique(y))
            else:
                getattr(est, method)(X, y)
    return info.value


@pytest.mark.parametrize("name, param, value", _invalid_cases(INVALID_VALUES))
def test_invalid_hyperparameter_raises_sklearns_error(name, param, value):
    theirs_cls, ours_cls = _classes(name)
    X, y = _data(name)
    params = {"max_iter": 2, param: value}
    their_error = _fit_error(theirs_cls(**params), X, y)
    our_error = _fit_error(ours_cls(**params), X, y)
    assert isinstance(their_error, InvalidParameterError)  # the case is exercised
    assert type(our_error) is InvalidParameterError and isinstance(our_error, ValueError)
    if param == "activation":  # fastmlp's message also lists leaky_relu and softplus
        assert str(our_error).startswith(f"The 'activation' parameter of {name} must be a str among")
        assert all(extra in str(our_error) for extra in FASTMLP_EXTRA_ACTIVATIONS)
    else:
        assert str(our_error) == str(their_error)


@pytest.mark.parametrize("name, param, value", _invalid_cases(INVALID_EXTRA_VALUES))
def test_invalid_fastmlp_parameter_raises_invalid_parameter_error(name, param, value):
    _, ours_cls = _classes(name)
    X, y = _data(name)
    error = _fit_error(ours_cls(**{"max_iter": 2, param: value}), X, y)
    assert type(error) is InvalidParameterError and isinstance(error, ValueError)
    assert f"The '{param}' parameter of {name} must be" in str(error)


@pytest.mark.parametrize("name", NAMES)
def test_partial_fit_validates_parameters(name):
    theirs_cls, ours_cls = _classes(name)
    X, y = _data(name)
    their_error = _fit_error(theirs_cls(solver="sgd", alpha=-1.0), X, y, "partial_fit")
    our_error = _fit_error(ours_cls(solver="sgd", alpha=-1.0), X, y, "partial_fit")
    assert type(our_error) is type(their_error) is InvalidParameterError
    assert str(our_error) == str(their_error)


@pytest.mark.parametrize("name", NAMES)
def test_constraints_of_shared_parameters_are_sklearns(name):
    theirs_cls, ours_cls = _classes(name)
    for param, constraints in theirs_cls._parameter_constraints.items():
        if param == "activation":
            continue
        ours = [str(make_constraint(c)) for c in ours_cls._parameter_constraints[param]]
        assert ours == [str(make_constraint(c)) for c in constraints], param


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("activation", FASTMLP_EXTRA_ACTIVATIONS)
def test_extra_activations_are_rejected_by_sklearn_only(name, activation):
    theirs_cls, ours_cls = _classes(name)
    X, y = _data(name)
    with pytest.raises(InvalidParameterError):
        theirs_cls(activation=activation, max_iter=2).fit(X, y)
    ours_cls(activation=activation, hidden_layer_sizes=(4,), max_iter=2).fit(X, y)  # no error


@pytest.mark.parametrize(
    "case",
    ["float-hidden-size", "numeric-string-target", "string-target"],
)
def test_errors_sklearn_raises_from_numpy(case):
    # scikit-learn's parameter constraints let these through and NumPy raises later:
    # np.empty with a float layer size (TypeError); a regression target of strings
    # (y_numeric does not convert str arrays; subtracting them raises a TypeError).
    X, y = _data("MLPRegressor")
    params = dict(max_iter=2, random_state=0)
    if case == "float-hidden-size":
        params["hidden_layer_sizes"] = (5.0,)
    else:
        labels = ["1.5", "2.0", "0.5", "3.0"] if case == "numeric-string-target" else ["a", "b", "c", "d"]
        y = np.array(labels * (len(y) // 4))
    their_error = _fit_error(neural_network.MLPRegressor(**params), X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fastmlp.MLPRegressor(**params).fit(X, y)
        except Exception as exc:  # compared below
            our_error = exc
        else:
            our_error = None
    assert isinstance(their_error, TypeError)  # the case is exercised
    assert our_error is not None, f"scikit-learn raises {their_error!r}; fastmlp fitted"
    assert isinstance(our_error, TypeError), f"{our_error!r} vs scikit-learn's {their_error!r}"


@pytest.mark.parametrize("scale", [1e100, 1e300])
@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_diverging_fit_leaks_no_floating_point_warning(loss, solver, scale):
    # Overflow is the expected arithmetic of such a fit (scikit-learn prints NumPy's
    # RuntimeWarnings); the user hears of it through fastmlp's own error or warning,
    # which names the non-finite loss (tests/test_divergence.py), never through NumPy's.
    X, y = _data("MLPRegressor")
    est = fastmlp.MLPRegressor(loss=loss, solver=solver, max_iter=5, random_state=0)
    error = None
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            est.fit(X * scale, np.abs(y) * scale)
        except ValueError as exc:
            error = str(exc)
    runtime = [str(w.message) for w in record if issubclass(w.category, RuntimeWarning)]
    assert all(m.startswith("MLPRegressor: the training loss is") for m in runtime), runtime
    assert error is not None and ("non-finite parameter weights" in error or "where L-BFGS stopped" in error)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_poisson_rejects_negative_targets(method, solver):
    # A deliberate difference (README): scikit-learn's MLP trains on with a NaN loss.
    X, _ = _data("MLPRegressor")
    counts = np.arange(len(X)) % 4.0  # zeros are counts too
    est = fastmlp.MLPRegressor(loss="poisson", solver=solver, hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(est, method)(X, counts)
    assert np.isfinite(est.loss_)
    with pytest.raises(ValueError, match="negative which is not allowed for Poisson regression"):
        getattr(est, method)(X, counts - 0.5)


@pytest.mark.parametrize("name", NAMES)
def test_predict_with_wrong_number_of_features(name):
    theirs_cls, ours_cls = _classes(name)
    X, y = _data(name)
    kwargs = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    theirs, ours = theirs_cls(**kwargs).fit(X, y), ours_cls(**kwargs).fit(X, y)
    with pytest.raises(ValueError) as their_error:
        theirs.predict(X[:, :-1])
    with pytest.raises(ValueError) as our_error:
        ours.predict(X[:, :-1])
    assert str(our_error.value) == str(their_error.value)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba", "score"])
def test_unfitted_estimator_raises_not_fitted(method):
    X, y = _data("MLPClassifier")
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError):
        getattr(fastmlp.MLPClassifier(), method)(*args)


# --------------------------------------------------------------------------------------
# partial_fit availability (scikit-learn's available_if rules, quirk included).
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_classifier_partial_fit_availability(solver):
    ours = fastmlp.MLPClassifier(solver=solver)
    theirs = neural_network.MLPClassifier(solver=solver)
    assert hasattr(ours, "partial_fit") == hasattr(theirs, "partial_fit") == (solver != "lbfgs")
    if solver == "lbfgs":
        with pytest.raises(AttributeError) as their_error:
            theirs.partial_fit  # noqa: B018
        with pytest.raises(AttributeError) as our_error:
            ours.partial_fit  # noqa: B018
        assert str(our_error.value) == str(their_error.value)


def test_classifier_partial_fit_follows_set_params():
    est = fastmlp.MLPClassifier(solver="sgd")
    assert hasattr(est, "partial_fit")
    est.set_params(solver="lbfgs")
    assert not hasattr(est, "partial_fit")
    assert hasattr(fastmlp.MLPClassifier, "partial_fit")  # on the class it is a descriptor


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_regressor_partial_fit_exists_for_every_solver(solver):
    # scikit-learn 1.9 passes the method itself (always truthy) to available_if.
    ours = fastmlp.MLPRegressor(solver=solver)
    theirs = neural_network.MLPRegressor(solver=solver)
    assert hasattr(ours, "partial_fit") and hasattr(theirs, "partial_fit")


# --------------------------------------------------------------------------------------
# Probabilities.
# --------------------------------------------------------------------------------------

PROBA_CASES = {
    "binary": (lambda: load_digits(n_class=2, return_X_y=True), np.float64),
    "multiclass": (lambda: load_iris(return_X_y=True), np.float64),
    "multiclass-float32": (lambda: load_iris(return_X_y=True), np.float32),
    "binary-float32": (lambda: load_digits(n_class=2, return_X_y=True), np.float32),
}


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("case", list(PROBA_CASES))
def test_predict_proba_rows_sum_to_one(case, solver):
    load, dtype = PROBA_CASES[case]
    X, y = load()
    X = X.astype(dtype)
    est = fastmlp.MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=10, random_state=0).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (X.shape[0], len(est.classes_))
    assert proba.dtype == est.coefs_[0].dtype
    assert np.all((proba >= 0) & (proba <= 1))
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=10 * np.finfo(proba.dtype).eps)
    assert_array_equal(est.classes_[np.argmax(proba, axis=1)], est.predict(X))


@pytest.mark.parametrize("case", list(PROBA_CASES))
def test_predict_log_proba_is_log_of_predict_proba(case):
    load, dtype = PROBA_CASES[case]
    X, y = load()
    X = X.astype(dtype)
    est = fastmlp.MLPClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0).fit(X, y)
    log_proba = est.predict_log_proba(X)
    proba = est.predict_proba(X)
    assert log_proba.dtype == proba.dtype
    with np.errstate(divide="ignore"):
        assert_array_equal(log_proba, np.log(proba))


def test_multilabel_predict_proba_is_per_label():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    Y = (X[:, :3] > 0).astype(int)
    est = fastmlp.MLPClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0).fit(X, Y)
    proba = est.predict_proba(X)
    assert proba.shape == Y.shape
    assert_array_equal(est.predict(X), (proba > 0.5).astype(int))


# --------------------------------------------------------------------------------------
# fastmlp's activations: trained like the others; the reference engine and plain NumPy
# forward math are the oracles.
# --------------------------------------------------------------------------------------


def _hidden(activation, Z):
    if activation == "leaky_relu":
        return np.where(Z > 0, Z, 0.01 * Z)
    if activation == "softplus":
        return np.logaddexp(0.0, Z)
    raise KeyError(activation)


def _forward(est, X):
    """The network's output, written out in NumPy."""
    A = np.asarray(X, dtype=np.float64)
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        A = A @ W + b
        if i < len(est.coefs_) - 1:
            A = _hidden(est.activation, A)
    if est.out_activation_ == "softmax":
        A = np.exp(A - A.max(axis=1, keepdims=True))
        return A / A.sum(axis=1, keepdims=True)
    if est.out_activation_ == "logistic":
        return 1.0 / (1.0 + np.exp(-A))
    if est.out_activation_ == "exp":
        return np.exp(A)
    return A


EXTRA_ACTIVATION_SETUPS = {
    "classifier-adam": ("MLPClassifier", dict(solver="adam", learning_rate_init=0.01)),
    "classifier-sgd": ("MLPClassifier", dict(solver="sgd", learning_rate_init=0.05)),
    "classifier-lbfgs": ("MLPClassifier", dict(solver="lbfgs")),
    "regressor-adam": ("MLPRegressor", dict(solver="adam", learning_rate_init=0.01)),
    "regressor-lbfgs": ("MLPRegressor", dict(solver="lbfgs")),
    "poisson-sgd": ("MLPRegressor", dict(loss="poisson", solver="sgd", learning_rate_init=0.01)),
}


def _extra_activation_data(name, loss):
    if name == "MLPClassifier":
        X, y = load_digits(return_X_y=True)
        return X[:300] / 16.0, y[:300]
    X, y = _data(name)
    if loss == "poisson":
        return X, np.exp(0.3 * y)
    return X, y


@pytest.mark.parametrize("setup", list(EXTRA_ACTIVATION_SETUPS))
@pytest.mark.parametrize("activation", FASTMLP_EXTRA_ACTIVATIONS)
def test_extra_activation_trains_and_predicts(activation, setup):
    name, params = EXTRA_ACTIVATION_SETUPS[setup]
    X, y = _extra_activation_data(name, params.get("loss"))
    est_cls = getattr(fastmlp, name)
    kwargs = dict(hidden_layer_sizes=(12, 6), activation=activation, max_iter=20, random_state=0, **params)
    ours = est_cls(**kwargs).fit(X, y)
    reference = est_cls(engine="numpy", **kwargs).fit(X, y)

    # Trained: the loss went down, the same model as the NumPy reference engine.
    if params["solver"] != "lbfgs":
        assert ours.loss_curve_[-1] < ours.loss_curve_[0]
    assert ours.n_iter_ == reference.n_iter_
    for a, b in zip(ours.coefs_ + ours.intercepts_, reference.coefs_ + reference.intercepts_):
        assert_allclose(a, b, **training_tol(np.float64))

    # Predicts what the plain NumPy forward pass of its weights gives.
    out = _forward(ours, X)
    tol = training_tol(np.float64)
    if name == "MLPClassifier":
        assert_allclose(ours.predict_proba(X), out, **tol)
        assert_array_equal(ours.predict(X), ours.classes_[np.argmax(out, axis=1)])
    else:
        assert_allclose(ours.predict(X), out.ravel(), **tol)


@pytest.mark.parametrize("activation", FASTMLP_EXTRA_ACTIVATIONS)
def test_extra_activation_is_not_relu(activation):
    # The name must reach the kernels: same seed, other activation, other model.
    X, y = _data("MLPRegressor")
    kwargs = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    relu = fastmlp.MLPRegressor(activation="relu", **kwargs).fit(X, y)
    other = fastmlp.MLPRegressor(activation=activation, **kwargs).fit(X, y)
    assert not np.allclose(relu.predict(X), other.predict(X))


@pytest.mark.parametrize("activation", FASTMLP_EXTRA_ACTIVATIONS)
def test_extra_activation_partial_fit_and_float32(activation):
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    est = fastmlp.MLPClassifier(hidden_layer_sizes=(6,), activation=activation, random_state=0)
    for _ in range(3):
        est.partial_fit(X, y, classes=np.unique(y))
    assert est.coefs_[0].dtype == np.float32 and est.predict_proba(X).dtype == np.float32
    assert_allclose(est.predict_proba(X), _forward(est, X), **training_tol(np.float32))


# --------------------------------------------------------------------------------------
# Working inside scikit-learn: engines, pickling, model selection.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_engines_train_the_same_model(name):
    _, ours_cls = _classes(name)
    X, y = _data(name)
    kwargs = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    numba_model = ours_cls(engine="numba", **kwargs).fit(X, y)
    numpy_model = ours_cls(engine="numpy", **kwargs).fit(X, y)
    for a, b in zip(numba_model.coefs_ + numba_model.intercepts_, numpy_model.coefs_ + numpy_model.intercepts_):
        assert_allclose(a, b, **training_tol(np.float64))


@pytest.mark.parametrize("name", NAMES)
def test_pickle_round_trip(name):
    _, ours_cls = _classes(name)
    X, y = _data(name)
    est = ours_cls(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    assert_array_equal(restored.predict(X), est.predict(X))
    # Training continues the same way after the round trip (the optimizer state too).
    est.partial_fit(X, y)
    restored.partial_fit(X, y)
    for a, b in zip(est.coefs_ + est.intercepts_, restored.coefs_ + restored.intercepts_):
        assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_cross_val_score_matches_sklearn(name):
    theirs_cls, ours_cls = _classes(name)
    X, y = _data(name)
    kwargs = dict(hidden_layer_sizes=(6,), max_iter=10, random_state=0)
    theirs = cross_val_score(theirs_cls(**kwargs), X, y, cv=3)
    ours = cross_val_score(ours_cls(**kwargs), X, y, cv=3)
    assert_allclose(ours, theirs, **training_tol(np.float64))
