"""Activations and their derivatives, in place on C-contiguous batches.

One small function per activation, chosen while compiling: ``code`` (an activation code
of ``.._names``) is a compile-time constant of the C kernel that calls these
(``_c_kernels``), so only that activation is compiled into it. tanh and exp run NumPy's
own loops (``loops``: ``_numpy_loops.loops(dtype)``), for scikit-learn's values, unless
``loops`` is None: the ``_vector_math`` fallback is then compiled instead. Other scalar
math is float64 rounded once on store.
"""

import numpy as np
from numba import types

from ..._numba_options import code_dispatch, inlined_kernel, kernel
from .._names import EXP, IDENTITY, LEAKY_RELU, LEAKY_RELU_SLOPE, LOGISTIC, RELU, SOFTMAX, SOFTPLUS, TANH
from . import _vector_math as vm
from ._numpy_loops import EXP_LOOP, TANH_LOOP, call_unary_loop
from ._scalars import like, literal_code
from ._sums import pairwise_sum

# -- forward, on the flat (n,) view of a batch: z = f(z) in place ---------------------
# Plain functions with ``_activate_flat``'s signature: ``code_dispatch`` compiles the one
# chosen into its caller.


def _relu(z, code, loops):
    for k in range(z.shape[0]):
        v = z[k]
        z[k] = 0.0 if v < 0 else v  # NaN stays NaN


def _leaky_relu(z, code, loops):
    slope = like(LEAKY_RELU_SLOPE, z)  # NumPy's ``0.01 * Z``: the slope in Z's dtype
    for k in range(z.shape[0]):
        v = z[k]
        z[k] = slope * v if v < 0 else v


def _tanh(z, code, loops):
    for k in range(z.shape[0]):
        z[k] = vm.tanh(np.float64(z[k]))


def _numpy_tanh(z, code, loops):
    call_unary_loop(loops[TANH_LOOP], loops[TANH_LOOP + 1], z, z)


def _logistic(z, code, loops):
    # SciPy's expit, 1 / (1 + exp(-z)), in the array's own precision: exp rounded to the
    # dtype first, then one add and one divide in that dtype (scikit-learn's float32
    # probabilities bit for bit).
    one = like(1.0, z)
    for k in range(z.shape[0]):
        z[k] = vm.exp(-np.float64(z[k]))
    for k in range(z.shape[0]):
        z[k] = one / (one + z[k])


def _softplus(z, code, loops):
    # log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|)); NaN propagates.
    for k in range(z.shape[0]):
        x = np.float64(z[k])
        z[k] = (x if x > 0 else 0.0) + vm.log1p(vm.exp(-abs(x)))


def _exp(z, code, loops):
    for k in range(z.shape[0]):
        z[k] = vm.exp(np.float64(z[k]))


def _numpy_exp(z, code, loops):
    call_unary_loop(loops[EXP_LOOP], loops[EXP_LOOP + 1], z, z)


_FORWARD = {RELU: _relu, LEAKY_RELU: _leaky_relu, TANH: _tanh, LOGISTIC: _logistic, SOFTPLUS: _softplus, EXP: _exp}
#: Where ``loops`` holds NumPy's loops (an array, not None), tanh and exp call them.
_NUMPY_FORWARD = {TANH: _numpy_tanh, EXP: _numpy_exp}


def _activate_flat(z, code, loops):
    """z = f(z) in place. z: (n,) contiguous, float32 or float64; code: a constant, any
    activation but identity and softmax."""


@code_dispatch(_activate_flat)
def _select_activation(z, code, loops):
    value = literal_code(code, "activation")
    if value in _NUMPY_FORWARD and not isinstance(loops, types.NoneType):
        return _NUMPY_FORWARD[value]
    return _FORWARD[value]


@kernel
def _softmax_rows(Z, b, loops):
    """Z[i] = softmax(Z[i] + b) in place.

    Parameters
    ----------
    Z : ndarray, shape (n, o), float32 or float64, C-contiguous; written
    b : ndarray, shape (o,), Z's dtype
    loops : ndarray, shape (4,), int64, ``_numpy_loops.loops(Z.dtype)``; or None

    As scikit-learn's ``exp(Z - max); Z /= Z.sum(axis=1)``: the shift in Z's dtype, NumPy's
    exp, the row sum in Z's dtype and NumPy's pairwise order, the division in Z's dtype.
    """
    n, o = Z.shape
    flat = Z.reshape(n * o)
    for i in range(n):
        zmax = Z[i, 0] + b[0]
        for j in range(o):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            if z > zmax or z != z:
                zmax = z
        for j in range(o):
            Z[i, j] = Z[i, j] - zmax
    _activate_flat(flat, EXP, loops)
    for i in range(n):
        total = pairwise_sum(flat, i * o, o)
        for j in range(o):
            Z[i, j] = Z[i, j] / total


@inlined_kernel
def _add_bias(Z, b):
    n, o = Z.shape
    for i in range(n):
        for j in range(o):
            Z[i, j] = Z[i, j] + b[j]


def bias_activation(Z, b, code, loops):
    """Z = f(Z + b) in place.

    Parameters
    ----------
    Z : ndarray, shape (n, o), float32 or float64, C-contiguous; written
    b : ndarray, shape (o,), Z's dtype
    code : int, an activation code (softmax and exp included), a compile-time constant
    loops : ndarray, shape (4,), int64, ``_numpy_loops.loops(Z.dtype)``; or None

    Bias then activation, two passes over the batch: a fused row loop vectorizes only
    along rows, and MLP rows are often narrow.
    """


def _bias_then_activation(Z, b, code, loops):
    _add_bias(Z, b)
    _activate_flat(Z.reshape(Z.size), code, loops)


def _bias_only(Z, b, code, loops):
    _add_bias(Z, b)


def _softmax(Z, b, code, loops):
    _softmax_rows(Z, b, loops)


@code_dispatch(bias_activation)
def _select_bias_activation(Z, b, code, loops):
    value = literal_code(code, "activation")
    if value == SOFTMAX:
        return _softmax
    return _bias_only if value == IDENTITY else _bias_then_activation


# -- derivatives, on flat views: d *= f'(Z), written from the layer output a = f(Z) ----
# Operation by operation as scikit-learn writes them (``delta *= Z; delta *= 1 - Z``), the
# factor in a's dtype and the product in d's, so that rounding is scikit-learn's (also
# for float64 deltas of a float32 network). Plain functions with ``apply_derivative``'s
# signature, compiled into the caller that ``code_dispatch`` picks them for.


def _relu_derivative(A, delta, code):
    a = A.reshape(A.size)
    d = delta.reshape(delta.size)
    for k in range(d.shape[0]):
        d[k] = 0.0 if a[k] == 0 else d[k]


def _tanh_derivative(A, delta, code):
    a = A.reshape(A.size)
    d = delta.reshape(delta.size)
    one = like(1.0, a)
    for k in range(d.shape[0]):
        x = a[k]
        d[k] = d[k] * (one - x * x)


def _logistic_derivative(A, delta, code):
    a = A.reshape(A.size)
    d = delta.reshape(delta.size)
    one = like(1.0, a)
    for k in range(d.shape[0]):
        x = a[k]
        d[k] = (d[k] * x) * (one - x)


def _leaky_relu_derivative(A, delta, code):
    a = A.reshape(A.size)
    d = delta.reshape(delta.size)
    slope = like(LEAKY_RELU_SLOPE, a)
    for k in range(d.shape[0]):
        d[k] = d[k] if a[k] > 0 else d[k] * slope


def _softplus_derivative(A, delta, code):
    a = A.reshape(A.size)
    d = delta.reshape(delta.size)
    for k in range(d.shape[0]):
        d[k] = d[k] * -vm.expm1(-np.float64(a[k]))


def _identity_derivative(A, delta, code):
    pass


_DERIVATIVE = {
    IDENTITY: _identity_derivative,
    RELU: _relu_derivative,
    TANH: _tanh_derivative,
    LOGISTIC: _logistic_derivative,
    LEAKY_RELU: _leaky_relu_derivative,
    SOFTPLUS: _softplus_derivative,
}


def apply_derivative(A, delta, code):
    """delta *= f'(Z) in place, f' written from the layer output A = f(Z).

    Parameters
    ----------
    A : ndarray, shape (n, o), float32 or float64, C-contiguous
    delta : ndarray, shape (n, o), A's dtype or float64, C-contiguous; written
    code : int, a hidden activation code, a compile-time constant
    """


@code_dispatch(apply_derivative)
def _select_derivative(A, delta, code):
    return _DERIVATIVE[literal_code(code, "activation")]
