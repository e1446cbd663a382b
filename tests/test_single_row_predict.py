"""Prediction's fast path for a few plain rows (``fastmlp/_fast_predict.py``,
``fastmlp/engines/numba_engine/_few_rows.py``): the same results, bit for bit, as the full path, and
scikit-learn's errors and warnings for everything else.

The full path is forced by switching ``_fast_predict.is_plain_rows`` off: X then goes
through ``validate_data`` and the engine's own ``forward``, the code every prediction took
before the fast path. Oracles: that path (results, bit for bit), scikit-learn's MLPs
(messages of errors and warnings, on the same input), ``LabelBinarizer.inverse_transform``
(labels) and a plain NumPy forward pass (weights set by hand).

One row is not bit for bit a row of a batch, here as in scikit-learn: NumPy multiplies
one row by a matrix with BLAS's GEMV and several with GEMM, which sum in another order
(``test_one_row_matches_the_batch_to_rounding``). Timing is in
``benchmarks/test_bench_predict.py``, not here.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn import neural_network
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

import fastmlp
from fastmlp import _base, _fast_predict
from fastmlp.engines import numba_engine
from fastmlp.engines.numba_engine import _few_rows

from ._readme import readme_example

ENGINES = ("numba", "numpy")
DTYPES = (np.float64, np.float32)
PROBA_KINDS = ("binary", "multiclass", "multilabel")
KINDS = PROBA_KINDS + ("regression", "regression-2-outputs")


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _data(kind, dtype=np.float64):
    """(X, y): 300 digits (64 features) for the classifiers, 120 rows of 12 features for
    the regressors."""
    if kind.startswith("regression"):
        n_targets = 2 if kind == "regression-2-outputs" else 1
        X, y = make_regression(n_samples=120, n_features=12, n_targets=n_targets, noise=1.0, random_state=0)
        return X.astype(dtype), y / np.std(y)
    X, y = load_digits(return_X_y=True)
    X, y = (X[:300] / 16).astype(dtype), y[:300]
    if kind == "binary":
        return X, np.where(y % 2 == 0, "even", "odd")
    if kind == "multilabel":
        return X, np.column_stack([y % 2 == 0, y < 5, y % 3 == 0]).astype(int)
    return X, y


_MODELS = {}


def model(kind, engine="numba", dtype=np.float64, **params):
    """A fitted fastmlp model of ``kind``, made once per session (tests copy it before
    changing it)."""
    key = (kind, engine, np.dtype(dtype).name, tuple(sorted(params.items())))
    if key not in _MODELS:
        cls = fastmlp.MLPRegressor if kind.startswith("regression") else fastmlp.MLPClassifier
        params = {"hidden_layer_sizes": (16,), "max_iter": 30, "random_state": 0, **params}
        _MODELS[key] = _fit(cls(engine=engine, **params), *_data(kind, dtype))
    return _MODELS[key]


def _methods(kind):
    if kind in PROBA_KINDS:
        return ("predict", "predict_proba", "predict_log_proba")
    return ("predict",)


def _cases():
    return [
        pytest.param(kind, method, engine, dtype, id=f"{kind}-{method}-{engine}-{np.dtype(dtype).name}")
        for kind in KINDS
        for method in _methods(kind)
        for engine in ENGINES
        for dtype in DTYPES
    ]


@pytest.fixture
def full_path(monkeypatch):
    """Call ``full_path(est, method, X)`` for the result of the full path."""

    def call(est, method, X):
        with monkeypatch.context() as patch:
            patch.setattr(_fast_predict, "is_plain_rows", lambda est, X: False)
            return getattr(est, method)(X)

    return call


@pytest.fixture
def validations(monkeypatch):
    """A list that records each call of ``validate_data`` from prediction."""
    calls = []
    original = _base.validate_data

    def spy(est, X, *args, **kwargs):
        calls.append(type(X))
        return original(est, X, *args, **kwargs)

    monkeypatch.setattr(_base, "validate_data", spy)
    return calls


def assert_identical(fast, full):
    """Same type, dtype, shape, values and bits (NaN where NaN)."""
    assert type(fast) is type(full)
    assert fast.dtype == full.dtype and fast.shape == full.shape
    assert_array_equal(fast, full, strict=True)
    if fast.dtype.kind == "f":
        assert fast.tobytes() == full.tobytes()


# -- the fast path is taken, and only for plain rows ---------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_plain_rows_skip_validate_data(kind, validations):
    est = model(kind)
    X = _data(kind)[0]
    for method in _methods(kind):
        getattr(est, method)(X[:1])
        getattr(est, method)(X[:_fast_predict.MAX_ROWS])
    assert validations == []
    est.predict(X[:_fast_predict.MAX_ROWS + 1])
    assert validations == [np.ndarray]


class _Subclass(np.ndarray):
    pass


@pytest.mark.parametrize(
    "form",
    ["list", "int64", "float16", "big-endian", "subclass", "csr", "csc", "1-D", "3-D", "no rows", "NaN", "inf",
     "wrong width"],
)
def test_other_input_is_validated(form, validations):
    est = model("multiclass")
    row = _data("multiclass")[0][:1]
    X = {
        "list": lambda: row.tolist(),
        "int64": lambda: (row * 16).astype(np.int64),
        "float16": lambda: row.astype(np.float16),
        "big-endian": lambda: row.astype(">f8"),
        "subclass": lambda: row.view(_Subclass),
        "csr": lambda: sp.csr_matrix(row),
        "csc": lambda: sp.csc_matrix(row),
        "1-D": lambda: row[0],
        "3-D": lambda: row[None],
        "no rows": lambda: row[:0],
        "NaN": lambda: np.where(np.arange(64) == 3, np.nan, row),
        "inf": lambda: np.where(np.arange(64) == 3, np.inf, row),
        "wrong width": lambda: row[:, :10],
    }[form]()
    if form in ("1-D", "3-D", "no rows", "NaN", "inf", "wrong width"):
        with pytest.raises(ValueError):
            est.predict(X)
    else:
        assert_array_equal(est.predict(X), est.predict(row if form != "int64" else X.astype(np.float64)))
    assert validations[0] is type(X)


# -- fast path == full path, bit for bit ---------------------------------------------------


@pytest.mark.parametrize("kind, method, engine, dtype", _cases())
def test_one_row_equals_the_full_path(kind, method, engine, dtype, full_path):
    est = model(kind, engine, dtype)
    X = _data(kind, dtype)[0]
    for i in (0, 1, 57, 119):
        row = X[i:i + 1]
        assert_identical(getattr(est, method)(row), full_path(est, method, row))


@pytest.mark.parametrize("n_rows", [2, 5, _fast_predict.MAX_ROWS])
@pytest.mark.parametrize("kind, method, engine, dtype", _cases())
def test_a_few_rows_equal_the_full_path(kind, method, engine, dtype, n_rows, full_path):
    est = model(kind, engine, dtype)
    X = _data(kind, dtype)[0][7:7 + n_rows]
    assert_identical(getattr(est, method)(X), full_path(est, method, X))


@pytest.mark.parametrize("model_dtype, row_dtype", [(np.float64, np.float32), (np.float32, np.float64)])
@pytest.mark.parametrize("engine", ENGINES)
def test_rows_of_another_float_dtype_compute_as_the_full_path(model_dtype, row_dtype, engine, full_path):
    """float32 rows and a float64 model compute in float64, float64 rows and a float32
    model too (scikit-learn's promotion), on the fast path as on the full one."""
    est = model("multiclass", engine, model_dtype)
    row = _data("multiclass")[0][3:4].astype(row_dtype)
    proba = est.predict_proba(row)
    assert proba.dtype == np.float64
    assert_identical(proba, full_path(est, "predict_proba", row))


@pytest.mark.parametrize("layout", ["strided", "negative strides", "F-ordered", "read-only", "copied"])
def test_row_layouts_equal_a_contiguous_row(layout, full_path):
    est = model("multiclass")
    X = _data("multiclass")[0]
    row = X[5:6]
    other = {
        "strided": np.repeat(X[5:6], 2, axis=1)[:, ::2],
        "negative strides": X[5:6, ::-1][:, ::-1],
        "F-ordered": np.asfortranarray(X[5:8])[:1],
        "read-only": row.copy(),
        "copied": np.array(row),
    }[layout]
    if layout == "read-only":
        other.flags.writeable = False
    assert_identical(est.predict_proba(other), full_path(est, "predict_proba", row))


def test_one_row_matches_the_batch_to_rounding():
    """One row against the same row in a batch: GEMV against GEMM, the same up to a few
    ulps of the inputs to softmax; the labels agree."""
    est = model("multiclass")
    X = _data("multiclass")[0]
    one_by_one = np.vstack([est.predict_proba(X[i:i + 1]) for i in range(len(X))])
    assert_allclose(one_by_one, est.predict_proba(X), rtol=1e-12, atol=1e-15)
    assert_array_equal(np.concatenate([est.predict(X[i:i + 1]) for i in range(len(X))]), est.predict(X))


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_sparse_rows_equal_dense_rows(kind, validations):
    est = model(kind)
    row = _data(kind)[0][2:3]
    assert_identical(est.predict(sp.csr_matrix(row)), est.predict(row))
    assert validations == [sp.csr_matrix]


# -- the compiled forward pass against the engine's ----------------------------------------


def _network(rng, units, dtype):
    coefs = [rng.uniform(-1, 1, (a, b)).astype(dtype) for a, b in zip(units[:-1], units[1:])]
    intercepts = [rng.uniform(-1, 1, b).astype(dtype) for b in units[1:]]
    return coefs, intercepts


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("n_rows", [1, 3, 64])
@pytest.mark.parametrize("units", [(64, 100, 10), (5, 7, 1), (3, 8, 6, 2)], ids=["digits", "binary", "two-hidden"])
@pytest.mark.parametrize("out_activation", ["softmax", "logistic", "identity", "exp"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity", "leaky_relu", "softplus"])
def test_compiled_forward_is_the_engines(activation, out_activation, units, n_rows, dtype):
    rng = np.random.default_rng(0)
    coefs, intercepts = _network(rng, units, dtype)
    X = rng.standard_normal((n_rows, units[0])).astype(dtype)
    ours = _few_rows.forward(coefs, intercepts, X, activation, out_activation)
    assert_identical(ours, numba_engine.forward(coefs, intercepts, X, activation, out_activation))


@pytest.mark.parametrize(
    "spoil",
    ["short intercept", "intercept of another dtype", "strided intercept", "intercept as a list", "weights as a list",
     "1-D weights", "weights of another dtype", "strided weights", "F-ordered weights", "wrong inputs",
     "more intercepts", "no layers", "unknown activation", "float16"],
)
def test_compiled_forward_declines_what_the_kernels_must_not_be_handed(spoil):
    """None, for the caller to convert and call the engine."""
    rng = np.random.default_rng(1)
    coefs, intercepts = _network(rng, (4, 6, 3), np.float64)
    X = rng.standard_normal((2, 4))
    activation = "tanh"
    assert_identical(_few_rows.forward(coefs, intercepts, X, activation, "softmax"),
                     numba_engine.forward(coefs, intercepts, X, activation, "softmax"))
    if spoil == "short intercept":
        intercepts[0] = intercepts[0][:5]
    elif spoil == "intercept of another dtype":
        intercepts[1] = intercepts[1].astype(np.float32)
    elif spoil == "strided intercept":
        intercepts[0] = np.repeat(intercepts[0], 2)[::2]
    elif spoil == "intercept as a list":
        intercepts[0] = intercepts[0].tolist()
    elif spoil == "weights as a list":
        coefs[1] = coefs[1].tolist()
    elif spoil == "1-D weights":
        coefs[1] = coefs[1][:, 0]
    elif spoil == "weights of another dtype":
        coefs[0] = coefs[0].astype(np.float32)
    elif spoil == "strided weights":
        coefs[0] = np.repeat(coefs[0], 2, axis=1)[:, ::2]
    elif spoil == "F-ordered weights":
        coefs[0] = np.asfortranarray(coefs[0])
    elif spoil == "wrong inputs":
        coefs[1] = coefs[1][:5]
    elif spoil == "more intercepts":
        intercepts.append(intercepts[-1])
    elif spoil == "no layers":
        coefs, intercepts = [], []
    elif spoil == "unknown activation":
        activation = "swish"
    else:
        X = X.astype(np.float16)
        coefs = [c.astype(np.float16) for c in coefs]
        intercepts = [b.astype(np.float16) for b in intercepts]
    assert _few_rows.forward(coefs, intercepts, X, activation, "softmax") is None


@pytest.mark.parametrize("case", ["numpy engine", "float32 model, float64 rows", "weights in a tuple",
                                  "big-endian weights"])
def test_rows_whose_weights_need_converting_take_the_usual_forward_pass(case, full_path, validations):
    """``forward_plain_rows`` declines; the rows still skip validate_data, and the usual
    steps convert the weights and call the engine."""
    est = pickle.loads(pickle.dumps(model("multiclass", "numpy" if case == "numpy engine" else "numba",
                                          np.float32 if case.startswith("float32") else np.float64)))
    if case == "weights in a tuple":
        est.coefs_ = tuple(est.coefs_)
    elif case == "big-endian weights":
        est.coefs_ = [c.astype(">f8") for c in est.coefs_]
    row = _data("multiclass")[0][:1]
    assert _fast_predict.is_plain_rows(est, row)
    assert _fast_predict.forward_plain_rows(est, row) is None
    assert_identical(est.predict_proba(row), full_path(est, "predict_proba", row))
    assert validations == [np.ndarray]  # from full_path only


# -- errors and warnings: scikit-learn's ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sklearn_pair():
    """(fastmlp, scikit-learn) classifiers fitted on the same digits."""
    X, y = _data("multiclass")
    params = {"hidden_layer_sizes": (16,), "max_iter": 30, "random_state": 0}
    return _fit(fastmlp.MLPClassifier(**params), X, y), _fit(neural_network.MLPClassifier(**params), X, y)


def _error(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


def _bad_row(what, dtype):
    row = _data("multiclass", dtype)[0][4:5].copy()
    if what == "1-D":
        return row[0]
    if what == "no rows":
        return row[:0]
    if what == "wrong width":
        return row[:, :63]
    if what == "3-D":
        return row[None]
    row[0, 17] = {"NaN": np.nan, "inf": np.inf, "-inf": -np.inf}[what]
    return row


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("what", ["NaN", "inf", "-inf", "wrong width", "1-D", "no rows", "3-D"])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_bad_rows_raise_sklearns_errors(sklearn_pair, method, what, dtype):
    ours, theirs = sklearn_pair
    row = _bad_row(what, dtype)
    ours_error = _error(lambda: getattr(ours, method)(row))
    assert ours_error == _error(lambda: getattr(theirs, method)(row))
    assert ours_error[0] is ValueError


def test_regressor_bad_rows_raise_sklearns_errors():
    X, y = _data("regression")
    params = {"hidden_layer_sizes": (16,), "max_iter": 30, "random_state": 0}
    ours = _fit(fastmlp.MLPRegressor(**params), X, y)
    theirs = _fit(neural_network.MLPRegressor(**params), X, y)
    for row in (np.full((1, 12), np.nan), np.ones((1, 11)), np.ones(12)):
        assert _error(lambda: ours.predict(row)) == _error(lambda: theirs.predict(row))


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_not_fitted_raises_sklearns_error(name, method):
    ours, theirs = getattr(fastmlp, name)(), getattr(neural_network, name)()
    if not hasattr(theirs, method):
        return
    row = np.zeros((1, 4))
    error = _error(lambda: getattr(ours, method)(row))
    assert error[0] is NotFittedError
    assert error == _error(lambda: getattr(theirs, method)(row))


def test_check_fitted_is_check_is_fitted():
    est = fastmlp.MLPClassifier()
    assert _error(lambda: _fast_predict.check_fitted(est)) == _error(lambda: check_is_fitted(est))
    est.other_ = 1  # check_is_fitted's rule: any attribute ending with "_"
    _fast_predict.check_fitted(est)
    check_is_fitted(est)
    del est.other_
    est.coefs_ = []
    _fast_predict.check_fitted(est)


def test_check_fitted_defers_to_a_subclass_that_decides_itself():
    class NeverFitted(fastmlp.MLPClassifier):
        def __sklearn_is_fitted__(self):
            return False

    est = NeverFitted()
    est.coefs_ = []
    assert _error(lambda: _fast_predict.check_fitted(est)) == _error(lambda: check_is_fitted(est))


# -- feature names: the full path, scikit-learn's warnings and errors ---------------------------------------------


@pytest.fixture(scope="module")
def named_pair():
    """(fastmlp, scikit-learn) classifiers fitted on a DataFrame, and that DataFrame."""
    pd = pytest.importorskip("pandas")
    X, y = _data("multiclass")
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(64)])
    params = {"hidden_layer_sizes": (16,), "max_iter": 30, "random_state": 0}
    ours = _fit(fastmlp.MLPClassifier(**params), frame, y)
    return ours, _fit(neural_network.MLPClassifier(**params), frame, y), frame


def _warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [(w.category, str(w.message)) for w in caught]


def test_an_array_row_for_a_model_fitted_with_names_warns_as_sklearn(named_pair, validations):
    ours, theirs, frame = named_pair
    row = frame.to_numpy()[:1]
    for method in ("predict", "predict_proba"):
        ours_result, ours_warnings = _warnings_of(lambda: getattr(ours, method)(row))
        _, theirs_warnings = _warnings_of(lambda: getattr(theirs, method)(row))
        assert ours_warnings == theirs_warnings
        assert len(ours_warnings) == 1 and "fitted with feature names" in ours_warnings[0][1]
        frame_result, frame_warnings = _warnings_of(lambda: getattr(ours, method)(frame.iloc[:1]))
        assert frame_warnings == []
        assert_identical(ours_result, frame_result)
    assert len(validations) == 4


def test_a_frame_with_other_names_raises_sklearns_error(named_pair):
    ours, theirs, frame = named_pair
    renamed = frame.iloc[:1].rename(columns={"pixel3": "other"})
    assert _error(lambda: ours.predict(renamed)) == _error(lambda: theirs.predict(renamed))


def test_a_frame_row_for_a_model_fitted_without_names_warns_as_sklearn(sklearn_pair, validations):
    pd = pytest.importorskip("pandas")
    ours, theirs = sklearn_pair
    frame = pd.DataFrame(_data("multiclass")[0][:1], columns=[f"pixel{i}" for i in range(64)])
    ours_result, ours_warnings = _warnings_of(lambda: ours.predict_proba(frame))
    _, theirs_warnings = _warnings_of(lambda: theirs.predict_proba(frame))
    assert ours_warnings == theirs_warnings and len(ours_warnings) == 1
    assert validations == [pd.DataFrame]
    assert_identical(ours_result, ours.predict_proba(frame.to_numpy()))


# -- weights set by hand -------------------------------------------------------------------


def _numpy_proba(est, X):
    """Softmax network output from the model's weights, in plain NumPy (relu hidden)."""
    A = X
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        A = A @ W + b
        if i < len(est.coefs_) - 1:
            A = np.maximum(A, 0)
    E = np.exp(A - A.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _assigned(est, how):
    rng = np.random.default_rng(2)
    if how == "new lists":
        est.coefs_ = [c + rng.normal(0, 0.3, c.shape) for c in est.coefs_]
        est.intercepts_ = [b + 1.0 for b in est.intercepts_]
    elif how == "list items":
        est.coefs_[0] = est.coefs_[0][:, ::-1].copy()
        est.intercepts_[1] = -est.intercepts_[1]
    elif how == "in place":
        est.coefs_[1] *= -2.0
        est.intercepts_[0][...] = 0.5
    elif how == "float32 weights":
        est.coefs_ = [c.astype(np.float32) for c in est.coefs_]
    elif how == "read-only weights":
        for a in est.coefs_ + est.intercepts_:
            a.flags.writeable = False
    elif how == "F-ordered weights":
        est.coefs_ = [np.asfortranarray(c) for c in est.coefs_]
    return est


@pytest.mark.parametrize("how", ["new lists", "list items", "in place", "float32 weights", "read-only weights",
                                 "F-ordered weights"])
@pytest.mark.parametrize("engine", ENGINES)
def test_weights_set_after_fit_are_used(how, engine, full_path):
    est = pickle.loads(pickle.dumps(model("multiclass", engine)))
    X = _data("multiclass")[0][:3]
    before = est.predict_proba(X[:1])
    _assigned(est, how)
    row = X[:1]
    proba = est.predict_proba(row)
    assert_identical(proba, full_path(est, "predict_proba", row))
    assert_allclose(proba, _numpy_proba(est, row.astype(proba.dtype)), rtol=1e-5 if how == "float32 weights" else 1e-12)
    if how not in ("read-only weights", "F-ordered weights"):
        assert not np.array_equal(proba, before)
    assert_identical(est.predict(X), full_path(est, "predict", X))


def test_a_pickled_model_takes_the_fast_path(validations):
    est = pickle.loads(pickle.dumps(model("multiclass")))
    row = _data("multiclass")[0][:1]
    assert_identical(est.predict_proba(row), model("multiclass").predict_proba(row))
    assert validations == []


# -- labels: LabelBinarizer.inverse_transform's --------------------------------------------


def _outputs(rng, n, width, dtype):
    """Network-like outputs with what decides labels: ties, exact thresholds, NaN."""
    Y = rng.uniform(0, 1, (n, width)).astype(dtype)
    Y[0] = 0.5
    Y[1, : min(width, 2)] = 0.25  # a tie
    Y[2, -1] = np.nan
    Y[3] = np.nan
    Y[4, 0] = np.nextafter(dtype(0.5), dtype(1))
    return Y


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize(
    "targets",
    [
        ["a", "b", "c", "d"],
        [3, 1, 2],
        [-1.0, 2.0],
        ["no", "yes"],
        [True, False],
        "multilabel",
        [7],
    ],
    ids=["multiclass-str", "multiclass-int", "binary-float", "binary-str", "binary-bool", "multilabel", "one-class"],
)
def test_labels_are_inverse_transform(targets, dtype):
    rng = np.random.default_rng(3)
    binarizer = LabelBinarizer().fit(np.eye(3, dtype=int)[[0, 1, 2, 0]] if targets == "multilabel" else targets)
    width = len(binarizer.classes_) if binarizer.y_type_ != "binary" else 1
    Y = _outputs(rng, 12, max(width, 1), dtype)
    if width == 1:
        Y = Y.ravel()
    assert_identical(_fast_predict.labels(binarizer, Y), binarizer.inverse_transform(Y))


def test_labels_of_a_sparse_binarizer_are_inverse_transforms():
    binarizer = LabelBinarizer(sparse_output=True).fit(sp.csr_matrix(np.eye(3, dtype=int)))
    Y = _outputs(np.random.default_rng(4), 6, 3, np.float64)
    ours, theirs = _fast_predict.labels(binarizer, Y), binarizer.inverse_transform(Y)
    assert type(ours) is type(theirs) and sp.issparse(ours)
    assert_array_equal(ours.toarray(), theirs.toarray())


@pytest.mark.parametrize("kind", PROBA_KINDS)
def test_predict_labels_are_sklearns_inverse_transform(kind):
    est = model(kind)
    X = _data(kind)[0]
    y_pred = est._forward_pass_fast(X)
    if est.n_outputs_ == 1:
        y_pred = y_pred.ravel()
    assert_identical(est.predict(X), est._label_binarizer.inverse_transform(y_pred))


def test_predict_proba_of_a_row_with_expit_output():
    """Binary probabilities of one row: the logistic output, [1 - p, p]."""
    est = model("binary")
    row = _data("binary")[0][:1]
    A = np.maximum(row @ est.coefs_[0] + est.intercepts_[0], 0)
    p = expit(A @ est.coefs_[1] + est.intercepts_[1]).ravel()
    assert_allclose(est.predict_proba(row), np.column_stack([1 - p, p]), rtol=1e-12)


def test_readme_example_takes_the_fast_path(validations):
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the example's short fit
        exec(readme_example("### Fast predictions for a few rows"), namespace)  # the README's own code
    assert validations == []  # neither call validated the row the slow way
    clf, row = namespace["clf"], namespace["row"]
    assert_allclose(namespace["proba"], clf.predict_proba(np.repeat(row, 5, axis=0))[:1], rtol=1e-12)
    assert namespace["label"][0] == clf.classes_[np.argmax(namespace["proba"])]
