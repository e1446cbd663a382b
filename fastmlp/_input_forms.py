"""The forms in which arrays reach the engines, and the conversions at the boundary.

The engines compute in float32 or float64 on C-contiguous, native-byte-order, writable
arrays, and raise a ValueError for anything else (``numba_engine._check``). The estimators
bring every array to that form before an engine sees it, whatever the user handed over
(read-only or memory-mapped arrays, other byte orders, strides, float16, integers,
longdouble, object arrays of numbers, sparse matrices with big-endian data) or set by hand
(``coefs_``, ``intercepts_``), and raise a TypeError naming the attribute for what cannot
be a real number. ``tests/test_input_forms.py`` sweeps these forms through fit,
partial_fit, warm start and predict.

Where scikit-learn computes in another dtype (its NumPy arithmetic follows longdouble or
object arrays), fastmlp computes in float64: the one deliberate difference here.
"""

import numpy as np
import scipy.sparse as sp

_FLOAT32 = np.dtype(np.float32)
_FLOAT64 = np.dtype(np.float64)


def compute_dtype(*dtypes):
    """The engine dtype for operands of ``dtypes``: float32 where NumPy's promotion (with
    float32 as the floor, scikit-learn's rule for prediction) gives float32, else float64.

    Raises TypeError for complex operands (no real arithmetic for them)."""
    result = np.result_type(*dtypes, _FLOAT32)
    if result.kind == "c":
        raise TypeError(f"fastmlp computes with real numbers; got complex values ({result}).")
    return _FLOAT32 if result == _FLOAT32 else _FLOAT64


def usable_parameters(coefs, intercepts):
    """``coefs_`` and ``intercepts_`` in a dtype the engines take.

    Returns the same two lists where every array is already a float32 or float64 ndarray
    (so that identity, which early-stopping bookkeeping relies on, is kept); otherwise new
    lists of float64 arrays (longdouble, float16, integers, object arrays of numbers, nested
    lists). Raises TypeError where a value cannot be a real number.
    """
    arrays = list(coefs) + list(intercepts)
    if all(isinstance(a, np.ndarray) and a.dtype in (_FLOAT32, _FLOAT64) for a in arrays):
        return coefs, intercepts
    converted = []
    for name, group in (("coefs_", coefs), ("intercepts_", intercepts)):
        out = []
        for i, a in enumerate(group):
            if sp.issparse(a):
                raise TypeError(f"{name}[{i}] must be a dense array, got a sparse {type(a).__name__}.")
            a = np.asarray(a)
            if a.dtype.kind == "c":
                raise TypeError(f"{name}[{i}] must hold real numbers, got dtype {a.dtype}.")
            if a.dtype in (_FLOAT32, _FLOAT64):
                out.append(a)
                continue
            try:
                out.append(a.astype(_FLOAT64))
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{name}[{i}] must hold real numbers, got dtype {a.dtype}: {exc}") from None
        converted.append(out)
    return converted[0], converted[1]


def sparse_for_engine(X, dtype):
    """A CSR or CSC X as CSR with ``dtype`` data in native byte order.

    SciPy refuses to copy or convert sparse matrices whose data is big-endian, so the data
    vector is converted by NumPy first."""
    if X.dtype != dtype or not X.dtype.isnative:
        X = type(X)((np.asarray(X.data, dtype=dtype), X.indices, X.indptr), shape=X.shape)
    return X.tocsr()
