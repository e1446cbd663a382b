"""Sums in fixed orders: NumPy's pairwise order (``np.sum`` of a contiguous 1-D array,
so that sums match scikit-learn's bit for bit) and a thread-count independent sum of
squares for the L2 term."""

import numpy as np

from ..._numba_options import inlined_kernel, kernel

#: Partial sums in ``sum_of_squares``: lane k % 64 takes element k.
_SQUARES_LANES = 64
#: Segments NumPy's pairwise sum can nest: 64 halvings cover any array.
_MAX_DEPTH = 64


@inlined_kernel
def sum_of_squares(w):
    """Sum of w**2 in float64, in a fixed order whatever the thread count.

    Parameters
    ----------
    w : ndarray, shape (n,), float32 or float64, contiguous

    Returns
    -------
    float64
        64 partial sums, lane k % 64 taking element k, added up in lane order at the end:
        the update of all lanes is a vector loop, which a scalar reduction is not
        without reassociation.
    """
    n = w.shape[0]
    n_blocks = n // _SQUARES_LANES
    lanes = np.zeros(_SQUARES_LANES, dtype=np.float64)
    for block in range(n_blocks):
        base = block * _SQUARES_LANES
        for j in range(_SQUARES_LANES):
            x = np.float64(w[base + j])
            lanes[j] += x * x
    total = 0.0
    for j in range(_SQUARES_LANES):
        total += lanes[j]
    for k in range(n_blocks * _SQUARES_LANES, n):
        x = np.float64(w[k])
        total += x * x
    return total


@kernel
def _pairwise_block(x, start, n):
    """NumPy's sum of x[start:start + n] for 1 <= n <= 128: eight running sums."""
    if n < 8:
        total = x[start]
        for k in range(start + 1, start + n):
            total += x[k]
        return total
    r0, r1, r2, r3 = x[start], x[start + 1], x[start + 2], x[start + 3]
    r4, r5, r6, r7 = x[start + 4], x[start + 5], x[start + 6], x[start + 7]
    stop = start + n - n % 8
    for k in range(start + 8, stop, 8):
        r0 += x[k]
        r1 += x[k + 1]
        r2 += x[k + 2]
        r3 += x[k + 3]
        r4 += x[k + 4]
        r5 += x[k + 5]
        r6 += x[k + 6]
        r7 += x[k + 7]
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for k in range(stop, start + n):
        total += x[k]
    return total


@kernel
def pairwise_sum(x, start, n):
    """Sum of x[start:start + n] in NumPy's order for a contiguous 1-D array.

    Parameters
    ----------
    x : ndarray, shape (m,), contiguous; the sum has its dtype
    start, n : int64
        The range, n >= 1. Pass them as int64 values, never as literal constants
        (``np.int64(0)``, not ``0``): Numba compiles a separate copy for each literal.

    Blocks of up to 128 elements, above that the sum of two halves (the first a multiple
    of 8). NumPy recurses; this walks the same tree with a stack (a recursive kernel
    crashed when loaded from Numba's cache).
    """
    if n <= 128:
        return _pairwise_block(x, start, n)
    # Segments still to sum, as rows (start, length, children done), and the partial
    # results, in post-order.
    segments = np.empty((_MAX_DEPTH, 3), dtype=np.int64)
    partial = np.empty(_MAX_DEPTH, dtype=x.dtype)
    depth, n_partial = 1, 0
    segments[0, 0], segments[0, 1], segments[0, 2] = start, n, 0
    while depth > 0:
        top = depth - 1
        lo, m, done = segments[top, 0], segments[top, 1], segments[top, 2]
        if m <= 128:
            partial[n_partial] = _pairwise_block(x, lo, m)
            n_partial += 1
            depth -= 1
        elif done == 2:
            partial[n_partial - 2] = partial[n_partial - 2] + partial[n_partial - 1]
            n_partial -= 1
            depth -= 1
        else:
            half = m // 2
            half -= half % 8
            segments[top, 2] = done + 1
            segments[depth, 0] = lo if done == 0 else lo + half
            segments[depth, 1] = half if done == 0 else m - half
            segments[depth, 2] = 0
            depth += 1
    return partial[0]
