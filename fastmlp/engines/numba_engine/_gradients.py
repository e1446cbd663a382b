"""A layer's weight and bias gradients: one GEMM, then the L2 term and the scaling fused
in one pass, rounded as scikit-learn's NumPy expressions with Python scalars."""

import numpy as np

from ..._numba_options import inlined_kernel
from ._scalars import exact_reciprocal, like
from ._sums import pairwise_sum


@inlined_kernel
def add_l2_and_scale(g, W, alpha, denom, denom_is_count):
    """g = (g + alpha W) / denom in place.

    Parameters
    ----------
    g : ndarray, float32 or float64, C-contiguous; written
    W : ndarray, g's shape, float32 or float64, C-contiguous
    alpha, denom : float
    denom_is_count : bool
        denom is a row count (a Python int in scikit-learn), not a float64 weight sum.

    Rounded as scikit-learn's ``g += alpha * W; g /= denom``: alpha W in W's dtype, the
    sum in g's; a row count divides in g's dtype, a weight sum in float64. A power of two
    is applied as its exact reciprocal: the same result without a division per element.
    """
    gf = g.reshape(g.size)
    wf = W.reshape(W.size)
    alpha_w = like(alpha, W)
    inverse = exact_reciprocal(denom) if denom_is_count else 0.0
    if inverse != 0.0:
        inv = like(inverse, g)
        for k in range(gf.shape[0]):
            gf[k] = (gf[k] + alpha_w * wf[k]) * inv
    elif denom_is_count:
        d = like(denom, g)
        for k in range(gf.shape[0]):
            gf[k] = (gf[k] + alpha_w * wf[k]) / d
    else:
        for k in range(gf.shape[0]):
            gf[k] = (gf[k] + alpha_w * wf[k]) / denom


@inlined_kernel
def layer_grads(A_prev, delta, W, alpha, denom, denom_is_count, gW, gb):
    """gW = (A_prev.T @ delta + alpha W) / denom; gb = column sums of delta / denom.

    Parameters
    ----------
    A_prev : ndarray, shape (n, i), delta's dtype
    delta : ndarray, shape (n, o), float32 or float64, C-contiguous
    W : ndarray, shape (i, o)
    alpha, denom, denom_is_count : as ``add_l2_and_scale``
    gW : ndarray, shape (i, o), delta's dtype, C-contiguous; written
    gb : ndarray, shape (o,), delta's dtype; written

    The column sums in NumPy's order: row after row, pairwise when delta has one column.
    """
    np.dot(A_prev.T, delta, gW)
    add_l2_and_scale(gW, W, alpha, denom, denom_is_count)
    n_rows, n_out = delta.shape
    if n_out == 1:
        gb[0] = pairwise_sum(delta.reshape(n_rows), np.int64(0), n_rows)
    else:
        gb[:] = 0.0
        for i in range(n_rows):
            for j in range(n_out):
                gb[j] += delta[i, j]
    if denom_is_count:
        d = like(denom, gb)
        for j in range(n_out):
            gb[j] = gb[j] / d
    else:
        for j in range(n_out):
            gb[j] = gb[j] / denom
