"""Prediction's fast path for a few plain rows, the call a served model makes.

On one row, almost all of scikit-learn's ``predict`` is bookkeeping: ``check_is_fitted``
scans the estimator's attributes, ``validate_data`` runs the whole of ``check_array``,
``LabelBinarizer.inverse_transform`` goes through the array-API layer, and the engine's
``forward`` checks every buffer; the network itself is a few small GEMVs. Here each step
is made with fewer Python calls where that is plainly possible, and left to the usual
code everywhere else, so that results, warnings and errors stay scikit-learn's:

- ``check_fitted``: ``check_is_fitted`` without its scan where ``coefs_`` is set (which
  alone makes the scan pass).
- ``is_plain_rows``: whether ``validate_data(est, X, reset=False)`` would hand X back
  as it is, without a warning or an error, decided by cheap checks; if not, the caller
  runs ``validate_data``, which raises or warns as scikit-learn does.
- ``forward_plain_rows``: the network's output for those rows where the weights need no
  conversion, by the compiled engine's computation (the same NumPy ``matmul``, the same
  C kernels) without its per-call conversions, checks and lookups (``engines/numba_engine/_few_rows.py``):
  bit for bit the same result.
- ``labels``: ``LabelBinarizer.inverse_transform`` of the network's output for the
  binarizers a fit makes (binary, multiclass, multilabel, dense), its expressions minus
  the array-API dispatch.

``tests/test_single_row_predict.py`` holds each of these to the slow path's result and
to scikit-learn's messages; ``benchmarks/test_bench_predict.py`` measures them.
"""

import functools

import numpy as np
from sklearn.utils.validation import check_is_fitted

#: Most rows that take the fast path; more rows are validated and computed the usual way,
#: where the fixed costs this path saves no longer matter.
MAX_ROWS = 64

_FLOAT32 = np.dtype(np.float32)
_FLOAT64 = np.dtype(np.float64)
#: scikit-learn's integer dtype of multilabel predictions (``indexing_dtype(numpy)``).
_INDEX_DTYPE = np.asarray(0).dtype


# -- is the estimator fitted ---------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _decides_fitted_itself(cls):
    return hasattr(cls, "__sklearn_is_fitted__")


def check_fitted(est):
    """``check_is_fitted(est)``: NotFittedError unless fitted. Its scan of the attributes
    passes as soon as one ends with ``_``, so ``coefs_`` set is enough to pass."""
    if "coefs_" not in vars(est) or _decides_fitted_itself(type(est)):
        check_is_fitted(est)


# -- input ---------------------------------------------------------------------------------
def is_plain_rows(est, X):
    """True where ``validate_data(est, X, accept_sparse=..., reset=False)`` returns X
    itself with no warning or error: X an ndarray (not a subclass), 2-D, of native
    float32 or float64 (``check_array`` converts nothing), with 1 to ``MAX_ROWS`` rows,
    ``est.n_features_in_`` columns and only finite values, and est fitted without feature
    names (an ndarray has none: nothing to warn about). False says nothing: the caller
    validates."""
    if type(X) is not np.ndarray or X.ndim != 2:
        return False
    n_rows, n_features = X.shape
    fitted = vars(est)
    return (
        0 < n_rows <= MAX_ROWS
        and n_features == fitted.get("n_features_in_")
        and "feature_names_in_" not in fitted
        and (X.dtype == _FLOAT64 or X.dtype == _FLOAT32)
        # count_nonzero skips the reduction machinery of .all() (~1 µs on a row)
        and np.count_nonzero(np.isfinite(X)) == X.size
    )


# -- the network ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _compiled_forward():
    from .engines.numba_engine._few_rows import forward  # imports Numba: on first use, as the engine does

    return forward


def forward_plain_rows(est, X):
    """``est._forward_pass_fast(X)`` for rows that passed ``is_plain_rows``, bit for bit,
    where nothing needs converting: the compiled engine, and ``coefs_`` and ``intercepts_``
    lists of C-contiguous ndarrays of the dtype the rows compute in (float64 where X or
    ``coefs_[0]`` is, else float32: ``_input_forms.compute_dtype``'s rule for these two),
    computed by ``engines.numba_engine._few_rows.forward``. None otherwise: the caller's usual steps then
    convert, check and compute."""
    coefs, intercepts = est.coefs_, est.intercepts_
    if est.engine != "numba" or type(coefs) is not list or type(intercepts) is not list or not coefs:
        return None
    model_dtype = getattr(coefs[0], "dtype", None)
    if model_dtype == X.dtype:
        dtype = model_dtype
    elif model_dtype == _FLOAT32 or model_dtype == _FLOAT64:
        dtype = _FLOAT64
    else:
        return None
    X = np.ascontiguousarray(X, dtype=dtype)
    return _compiled_forward()(coefs, intercepts, X, est.activation, est.out_activation_)


# -- labels --------------------------------------------------------------------------------
def labels(binarizer, y_pred):
    """``binarizer.inverse_transform(y_pred)`` (scikit-learn 1.9), y_pred the network's
    output as ``_predict`` passes it: (n,) for one output, else (n, n_outputs). The
    binarizers a fit makes, with dense targets, take scikit-learn's expressions here:
    multiclass ``classes_[argmax]`` (first maximum, NaN counts as the maximum; its clip is
    a no-op with no more columns than classes), binary ``classes_[y > threshold]`` as
    indices, multilabel ``y > threshold`` as the index dtype. Anything else goes to
    ``inverse_transform``."""
    if type(y_pred) is not np.ndarray or binarizer.sparse_input_:
        return binarizer.inverse_transform(y_pred)
    classes = binarizer.classes_
    kind = binarizer.y_type_
    if kind == "multiclass":
        if y_pred.ndim == 2 and 0 < y_pred.shape[1] <= len(classes):
            return classes[y_pred.argmax(axis=1)]
        return binarizer.inverse_transform(y_pred)
    threshold = (binarizer.pos_label + binarizer.neg_label) / 2.0
    if kind == "binary" and y_pred.ndim == 1 and len(classes) > 1:
        return classes[np.asarray(y_pred > threshold, dtype=_INDEX_DTYPE)]
    if kind == "multilabel-indicator" and y_pred.ndim == 2 and y_pred.shape[1] == len(classes):
        return np.asarray(y_pred > threshold, dtype=_INDEX_DTYPE)
    return binarizer.inverse_transform(y_pred)
