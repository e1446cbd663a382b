"""``class_weight`` on MLPClassifier (beyond scikit-learn's MLP, as in its linear models).

The oracle: fitting with ``class_weight=w`` trains exactly (bit for bit) the model that
``sample_weight=sklearn.utils.class_weight.compute_sample_weight(w, y)`` trains, a given
``sample_weight`` multiplied in; ``partial_fit`` follows ``SGDClassifier``'s rules and
messages; errors are scikit-learn's (``compute_class_weight``'s, the parameter
validation's). ``class_weight=None`` is scikit-learn's model: ``tests/test_parity.py``.
"""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.linear_model import SGDClassifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

import fastmlp

from ._readme import readme_example

SOLVERS = ["sgd", "adam", "lbfgs"]
DTYPES = [np.float64, np.float32]


def _data(problem, dtype=np.float64):
    """Small imbalanced problems; labels that are not 0..K-1 (the weights follow labels)."""
    if problem == "binary":
        X, y = make_classification(n_samples=150, n_features=6, n_informative=4, weights=[0.8, 0.2],
                                   random_state=0)
        y = np.where(y == 1, 7, -1)
    elif problem == "multiclass":
        X, y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                                   weights=[0.6, 0.3, 0.1], random_state=1)
        y = np.array(["cat", "dog", "eel"])[y]
    else:
        raise ValueError(problem)
    return X.astype(dtype), y


def _params(solver, **extra):
    solver_params = dict(batch_size=32, learning_rate_init=0.01, max_iter=8) if solver != "lbfgs" else dict(max_iter=15)
    return {**dict(hidden_layer_sizes=(7,), activation="tanh", solver=solver, random_state=0), **solver_params,
            **extra}


def _assert_same_model(a, b):
    """Every fitted value bit for bit: weights, loss, stopping state, validation."""
    assert a.n_iter_ == b.n_iter_
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert p.dtype == q.dtype
        assert_array_equal(p, q)
    assert a.loss_ == b.loss_
    for name in ("loss_curve_", "validation_scores_", "validation_loss_curve_", "best_validation_score_",
                 "best_loss_"):
        assert (getattr(a, name, "absent") == getattr(b, name, "absent")), name


# --------------------------------------------------------------------------------------
# class_weight is the equivalent sample_weight.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("problem", ["binary", "multiclass"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_balanced_is_the_equivalent_sample_weight(solver, problem, dtype):
    X, y = _data(problem, dtype)
    ours = fastmlp.MLPClassifier(**_params(solver, class_weight="balanced")).fit(X, y)
    equivalent = fastmlp.MLPClassifier(**_params(solver)).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    _assert_same_model(ours, equivalent)
    # And the weights do something: the unweighted model differs.
    unweighted = fastmlp.MLPClassifier(**_params(solver)).fit(X, y)
    assert not np.array_equal(ours.coefs_[0], unweighted.coefs_[0])


@pytest.mark.parametrize("solver", SOLVERS)
def test_balanced_weights_are_sklearns_formula(solver, monkeypatch):
    """What training receives: n_samples / (n_classes * count of the row's class)."""
    X, y = _data("multiclass")
    seen = {}
    est = fastmlp.MLPClassifier(**_params(solver, class_weight="balanced"))
    original = est._weigh_samples

    def recording(X, Y, sample_weight):
        seen["weights"] = original(X, Y, sample_weight)
        return seen["weights"]

    monkeypatch.setattr(est, "_weigh_samples", recording)
    est.fit(X, y)
    labels, counts = np.unique(y, return_counts=True)
    expected = len(y) / (len(labels) * counts[np.searchsorted(labels, y)])
    np.testing.assert_allclose(seen["weights"], expected, rtol=1e-15)  # one division each, rounding only
    assert seen["weights"].dtype == np.float64


@pytest.mark.parametrize("solver", SOLVERS)
def test_dict_is_the_equivalent_sample_weight(solver):
    X, y = _data("multiclass")
    weights = {"cat": 0.5, "eel": 4.0}  # "dog" not named: weight 1
    ours = fastmlp.MLPClassifier(**_params(solver, class_weight=weights)).fit(X, y)
    equivalent = fastmlp.MLPClassifier(**_params(solver)).fit(X, y, sample_weight=compute_sample_weight(weights, y))
    _assert_same_model(ours, equivalent)


def test_dict_with_integer_labels_and_sparse_X():
    X, y = _data("binary")
    weights = {-1: 1.0, 7: 3.0}
    Xs = sp.csr_matrix(X)
    ours = fastmlp.MLPClassifier(**_params("adam", class_weight=weights)).fit(Xs, y)
    equivalent = fastmlp.MLPClassifier(**_params("adam")).fit(Xs, y, sample_weight=compute_sample_weight(weights, y))
    _assert_same_model(ours, equivalent)


@pytest.mark.parametrize("sw_dtype", DTYPES)
@pytest.mark.parametrize("class_weight", ["balanced", {"cat": 0.5, "dog": 2.0, "eel": 4.0}])
@pytest.mark.parametrize("solver", SOLVERS)
def test_combined_with_sample_weight_multiplicatively(solver, class_weight, sw_dtype):
    X, y = _data("multiclass", np.float32)
    sw = np.random.default_rng(0).uniform(0.2, 2.0, len(y)).astype(sw_dtype)
    ours = fastmlp.MLPClassifier(**_params(solver, class_weight=class_weight)).fit(X, y, sample_weight=sw)
    # 'balanced' counts the classes of y, not their weights (as SGDClassifier and
    # compute_sample_weight do).
    product = sw * compute_sample_weight(class_weight, y)
    equivalent = fastmlp.MLPClassifier(**_params(solver)).fit(X, y, sample_weight=product)
    _assert_same_model(ours, equivalent)


def test_all_ones_class_weight_is_the_all_ones_sample_weight():
    """Any class_weight gives the fit sample weights (documented: not always None's rounding)."""
    X, y = _data("binary", np.float32)
    ours = fastmlp.MLPClassifier(**_params("lbfgs", class_weight={-1: 1, 7: 1})).fit(X, y)
    equivalent = fastmlp.MLPClassifier(**_params("lbfgs")).fit(X, y, sample_weight=np.ones(len(y)))
    _assert_same_model(ours, equivalent)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multilabel_balanced_multiplies_the_label_columns(solver):
    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=3, random_state=0)
    ours = fastmlp.MLPClassifier(**_params(solver, class_weight="balanced")).fit(X, Y)
    weights = compute_sample_weight("balanced", Y)
    assert len(np.unique(weights)) > 1
    equivalent = fastmlp.MLPClassifier(**_params(solver)).fit(X, Y, sample_weight=weights)
    _assert_same_model(ours, equivalent)


def test_multilabel_dict_raises():
    X, Y = make_multilabel_classification(n_samples=50, n_features=6, n_classes=3, random_state=0)
    est = fastmlp.MLPClassifier(**_params("adam", class_weight={0: 1.0, 1: 2.0, 2: 1.0}))
    with pytest.raises(ValueError, match="class_weight as a dict is not supported for multilabel y"):
        est.fit(X, Y)


def test_default_is_none_and_off():
    est = fastmlp.MLPClassifier()
    assert est.class_weight is None and est.get_params()["class_weight"] is None
    assert "class_weight" not in fastmlp.MLPRegressor().get_params()


# --------------------------------------------------------------------------------------
# Early stopping: the weights are computed on the whole y, then split with it; the
# validation score is weighted by the validation rows' class weights.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_early_stopping_is_the_equivalent_sample_weight(solver):
    X, y = _data("multiclass")
    params = _params(solver, early_stopping=True, validation_fraction=0.2, max_iter=15, n_iter_no_change=3)
    ours = fastmlp.MLPClassifier(**params, class_weight="balanced").fit(X, y)
    equivalent = fastmlp.MLPClassifier(**params).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    _assert_same_model(ours, equivalent)
    assert len(ours.validation_scores_) == len(ours.validation_loss_curve_) == ours.n_iter_


def test_early_stopping_scores_are_weighted_by_the_validation_rows_class_weights(monkeypatch):
    X, y = _data("multiclass")
    est = fastmlp.MLPClassifier(**_params("adam", early_stopping=True, validation_fraction=0.2, max_iter=3,
                                          class_weight="balanced"))
    calls = []
    original = est._score

    def recording(X_val, y_val, sample_weight=None):
        calls.append((y_val, sample_weight))
        return original(X_val, y_val, sample_weight=sample_weight)

    monkeypatch.setattr(est, "_score", recording)
    est.fit(X, y)
    per_class = dict(zip(np.unique(y), compute_class_weight("balanced", classes=np.unique(y), y=y)))
    assert len(calls) == 3
    for y_val, sw_val in calls:
        assert len(y_val) == 30
        assert_array_equal(sw_val, [per_class[label] for label in y_val])


# --------------------------------------------------------------------------------------
# partial_fit: SGDClassifier's rules.
# --------------------------------------------------------------------------------------


def _sgd_error(call):
    with pytest.raises(ValueError) as info:
        call()
    return str(info.value)


def test_partial_fit_balanced_first_call_raises_sgdclassifiers_error():
    X, y = _data("multiclass")
    classes = np.unique(y)
    theirs = _sgd_error(lambda: SGDClassifier(class_weight="balanced").partial_fit(X, y, classes=classes))
    est = fastmlp.MLPClassifier(**_params("adam", class_weight="balanced"))
    with pytest.raises(ValueError, match=re.escape(theirs)):
        est.partial_fit(X, y, classes=classes)
    # Before the check for the missing classes argument, as in SGDClassifier.
    with pytest.raises(ValueError, match=re.escape(theirs)):
        est.partial_fit(X, y)
    assert not hasattr(est, "classes_")


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_dict_weighs_every_call(solver):
    X, y = _data("multiclass")
    classes = np.unique(y)
    weights = {"cat": 0.5, "dog": 2.0, "eel": 4.0}
    ours = fastmlp.MLPClassifier(**_params(solver, class_weight=weights))
    equivalent = fastmlp.MLPClassifier(**_params(solver))
    batches = [slice(0, 60), slice(60, 100), slice(100, 150)]
    for i, rows in enumerate(batches):
        kwargs = dict(classes=classes) if i == 0 else {}
        ours.partial_fit(X[rows], y[rows], **kwargs)
        equivalent.partial_fit(X[rows], y[rows], sample_weight=compute_sample_weight(weights, y[rows]), **kwargs)
    _assert_same_model(ours, equivalent)


def test_partial_fit_dict_on_a_batch_without_some_classes():
    X, y = _data("multiclass")
    classes = np.unique(y)
    weights = {"cat": 0.5, "dog": 2.0, "eel": 4.0}
    rows = y != "eel"
    ours = fastmlp.MLPClassifier(**_params("adam", class_weight=weights)).partial_fit(X[rows], y[rows], classes=classes)
    equivalent = fastmlp.MLPClassifier(**_params("adam")).partial_fit(
        X[rows], y[rows], classes=classes, sample_weight=compute_sample_weight(weights, y[rows]))
    _assert_same_model(ours, equivalent)


def test_partial_fit_balanced_after_fit_weighs_by_the_calls_classes():
    """SGDClassifier: after fit, 'balanced' is computed from each call's y; a call whose
    y lacks a class raises compute_class_weight's error."""
    X, y = _data("multiclass")
    ours = fastmlp.MLPClassifier(**_params("adam", class_weight="balanced")).fit(X, y)
    equivalent = fastmlp.MLPClassifier(**_params("adam")).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    rows = slice(0, 90)
    ours.partial_fit(X[rows], y[rows])
    equivalent.partial_fit(X[rows], y[rows], sample_weight=compute_sample_weight("balanced", y[rows]))
    _assert_same_model(ours, equivalent)

    missing = y != "eel"
    theirs_est = SGDClassifier(class_weight="balanced", random_state=0).fit(X, y)
    theirs = _sgd_error(lambda: theirs_est.partial_fit(X[missing], y[missing]))
    with pytest.raises(ValueError, match=re.escape(theirs)):
        ours.partial_fit(X[missing], y[missing])


# --------------------------------------------------------------------------------------
# Errors: scikit-learn's.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["auto", ["balanced"], 1.0, np.array([1.0, 2.0])])
def test_invalid_class_weight_is_an_invalid_parameter(bad):
    X, y = _data("binary")
    with pytest.raises(InvalidParameterError, match="The 'class_weight' parameter of MLPClassifier must be"):
        fastmlp.MLPClassifier(**_params("adam", class_weight=bad)).fit(X, y)


def test_dict_with_unknown_labels_raises_compute_class_weights_error():
    X, y = _data("binary")
    weights = {-1: 1.0, 5: 2.0}  # 7 not named, 5 not a class
    theirs = _sgd_error(lambda: SGDClassifier(class_weight=weights).fit(X, y))
    assert "are not in class_weight" in theirs
    for solver in SOLVERS:
        with pytest.raises(ValueError, match=re.escape(theirs)):
            fastmlp.MLPClassifier(**_params(solver, class_weight=weights)).fit(X, y)


def test_dict_naming_every_class_and_more_is_accepted_as_in_sgdclassifier():
    X, y = _data("binary")
    weights = {-1: 1.0, 7: 2.0, 5: 3.0}
    SGDClassifier(class_weight=weights).fit(X, y)  # accepted there
    ours = fastmlp.MLPClassifier(**_params("adam", class_weight=weights)).fit(X, y)
    equivalent = fastmlp.MLPClassifier(**_params("adam")).fit(X, y, sample_weight=compute_sample_weight(weights, y))
    _assert_same_model(ours, equivalent)


def test_all_zero_weights_raise_sample_weights_error():
    X, y = _data("binary")
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero number"):
        fastmlp.MLPClassifier(**_params("adam", class_weight={-1: 0.0, 7: 0.0})).fit(X, y)


# --------------------------------------------------------------------------------------
# The README's example, run as written.
# --------------------------------------------------------------------------------------


def test_readme_example_is_the_equivalent_sample_weight():
    namespace = {}
    exec(readme_example("### Class weights"), namespace)  # the README's own code
    _assert_same_model(namespace["clf"], namespace["same"])
    assert namespace["clf"].class_weight == "balanced"
