"""Every form in which an array can reach fastmlp either trains and predicts exactly as
the same values in a plain C-contiguous array do, or raises a ValueError or TypeError of
fastmlp's or scikit-learn's: never a Numba compiler error, never a wrong read.

The forms: Fortran order, strides, negative strides, big-endian, read-only, memory-mapped,
unaligned, float16, float32, longdouble, object arrays of numbers, complex; on X,
sample_weight, y, ``coefs_``/``intercepts_`` set by hand (then predict, warm-start fit,
partial_fit) and the optimizer state (then partial_fit). Sparse X with big-endian or
longdouble data too. The conversions are in ``fastmlp/_input_forms.py``.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_regression

import fastmlp

SOLVERS = ("sgd", "adam", "lbfgs")


def _unaligned(a):
    buffer = np.empty(a.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(buffer.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def _memory_mapped(a, tmp_path):
    path = tmp_path / f"array{len(list(tmp_path.iterdir()))}.npy"
    np.save(path, a)
    return np.load(path, mmap_mode="r")


def _read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def _strided(a):
    wide = np.repeat(a, 2, axis=-1)
    return wide[..., ::2]


# name -> (make the form from a float64 array, dtype the engines then compute in or None
# when the form must raise)
FORMS = {
    "fortran": (lambda a, tmp: np.asfortranarray(a), np.float64),
    "strided": (lambda a, tmp: _strided(a), np.float64),
    "negative_strides": (lambda a, tmp: a[::-1].copy()[::-1], np.float64),
    "big_endian": (lambda a, tmp: a.astype(">f8"), np.float64),
    "read_only": (lambda a, tmp: _read_only(a), np.float64),
    "memory_mapped": (lambda a, tmp: _memory_mapped(a, tmp), np.float64),
    "unaligned": (lambda a, tmp: _unaligned(a), np.float64),
    "float16": (lambda a, tmp: a.astype(np.float16), np.float64),
    "float32": (lambda a, tmp: a.astype(np.float32), np.float32),
    "longdouble": (lambda a, tmp: a.astype(np.longdouble), np.float64),
    "object": (lambda a, tmp: a.astype(object), np.float64),
    "complex": (lambda a, tmp: a.astype(np.complex128), None),
}


def _plain(form, dtype):
    """The same values as a plain C-contiguous array of ``dtype``."""
    return np.ascontiguousarray(np.asarray(form).astype(dtype))


def _is_numba_error(exc):
    return type(exc).__module__.split(".")[0] == "numba"


def _outcome(fn):
    """fn()'s result, or the exception it raised; a Numba error fails the test."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - classified below
        assert not _is_numba_error(exc), f"a Numba error reached the user: {type(exc).__name__}: {exc}"
        assert isinstance(exc, (ValueError, TypeError)), f"{type(exc).__name__}: {exc}"
        return exc


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:240] / 16, y[:240]


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=160, n_features=6, random_state=0)
    return X, y / 100


def _classifier(solver, **kwargs):
    return fastmlp.MLPClassifier((7,), solver=solver, max_iter=3, random_state=0, **kwargs)


def _regressor(solver):
    return fastmlp.MLPRegressor(hidden_layer_sizes=(7,), solver=solver, max_iter=3, random_state=0)


def _fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(*args, **kwargs)


def _assert_same_model(a, b):
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("form", FORMS)
def test_X_forms(form, solver, digits, tmp_path):
    X, y = digits
    make, dtype = FORMS[form]
    Xf = make(X, tmp_path)
    got = _outcome(lambda: _fit(_classifier(solver), Xf, y))
    if dtype is None:
        assert isinstance(got, ValueError) and "Complex data not supported" in str(got)
        return
    expected = _fit(_classifier(solver), _plain(Xf, dtype), y)
    _assert_same_model(got, expected)
    np.testing.assert_array_equal(got.predict_proba(Xf), expected.predict_proba(_plain(Xf, dtype)))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("form", FORMS)
def test_sample_weight_forms(form, solver, digits, tmp_path):
    X, y = digits
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    make, dtype = FORMS[form]
    swf = make(sw, tmp_path)
    got = _outcome(lambda: _fit(_classifier(solver), X, y, sample_weight=swf))
    if dtype is None:
        # scikit-learn's _check_sample_weight: complex weights are refused.
        assert isinstance(got, (ValueError, TypeError))
        return
    expected = _fit(_classifier(solver), X, y, sample_weight=_plain(swf, np.float64))
    _assert_same_model(got, expected)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("form", FORMS)
def test_regression_target_forms(form, solver, regression, tmp_path):
    X, y = regression
    make, dtype = FORMS[form]
    yf = make(y, tmp_path)
    got = _outcome(lambda: _fit(_regressor(solver), X, yf))
    if dtype is None:
        assert isinstance(got, (ValueError, TypeError))
        return
    expected = _fit(_regressor(solver), X, _plain(yf, dtype))
    _assert_same_model(got, expected)


LABEL_FORMS = {
    "strided": lambda y, tmp: _strided(y),
    "negative_strides": lambda y, tmp: y[::-1].copy()[::-1],
    "big_endian": lambda y, tmp: y.astype(">i8"),
    "read_only": lambda y, tmp: _read_only(y),
    "memory_mapped": lambda y, tmp: _memory_mapped(y, tmp),
    "unaligned": lambda y, tmp: _unaligned(y),
    "int8": lambda y, tmp: y.astype(np.int8),
    "object_strings": lambda y, tmp: y.astype(str).astype(object),
}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("form", LABEL_FORMS)
def test_label_forms(form, solver, digits, tmp_path):
    X, y = digits
    y = y.astype(np.int64)
    got = _outcome(lambda: _fit(_classifier(solver), X, LABEL_FORMS[form](y, tmp_path)))
    expected = _fit(_classifier(solver), X, y)
    _assert_same_model(got, expected)
    np.testing.assert_array_equal(got.classes_.astype(np.int64), expected.classes_)


def test_object_integer_labels_raise_scikit_learns_error(digits):
    """An object array of ints is not a label type scikit-learn accepts (type_of_target
    says 'unknown'); fastmlp raises the same ValueError."""
    X, y = digits
    with pytest.raises(ValueError, match="Unknown label type"):
        _fit(_classifier("adam"), X, y.astype(object))


def _set_parameters(model, form, tmp_path):
    make, _ = FORMS[form]
    model.coefs_ = [make(c, tmp_path) for c in model.coefs_]
    model.intercepts_ = [make(b, tmp_path) for b in model.intercepts_]


def _plain_parameters(model, dtype):
    model.coefs_ = [_plain(c, dtype) for c in model.coefs_]
    model.intercepts_ = [_plain(b, dtype) for b in model.intercepts_]


# partial_fit exists for sgd and adam only (scikit-learn's rule).
PARAMETER_USES = [(solver, use) for solver in SOLVERS for use in ("predict", "predict_row", "warm_start", "partial_fit")
                  if not (solver == "lbfgs" and use == "partial_fit")]


@pytest.mark.parametrize("solver, use", PARAMETER_USES)
@pytest.mark.parametrize("form", FORMS)
def test_hand_set_parameter_forms(form, solver, use, digits, tmp_path):
    X, y = digits
    _, dtype = FORMS[form]

    def run(model):
        if use == "predict":
            return model.predict_proba(X)
        if use == "predict_row":  # one row: prediction's fast path where the weights allow
            return model.predict_proba(X[:1])
        if use == "warm_start":
            return _fit(model, X, y).predict_proba(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.partial_fit(X, y).predict_proba(X)

    model = _fit(_classifier(solver, warm_start=use == "warm_start"), X, y)
    _set_parameters(model, form, tmp_path)
    got = _outcome(lambda: run(model))
    if dtype is None:
        assert isinstance(got, TypeError) and "real numbers" in str(got)
        return
    reference = _fit(_classifier(solver, warm_start=use == "warm_start"), X, y)
    _set_parameters(reference, form, tmp_path)
    _plain_parameters(reference, np.result_type(dtype, np.float32) if use.startswith("predict") else dtype)
    np.testing.assert_array_equal(got, run(reference))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("form", [f for f in FORMS if f != "complex"])
def test_optimizer_state_forms(form, solver, digits, tmp_path):
    """State loaded from disk or set by hand: partial_fit continues exactly as from the
    same values in plain arrays (of the gradients' dtype, float64 here)."""
    X, y = digits
    make, _ = FORMS[form]

    def fitted(transform):
        model = _fit(_classifier(solver), X, y)
        state = model._optimizer
        for name in ("velocity", "m", "v"):
            if hasattr(state, name):
                setattr(state, name, transform(getattr(state, name)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.partial_fit(X, y)

    got = _outcome(lambda: fitted(lambda a: make(a, tmp_path)))
    expected = fitted(lambda a: _plain(make(a, tmp_path), np.float64))
    _assert_same_model(got, expected)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("data", ["big_endian", "longdouble"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_data_forms(fmt, data, solver, digits):
    """SciPy refuses to copy sparse matrices with big-endian data; scikit-learn's NumPy
    arithmetic follows longdouble data. Both train and predict as float64 data does."""
    X, y = digits
    plain = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    Xf = type(plain)((plain.data.astype(">f8" if data == "big_endian" else np.longdouble), plain.indices,
                      plain.indptr), shape=plain.shape)
    got = _outcome(lambda: _fit(_classifier(solver), Xf, y))
    expected = _fit(_classifier(solver), plain, y)
    _assert_same_model(got, expected)
    np.testing.assert_array_equal(got.predict_proba(Xf), expected.predict_proba(plain))
