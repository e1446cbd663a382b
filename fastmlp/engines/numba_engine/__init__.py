"""The compiled engine: the reference engine's interface as Numba kernels.

Public functions have the same names and signatures as ``numpy_engine``'s and
translate names to integer codes; the ``_``-prefixed kernels do the work. GEMMs go
to BLAS through ``np.dot`` (measured at numpy's matmul speed inside ``@njit``); the
elementwise work around them is fused into single passes: bias + activation,
derivative x delta, loss + output delta, gradient + L2 term + scaling, and one
optimizer update over the flat parameter vector. ``train_epoch`` runs a whole epoch
of minibatches in one compiled call with buffers allocated once per epoch.

``loss_and_grad`` (L-BFGS's full-batch evaluation, one Python call per iteration
anyway) is the exception: it keeps NumPy's GEMMs and transcendental ufuncs so that it
is scikit-learn's function to the last bit, because L-BFGS amplifies rounding
differences into different models.

tanh and exp (hidden tanh layers, softmax, the Poisson output) call NumPy's own inner
loops (``_numpy_loops``), so they give scikit-learn's values bit for bit. float32 arrays
stay float32 in memory and in BLAS, but for float64 targets of a float32 network, whose
deltas and gradients are float64 as in scikit-learn; other scalar elementwise math is
done in float64 and rounded once on store (within 1 ulp of NumPy's float32 result).
"""

import functools
import math
import numbers

import numpy as np
import scipy.sparse as sp
from numba.extending import intrinsic, overload

from ..._numba_options import inlined_kernel, kernel
from ..._params import param_offsets, unpack
from . import _numpy_loops
from . import _vector_math as vm
from .. import numpy_engine as _reference
from .._names import (
    ACTIVATION_CODES,
    EXP,
    IDENTITY,
    LEAKY_RELU,
    LEAKY_RELU_SLOPE,
    LOG_LOSS,
    LOGISTIC,
    LOSS_CODES,
    POISSON,
    RELU,
    SGD,
    SOFTMAX,
    SOFTPLUS,
    SQUARED_ERROR,
    TANH,
)

_EMPTY_WEIGHTS = np.empty(0, dtype=np.float64)


@intrinsic
def _like(typingctx, value, array):
    """``value`` converted to ``array``'s dtype, as NumPy converts a Python scalar in
    ``array * value`` (the per-call ``np.full(1, value, dtype)[0]`` it replaces allocated,
    and on small batches allocation and reference counting took ~45% of an epoch)."""
    sig = array.dtype(value, array)

    def codegen(context, builder, signature, args):
        return context.cast(builder, args[0], signature.args[0], signature.return_type)

    return sig, codegen


def _as_dtype_of(a, buffer):
    """``a`` where it already has ``buffer``'s dtype (no copy), else ``buffer`` (of a's
    shape) holding a's values converted. Compiled code only: its overload below picks
    the branch from the types, so the common same-dtype case costs nothing."""
    raise NotImplementedError("for compiled code")


@overload(_as_dtype_of)
def _as_dtype_of_overload(a, buffer):
    if a.dtype == buffer.dtype:
        return lambda a, buffer: a

    def convert(a, buffer):
        n, m = a.shape
        for i in range(n):
            for j in range(m):
                buffer[i, j] = a[i, j]
        return buffer

    return convert


# NumPy's message (np.average), which scikit-learn users see for a minibatch whose
# sample weights sum to zero.
_ZERO_WEIGHTS = "Weights sum to zero, can't be normalized"


# -- elementwise kernels -------------------------------------------------------------
@kernel
def _softplus(z):
    # log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|)); NaN propagates.
    return (z if z > 0 else 0.0) + vm.log1p(vm.exp(-abs(z)))


@inlined_kernel
def _exp_flat(z, loops):
    """z = exp(z) in place, 1-D contiguous: NumPy's own loop where ``loops`` has it."""
    if loops[_numpy_loops.EXP] != 0:
        _numpy_loops.call_unary_loop(loops[_numpy_loops.EXP], loops[_numpy_loops.EXP + 1], z, z)
    else:
        for k in range(z.shape[0]):
            z[k] = vm.exp(np.float64(z[k]))


@kernel
def _softmax_rows(Z, b, loops):
    """Z[i] = softmax(Z[i] + b) in place. Z (n, o) C-contiguous, b (o,).

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
    _exp_flat(flat, loops)
    for i in range(n):
        total = _pairwise_sum(flat, i * o, o)
        for j in range(o):
            Z[i, j] = Z[i, j] / total


@kernel
def _activate_flat(z, code, loops):
    """z = f(z) in place; z 1-D contiguous. One loop per activation so each vectorizes
    (a branch on ``code`` inside the loop measured 7x slower). tanh and exp run NumPy's
    own loops where ``loops`` (``_numpy_loops.loops(z.dtype)``) has them: scikit-learn's
    values, at NumPy's speed."""
    if code == RELU:
        for k in range(z.shape[0]):
            v = z[k]
            z[k] = 0.0 if v < 0 else v  # NaN stays NaN
    elif code == LEAKY_RELU:
        for k in range(z.shape[0]):
            v = z[k]
            z[k] = LEAKY_RELU_SLOPE * v if v < 0 else v
    elif code == TANH:
        if loops[_numpy_loops.TANH] != 0:
            _numpy_loops.call_unary_loop(loops[_numpy_loops.TANH], loops[_numpy_loops.TANH + 1], z, z)
        else:
            for k in range(z.shape[0]):
                z[k] = vm.tanh(np.float64(z[k]))
    elif code == LOGISTIC:
        # SciPy's expit, 1 / (1 + exp(-z)), in the array's own precision: exp rounded
        # to the dtype first, then one add and one divide in that dtype. In float32 this
        # reproduces scikit-learn's probabilities bit for bit (a float64 logistic rounded
        # once differed by up to 2 ulp, which near p = 1 is a large change in 1 - p).
        # SciPy's own loop is not used: it calls the C library's exp value by value, 2x
        # slower than this.
        one = _like(1.0, z)
        for k in range(z.shape[0]):
            z[k] = vm.exp(-np.float64(z[k]))
        for k in range(z.shape[0]):
            z[k] = one / (one + z[k])
    elif code == SOFTPLUS:
        for k in range(z.shape[0]):
            z[k] = _softplus(np.float64(z[k]))
    elif code == EXP:
        _exp_flat(z, loops)


@inlined_kernel
def _bias_activation(Z, b, code, loops):
    """Z = f(Z + b) in place. Z (n, o) C-contiguous, b (o,); code from ``ACTIVATION_CODES``;
    loops: ``_numpy_loops.loops(Z.dtype)``.

    Two passes, bias then activation over the flat array: a fused row loop vectorizes
    only along rows, and MLP rows are often narrow (a 1000x8 tanh ran 6.5x slower
    fused); the second pass over a cache-resident batch costs little next to the GEMM.
    """
    if code == SOFTMAX:
        _softmax_rows(Z, b, loops)
        return
    n, o = Z.shape
    for i in range(n):
        for j in range(o):
            Z[i, j] = Z[i, j] + b[j]
    if code != IDENTITY:
        _activate_flat(Z.reshape(n * o), code, loops)


@inlined_kernel
def _apply_derivative(A, delta, code):
    """delta *= f'(Z) in place, f' written from the layer output A. Both (n, o), C-contiguous.

    Operation by operation as scikit-learn writes it (``delta *= Z; delta *= 1 - Z``), the
    factor in A's dtype and the product in delta's, so that rounding is scikit-learn's
    (also for float64 deltas of a float32 network).
    """
    a_flat = A.reshape(A.size)
    d = delta.reshape(delta.size)
    one = _like(1.0, A)
    if code == RELU:
        for k in range(d.shape[0]):
            d[k] = 0.0 if a_flat[k] == 0 else d[k]
    elif code == TANH:
        for k in range(d.shape[0]):
            a = a_flat[k]
            d[k] = d[k] * (one - a * a)
    elif code == LOGISTIC:
        for k in range(d.shape[0]):
            a = a_flat[k]
            d[k] = (d[k] * a) * (one - a)
    elif code == LEAKY_RELU:
        slope = _like(LEAKY_RELU_SLOPE, A)
        for k in range(d.shape[0]):
            d[k] = d[k] if a_flat[k] > 0 else d[k] * slope
    elif code == SOFTPLUS:
        for k in range(d.shape[0]):
            d[k] = d[k] * -vm.expm1(-np.float64(a_flat[k]))


@kernel
def _loss_terms(out, Y, loss_code, clip_eps, terms):
    """terms[k] = the loss of element k (before averaging). All 1-D, same length.

    Branch-free per element (selects, not jumps) so the loop vectorizes.
    """
    if loss_code == SQUARED_ERROR:
        for k in range(out.shape[0]):
            r = np.float64(Y[k]) - np.float64(out[k])
            terms[k] = r * r
    elif loss_code == POISSON:
        for k in range(out.shape[0]):
            y = np.float64(Y[k])
            p = np.float64(out[k])
            xlogy = y * vm.log(y / p)
            terms[k] = (0.0 if y == 0 else xlogy) - y + p
    elif loss_code == LOG_LOSS:
        for k in range(out.shape[0]):
            y = np.float64(Y[k])
            q = min(max(np.float64(out[k]), clip_eps), 1.0 - clip_eps)
            xlogy = y * vm.log(q)
            terms[k] = -(0.0 if y == 0 else xlogy)
    else:
        for k in range(out.shape[0]):
            y = np.float64(Y[k])
            q = min(max(np.float64(out[k]), clip_eps), 1.0 - clip_eps)
            pos = y * vm.log(q)
            neg = (1.0 - y) * vm.log(1.0 - q)
            terms[k] = -((0.0 if y == 0 else pos) + (0.0 if y == 1 else neg))


@inlined_kernel
def _output_delta(out, Y, sw, loss_code, clip_eps, delta):
    """Data loss (float64) and delta = (out - Y) * sw. out, Y, delta (n, o) C-contiguous;
    sw (n,) or (0,) for unweighted. The loss terms pass through delta as scratch."""
    n, o = out.shape
    weighted = sw.shape[0] > 0
    out_flat = out.reshape(n * o)
    y_flat = Y.reshape(n * o)
    d = delta.reshape(n * o)
    _loss_terms(out_flat, y_flat, loss_code, clip_eps, d)
    total = 0.0
    weight_sum = 0.0
    for i in range(n):
        w = sw[i] if weighted else 1.0
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
    if weighted:
        for i in range(n):
            for j in range(o):
                delta[i, j] = delta[i, j] * sw[i]
    return value


#: Partial sums in ``_sum_of_squares``: lane k % 64 takes element k.
_SQUARES_LANES = 64


@inlined_kernel
def _sum_of_squares(w):
    """Sum of w**2 in float64, in a fixed order whatever the thread count (BLAS's dot
    splits long vectors across threads): 64 partial sums, lane k % 64 taking element k,
    added up in lane order at the end. The update of all 64 lanes is a vector loop
    (a scalar reduction cannot vectorize without reassociation); measured on 235k
    float32 weights: 32 us against 114 us for eight scalar partial sums."""
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
    """NumPy's pairwise sum of x[start:start + n] for n <= 128: eight running sums."""
    if n < 8:  # n >= 1
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
def _pairwise_sum(x, start, n):
    """Sum of x[start:start + n] (n >= 1) in NumPy's order for a contiguous 1-D array
    (``np.sum``): blocks of up to 128, above that the sum of two halves (the first a
    multiple of 8). NumPy recurses; this walks the same tree with a stack (a recursive
    kernel crashed when loaded from Numba's cache)."""
    if n <= 128:
        return _pairwise_block(x, start, n)
    # Segments still to sum (start, length, children done) and partial results, post-order.
    seg_start = np.empty(64, dtype=np.int64)
    seg_len = np.empty(64, dtype=np.int64)
    seg_done = np.empty(64, dtype=np.int64)
    partial = np.empty(64, dtype=x.dtype)
    depth, n_partial = 1, 0
    seg_start[0], seg_len[0], seg_done[0] = start, n, 0
    while depth > 0:
        top = depth - 1
        lo, m = seg_start[top], seg_len[top]
        if m <= 128:
            partial[n_partial] = _pairwise_block(x, lo, m)
            n_partial += 1
            depth -= 1
            continue
        half = m // 2
        half -= half % 8
        if seg_done[top] == 0:
            seg_done[top] = 1
            seg_start[depth], seg_len[depth], seg_done[depth] = lo, half, 0
            depth += 1
        elif seg_done[top] == 1:
            seg_done[top] = 2
            seg_start[depth], seg_len[depth], seg_done[depth] = lo + half, m - half, 0
            depth += 1
        else:
            partial[n_partial - 2] = partial[n_partial - 2] + partial[n_partial - 1]
            n_partial -= 1
            depth -= 1
    return partial[0]


@inlined_kernel
def _exact_reciprocal(denom):
    """1 / denom when that is exact (denom a power of two, as batch sizes often are), so
    that multiplying by it rounds as dividing by denom; 0.0 otherwise."""
    n = np.int64(denom)
    return 1.0 / denom if n > 0 and np.float64(n) == denom and (n & (n - 1)) == 0 else 0.0


@inlined_kernel
def _add_l2_and_scale(g, W, alpha, denom, denom_is_count):
    """g = (g + alpha W) / denom in place, g and W C-contiguous of one shape.

    Rounded as scikit-learn's ``g += alpha * W; g /= denom``: alpha W in W's dtype, the sum
    in g's; a row count divides in g's dtype, a float64 weight sum in float64. A power of
    two is applied as its exact reciprocal: the same result, without a division per
    element (measured: 512x512 float64 from 161 us to the memory-bound cost).
    """
    gf = g.reshape(g.size)
    wf = W.reshape(W.size)
    alpha_w = _like(alpha, W)
    inverse = _exact_reciprocal(denom) if denom_is_count else 0.0
    if inverse != 0.0:
        inv = _like(inverse, g)
        for k in range(gf.shape[0]):
            gf[k] = (gf[k] + alpha_w * wf[k]) * inv
    elif denom_is_count:
        d = _like(denom, g)
        for k in range(gf.shape[0]):
            gf[k] = (gf[k] + alpha_w * wf[k]) / d
    else:
        for k in range(gf.shape[0]):
            gf[k] = (gf[k] + alpha_w * wf[k]) / denom


@inlined_kernel
def _layer_grads(A_prev, delta, W, alpha, denom, denom_is_count, gW, gb):
    """gW = (A_prev.T @ delta + alpha W) / denom; gb = column sums of delta / denom.

    Rounded as NumPy does it with Python scalars (see ``_add_l2_and_scale``); the column
    sums in NumPy's order: row after row, pairwise when delta has a single column.
    """
    np.dot(A_prev.T, delta, gW)
    _add_l2_and_scale(gW, W, alpha, denom, denom_is_count)
    n_rows, n_out = delta.shape
    if n_out == 1:
        gb[0] = _pairwise_sum(delta.reshape(n_rows), 0, n_rows)
    else:
        gb[:] = 0.0
        for i in range(n_rows):
            for j in range(n_out):
                gb[j] += delta[i, j]
    if denom_is_count:
        d = _like(denom, gb)
        for j in range(n_out):
            gb[j] = gb[j] / d
    else:
        for j in range(n_out):
            gb[j] = gb[j] / denom


@inlined_kernel
def _sgd_step(params, grads, velocity, lr, momentum, nesterov):
    """v = momentum v - lr g; params += v, or momentum v - lr g with Nesterov. 1-D.

    As scikit-learn's NumPy arithmetic with Python floats: the velocity's dtype (the
    gradients', float64 for a float32 network trained on float64 targets), the update
    added to params and rounded to their dtype.
    """
    lr_t = _like(lr, velocity)
    mom_t = _like(momentum, velocity)
    for k in range(params.shape[0]):
        g = grads[k]
        velocity[k] = mom_t * velocity[k] - lr_t * g
        if nesterov:
            params[k] = params[k] + (mom_t * velocity[k] - lr_t * g)
        else:
            params[k] = params[k] + velocity[k]


@kernel
def _adam_step(params, grads, m, v, lr, beta_1, beta_2, epsilon):
    """Adam moments and update, lr already bias-corrected. All 1-D.

    As scikit-learn: moments in their own dtype (the gradients'); the step in float64 (its
    bias-corrected rate is a NumPy float64), added and rounded back into params.
    """
    b1 = _like(beta_1, m)
    b2 = _like(beta_2, v)
    one_minus_b1 = _like(1.0 - beta_1, m)
    one_minus_b2 = _like(1.0 - beta_2, v)
    eps = _like(epsilon, v)
    for k in range(params.shape[0]):
        g = grads[k]
        m[k] = b1 * m[k] + one_minus_b1 * g
        v[k] = b2 * v[k] + one_minus_b2 * (g * g)
        params[k] = np.float64(params[k]) + (-lr * np.float64(m[k])) / np.float64(np.sqrt(v[k]) + eps)


# -- whole network -------------------------------------------------------------------
@kernel
def _layer_views(flat, offsets, units):
    """Per-layer views of a flat parameter vector: (coefficient matrices (units[l],
    units[l + 1]), intercept vectors (units[l + 1],)), as two lists."""
    n_layers = units.shape[0] - 1
    coefs = [flat[offsets[layer] : offsets[layer + 1]].reshape((units[layer], units[layer + 1]))
             for layer in range(n_layers)]
    intercepts = [flat[offsets[n_layers + layer] : offsets[n_layers + layer + 1]] for layer in range(n_layers)]
    return coefs, intercepts


@kernel
def _forward_backward(Ws, bs, gWs, gbs, coefs, acts, deltas, acts_g, Ws_g, Y, sw, act_code, out_code, loss_code,
                      clip_eps, alpha, loops):
    """Loss of one batch and its gradient into gWs/gbs (views of the flat gradient).

    Ws, bs: per-layer views of the parameters; coefs: all coefficients, flat. acts[0]
    holds the batch's inputs; acts[l] (rows, units[l]) and deltas[l] (rows, units[l + 1])
    are work buffers of the batch's row count, overwritten here. Views are made once per
    epoch by the caller: each view costs atomic reference-count updates, which on small
    layers outweighed the arithmetic.

    Deltas and gradients have Y's dtype, as NumPy's ``output - Y`` gives them: float64
    for a float32 network trained on float64 targets, which scikit-learn backpropagates
    in float64. The GEMMs then read activations and coefficients converted into acts_g
    and Ws_g (empty, and unused, when the dtypes agree).
    """
    n_layers = len(Ws)
    n_rows = acts[0].shape[0]
    for layer in range(n_layers):
        Z = acts[layer + 1]
        np.dot(acts[layer], Ws[layer], Z)
        _bias_activation(Z, bs[layer], out_code if layer == n_layers - 1 else act_code, loops)
    value = _output_delta(acts[n_layers], Y, sw, loss_code, clip_eps, deltas[n_layers - 1])
    squares = _sum_of_squares(coefs)
    denom = np.float64(n_rows)
    if sw.shape[0] > 0:
        denom = _pairwise_sum(sw, 0, n_rows)  # scikit-learn's sample_weight.sum()
    value += 0.5 * alpha * squares / denom
    for layer in range(n_layers - 1, -1, -1):
        delta = deltas[layer]
        A_prev = _as_dtype_of(acts[layer], acts_g[layer])
        _layer_grads(A_prev, delta, Ws[layer], alpha, denom, sw.shape[0] == 0, gWs[layer], gbs[layer])
        if layer > 0:
            prev = deltas[layer - 1]
            np.dot(delta, _as_dtype_of(Ws[layer], Ws_g[layer]).T, prev)
            _apply_derivative(acts[layer], prev, act_code)
    return value


@kernel
def _train_epoch(theta, offsets, units, X, Y, sw, order, batch_size, act_code, out_code, loss_code, clip_eps, alpha,
                 solver, lr, momentum, nesterov, velocity, beta_1, beta_2, epsilon, t, m, v, loops, mixed):
    """All minibatches of one epoch. Returns (sum of batch loss x batch rows, adam t, -1),
    or stops before a batch whose sample weights sum to zero and returns its start.

    mixed: Y's dtype is wider than X's (and theta's): deltas, gradients and the optimizer
    vectors then have Y's dtype (see ``_forward_backward``)."""
    n = order.shape[0]
    n_layers = units.shape[0] - 1
    rows = min(batch_size, n)
    full_acts = [np.empty((rows, units[layer]), dtype=X.dtype) for layer in range(n_layers + 1)]
    full_deltas = [np.empty((rows, units[layer + 1]), dtype=Y.dtype) for layer in range(n_layers)]
    g_rows = rows if mixed else 0
    full_acts_g = [np.empty((g_rows, units[layer]), dtype=Y.dtype) for layer in range(n_layers)]
    Ws_g = [np.empty((units[layer] if mixed else 0, units[layer + 1] if mixed else 0), dtype=Y.dtype)
            for layer in range(n_layers)]
    full_Y = np.empty((rows, Y.shape[1]), dtype=Y.dtype)
    weighted = sw.shape[0] > 0
    full_sw = np.empty(rows if weighted else 0, dtype=np.float64)
    grad = np.empty(theta.shape[0], dtype=Y.dtype)
    Ws, bs = _layer_views(theta, offsets, units)
    gWs, gbs = _layer_views(grad, offsets, units)
    coefs = theta[: offsets[n_layers]]
    X0 = full_acts[0]
    n_features, n_targets = X.shape[1], Y.shape[1]
    total = 0.0
    for start in range(0, n, rows):
        n_rows = min(rows, n - start)
        # Element loops, not row slices: a slice is an array view whose reference count
        # is updated atomically, which took a quarter of a 1000x2 epoch.
        for r in range(n_rows):
            src = order[start + r]
            for c in range(n_features):
                X0[r, c] = X[src, c]
            for c in range(n_targets):
                full_Y[r, c] = Y[src, c]
            if weighted:
                full_sw[r] = sw[src]
        if weighted and _pairwise_sum(full_sw, 0, n_rows) == 0.0:
            return total, t, start  # scikit-learn's np.average raises here, before any update
        if n_rows == rows:
            value = _forward_backward(Ws, bs, gWs, gbs, coefs, full_acts, full_deltas, full_acts_g, Ws_g, full_Y,
                                      full_sw, act_code, out_code, loss_code, clip_eps, alpha, loops)
        else:  # the last, shorter batch
            acts = [a[:n_rows] for a in full_acts]
            deltas = [d[:n_rows] for d in full_deltas]
            acts_g = [a[: min(n_rows, g_rows)] for a in full_acts_g]
            value = _forward_backward(Ws, bs, gWs, gbs, coefs, acts, deltas, acts_g, Ws_g, full_Y[:n_rows],
                                      full_sw[:n_rows] if weighted else full_sw, act_code, out_code, loss_code,
                                      clip_eps, alpha, loops)
        total += value * n_rows
        if solver == SGD:
            _sgd_step(theta, grad, velocity, lr, momentum, nesterov)
        else:
            t += 1
            lr_t = lr * math.sqrt(1.0 - beta_2 ** np.float64(t)) / (1.0 - beta_1 ** np.float64(t))
            _adam_step(theta, grad, m, v, lr_t, beta_1, beta_2, epsilon)
    return total, t, -1


# -- public interface (same signatures as numpy_engine) ---------------------------------
def _weights(sw):
    return _EMPTY_WEIGHTS if sw is None else np.ascontiguousarray(sw, dtype=np.float64)


def _require_c_contiguous(**arrays):
    for name, a in arrays.items():
        if not a.flags.c_contiguous:
            raise ValueError(f"numba engine: {name} must be C-contiguous (np.ascontiguousarray)")


def _clip_eps(dtype):
    return float(np.finfo(dtype).eps)


def dense_forward(A, W, b, activation, out):
    """out = activation(A @ W + b). A (n, i), W (i, o), b (o,), out (n, o). Returns out."""
    _require_c_contiguous(out=out)
    np.matmul(A, W, out=out)
    _bias_activation(out, b, ACTIVATION_CODES[activation], _numpy_loops.loops(out.dtype))
    return out


def activation_derivative(A, delta, activation):
    """delta *= f'(Z), with f' written from the layer output A. Both (n, o)."""
    _require_c_contiguous(A=A, delta=delta)
    _apply_derivative(A, delta, ACTIVATION_CODES[activation])
    return delta


def backprop_delta(delta, W, A_prev, activation, out):
    """out = (delta @ W.T) * f'(A_prev). delta (n, o), W (i, o), A_prev and out (n, i)."""
    _require_c_contiguous(A_prev=A_prev, out=out)
    np.matmul(delta, W.T, out=out)
    _apply_derivative(A_prev, out, ACTIVATION_CODES[activation])
    return out


def output_delta(out, Y, sw, loss, delta):
    """Data loss of the batch (scikit-learn's definitions); delta = (out - Y) * sw.

    out, Y, delta (n, o); sw (n,) float64 or None. Returns a Python float.
    """
    _require_c_contiguous(out=out, Y=Y, delta=delta)
    if sw is not None and np.sum(sw) == 0:
        raise ZeroDivisionError(_ZERO_WEIGHTS)
    return float(_output_delta(out, Y, _weights(sw), LOSS_CODES[loss], _clip_eps(out.dtype), delta))


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


@functools.lru_cache(maxsize=64)
def _network_arrays(layer_units):
    offsets = param_offsets(layer_units)
    units = np.asarray(layer_units, dtype=np.int64)
    return offsets, units


def _network_args(layer_units):
    """(offsets, units) int64 arrays for the kernels, cached per architecture."""
    return _network_arrays(tuple(int(u) for u in layer_units))


#: Activations whose compiled kernel rounds exactly as NumPy does (the others, and the
#: derivatives of fastmlp's own leaky_relu and softplus, take the reference's NumPy calls
#: in ``loss_and_grad``, so that both engines' L-BFGS fits agree too).
_EXACT_IN_KERNELS = (IDENTITY, RELU)


def _forward_as_scikit_learn(Z, b, activation):
    """Z = f(Z + b) in place, rounded as scikit-learn's (and the reference engine's)
    NumPy/SciPy calls round it: the compiled kernel where its result is exact, NumPy's
    own ufunc after the bias otherwise."""
    code = ACTIVATION_CODES[activation]
    loops = _numpy_loops.loops(Z.dtype)
    if code in _EXACT_IN_KERNELS:
        _bias_activation(Z, b, code, loops)
    else:
        _bias_activation(Z, b, IDENTITY, loops)
        Z[...] = _reference.activate(Z, activation)


# A diverging L-BFGS run overflows: inf and NaN are its results here, not warnings.
@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss, alpha, grad):
    """Regularized loss of the batch (X, Y, sw) and its gradient, written into grad.

    L-BFGS's evaluation, bit for bit scikit-learn's (L-BFGS turns a 1-ulp difference into
    another model within a couple of hundred iterations): GEMMs through NumPy's matmul
    (Numba's ``np.dot`` calls SciPy's OpenBLAS, another build), tanh/logistic/exp/softmax
    and the loss through the NumPy and SciPy calls scikit-learn makes, sums in NumPy's
    order; compiled kernels for the steps they round identically (bias + identity/relu,
    scikit-learn's derivatives, the gradient's L2 term and scaling). Arguments as
    ``numpy_engine``'s.
    """
    _require_c_contiguous(theta=theta, Y=Y, grad=grad)
    if not sp.issparse(X):
        _require_c_contiguous(X=X)
    coefs, intercepts = unpack(theta, layer_units)
    gcoefs, gintercepts = unpack(grad, layer_units)
    n_layers = len(coefs)
    act_code = ACTIVATION_CODES[activation]
    acts = [X]  # X may be a SciPy sparse matrix: ``@`` is then its product, as scikit-learn's
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = np.ascontiguousarray(acts[-1] @ W)
        _forward_as_scikit_learn(Z, b, out_activation if layer == n_layers - 1 else activation)
        acts.append(Z)
    denom = X.shape[0] if sw is None else sw.sum()
    value = _reference.with_l2_term(_reference.data_loss(acts[-1], Y, sw, loss), coefs, alpha, denom)
    delta = acts[-1] - Y
    if sw is not None:
        delta *= sw.reshape(-1, 1)
    for layer in range(n_layers - 1, -1, -1):
        g = np.ascontiguousarray(acts[layer].T @ delta)
        if isinstance(alpha, np.generic):  # a NumPy scalar takes part in NumPy's type promotion
            g += alpha * coefs[layer]
            g /= denom
        else:
            _add_l2_and_scale(g, coefs[layer], float(alpha), float(denom), sw is None)
        gcoefs[layer][...] = g
        gintercepts[layer][...] = np.sum(delta, axis=0) / denom
        if layer > 0:
            delta = np.matmul(delta, coefs[layer].T)
            if act_code in (LEAKY_RELU, SOFTPLUS):
                _reference.activation_derivative(acts[layer], delta, activation)
            else:
                _apply_derivative(acts[layer], delta, act_code)
    return float(value)


def train_epoch(theta, layer_units, X, Y, sw, order, batch_size, activation, out_activation, loss, alpha, optimizer):
    """One pass over the rows ``order`` of (X, Y, sw) in minibatches of batch_size.

    Updates theta and the optimizer state in place. Returns the sum over batches of
    batch loss times batch length (scikit-learn's ``accumulated_loss``).
    """
    _require_c_contiguous(theta=theta)
    offsets, units = _network_args(layer_units)
    sgd = optimizer.solver == SGD
    empty = np.empty(0, dtype=Y.dtype)  # for the other solver's state vectors
    total, t, zero_weight_batch = _train_epoch(
        theta, offsets, units, X, Y, _weights(sw), np.asarray(order, dtype=np.int64), int(batch_size),
        ACTIVATION_CODES[activation], ACTIVATION_CODES[out_activation], LOSS_CODES[loss], _clip_eps(X.dtype), float(alpha),
        optimizer.solver, float(optimizer.learning_rate if sgd else optimizer.learning_rate_init),
        float(optimizer.momentum) if sgd else 0.0, bool(optimizer.nesterov) if sgd else False,
        optimizer.velocity if sgd else empty,
        0.0 if sgd else float(optimizer.beta_1), 0.0 if sgd else float(optimizer.beta_2),
        0.0 if sgd else float(optimizer.epsilon), 0 if sgd else int(optimizer.t),
        empty if sgd else optimizer.m, empty if sgd else optimizer.v, _numpy_loops.loops(X.dtype),
        Y.dtype != X.dtype,
    )
    if not sgd:
        optimizer.t = t
    if zero_weight_batch >= 0:
        raise ZeroDivisionError(_ZERO_WEIGHTS)
    return float(total)
