"""The compiled kernels' tanh, exp and softmax are NumPy's (``_numpy_loops``): the same
values as scikit-learn's ``np.tanh``/``np.exp`` formulas, bit for bit; and where NumPy's
loops cannot be used, the ``_vector_math`` fallback gives the reference's values to the
kernel tolerance."""

import zlib

import numpy as np
import pytest

from fastmlp.engines import get_engine
from fastmlp.engines.numba_engine import _numpy_loops
from fastmlp.engines._names import ACTIVATION_CODES
from fastmlp.engines.numba_engine import _bias_activation

from .tolerances import kernel_tol

NUMBA = get_engine("numba")
REFERENCE = get_engine("numpy")
DTYPES = [np.float32, np.float64]


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


def sklearn_softmax(Z):
    """scikit-learn 1.9's ``softmax`` (``_base.py``), on a copy."""
    X = Z.copy()
    tmp = X - X.max(axis=1)[:, np.newaxis]
    np.exp(tmp, out=X)
    X /= X.sum(axis=1)[:, np.newaxis]
    return X


SKLEARN = {"tanh": np.tanh, "exp": np.exp, "softmax": sklearn_softmax}


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_loops_are_found(dtype):
    loops = _numpy_loops.loops(dtype)
    assert loops[_numpy_loops.TANH] != 0 and loops[_numpy_loops.EXP] != 0


@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (64, 10), (257, 129)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("activation", list(SKLEARN))
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_is_bit_for_bit_scikit_learns(dtype, activation, shape, rng):
    n, o = shape
    limit = 80.0 if activation == "exp" and dtype == np.float32 else 700.0 if activation == "exp" else 50.0
    A = rng.uniform(-1, 1, (n, o)).astype(dtype)
    b = rng.uniform(-limit / 2, limit / 2, o).astype(dtype)
    out = NUMBA.dense_forward(A, np.eye(o, dtype=dtype), b, activation, np.empty((n, o), dtype))
    np.testing.assert_array_equal(out, SKLEARN[activation](A @ np.eye(o, dtype=dtype) + b))


@pytest.mark.parametrize("activation", list(SKLEARN))
@pytest.mark.parametrize("dtype", DTYPES)
def test_fallback_without_numpy_loops_matches_the_reference(dtype, activation, rng):
    Z = rng.normal(0, 3, (33, 9)).astype(dtype)
    b = rng.normal(0, 1, 9).astype(dtype)
    got = Z.copy()
    _bias_activation(got, b, ACTIVATION_CODES[activation], np.zeros(4, dtype=np.int64))
    want = REFERENCE.dense_forward(Z, np.eye(9, dtype=dtype), b, activation, np.empty_like(Z))
    np.testing.assert_allclose(got, want, **kernel_tol(dtype))


def test_a_loop_that_does_not_compute_the_ufunc_is_refused():
    tanh_loop, tanh_data = _numpy_loops._find_loop(np.tanh, np.dtype(np.float64))
    assert _numpy_loops._computes(tanh_loop, tanh_data, np.tanh, np.float64)
    assert not _numpy_loops._computes(tanh_loop, tanh_data, np.exp, np.float64)


def test_a_ufunc_of_another_shape_is_refused():
    assert _numpy_loops._find_loop(np.add, np.dtype(np.float64)) == (0, 0)  # two inputs
