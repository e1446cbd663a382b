"""``validation_loss_curve_`` (beyond scikit-learn): with ``early_stopping=True`` the loss of
``loss_curve_`` on the held-out split after every epoch.

The oracle is scikit-learn's own loss: its ``LOSS_FUNCTIONS`` and the L2 term of its
``_backprop`` (``0.5 * alpha * sum of squared coefs_ / (rows or weight sum)``), evaluated
on the validation split with the model's weights at that epoch and its predicted
outputs. The split and the weights of each epoch are read where the epoch's validation
score is taken (the estimator's ``_score``); a separate test uses only fitted models
(``max_iter=k``). Equality is exact: both sides evaluate the same expressions on the same
outputs.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import neural_network
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.neural_network._base import LOSS_FUNCTIONS

import fastmlp

from ._readme import readme_example
from .tolerances import training_tol


def _data(problem, dtype=np.float64):
    if problem in ("binary", "multiclass"):
        X, y = make_classification(n_samples=160, n_features=6, n_informative=4,
                                   n_classes=2 if problem == "binary" else 3, random_state=0)
    elif problem == "multilabel":
        X, y = make_multilabel_classification(n_samples=160, n_features=6, n_classes=3, random_state=0)
    elif problem in ("regression", "poisson", "multioutput"):
        X, y = make_regression(n_samples=160, n_features=6, n_targets=2 if problem == "multioutput" else 1,
                               noise=1.0, random_state=0)
        y = y / np.std(y)
        if problem == "poisson":
            y = np.random.default_rng(0).poisson(np.exp(0.5 * y))
    else:
        raise ValueError(problem)
    return X.astype(dtype), y


def _estimator(problem, **params):
    params = {**dict(hidden_layer_sizes=(7,), activation="tanh", random_state=0, batch_size=32,
                     learning_rate_init=0.01, max_iter=8, early_stopping=True, validation_fraction=0.2,
                     n_iter_no_change=100), **params}
    if problem in ("binary", "multiclass", "multilabel"):
        return fastmlp.MLPClassifier(**params)
    return fastmlp.MLPRegressor(loss="poisson" if problem == "poisson" else "squared_error", **params)


def _outputs(est, X):
    """The network's outputs, (n_samples, n_outputs_), through the public methods."""
    if isinstance(est, fastmlp.MLPClassifier):
        proba = est.predict_proba(X)
        return proba[:, 1:] if est.n_outputs_ == 1 else proba
    return est.predict(X).reshape(X.shape[0], -1)


def _sklearns_loss(est, X_val, y_val, sw_val, coefs):
    """scikit-learn's ``_backprop`` loss of (X_val, y_val, sw_val) for this model."""
    out = _outputs(est, X_val)
    if isinstance(est, fastmlp.MLPClassifier):
        Y = est._label_binarizer.transform(y_val).astype(bool)  # scikit-learn's encoding
        name = "binary_log_loss" if est.out_activation_ == "logistic" else "log_loss"
    else:
        Y, name = y_val, est.loss
    sw = None if sw_val is None else np.asarray(sw_val, dtype=np.float64)
    loss = LOSS_FUNCTIONS[name](Y, out, sw)
    values = 0
    for s in coefs:
        s = s.ravel()
        values += np.dot(s, s)
    sw_sum = X_val.shape[0] if sw is None else sw.sum()
    loss += (0.5 * est.alpha) * values / sw_sum
    return np.float64(loss)


def _fit_recording(est, X, y, monkeypatch, **fit_params):
    """Fit, recording at each epoch's validation score the split and scikit-learn's loss
    with the weights of that epoch."""
    records = []
    original = est._score

    def recording(X_val, y_val, sample_weight=None):
        coefs = [c.copy() for c in est.coefs_]
        records.append(dict(X=X_val, y=y_val, sw=sample_weight,
                            loss=_sklearns_loss(est, X_val, y_val, sample_weight, coefs)))
        return original(X_val, y_val, sample_weight=sample_weight)

    monkeypatch.setattr(est, "_score", recording)
    est.fit(X, y, **fit_params)
    return records


CASES = [
    ("binary", "adam", np.float64),
    ("binary", "sgd", np.float32),
    ("multiclass", "sgd", np.float64),
    ("multiclass", "adam", np.float32),
    ("multilabel", "adam", np.float64),
    ("regression", "adam", np.float64),
    ("regression", "sgd", np.float32),
    ("poisson", "sgd", np.float64),
    ("multioutput", "adam", np.float32),
]


@pytest.mark.parametrize("problem, solver, dtype", CASES)
def test_each_epoch_is_the_loss_recomputed_on_the_split(problem, solver, dtype, monkeypatch):
    X, y = _data(problem, dtype)
    est = _estimator(problem, solver=solver)
    records = _fit_recording(est, X, y, monkeypatch)
    assert est.n_iter_ == 8
    assert len(records) == len(est.validation_loss_curve_) == len(est.validation_scores_) == 8
    assert records[0]["X"].shape[0] == 32  # validation_fraction=0.2 of 160 rows
    assert all(type(v) is np.float64 for v in est.validation_loss_curve_)
    assert [r["loss"] for r in records] == est.validation_loss_curve_
    assert len(set(est.validation_loss_curve_)) == 8  # it moves with training


@pytest.mark.parametrize("problem", ["multiclass", "regression"])
def test_weighted_by_the_validation_rows_sample_weight(problem, monkeypatch):
    X, y = _data(problem)
    sw = np.random.default_rng(1).uniform(0.1, 3.0, len(y))
    est = _estimator(problem, solver="adam")
    records = _fit_recording(est, X, y, monkeypatch, sample_weight=sw)
    assert all(r["sw"] is not None and len(r["sw"]) == 32 for r in records)
    assert [r["loss"] for r in records] == est.validation_loss_curve_
    # The weights matter: the unweighted loss of the same split and weights differs.
    unweighted = _estimator(problem, solver="adam")
    assert unweighted.fit(X, y).validation_loss_curve_ != est.validation_loss_curve_


def test_weighted_by_class_weight_as_by_sample_weight(monkeypatch):
    X, y = _data("multiclass")
    est = _estimator("multiclass", solver="adam", class_weight={0: 0.5, 1: 1.0, 2: 3.0})
    records = _fit_recording(est, X, y, monkeypatch)
    assert [r["loss"] for r in records] == est.validation_loss_curve_
    assert all(set(r["sw"]) == {0.5, 1.0, 3.0} for r in records)


def test_sparse_X(monkeypatch):
    X, y = _data("multiclass")
    est = _estimator("multiclass", solver="adam")
    records = _fit_recording(est, sp.csr_matrix(X), y, monkeypatch)
    assert [r["loss"] for r in records] == est.validation_loss_curve_
    dense = _estimator("multiclass", solver="adam").fit(X, y)
    assert_allclose(est.validation_loss_curve_, dense.validation_loss_curve_, **training_tol(np.float64))


@pytest.mark.parametrize("problem", ["binary", "regression"])
def test_max_iter_k_models_give_each_epochs_loss(problem, monkeypatch):
    """Train k epochs (max_iter=k): the curve is a prefix of the longer fit's, and where the
    k-th epoch is the best so far (so the fitted model holds its weights) its last value
    is the loss of the fitted model on the held-out split."""
    X, y = _data(problem)
    longest = _estimator(problem, solver="sgd", max_iter=8).fit(X, y)
    checked = 0
    for k in range(1, 9):
        est = _estimator(problem, solver="sgd", max_iter=k)
        records = _fit_recording(est, X, y, monkeypatch)
        assert est.validation_loss_curve_ == longest.validation_loss_curve_[:k]
        scores = est.validation_scores_
        if k == 1 or scores[-1] > max(scores[:-1]):
            split = records[-1]
            refit = _sklearns_loss(est, split["X"], split["y"], split["sw"], est.coefs_)
            assert refit == est.validation_loss_curve_[-1]
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_none_without_early_stopping_absent_for_lbfgs_as_validation_scores(name, solver):
    problem = "multiclass" if name == "MLPClassifier" else "regression"
    X, y = _data(problem)
    est = _estimator(problem, solver=solver, early_stopping=False).fit(X, y)
    theirs = getattr(neural_network, name)(hidden_layer_sizes=(7,), solver=solver, max_iter=2,
                                           random_state=0).fit(X, y)
    assert hasattr(est, "validation_loss_curve_") == hasattr(theirs, "validation_scores_") == (solver != "lbfgs")
    if solver != "lbfgs":
        assert est.validation_loss_curve_ is None and est.validation_scores_ is None


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_existing_attributes_stay_sklearns(name):
    """The new curve changes nothing scikit-learn computes: early stopping as before."""
    problem = "multiclass" if name == "MLPClassifier" else "regression"
    X, y = _data(problem)
    params = dict(hidden_layer_sizes=(7,), solver="adam", random_state=0, early_stopping=True,
                  validation_fraction=0.2, n_iter_no_change=3, max_iter=40, learning_rate_init=0.01, tol=1e-2)
    ours = getattr(fastmlp, name)(**params).fit(X, y)
    theirs = getattr(neural_network, name)(**params).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 40  # stopped early
    assert ours.validation_scores_ == theirs.validation_scores_
    assert ours.best_validation_score_ == theirs.best_validation_score_
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, **training_tol(np.float64))
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert_allclose(a, b, **training_tol(np.float64))
    assert len(ours.validation_loss_curve_) == ours.n_iter_


def test_warm_start_extends_the_curve_as_validation_scores():
    X, y = _data("multiclass")
    est = _estimator("multiclass", solver="adam", max_iter=3, warm_start=True).fit(X, y)
    first = list(est.validation_loss_curve_)
    est.fit(X, y)
    assert len(est.validation_loss_curve_) == len(est.validation_scores_) == 6
    assert est.validation_loss_curve_[:3] == first


def test_default_fit_unchanged_by_the_curve(monkeypatch):
    """The curve's forward pass leaves the weights alone: fitting with and without it
    gives the same model bit for bit."""
    from fastmlp import _training

    X, y = _data("multiclass")
    with_curve = _estimator("multiclass", solver="adam").fit(X, y)
    monkeypatch.setattr(_training, "_validation_loss", lambda *args: np.float64(0.0))
    without = _estimator("multiclass", solver="adam").fit(X, y)
    for a, b in zip(with_curve.coefs_ + with_curve.intercepts_, without.coefs_ + without.intercepts_):
        assert_array_equal(a, b)
    assert with_curve.validation_scores_ == without.validation_scores_
    assert with_curve.loss_curve_ == without.loss_curve_


def test_readme_example():
    namespace = {}
    exec(readme_example("### Validation loss"), namespace)  # the README's own code
    clf = namespace["clf"]
    assert clf.n_iter_ < clf.max_iter  # stopped early
    assert len(namespace["val_loss"]) == len(namespace["train_loss"]) == len(clf.validation_scores_) == clf.n_iter_
