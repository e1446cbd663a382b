"""Losses and the output delta, fused in one pass over the batch.

``loss_code`` is a loss code of ``.._names``, a compile-time constant of the C kernel
that calls these (``_c_kernels``): a fit compiles only its own loss. Element losses are
float64, as scikit-learn's definitions evaluate in float64 (``clip_eps`` is the output
dtype's machine epsilon, scikit-learn's clip).
"""

import numpy as np

from ..._numba_options import code_dispatch, inlined_kernel
from .._names import BINARY_LOG_LOSS, LOG_LOSS, POISSON, SQUARED_ERROR
from . import _vector_math as vm
from ._scalars import literal_code

# Element losses before averaging: terms[k] for out[k], Y[k]. All (n,) contiguous; terms
# float64 or out's dtype, written. Branch-free per element, so the loops vectorize. Plain
# functions with ``_loss_terms``'s signature, compiled into the caller that
# ``code_dispatch`` picks them for.


def _squared_error_terms(out, Y, loss_code, clip_eps, terms):
    for k in range(out.shape[0]):
        r = np.float64(Y[k]) - np.float64(out[k])
        terms[k] = r * r


def _poisson_terms(out, Y, loss_code, clip_eps, terms):
    for k in range(out.shape[0]):
        y = np.float64(Y[k])
        p = np.float64(out[k])
        xlogy = y * vm.log(y / p)
        terms[k] = (0.0 if y == 0 else xlogy) - y + p


def _log_loss_terms(out, Y, loss_code, clip_eps, terms):
    for k in range(out.shape[0]):
        y = np.float64(Y[k])
        q = min(max(np.float64(out[k]), clip_eps), 1.0 - clip_eps)
        xlogy = y * vm.log(q)
        terms[k] = -(0.0 if y == 0 else xlogy)


def _binary_log_loss_terms(out, Y, loss_code, clip_eps, terms):
    for k in range(out.shape[0]):
        y = np.float64(Y[k])
        q = min(max(np.float64(out[k]), clip_eps), 1.0 - clip_eps)
        pos = y * vm.log(q)
        neg = (1.0 - y) * vm.log(1.0 - q)
        terms[k] = -((0.0 if y == 0 else pos) + (0.0 if y == 1 else neg))


_TERMS = {
    SQUARED_ERROR: _squared_error_terms,
    POISSON: _poisson_terms,
    LOG_LOSS: _log_loss_terms,
    BINARY_LOG_LOSS: _binary_log_loss_terms,
}


def _loss_terms(out, Y, loss_code, clip_eps, terms):
    """terms[k] = the loss of element k; loss_code a compile-time constant."""


@code_dispatch(_loss_terms)
def _select_loss_terms(out, Y, loss_code, clip_eps, terms):
    return _TERMS[literal_code(loss_code, "loss")]


@inlined_kernel
def output_delta(out, Y, sw, loss_code, clip_eps, delta):
    """The batch's data loss, and delta = (out - Y) * sw.

    Parameters
    ----------
    out : ndarray, shape (n, o), float32 or float64, C-contiguous
    Y : ndarray, shape (n, o), delta's dtype, C-contiguous
    sw : ndarray, shape (n,) float64, or None for unweighted rows
    loss_code : int, a compile-time constant
    clip_eps : float
    delta : ndarray, shape (n, o), out's dtype or float64, C-contiguous; written (it also
        serves as scratch for the element losses)

    Returns
    -------
    float64
        scikit-learn's loss of the batch (weighted mean over rows; squared error halved
        and averaged over outputs too).
    """
    n, o = out.shape
    out_flat = out.reshape(n * o)
    y_flat = Y.reshape(n * o)
    d = delta.reshape(n * o)
    _loss_terms(out_flat, y_flat, loss_code, clip_eps, d)
    total = 0.0
    weight_sum = 0.0
    for i in range(n):
        w = 1.0 if sw is None else sw[i]
        weight_sum += w
        row = 0.0
        for j in range(o):
            row += d[i * o + j]
        total += w * row
    value = total / weight_sum
    if loss_code == SQUARED_ERROR:
        value = 0.5 * value / o
    for k in range(n * o):
        d[k] = np.float64(out_flat[k]) - np.float64(y_flat[k])
    if sw is not None:
        for i in range(n):
            for j in range(o):
                delta[i, j] = delta[i, j] * sw[i]
    return value
