"""The compiled epoch: every minibatch of one epoch in one call, buffers allocated once.

Each minibatch: gather its rows, forward (BLAS GEMM through ``np.dot``, then bias +
activation), loss and output delta, backward (GEMM, derivative), gradients (GEMM, L2
term and scaling) and one optimizer update over the flat parameter vector.

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
def _layer_views(flat, offsets, units):
    """Per-layer views of a flat parameter vector (``fastmlp._params`` layout).

    Returns
    -------
    coefs : list of ndarray, shapes (units[l], units[l + 1])
    intercepts : list of ndarray, shapes (units[l + 1],)
    """
    n_layers = units.shape[0] - 1
    coefs = [flat[offsets[0] : offsets[1]].reshape((units[0], units[1]))]
    intercepts = [flat[offsets[n_layers] : offsets[n_layers + 1]]]
    for layer in range(1, n_layers):
        coefs.append(flat[offsets[layer] : offsets[layer + 1]].reshape((units[layer], units[layer + 1])))
        intercepts.append(flat[offsets[n_layers + layer] : offsets[n_layers + layer + 1]])
    return coefs, intercepts


@inlined_kernel
def _forward_backward(Ws, bs, gWs, gbs, coefs, acts, deltas, acts_g, Ws_g, Y, sw, kernels, settings, result):
    """Loss of one minibatch, and its gradient written into gWs and gbs.

    Parameters
    ----------
    Ws, bs : lists of per-layer views of the parameters; coefs: all coefficients, flat
    gWs, gbs : the same views of the flat gradient; written
    acts : list, acts[l] shape (rows, units[l]), X's dtype; acts[0] holds the batch's
        inputs, the others are written
    deltas : list, deltas[l] shape (rows, units[l + 1]), Y's dtype; written
    acts_g, Ws_g : buffers for activations and coefficients converted to Y's dtype when it
        is wider than X's, else empty and unused
    Y : ndarray, shape (rows, outputs); sw : shape (rows,) float64, or (0,) unweighted
    kernels : int64 array of C kernel addresses (see ``train_epoch``)
    settings : EpochSettings
    result : ndarray, shape (1,), float64; scratch for the loss kernel

    Deltas and gradients have Y's dtype, as NumPy's ``output - Y`` gives them: float64 for
    a float32 network trained on float64 targets, which scikit-learn backpropagates in
    float64. Views are made once per epoch by the caller: each costs atomic
    reference-count updates. Inlined into the epoch's one call site.
    """
    n_layers = len(Ws)
    last = n_layers - 1
    n_rows = acts[0].shape[0]
    for layer in range(n_layers):
        Z = acts[layer + 1]
        np.dot(acts[layer], Ws[layer], Z)
        which = OUTPUT_ACTIVATION if layer == last else HIDDEN_ACTIVATION
        call_address(kernels[which], (Z, bs[layer], n_rows, Z.shape[1], settings.loops))
    weighted = sw.shape[0] > 0
    out = acts[n_layers]
    call_address(kernels[LOSS], (out, Y, sw, n_rows, out.shape[1], weighted, settings.clip_eps, deltas[last], result))
    value = result[0]
    denom = np.float64(n_rows)
    if weighted:
        denom = pairwise_sum(sw, np.int64(0), n_rows)  # scikit-learn's sample_weight.sum()
    value += 0.5 * settings.alpha * sum_of_squares(coefs) / denom
    for layer in range(last, -1, -1):
        delta = deltas[layer]
        A_prev = as_dtype_of(acts[layer], acts_g[layer])
        layer_grads(A_prev, delta, Ws[layer], settings.alpha, denom, not weighted, gWs[layer], gbs[layer])
        if layer > 0:
            prev = deltas[layer - 1]
            np.dot(delta, as_dtype_of(Ws[layer], Ws_g[layer]).T, prev)
            call_address(kernels[HIDDEN_DERIVATIVE], (acts[layer], prev, prev.size))
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
    # Work buffers, per layer (lists built by appends: a comprehension compiles a closure).
    mixed = not same_dtype(X, Y)
    g_rows = rows if mixed else 0
    full_acts = [np.empty((rows, units[0]), dtype=X.dtype)]
    full_deltas = [np.empty((rows, units[1]), dtype=Y.dtype)]
    full_acts_g = [np.empty((g_rows, units[0]), dtype=Y.dtype)]
    Ws_g = [np.empty((units[0] if mixed else 0, units[1] if mixed else 0), dtype=Y.dtype)]
    for layer in range(1, n_layers):
        full_acts.append(np.empty((rows, units[layer]), dtype=X.dtype))
        full_deltas.append(np.empty((rows, units[layer + 1]), dtype=Y.dtype))
        full_acts_g.append(np.empty((g_rows, units[layer]), dtype=Y.dtype))
        Ws_g.append(np.empty((units[layer] if mixed else 0, units[layer + 1] if mixed else 0), dtype=Y.dtype))
    full_acts.append(np.empty((rows, units[n_layers]), dtype=X.dtype))
    full_Y = np.empty((rows, Y.shape[1]), dtype=Y.dtype)
    weighted = sw.shape[0] > 0
    full_sw = np.empty(rows if weighted else 0, dtype=np.float64)
    grad = np.empty(theta.shape[0], dtype=Y.dtype)
    result = np.empty(1, dtype=np.float64)
    Ws, bs = _layer_views(theta, offsets, units)
    gWs, gbs = _layer_views(grad, offsets, units)
    coefs = theta[: offsets[n_layers]]
    X0 = full_acts[0]
    n_features, n_targets = X.shape[1], Y.shape[1]
    total = 0.0
    for start in range(0, n, rows):
        n_rows = min(rows, n - start)
        # Element loops, not row slices: a slice is a view whose reference count is
        # updated atomically, a quarter of a small epoch's time.
        for r in range(n_rows):
            src = order[start + r]
            for c in range(n_features):
                X0[r, c] = X[src, c]
            for c in range(n_targets):
                full_Y[r, c] = Y[src, c]
            if weighted:
                full_sw[r] = sw[src]
        if weighted and pairwise_sum(full_sw, np.int64(0), n_rows) == 0.0:
            return total, t, start  # scikit-learn's np.average raises here, before any update
        acts, deltas, acts_g, Y_batch, sw_batch = full_acts, full_deltas, full_acts_g, full_Y, full_sw
        if n_rows < rows:  # the last, shorter batch: views of the buffers
            acts = [full_acts[0][:n_rows]]
            deltas = [full_deltas[0][:n_rows]]
            acts_g = [full_acts_g[0][: min(n_rows, g_rows)]]
            for layer in range(1, n_layers):
                acts.append(full_acts[layer][:n_rows])
                deltas.append(full_deltas[layer][:n_rows])
                acts_g.append(full_acts_g[layer][: min(n_rows, g_rows)])
            acts.append(full_acts[n_layers][:n_rows])
            Y_batch = full_Y[:n_rows]
            sw_batch = full_sw[: n_rows if weighted else 0]
        value = _forward_backward(Ws, bs, gWs, gbs, coefs, acts, deltas, acts_g, Ws_g, Y_batch, sw_batch, kernels,
                                  settings, result)
        total += value * n_rows
        t += 1
        call_address(kernels[OPTIMIZER_STEP], (theta, grad, state1, state2, theta.shape[0], hyperparameters, t))
    return total, t, -1
