"""The README's promise, as its example states it: one import changed, same model."""

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import fastmlp

from .tolerances import training_tol


@pytest.mark.parametrize("estimator", ["MLPClassifier"])
def test_readme_example_gives_scikit_learns_model(estimator):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    kwargs = dict(hidden_layer_sizes=(100,), random_state=0, max_iter=15)
    with pytest.warns(ConvergenceWarning):  # stops at max_iter, as scikit-learn does
        ours = getattr(fastmlp, estimator)(**kwargs).fit(X_train, y_train)
    with pytest.warns(ConvergenceWarning):
        theirs = getattr(neural_network, estimator)(**kwargs).fit(X_train, y_train)
    assert ours.n_iter_ == theirs.n_iter_
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, **training_tol(np.float64))
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, **training_tol(np.float64))
    np.testing.assert_array_equal(ours.predict(X_test), theirs.predict(X_test))
