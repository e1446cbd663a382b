"""A training loss that is not finite is named, with the magnitudes that caused it and the
usual remedy (``fastmlp/_divergence.py``): a RuntimeWarning where training can go on, a
ValueError where it cannot. The cases are the ones a hostile-user review found, where
scikit-learn says only "did not converge" or leaks NumPy's overflow warning."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor

import fastmlp

from .tolerances import TRAINING


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=200, n_features=5, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


def _loss_warnings(record):
    return [w for w in record if issubclass(w.category, RuntimeWarning) and "the training loss is" in str(w.message)]


def _fit_recording(model, method, *args):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        getattr(model, method)(*args)
    return record


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_infinite_loss_with_finite_weights_warns_once_and_trains_scikit_learns_model(method, regression):
    # Targets x 1e200: squared errors overflow to inf from the first epoch, the weights
    # stay finite; scikit-learn trains on and leaks NumPy's "overflow in square".
    X, y = regression
    y = y * 1e200
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    ours = fastmlp.MLPRegressor(**params)
    record = _fit_recording(ours, method, X, y)
    named = _loss_warnings(record)
    assert len(named) == 1, [str(w.message) for w in record]  # one warning a fit, not one an epoch
    message = str(named[0].message)
    assert message.startswith("MLPRegressor: the training loss is inf at epoch 1.")
    assert "largest |y| = 6.21e+202" in message and "TransformedTargetRegressor" in message
    assert "learning_rate_init" in message
    assert named[0].filename == __file__  # points at the caller's line
    assert all(np.isinf(ours.loss_curve_))

    theirs = SklearnMLPRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(theirs, method)(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, **TRAINING[np.dtype(np.float64)])


def test_each_fit_warns_again(regression):
    X, y = regression
    model = fastmlp.MLPRegressor(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    assert len(_loss_warnings(_fit_recording(model, "fit", X, y * 1e200))) == 1
    assert len(_loss_warnings(_fit_recording(model, "fit", X, y * 1e200))) == 1


def test_non_finite_weights_raise_at_the_epoch_they_appear(regression):
    # scikit-learn runs the remaining epochs on NaN weights, then raises this ValueError.
    # (sgd: Adam's normalised steps keep these weights finite, the first test's case.)
    X, y = regression
    model = fastmlp.MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=10.0, max_iter=200,
                                 random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="^Solver produced non-finite parameter weights") as error:
            model.fit(X, y * 1e200)
    assert f"the training loss is nan at epoch {model.n_iter_}" in str(error.value)
    assert model.n_iter_ < 200
    assert "Scale X" in str(error.value)


def test_non_finite_weights_with_early_stopping_keep_the_best(regression):
    # scikit-learn's test_mlp_diverging_loss: with early stopping the best (finite)
    # weights are restored and no error is raised; fastmlp warns, naming the loss.
    X, y = regression
    model = fastmlp.MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=10.0, max_iter=30,
                                 early_stopping=True, random_state=0)
    named = [str(w.message) for w in _loss_warnings(_fit_recording(model, "fit", X, y * 1e200))]
    # One warning when the loss overflows, one when the weights follow.
    assert len(named) == 2 and "Training goes on" in named[0], named
    assert "the training loss is nan" in named[1] and "early stopping keeps the best weights" in named[1]
    assert all(np.isfinite(c).all() for c in model.coefs_ + model.intercepts_)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_lbfgs_with_a_non_finite_loss_raises(kind, digits, regression):
    # X containing 1e300: the first loss is NaN, L-BFGS cannot step; scikit-learn returns
    # the untrained start with loss_ = nan and a "failed to converge" warning.
    if kind == "classifier":
        X, y = digits
        X = np.where(X > 0.9, 1e300, X)
        model = fastmlp.MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    else:
        X, y = regression
        y = y * 1e200
        model = fastmlp.MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    with pytest.raises(ValueError, match="the training loss is nan where L-BFGS stopped") as error:
        model.fit(X, y)
    message = str(error.value)
    assert "Scale X" in message and "no model was trained" in message
    assert ("largest |y|" in message) == (kind == "regressor")  # a classifier's targets are labels
    assert "learning_rate_init" not in message  # not an L-BFGS parameter


def test_finite_fits_say_nothing(regression):
    X, y = regression
    for solver in ("sgd", "adam", "lbfgs"):
        model = fastmlp.MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=3, random_state=0)
        assert _loss_warnings(_fit_recording(model, "fit", X, y / 100)) == []
