"""The compiled epoch: every minibatch of one epoch in one call, buffers allocated once.

Each minibatch: gather its rows, forward (BLAS GEMM through ``np.dot``, then bias +
activation), loss and output delta, backward (GEMM, derivative), gradients (GEMM, L2
term and scaling) and one optimizer update over the flat parameter vector. The
activations, deltas and gradients of all layers live in a few flat buffers, and each
layer's arrays are ``_views`` of them (no reference counts, no per-layer lists):
compiling the epoch took 4.9 s with lists of per-layer slices, 3.1 s so
(``benchmarks/README.md``).

The epoch is compiled once per dtype combination of X and Y. What depends on the
activation, the loss and the solver it calls by address (``kernels``, from
``_c_kernels``): those are compiled separately, only when a fit uses them.
"""

from typing import NamedTuple

import numpy as np

from ..._numba_options import inlined_kernel, kernel
from ._c_calls import call_address
from ._gradients import layer_grads
from ._scalars import as_dtype_of, same_dtype
from ._sums import pairwise_sum, sum_of_squares
from ._views import view1d, view2d

#: Positions of the C kernels' addresses in ``train_epoch``'s ``kernels`` array.
HIDDEN_ACTIVATION, OUTPUT_ACTIVATION, HIDDEN_DERIVATIVE, LOSS, OPTIMIZER_STEP = range(5)
#: ``train_epoch``'s stop value when ``order`` holds a row X does not have.
BAD_ORDER = -2


class EpochSettings(NamedTuple):
    """What an epoch needs besides the data and the optimizer."""

    #: Rows per minibatch (the last one may be shorter).
    batch_size: int
    #: L2 penalty.
    alpha: float
    #: Outputs are clipped to [clip_eps, 1 - clip_eps] in the log losses (the output
    #: dtype's machine epsilon, as scikit-learn).
    clip_eps: float
    #: ``_numpy_loops.loops(X.dtype)``, for the activation kernels that call NumPy's loops.
    loops: np.ndarray


@inlined_kernel
def _forward_backward(theta, grad, offsets, units, acts, deltas, conv, n_rows, Y, sw, kernels, settings, result):
    """Loss of one minibatch, and its gradient written into ``grad``.

    Parameters
    ----------
    theta : ndarray, shape (p,), X's dtype; the parameters (``fastmlp._params`` layout)
    grad : ndarray, shape (p,), Y's dtype; written
    offsets, units : int64 arrays, as ``train_epoch``
    acts : ndarray, flat, X's dtype; holds the batch's inputs as an (n_rows, units[0])
        array at its start, the other layers' activations are written after it, layer
        after layer, each (n_rows, units[l])
    deltas : ndarray, flat, Y's dtype; written, layer after layer, each (n_rows, units[l + 1])
    conv : ndarray, flat, Y's dtype; scratch for an activation or a coefficient matrix
        converted to Y's dtype when it is wider than X's, else empty and unused
    n_rows : int, the batch's rows
    Y : ndarray, shape (n_rows, outputs); sw : shape (n_rows,) float64, or (0,) unweighted
    kernels : int64 array of C kernel addresses (see ``train_epoch``)
    settings : EpochSettings
    result : ndarray, shape (1,), float64; scratch for the loss kernel

    Deltas and gradients have Y's dtype, as NumPy's ``output - Y`` gives them: float64 for
    a float32 network trained on float64 targets, which scikit-learn backpropagates in
    float64. Per-layer arrays are ``_views`` of the flat buffers (no reference counts).
    Inlined into the epoch's one call site.
    """
    n_layers = units.shape[0] - 1
    last = n_layers - 1
    a_off = 0  # start of layer's activations in acts
    for layer in range(n_layers):
        n_in, n_out = units[layer], units[layer + 1]
        Z = view2d(acts, a_off + n_rows * n_in, n_rows, n_out)
        np.dot(view2d(acts, a_off, n_rows, n_in), view2d(theta, offsets[layer], n_in, n_out), Z)
        which = OUTPUT_ACTIVATION if layer == last else HIDDEN_ACTIVATION
        b = view1d(theta, offsets[n_layers + layer], n_out)
        call_address(kernels[which], (Z, b, n_rows, n_out, settings.loops))
        a_off += n_rows * n_in
    n_out = units[n_layers]
    d_off = 0  # the output layer's delta, after the hidden layers' in deltas
    for layer in range(1, n_layers):
        d_off += n_rows * units[layer]
    weighted = sw.shape[0] > 0
    out = view2d(acts, a_off, n_rows, n_out)
    call_address(kernels[LOSS], (out, Y, sw, n_rows, n_out, weighted, settings.clip_eps,
                                 view2d(deltas, d_off, n_rows, n_out), result))
    value = result[0]
    denom = np.float64(n_rows)
    if weighted:
        denom = pairwise_sum(sw, np.int64(0), n_rows)  # scikit-learn's sample_weight.sum()
    value += 0.5 * settings.alpha * sum_of_squares(view1d(theta, 0, offsets[n_layers])) / denom
    for layer in range(last, -1, -1):
        n_in, n_out = units[layer], units[layer + 1]
        a_off -= n_rows * n_in
        delta = view2d(deltas, d_off, n_rows, n_out)
        W = view2d(theta, offsets[layer], n_in, n_out)
        A_prev = as_dtype_of(view2d(acts, a_off, n_rows, n_in), view2d(conv, 0, n_rows, n_in))
        layer_grads(A_prev, delta, W, settings.alpha, denom, not weighted, view2d(grad, offsets[layer], n_in, n_out),
                    view1d(grad, offsets[n_layers + layer], n_out))
        if layer > 0:
            d_off -= n_rows * n_in
            prev = view2d(deltas, d_off, n_rows, n_in)
            np.dot(delta, as_dtype_of(W, view2d(conv, 0, n_in, n_out)).T, prev)
            call_address(kernels[HIDDEN_DERIVATIVE], (view2d(acts, a_off, n_rows, n_in), prev, n_rows * n_in))
    return value


@kernel
def train_epoch(theta, offsets, units, X, Y, sw, order, settings, hyperparameters, state1, state2, t, kernels):
    """All minibatches of one epoch.

    Parameters
    ----------
    theta : ndarray, shape (p,), X's dtype; written
    offsets, units : int64 arrays of ``fastmlp._params.param_offsets`` and the layer sizes
    X : ndarray, shape (n, i), float32 or float64, C-contiguous
    Y : ndarray, shape (n, o), X's dtype or float64 (see ``_forward_backward``)
    sw : ndarray, shape (n,) float64, or (0,) for unweighted rows
    order : ndarray, shape (m,), int64; the rows of this epoch, in order
    settings : EpochSettings
    hyperparameters, state1, state2, t : the optimizer's ``kernel_args()``
        (``fastmlp._optimizers``); the state vectors (Y's dtype) are written
    kernels : ndarray, shape (5,), int64; addresses of the ``_c_kernels`` for the hidden
        and output activations, the hidden derivative, the loss and the optimizer step
        (positions ``HIDDEN_ACTIVATION`` ... ``OPTIMIZER_STEP``)

    Returns
    -------
    total : float64, sum over minibatches of loss x rows (scikit-learn's ``accumulated_loss``)
    t : int, the optimizer's step count after the epoch
    stop : int, -1, or the first row of a minibatch whose sample weights sum to zero: the
        epoch stopped before updating with it (scikit-learn raises there); ``BAD_ORDER``
        (and nothing done) where order indexes a row X does not have
    """
    n = order.shape[0]
    for k in range(n):  # the gather below reads X[order[k]] unchecked
        if order[k] < 0 or order[k] >= X.shape[0]:
            return 0.0, t, BAD_ORDER
    n_layers = units.shape[0] - 1
    rows = min(settings.batch_size, n)
    # Flat work buffers (see _forward_backward), sized for a full batch.
    all_units = 0
    widest = 0  # the largest matrix converted to Y's dtype
    for layer in range(n_layers + 1):
        all_units += units[layer]
    for layer in range(n_layers):
        widest = max(widest, units[layer] * max(rows, units[layer + 1]))
    acts = np.empty(rows * all_units, dtype=X.dtype)
    deltas = np.empty(rows * (all_units - units[0]), dtype=Y.dtype)
    conv = np.empty(0 if same_dtype(X, Y) else widest, dtype=Y.dtype)
    n_features, n_targets = X.shape[1], Y.shape[1]
    batch_Y = np.empty(rows * n_targets, dtype=Y.dtype)
    weighted = sw.shape[0] > 0
    batch_sw = np.empty(rows if weighted else 0, dtype=np.float64)
    grad = np.empty(theta.shape[0], dtype=Y.dtype)
    result = np.empty(1, dtype=np.float64)
    total = 0.0
    for start in range(0, n, rows):
        n_rows = min(rows, n - start)
        for r in range(n_rows):
            src = order[start + r]
            for c in range(n_features):
                acts[r * n_features + c] = X[src, c]
            for c in range(n_targets):
                batch_Y[r * n_targets + c] = Y[src, c]
            if weighted:
                batch_sw[r] = sw[src]
        if weighted and pairwise_sum(batch_sw, np.int64(0), n_rows) == 0.0:
            return total, t, start  # scikit-learn's np.average raises here, before any update
        value = _forward_backward(theta, grad, offsets, units, acts, deltas, conv, n_rows,
                                  view2d(batch_Y, 0, n_rows, n_targets), view1d(batch_sw, 0, n_rows if weighted else 0),
                                  kernels, settings, result)
        total += value * n_rows
        t += 1
        call_address(kernels[OPTIMIZER_STEP], (theta, grad, state1, state2, theta.shape[0], hyperparameters, t))
    return total, t, -1
