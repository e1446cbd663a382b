"""``fastmlp.from_sklearn`` and ``model.to_sklearn()``: a fitted model moves across with its
parameters, weights, classes and every fitted attribute (optimizer state included), predicts
what it predicted, and trains on as it would have."""

import re
import warnings

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.base import is_classifier
from sklearn.datasets import load_digits, make_multilabel_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer
from sklearn.preprocessing import LabelBinarizer

import fastmlp
from fastmlp import _conversion
from fastmlp._optimizers import AdamState, SGDState

from ._readme import readme_example
from .tolerances import kernel_tol, training_tol

KINDS = ("binary", "multiclass", "multilabel", "regression", "poisson")
SOLVERS = ("sgd", "adam", "lbfgs")
DTYPES = (np.float64, np.float32)


def _data(kind, dtype=np.float64):
    if kind in ("binary", "multiclass"):
        X, y = load_digits(return_X_y=True)
        X, y = X[:240] / 16, y[:240]
        y = y % 2 if kind == "binary" else y
    elif kind == "multilabel":
        X, y = make_multilabel_classification(n_samples=150, n_features=10, n_classes=4, random_state=0)
    elif kind == "regression":
        X, y = make_regression(n_samples=150, n_features=8, n_targets=2, random_state=0)
        y = y / 100
    else:
        rng = np.random.default_rng(0)
        X = rng.random((150, 4))
        y = rng.poisson(np.exp(X.sum(axis=1) / 2))
    return X.astype(dtype), y


def _classes(kind):
    """(scikit-learn's class, fastmlp's class)."""
    name = "MLPRegressor" if kind in ("regression", "poisson") else "MLPClassifier"
    return getattr(neural_network, name), getattr(fastmlp, name)


def _fit(cls, X, y, kind=None, **params):
    """A short fit; kind="poisson" sets the Poisson loss."""
    if kind == "poisson":
        params["loss"] = "poisson"
    params = {"hidden_layer_sizes": (7, 5), "max_iter": 5, "random_state": 0, "batch_size": 32, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: 5 epochs
        return cls(**params).fit(X, y)


def _output(model, X):
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


def _assert_same(a, b, where="model"):
    """a and b hold the same values, of the same types and dtypes (NaN equal to NaN)."""
    if isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, z) in enumerate(zip(a, b)):
            _assert_same(x, z, f"{where}[{i}]")
    elif isinstance(b, np.random.RandomState):
        assert isinstance(a, np.random.RandomState), where
        _assert_same(list(a.get_state()), list(b.get_state()), where)
    elif isinstance(b, LabelBinarizer):
        assert isinstance(a, LabelBinarizer) and vars(a).keys() == vars(b).keys(), where
        for name in vars(b):
            _assert_same(getattr(a, name), getattr(b, name), f"{where}.{name}")
    else:
        assert type(a) is type(b), (where, type(a), type(b))
        assert a == b or (a != a and b != b), (where, a, b)


def _optimizer_vectors(optimizer):
    """The state vectors of either library's optimizer, flat, coefficients then intercepts."""
    if isinstance(optimizer, (SGDOptimizer, AdamOptimizer)):
        lists = [optimizer.velocities] if isinstance(optimizer, SGDOptimizer) else [optimizer.ms, optimizer.vs]
        return [np.concatenate([np.ravel(a) for a in arrays]) for arrays in lists]
    return [optimizer.velocity] if isinstance(optimizer, SGDState) else [optimizer.m, optimizer.v]


def _assert_same_optimizer(ours, theirs):
    """fastmlp's state and scikit-learn's optimizer hold the same values."""
    assert isinstance(ours, SGDState) == isinstance(theirs, SGDOptimizer)
    for a, b in zip(_optimizer_vectors(ours), _optimizer_vectors(theirs)):
        np.testing.assert_array_equal(a, b)
    names = ["learning_rate_init", "momentum", "nesterov", "power_t", "lr_schedule", "learning_rate"]
    if isinstance(ours, AdamState):
        names = ["learning_rate_init", "beta_1", "beta_2", "epsilon", "t"]
        if theirs.t > 0:  # scikit-learn's rate of the last step, which fastmlp computes per step
            assert ours.bias_corrected_rate() == theirs.learning_rate
    for name in names:
        _assert_same(getattr(ours, name), getattr(theirs, name), name)


CASES = [(kind, solver, dtype) for kind in KINDS for solver in SOLVERS for dtype in DTYPES]
IDS = [f"{kind}-{solver}-{np.dtype(dtype).name}" for kind, solver, dtype in CASES]


@pytest.mark.parametrize("kind, solver, dtype", CASES, ids=IDS)
def test_from_sklearn_copies_parameters_and_every_fitted_attribute(kind, solver, dtype):
    theirs_cls, ours_cls = _classes(kind)
    X, y = _data(kind, dtype)
    theirs = _fit(theirs_cls, X, y, kind, solver=solver)
    ours = fastmlp.from_sklearn(theirs)
    assert type(ours) is ours_cls
    defaults = ours_cls().get_params()
    assert ours.get_params() == {**defaults, **theirs.get_params()}
    native = _fit(ours_cls, X, y, kind, solver=solver)
    params = set(ours.get_params())
    # Exactly the attributes a fastmlp fit of this kind sets, no more, no fewer.
    assert set(vars(ours)) - params == set(vars(native)) - params
    for name in set(vars(theirs)) - set(theirs.get_params()) - {"_optimizer", "loss"}:
        if name not in _conversion._SKLEARN_ONLY_FITTED:
            _assert_same(getattr(ours, name), getattr(theirs, name), name)
    if solver != "lbfgs":
        _assert_same_optimizer(ours._optimizer, theirs._optimizer)
        assert ours.validation_loss_curve_ is None  # no early stopping here


@pytest.mark.parametrize("kind, solver, dtype", CASES, ids=IDS)
def test_to_sklearn_copies_parameters_and_every_fitted_attribute(kind, solver, dtype):
    theirs_cls, ours_cls = _classes(kind)
    X, y = _data(kind, dtype)
    ours = _fit(ours_cls, X, y, kind, solver=solver, engine="numpy", n_threads=1)
    theirs = ours.to_sklearn()
    assert type(theirs) is theirs_cls
    sklearn_params = theirs_cls().get_params()
    assert theirs.get_params() == {k: v for k, v in ours.get_params().items() if k in sklearn_params}
    native = _fit(theirs_cls, X, y, kind, solver=solver)
    params = set(sklearn_params)
    assert set(vars(theirs)) - params == set(vars(native)) - params
    for name in set(vars(theirs)) - params - {"_optimizer", "loss"}:
        if name in _conversion._SKLEARN_ONLY_FITTED:  # the L-BFGS layout: scikit-learn's own
            _assert_same(getattr(theirs, name), getattr(native, name), name)
        else:
            _assert_same(getattr(theirs, name), getattr(ours, name), name)
    if solver != "lbfgs":
        _assert_same_optimizer(ours._optimizer, theirs._optimizer)


@pytest.mark.parametrize("kind, solver, dtype", CASES, ids=IDS)
def test_round_trips_are_exact(kind, solver, dtype):
    theirs_cls, ours_cls = _classes(kind)
    X, y = _data(kind, dtype)
    for model in (_fit(ours_cls, X, y, kind, solver=solver), _fit(theirs_cls, X, y, kind, solver=solver)):
        back = (fastmlp.from_sklearn(model.to_sklearn()) if isinstance(model, ours_cls)
                else fastmlp.from_sklearn(model).to_sklearn())
        assert type(back) is type(model) and back.get_params() == model.get_params()
        assert vars(back).keys() == vars(model).keys()
        for name in vars(model):
            if name == "_optimizer":
                for a, b in zip(_optimizer_vectors(back._optimizer), _optimizer_vectors(model._optimizer)):
                    _assert_same(a, b, name)
                assert vars(back._optimizer).keys() == vars(model._optimizer).keys()
                for key in vars(model._optimizer).keys() - {"velocity", "velocities", "m", "v", "ms", "vs"}:
                    _assert_same(getattr(back._optimizer, key), getattr(model._optimizer, key), key)
            else:
                _assert_same(getattr(back, name), getattr(model, name), name)
        np.testing.assert_array_equal(_output(back, X), _output(model, X))
        np.testing.assert_array_equal(back.predict(X), model.predict(X))


ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_converted_model_predicts_what_the_original_predicts(kind, activation, dtype):
    """Labels are the same; probabilities and regression outputs are bit for bit the same
    unless a logistic is in the network (hidden, or the output of binary and multilabel
    models): fastmlp's compiled logistic rounds differently from SciPy's ``expit`` in an ulp.
    Then the kernel tolerance: observed worst 0.3% of it in float64, equal in float32."""
    theirs_cls, ours_cls = _classes(kind)
    X, y = _data(kind, dtype)
    for model in (_fit(ours_cls, X, y, kind, activation=activation),
                  _fit(theirs_cls, X, y, kind, activation=activation)):
        converted = model.to_sklearn() if isinstance(model, ours_cls) else fastmlp.from_sklearn(model)
        if is_classifier(model):
            np.testing.assert_array_equal(converted.predict(X), model.predict(X))
        got, want = _output(converted, X), _output(model, X)
        assert got.dtype == want.dtype
        if activation == "logistic" or model.out_activation_ == "logistic":
            np.testing.assert_allclose(got, want, **kernel_tol(dtype))
            np.testing.assert_allclose(converted.score(X, y), model.score(X, y), **kernel_tol(np.float64))
        else:
            np.testing.assert_array_equal(got, want)
            assert converted.score(X, y) == model.score(X, y)


def _continue(model, X, y, n_calls=3):
    """``n_calls`` more epochs with partial_fit (the classes are known from the fit)."""
    for _ in range(n_calls):
        model.partial_fit(X, y)
    return model


def _assert_same_weights(a, b, tol=None):
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert p.dtype == q.dtype
        if tol is None:
            np.testing.assert_array_equal(p, q)
        else:
            np.testing.assert_allclose(p, q, **tol)


PARTIAL_FIT_CASES = [
    ("multiclass", "sgd", {"momentum": 0.9, "nesterovs_momentum": True, "learning_rate": "invscaling"}),
    ("binary", "sgd", {"momentum": 0.5, "nesterovs_momentum": False, "learning_rate": "constant"}),
    ("multilabel", "adam", {}),
    ("regression", "sgd", {"learning_rate": "adaptive"}),
    ("regression", "adam", {"beta_1": 0.8, "epsilon": 1e-7}),
    ("poisson", "adam", {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, solver, params", PARTIAL_FIT_CASES, ids=[f"{k}-{s}-{i}" for i, (k, s, _) in
                                                                          enumerate(PARTIAL_FIT_CASES)])
def test_partial_fit_after_conversion_continues_the_original_training(kind, solver, params, dtype):
    theirs_cls, ours_cls = _classes(kind)
    X, y = _data(kind, dtype)
    tol = training_tol(dtype)
    # fastmlp -> scikit-learn -> fastmlp trains on exactly as the original does.
    ours = _fit(ours_cls, X, y, kind, solver=solver, activation="tanh", **params)
    round_trip = fastmlp.from_sklearn(ours.to_sklearn())
    in_sklearn = ours.to_sklearn()
    _continue(ours, X, y), _continue(round_trip, X, y), _continue(in_sklearn, X, y)
    _assert_same_weights(round_trip, ours)
    assert round_trip.loss_curve_ == ours.loss_curve_ and round_trip.t_ == ours.t_
    # ... and in scikit-learn as fastmlp does (the two libraries' training tolerance).
    _assert_same_weights(in_sklearn, ours, tol)
    np.testing.assert_allclose(in_sklearn.loss_curve_, ours.loss_curve_, **tol)
    # scikit-learn -> fastmlp trains on as scikit-learn does.
    theirs = _fit(theirs_cls, X, y, kind, solver=solver, activation="tanh", **params)
    in_fastmlp = fastmlp.from_sklearn(theirs)
    sk_round_trip = fastmlp.from_sklearn(theirs).to_sklearn()
    _continue(theirs, X, y), _continue(in_fastmlp, X, y), _continue(sk_round_trip, X, y)
    _assert_same_weights(in_fastmlp, theirs, tol)
    np.testing.assert_allclose(in_fastmlp.loss_curve_, theirs.loss_curve_, **tol)
    _assert_same_weights(sk_round_trip, theirs)


def test_conversion_carries_the_optimizer_state_that_continuation_needs():
    """Training on after the conversion is not training from a fresh optimizer: with
    momentum and Adam's moments the next steps differ (the tests above would not notice a
    conversion that dropped the state only if the state did not matter)."""
    X, y = _data("multiclass")
    for solver in ("sgd", "adam"):
        theirs = _fit(neural_network.MLPClassifier, X, y, solver=solver)
        converted = fastmlp.from_sklearn(theirs)
        fresh = fastmlp.from_sklearn(theirs)
        del fresh._optimizer
        _continue(theirs, X, y, 1), _continue(converted, X, y, 1), _continue(fresh, X, y, 1)
        _assert_same_weights(converted, theirs, training_tol(np.float64))
        assert not np.allclose(fresh.coefs_[0], theirs.coefs_[0], rtol=1e-6, atol=0)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_warm_start_with_early_stopping_after_conversion(solver, dtype):
    X, y = _data("multiclass", dtype)
    params = dict(solver=solver, early_stopping=True, warm_start=True, max_iter=4, n_iter_no_change=50)
    theirs, ours = _fit(neural_network.MLPClassifier, X, y, **params), _fit(fastmlp.MLPClassifier, X, y, **params)
    in_fastmlp, in_sklearn = fastmlp.from_sklearn(theirs), ours.to_sklearn()
    # After an early-stopped fit coefs_ *is* _best_coefs, in both libraries, and stays so.
    assert in_fastmlp.coefs_ is in_fastmlp._best_coefs and in_sklearn.coefs_ is in_sklearn._best_coefs
    # scikit-learn has no validation losses: those epochs are unknown.
    assert len(in_fastmlp.validation_loss_curve_) == len(theirs.validation_scores_) == 4
    assert np.isnan(in_fastmlp.validation_loss_curve_).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        for model in (theirs, ours, in_fastmlp, in_sklearn):
            model.fit(X, y)
    tol = training_tol(dtype)
    _assert_same_weights(in_fastmlp, theirs, tol)
    _assert_same_weights(in_sklearn, ours, tol)
    assert in_fastmlp.n_iter_ == theirs.n_iter_ == 4 and len(in_fastmlp.validation_scores_) == 8
    np.testing.assert_allclose(in_fastmlp.validation_scores_, theirs.validation_scores_, **tol)
    assert len(in_fastmlp.validation_loss_curve_) == 8 and np.isfinite(in_fastmlp.validation_loss_curve_[4:]).all()


def test_converted_model_shares_nothing_with_its_source():
    X, y = _data("multiclass")
    params = dict(solver="adam", random_state=np.random.RandomState(0))
    for model in (_fit(neural_network.MLPClassifier, X, y, **params), _fit(fastmlp.MLPClassifier, X, y, **params)):
        converted = model.to_sklearn() if isinstance(model, fastmlp.MLPClassifier) else fastmlp.from_sklearn(model)
        assert converted.random_state is not model.random_state and converted._random_state is not model._random_state
        ours = [a for a in _arrays(vars(converted))]
        theirs = [a for a in _arrays(vars(model))]
        assert ours and not any(np.shares_memory(a, b) for a in ours for b in theirs)
        before = _output(converted, X)
        _continue(model, X, y, 1)
        np.testing.assert_array_equal(_output(converted, X), before)


def _arrays(value):
    """Every ndarray reachable in value (through lists, tuples, dicts and objects' vars)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _arrays(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item)
    elif hasattr(value, "__dict__") and not isinstance(value, (type, np.random.RandomState)):
        yield from _arrays(vars(value))


def test_feature_names_move_across():
    pd = pytest.importorskip("pandas")
    X, y = _data("binary")
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    theirs = _fit(neural_network.MLPClassifier, frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X has feature names" warning
        ours = fastmlp.from_sklearn(theirs)
        np.testing.assert_array_equal(ours.predict(frame), theirs.predict(frame))
        np.testing.assert_array_equal(ours.to_sklearn().predict(frame), theirs.predict(frame))
    _assert_same(ours.feature_names_in_, theirs.feature_names_in_)


@pytest.mark.parametrize("activation", ["leaky_relu", "softplus"])
def test_to_sklearn_refuses_fastmlp_only_activations(activation):
    X, y = _data("regression")
    ours = _fit(fastmlp.MLPRegressor, X, y, activation=activation)
    with pytest.raises(ValueError, match=re.escape(f"has no activation {activation!r}")):
        ours.to_sklearn()


def test_to_sklearn_refuses_a_fastmlp_only_parameter_that_changes_training():
    X, y = _data("binary")
    ours = _fit(fastmlp.MLPClassifier, X, y, class_weight="balanced")
    with pytest.raises(ValueError, match="has no parameter 'class_weight'"):
        ours.to_sklearn()
    theirs = ours.set_params(class_weight=None).to_sklearn()  # the way out the message names
    np.testing.assert_array_equal(theirs.predict(X), ours.predict(X))


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_unfitted_models_raise_not_fitted(kind):
    theirs_cls, ours_cls = _classes(kind)
    with pytest.raises(NotFittedError):
        fastmlp.from_sklearn(theirs_cls())
    with pytest.raises(NotFittedError):
        ours_cls().to_sklearn()


@pytest.mark.parametrize("model", [LogisticRegression(), "model", None, fastmlp.MLPRegressor()],
                         ids=["LogisticRegression", "str", "None", "fastmlp"])
def test_from_sklearn_rejects_other_types(model):
    with pytest.raises(TypeError, match="from_sklearn expects"):
        fastmlp.from_sklearn(model)


def test_to_sklearn_function_rejects_other_types():
    with pytest.raises(TypeError, match="to_sklearn expects"):
        _conversion.to_sklearn(neural_network.MLPClassifier())


def test_readme_section_runs():
    """The README's "Moving models to and from scikit-learn" example, run as written."""
    example = readme_example("## Moving models to and from scikit-learn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the example's short fit
        exec(compile(example, "README.md", "exec"), {})


def test_parameters_are_copied_not_shared():
    X, y = _data("multiclass")
    theirs = _fit(neural_network.MLPClassifier, X, y, hidden_layer_sizes=[7, 5])
    ours = fastmlp.from_sklearn(theirs)
    theirs.hidden_layer_sizes.append(3)
    assert ours.hidden_layer_sizes == [7, 5]
