"""The compiled engine: the reference engine's interface as Numba kernels.

This module holds the public functions, with the same names and signatures as
``numpy_engine``'s: they check buffers, translate names to codes and call the kernels.
Whatever depends on an activation, a loss or a solver is compiled for that one choice, on
first use, as a C function (``_c_kernels``); the epoch, compiled once per dtype
combination, calls those by address. A fit therefore compiles the epoch and its own few
kernels, nothing else. The kernels live in modules named for what they hold:

- ``_epoch``: the compiled epoch, all minibatches in one call;
- ``_compile_helper``: a cold first fit's C kernels compiled by a helper process meanwhile;
- ``_views``: per-layer views of flat buffers without reference counts, for the epoch;
- ``_c_kernels``: the per-activation, per-loss and per-solver kernels as C functions;
- ``_c_calls``: calling a C function by address from compiled code;
- ``_activations``: bias + activation, derivatives, softmax;
- ``_losses``: the losses fused with the output delta;
- ``_gradients``: weight and bias gradients with the L2 term;
- ``_optimizer_steps``: SGD and Adam updates over the flat parameter vector;
- ``_sums``: NumPy's pairwise summation order, a fixed-order sum of squares;
- ``_scalars``: NumPy's scalar conversions, dtype helpers;
- ``_network``: the layer layout as int64 arrays;
- ``_few_rows``: ``forward`` for prediction's fast path on a few rows (not imported here);
- ``_numpy_loops``: NumPy's own tanh and exp loops called from kernels;
- ``_vector_math``: exp, tanh, log, expm1, log1p that LLVM vectorizes.

GEMMs go to BLAS through ``np.dot`` inside kernels, or NumPy's ``matmul`` where a
wrapper does one. L-BFGS's full-batch evaluation (``loss_and_grad``) follows
``.._full_batch``, scikit-learn's structure, with these kernels where they round as
NumPy does.
"""

import functools
import numbers
import threading
import types

import numpy as np
import scipy.sparse as sp
from numba import typeof as _typeof

from .._full_batch import activate as _numpy_activate
from .._full_batch import activation_derivative as _numpy_derivative
from .._full_batch import loss_and_grad as _full_batch_loss_and_grad
from .._names import ACTIVATION_CODES, IDENTITY, LEAKY_RELU, LOGISTIC, LOSS_CODES, RELU, SGD, TANH
from . import _c_kernels, _compile_helper, _epoch, _numpy_loops
from ._epoch import EpochSettings
from ._epoch import train_epoch as _train_epoch
from ._gradients import add_l2_and_scale as _add_l2_and_scale
from ._gradients import layer_grads as _layer_grads
from ._network import network_arrays
from ._optimizer_steps import adam_step as _adam_step
from ._optimizer_steps import sgd_step as _sgd_step

_EMPTY_WEIGHTS = np.empty(0, dtype=np.float64)

# NumPy's message (np.average), which scikit-learn users see for a minibatch whose
# sample weights sum to zero.
_ZERO_WEIGHTS = "Weights sum to zero, can't be normalized"


def _weights(sw, n_rows):
    """Sample weights as the kernels take them: float64 (n_rows,), or empty for None."""
    if sw is None:
        return _EMPTY_WEIGHTS
    sw = np.ascontiguousarray(sw, dtype=np.float64)
    _check("sw", sw, shape=(n_rows,))
    return sw


def _calls_numpy_loops(loops):
    """Whether kernels given ``loops`` (``_numpy_loops.loops(dtype)``) are the variants that
    call NumPy's tanh and exp loops: where both were found and checked; else the variants
    with the ``_vector_math`` fallback compiled in. Decide from the very array the kernel
    gets: a NumPy-loops kernel given zeros would call address 0."""
    return bool(loops[_numpy_loops.TANH_LOOP] and loops[_numpy_loops.EXP_LOOP])


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _check(name, a, dtypes=_FLOATS, shape=None, written=False):
    """What a C kernel reads through a bare pointer must be what it was compiled for: a
    C-contiguous ndarray of one of ``dtypes`` and of ``shape``, writable where written. A
    ValueError here, never a wrong read or a write into read-only memory."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"numba engine: {name} must be a NumPy array, got {type(a).__name__}")
    if a.dtype not in dtypes:
        raise ValueError(f"numba engine: {name} must have dtype {' or '.join(map(str, dtypes))}, got {a.dtype}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"numba engine: {name} must have shape {tuple(shape)}, got {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"numba engine: {name} must be C-contiguous (np.ascontiguousarray)")
    if written and not a.flags.writeable:
        raise ValueError(f"numba engine: {name} is written in place and must be writable (it is read-only)")


def _activate(Z, b, code):
    """Z = f(Z + b) in place through the C kernel. Callers check Z (``_check``: (n, o),
    writable) and b's length (o,); b is converted to Z's dtype here."""
    b = np.ascontiguousarray(b, dtype=Z.dtype)
    loops = _numpy_loops.loops(Z.dtype)
    kernel = _c_kernels.activation(code, Z.dtype, _calls_numpy_loops(loops))
    kernel.ctypes(Z.ctypes.data, b.ctypes.data, Z.shape[0], Z.shape[1], loops.ctypes.data)


def _derive(A, delta, code):
    """delta *= f'(A) in place through the C kernel. Callers check A and delta
    (``_check``: one shape, delta writable)."""
    _c_kernels.derivative(code, A.dtype, delta.dtype).ctypes(A.ctypes.data, delta.ctypes.data, delta.size)


def _require_c_contiguous(**arrays):
    for name, a in arrays.items():
        if not a.flags.c_contiguous:
            raise ValueError(f"numba engine: {name} must be C-contiguous (np.ascontiguousarray)")


@functools.lru_cache(maxsize=None)
def _clip_eps(dtype):
    return float(np.finfo(dtype).eps)


def dense_forward(A, W, b, activation, out):
    """out = activation(A @ W + b). A (n, i), W (i, o), b (o,), out (n, o). Returns out."""
    _check("out", out, written=True)
    if out.ndim != 2:
        raise ValueError(f"numba engine: out must be 2-D, got shape {out.shape}")
    _check("b", np.ascontiguousarray(b, dtype=out.dtype), shape=out.shape[1:])
    np.matmul(A, W, out=out)
    _activate(out, b, ACTIVATION_CODES[activation])
    return out


def activation_derivative(A, delta, activation):
    """delta *= f'(Z), with f' written from the layer output A. Both (n, o). Returns delta."""
    _check("A", A)
    _check("delta", delta, shape=A.shape, written=True)
    _derive(A, delta, ACTIVATION_CODES[activation])
    return delta


def backprop_delta(delta, W, A_prev, activation, out):
    """out = (delta @ W.T) * f'(A_prev). delta (n, o), W (i, o), A_prev and out (n, i)."""
    _check("A_prev", A_prev)
    _check("out", out, shape=A_prev.shape, written=True)
    np.matmul(delta, W.T, out=out)
    _derive(A_prev, out, ACTIVATION_CODES[activation])
    return out


def output_delta(out, Y, sw, loss, delta):
    """Data loss of the batch (scikit-learn's definitions); delta = (out - Y) * sw.

    out, Y, delta (n, o); sw (n,) float64 or None. Returns a Python float.
    """
    if sw is not None and np.sum(sw) == 0:
        raise ZeroDivisionError(_ZERO_WEIGHTS)
    _check("out", out)
    if out.ndim != 2:
        raise ValueError(f"numba engine: out must be 2-D, got shape {out.shape}")
    _check("delta", delta, shape=out.shape, written=True)
    _check("Y", Y, dtypes=(delta.dtype,), shape=out.shape)
    sw = _weights(sw, out.shape[0])
    result = np.empty(1)
    kernel = _c_kernels.loss(LOSS_CODES[loss], out.dtype, delta.dtype)
    kernel.ctypes(out.ctypes.data, Y.ctypes.data, sw.ctypes.data, out.shape[0], out.shape[1], int(sw.shape[0] > 0),
                  _clip_eps(out.dtype), delta.ctypes.data, result.ctypes.data)
    return float(result[0])


def layer_grads(A_prev, delta, W, alpha, denom, gW, gb):
    """gW = (A_prev.T @ delta + alpha * W) / denom; gb = delta.sum(axis=0) / denom."""
    _require_c_contiguous(gW=gW, gb=gb)
    _layer_grads(A_prev, delta, W, float(alpha), float(denom), isinstance(denom, numbers.Integral), gW, gb)


def sgd_step(params, grads, velocity, lr, momentum, nesterov):
    """In place: v = momentum * v - lr * g; params += v (Nesterov: momentum * v - lr * g)."""
    _sgd_step(params, grads, velocity, float(lr), float(momentum), bool(nesterov))


def adam_step(params, grads, m, v, lr, beta_1, beta_2, epsilon):
    """In place: Adam moments and update; lr is the bias-corrected rate for this step."""
    _adam_step(params, grads, m, v, float(lr), float(beta_1), float(beta_2), float(epsilon))


def forward(coefs, intercepts, X, activation, out_activation):
    """Output of the network for X (n, i). Returns a new (n, o) array of X's dtype."""
    A = X
    last = len(coefs) - 1
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        act = out_activation if layer == last else activation
        A = dense_forward(A, W, b, act, np.empty((A.shape[0], W.shape[1]), X.dtype))
    return A


# -- L-BFGS: scikit-learn's full-batch structure with these kernels where they round as NumPy

#: Activations whose compiled forward kernel rounds exactly as NumPy does. The others
#: (transcendental, or computed by NumPy's loops only when those are usable) take NumPy's
#: functions after a compiled bias.
_EXACT_FORWARD = (IDENTITY, RELU, LEAKY_RELU)
#: Derivatives that the compiled kernel computes exactly as scikit-learn's expressions.
_EXACT_DERIVATIVE = (IDENTITY, LOGISTIC, TANH, RELU, LEAKY_RELU)


def _lbfgs_activate(Z, b, activation):
    code = ACTIVATION_CODES[activation]
    if code in _EXACT_FORWARD:
        _activate(Z, b, code)
    else:
        _activate(Z, b, IDENTITY)
        Z[...] = _numpy_activate(Z, activation)


def _lbfgs_derivative(A, delta, activation):
    code = ACTIVATION_CODES[activation]
    if code in _EXACT_DERIVATIVE:
        _derive(A, delta, code)
    else:
        _numpy_derivative(A, delta, activation)


def _lbfgs_scale_gradient(g, W, alpha, denom):
    if isinstance(alpha, np.generic):  # a NumPy scalar takes part in NumPy's type promotion
        g += alpha * W
        g /= denom
    else:
        _add_l2_and_scale(g, W, float(alpha), float(denom), isinstance(denom, numbers.Integral))


_LBFGS_OPS = types.SimpleNamespace(
    activate=_lbfgs_activate, derivative=_lbfgs_derivative, scale_gradient=_lbfgs_scale_gradient
)


def loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss, alpha, grad):
    """Regularized loss of the batch (X, Y, sw) and its gradient, written into grad.

    L-BFGS's evaluation, bit for bit scikit-learn's: ``.._full_batch.loss_and_grad`` (its
    docstring gives the arguments) with compiled kernels for bias + identity/relu/leaky_relu,
    the derivatives and the gradient's L2 term and scaling. Returns a float.
    """
    _require_c_contiguous(theta=theta, Y=Y, grad=grad)
    if not sp.issparse(X):
        _require_c_contiguous(X=X)
    return _full_batch_loss_and_grad(_LBFGS_OPS, theta, layer_units, X, Y, sw, activation, out_activation, loss, alpha,
                                     grad)


def train_epoch(theta, layer_units, X, Y, sw, order, batch_size, activation, out_activation, loss, alpha, optimizer):
    """One pass over the rows ``order`` of (X, Y, sw) in minibatches of batch_size.

    Updates theta and the optimizer state in place. Returns the sum over batches of
    batch loss times batch length (scikit-learn's ``accumulated_loss``).
    """
    offsets, units = network_arrays(layer_units)
    hyperparameters, (state1, state2), t = optimizer.kernel_args()
    _check("theta", theta, shape=(int(offsets[-1]),), written=True)
    _check("X", X, dtypes=(theta.dtype,))
    if X.ndim != 2 or X.shape[1] != units[0]:
        raise ValueError(f"numba engine: X must have shape (n, {int(units[0])}), got {X.shape}")
    _check("Y", Y, dtypes=(theta.dtype, np.dtype(np.float64)), shape=(X.shape[0], int(units[-1])))
    for name, state in (("the optimizer's first state vector", state1), ("the optimizer's second state vector",
                                                                          state2)):
        _check(name, state, dtypes=(Y.dtype,), shape=theta.shape, written=True)
    order = np.asarray(order, dtype=np.int64)
    loops = _numpy_loops.loops(X.dtype)
    settings = EpochSettings(int(batch_size), float(alpha), _clip_eps(X.dtype), loops)
    sw = _weights(sw, X.shape[0])
    spec = (ACTIVATION_CODES[activation], ACTIVATION_CODES[out_activation], LOSS_CODES[loss], optimizer.solver,
            X.dtype, Y.dtype, _calls_numpy_loops(loops))
    epoch_args = (theta, offsets, units, X, Y, sw, order, settings, hyperparameters, state1, state2, t)
    kernels = _epoch_kernels(spec, epoch_args)
    total, t, zero_weight_batch = _train_epoch(theta, offsets, units, X, Y, sw, order, settings, hyperparameters,
                                               state1, state2, t, kernels)
    if optimizer.solver != SGD:
        optimizer.t = t
    if zero_weight_batch == _epoch.BAD_ORDER:
        raise ValueError(f"numba engine: order must index X's {X.shape[0]} rows")
    if zero_weight_batch >= 0:
        raise ZeroDivisionError(_ZERO_WEIGHTS)
    return float(total)


def _epoch_kernel_calls(hidden, output, loss, solver, x_dtype, y_dtype, numpy_loops):
    """The ``_c_kernels`` factory calls for an epoch's kernels, in ``_epoch``'s order:
    [(name, args)]."""
    return [("activation", (hidden, x_dtype, numpy_loops)), ("activation", (output, x_dtype, numpy_loops)),
            ("derivative", (hidden, x_dtype, y_dtype)), ("loss", (loss, x_dtype, y_dtype)),
            ("optimizer_step", (solver, x_dtype, y_dtype))]


#: ``_epoch_kernels``' results by spec; never emptied (see there).
_EPOCH_KERNELS = {}
_EPOCH_KERNELS_LOCK = threading.Lock()
#: The type of the kernels' address array (int64, read-only), for compiling the epoch
#: before the array exists.
_ADDRESSES_PLACEHOLDER = np.zeros(_epoch.OPTIMIZER_STEP + 1, dtype=np.int64)
_ADDRESSES_PLACEHOLDER.flags.writeable = False


def _epoch_kernels(spec, epoch_args):
    """int64 (5,): the addresses of the C kernels an epoch calls (``_epoch.train_epoch``).

    spec : (hidden, output, loss, solver, x_dtype, y_dtype, numpy_loops); numpy_loops is
        part of it: a kernel that calls NumPy's loops must only ever be given their
        addresses, never the zeros of a process that has switched them off.
    epoch_args : the epoch's arguments but the addresses, for its first compilation.

    The first time a spec is seen, a cold cache compiles the kernels in a helper process
    while this one compiles the epoch (``_compile_helper``). The kernels themselves live on
    in ``_c_kernels``' memo, which never frees them."""
    try:
        return _EPOCH_KERNELS[spec]
    except KeyError:
        pass
    with _EPOCH_KERNELS_LOCK:
        if spec not in _EPOCH_KERNELS:
            hidden, output, loss, solver, x_dtype, y_dtype, numpy_loops = spec
            by_name = _epoch_kernel_calls(hidden, output, loss, solver, x_dtype.name, y_dtype.name, numpy_loops)
            arg_types = [_typeof(a) for a in (*epoch_args, _ADDRESSES_PLACEHOLDER)]
            _compile_helper.compile_alongside(by_name, _train_epoch, arg_types)
            kernels = [getattr(_c_kernels, name)(*args) for name, args in _epoch_kernel_calls(*spec)]
            addresses = np.array([k.address for k in kernels], dtype=np.int64)
            addresses.flags.writeable = False
            _EPOCH_KERNELS[spec] = addresses
    return _EPOCH_KERNELS[spec]
