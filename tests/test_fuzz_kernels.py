"""Property tests: Numba kernels against the NumPy reference on random shapes and values.

Shapes 1..40 in every dimension, float32 and float64, every element of an array its own
value over the whole range a kernel accepts (pre-activations up to 1e4, subnormals,
signed zeros, NaN where the property is about NaN). ``tests/test_kernels.py`` holds the hand-picked
cases; this file looks for the ones nobody picked.

Example counts come from a settings profile chosen by the environment variable
``FASTMLP_FUZZ_PROFILE``: ``ci`` (default: 25 examples per case, the same ones every
run), ``dev`` (fewer), or ``thorough`` (2000, drawn anew, for a nightly or pre-release
run: about 15 minutes on 2 cores). Every test has ``deadline=None``:
the first call of a kernel may compile it.
"""

import os
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fastmlp._optimizers import AdamState, SGDState
from fastmlp._params import param_offsets
from fastmlp.engines import get_engine
from fastmlp.engines._names import CANONICAL_OUTPUT, HIDDEN_ACTIVATIONS

from .tolerances import kernel_tol, training_tol

NUMBA = get_engine("numba")
REFERENCE = get_engine("numpy")

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# CI draws the same examples on every run (derandomize): a red CI run is then the
# code's doing and reproducible; the thorough profile draws new ones each time.
settings.register_profile("fastmlp-fuzz-ci", max_examples=25, derandomize=True, **_COMMON)
settings.register_profile("fastmlp-fuzz-dev", max_examples=10, **_COMMON)
settings.register_profile("fastmlp-fuzz-thorough", max_examples=2000, **_COMMON)
FUZZ = settings.get_profile("fastmlp-fuzz-" + os.environ.get("FASTMLP_FUZZ_PROFILE", "ci"))

FORWARD_ACTIVATIONS = HIDDEN_ACTIVATIONS + ("softmax", "exp")
LOSSES = tuple(CANONICAL_OUTPUT)
MAX_DIM = 40

DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
dims = st.integers(1, MAX_DIM)


def floats(dtype, limit, allow_nan=False, nonzero=False):
    """Floats of ``dtype`` with |x| <= limit, NaN too if ``allow_nan``, no zeros if
    ``nonzero``: a third below 10 in magnitude (the range where activations bend), a
    third over the whole range, a third edge values (±limit, the smallest subnormal and
    normal numbers, signed zeros)."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    tiny = float(np.finfo(dtype).smallest_subnormal)

    def signed(bound):
        if not nonzero:
            return st.floats(-bound, bound, width=width)
        return st.floats(tiny, bound, width=width) | st.floats(-bound, -tiny, width=width)

    edges = [limit, -limit, tiny, -tiny, float(np.finfo(dtype).tiny), -float(np.finfo(dtype).tiny)]
    values = signed(min(limit, 10.0)) | signed(limit) | st.sampled_from(edges + ([] if nonzero else [0.0, -0.0]))
    return values | st.just(np.nan) if allow_nan else values


#: Most elements Hypothesis places one by one in an array (the rest come from ``seeds``).
MAX_DRAWN_ELEMENTS = 8
seeds = st.integers(0, 2**32 - 1)


@st.composite
def arrays(draw, dtype, shape, limit, allow_nan=False, nonzero=False):
    """Arrays of ``dtype`` with |x| <= limit in which every element is drawn on its own.

    Up to ``MAX_DRAWN_ELEMENTS`` elements at drawn positions come from ``floats`` (the
    edge values), every other one from a seeded generator: half uniform in [-10, 10]
    (clipped to the limit), half of a log-uniform magnitude from the smallest subnormal
    to the limit with a random sign; unless ``nonzero`` 1 in 32 a zero of random sign,
    and if ``allow_nan`` 1 in 64 a NaN. Not ``hypothesis.extra.numpy.arrays``' default,
    which fills an array with one drawn value and draws only a few elements (1 to 56
    distinct values in arrays of 500 to 1521 elements), nor its ``fill=st.nothing()``,
    whose ~10 bytes of choices per element overrun Hypothesis's 8 KiB buffer from about
    800 elements on. ``nonzero``: a zero delta hides any derivative."""
    shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    size = int(np.prod(shape))
    rng = np.random.default_rng(draw(seeds, label="seed"))
    tiny = float(np.finfo(dtype).smallest_subnormal)
    bend = rng.uniform(-min(limit, 10.0), min(limit, 10.0), size)
    magnitude = np.minimum(10.0 ** rng.uniform(np.log10(tiny), np.log10(limit), size), limit)
    wide = np.copysign(magnitude, rng.uniform(-1, 1, size))
    x = np.where(rng.random(size) < 0.5, bend, wide)
    if nonzero:  # (rounding to a subnormal float32 may give 0; move it to the smallest one)
        x = np.where(np.abs(x.astype(dtype)) == 0, np.copysign(tiny, x), x)
    else:  # zeros of both signs, as relu layers and sparse data have them
        x = np.where(rng.random(size) < 1 / 32, np.copysign(0.0, wide), x)
    if allow_nan:
        x = np.where(rng.random(size) < 1 / 64, np.nan, x)
    x = x.astype(dtype)
    drawn = draw(st.integers(0, min(size, MAX_DRAWN_ELEMENTS)), label="elements drawn by Hypothesis")
    for i in rng.choice(size, drawn, replace=False):
        x[i] = draw(floats(dtype, limit, allow_nan, nonzero))
    return x.reshape(shape)


def preactivation_limit(activation, dtype):
    """1e4, or for exp the largest |z| whose exp stays finite with a margin."""
    if activation == "exp":
        return 80.0 if np.dtype(dtype) == np.float32 else 700.0
    return 1e4


def activate(Z, activation):
    """activation(Z) by the reference engine (Z @ I == Z exactly for finite Z)."""
    o = Z.shape[1]
    return REFERENCE.dense_forward(Z, np.eye(o, dtype=Z.dtype), np.zeros(o, Z.dtype), activation, np.empty_like(Z))


def assert_close_to_reference(got, want, dtype, scale=0.0):
    """|got - want| <= atol + rtol * (|want| + scale), tolerances from the table.

    ``scale``: magnitude of the operands whose rounding the float32 reference (or a
    BLAS summation order) carries, e.g. |A|.T @ |delta| for a GEMM. Where the operands
    cancel, rounding error is relative to them, not to the small result.
    """
    tol = kernel_tol(dtype)
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    bound = tol["atol"] + tol["rtol"] * (np.abs(want) + scale)
    bad = ~(np.abs(got - want) <= bound)
    assert not bad.any(), f"{bad.sum()} of {bad.size} differ: got {got[bad][:5]}, want {want[bad][:5]}"


# -- the strategies ----------------------------------------------------------------------

#: Every limit the tests below pass to ``arrays``.
LIMITS = (1.0, 10.0, 80.0, 100.0, 700.0, 1e4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_arrays_are_varied_and_reach_the_extremes(dtype):
    """100 arrays as the tests draw them (the same ones every run). Each array of 16
    elements or more holds at least half as many distinct values as elements: every
    element is drawn on its own (repeats: the zeros and NaNs, ~5%, a few edge values and
    rare float32 collisions), while filled arrays held 1 to 56 distinct values in 500 to
    1521 elements. Across the arrays, each in 5 or more: zeros of both signs,
    subnormals, negatives, values within 1% of the limit, NaN (measured over 60 other
    seeds: 14 to 99 of each)."""
    seen = Counter()

    @settings(max_examples=100, derandomize=True, database=None, **_COMMON)
    @given(data=st.data(), n=dims, o=dims, limit=st.sampled_from(LIMITS), allow_nan=st.booleans(),
           nonzero=st.booleans())
    def sample(data, n, o, limit, allow_nan, nonzero):
        x = data.draw(arrays(dtype, (n, o), limit, allow_nan, nonzero))
        assert x.dtype == dtype and x.shape == (n, o)
        values = x[~np.isnan(x)]
        assert (np.abs(values) <= limit).all()
        assert allow_nan or values.size == x.size
        assert not nonzero or (values != 0).all()
        if x.size >= 16:
            assert np.unique(x).size >= x.size / 2, f"{np.unique(x).size} distinct values in {x.size}"
        seen["nan"] += values.size < x.size
        seen["+0"] += bool((values == 0)[~np.signbit(values)].any())
        seen["-0"] += bool((values == 0)[np.signbit(values)].any())
        seen["subnormal"] += bool(((values != 0) & (np.abs(values) < np.finfo(dtype).tiny)).any())
        seen["negative"] += bool((values < 0).any())
        seen["near the limit"] += bool((np.abs(values) >= 0.99 * limit).any())

    sample()
    assert all(seen[key] >= 5 for key in ("nan", "+0", "-0", "subnormal", "negative", "near the limit")), seen


# -- forward -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", FORWARD_ACTIVATIONS)
@FUZZ
@given(data=st.data(), n=dims, o=dims)
def test_activation_of_any_finite_preactivation(data, activation, dtype, n, o):
    Z = data.draw(arrays(dtype, (n, o), preactivation_limit(activation, dtype)), label="Z")
    got = NUMBA.dense_forward(Z, np.eye(o, dtype=dtype), np.zeros(o, dtype), activation, np.empty_like(Z))
    assert got.dtype == dtype
    assert np.isfinite(got).all()
    assert_close_to_reference(got, activate(Z, activation), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", FORWARD_ACTIVATIONS)
@FUZZ
@given(data=st.data(), n=dims, o=dims)
def test_nan_rows_stay_nan_and_others_match(data, activation, dtype, n, o):
    """With W = I, a NaN in row r reaches every unit of row r (NaN * 0 is NaN): those
    rows come out all NaN, the others as the reference computes them."""
    Z = data.draw(arrays(dtype, (n, o), preactivation_limit(activation, dtype), allow_nan=True), label="Z")
    got = NUMBA.dense_forward(Z, np.eye(o, dtype=dtype), np.zeros(o, dtype), activation, np.empty_like(Z))
    nan_rows = np.isnan(Z).any(axis=1)
    assert np.isnan(got[nan_rows]).all()
    if (~nan_rows).any():
        assert_close_to_reference(got[~nan_rows], activate(Z[~nan_rows], activation), dtype)


def gemm_error_scale(A, W, b, out, activation):
    """How far rounding in A @ W + b can move an output: |A| @ |W| + |b| (the GEMM error
    bound, in units of eps) times the activation's slope (1 for all but exp, whose slope
    is its value; softmax's outputs move with the largest logit change of their row)."""
    scale = np.abs(A.astype(np.float64)) @ np.abs(W.astype(np.float64)) + np.abs(b.astype(np.float64))
    if activation == "exp":
        return scale * np.abs(out.astype(np.float64))
    if activation == "softmax":
        return np.broadcast_to(scale.max(axis=1, keepdims=True), scale.shape)
    return scale


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", FORWARD_ACTIVATIONS)
@FUZZ
@given(data=st.data(), n=dims, i=dims, o=dims)
def test_dense_forward(data, activation, dtype, n, i, o):
    # Inputs and weights bounded so that |Z| <= i + 1 <= 41 (exp stays finite in float32);
    # other activations get inputs up to 1e4.
    a_limit = 1.0 if activation == "exp" else 1e4
    A = data.draw(arrays(dtype, (n, i), a_limit), label="A")
    W = data.draw(arrays(dtype, (i, o), 1.0), label="W")
    b = data.draw(arrays(dtype, (o,), 1.0), label="b")
    out = np.empty((n, o), dtype)
    got = NUMBA.dense_forward(A, W, b, activation, out)
    assert got is out
    assert got.dtype == dtype
    want = REFERENCE.dense_forward(A, W, b, activation, np.empty((n, o), dtype))
    assert_close_to_reference(got, want, dtype, scale=gemm_error_scale(A, W, b, want, activation))


# -- backward ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@FUZZ
@given(data=st.data(), n=dims, o=dims)
def test_activation_derivative(data, activation, dtype, n, o):
    A = activate(data.draw(arrays(dtype, (n, o), 1e4), label="Z"), activation)
    delta = data.draw(arrays(dtype, (n, o), 1e4, nonzero=True), label="delta")
    want = REFERENCE.activation_derivative(A, delta.copy(), activation)
    got = NUMBA.activation_derivative(A, delta.copy(), activation)
    assert got.dtype == dtype
    # The float32 reference's 1 - A**2 near |A| = 1 errs by ~3e-8 * |delta| absolute.
    assert_close_to_reference(got, want, dtype, scale=np.abs(delta))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@FUZZ
@given(data=st.data(), n=dims, i=dims, o=dims)
def test_backprop_delta(data, activation, dtype, n, i, o):
    delta = data.draw(arrays(dtype, (n, o), 100.0, nonzero=True), label="delta")
    W = data.draw(arrays(dtype, (i, o), 10.0, nonzero=True), label="W")
    A_prev = activate(data.draw(arrays(dtype, (n, i), 1e4), label="Z_prev"), activation)
    got = NUMBA.backprop_delta(delta, W, A_prev, activation, np.empty((n, i), dtype))
    want = REFERENCE.backprop_delta(delta, W, A_prev, activation, np.empty((n, i), dtype))
    assert_close_to_reference(got, want, dtype, scale=np.abs(delta) @ np.abs(W.T))


@st.composite
def loss_batches(draw, loss, dtype, n, o, min_weight=0.0, y_limit=1e4):
    """(out, Y, sw) in the loss's domain: out from the canonical output activation of
    drawn pre-activations, Y one-hot / 0-1 / counts / reals up to y_limit, sw None or
    >= min_weight with a positive sum."""
    out_activation = CANONICAL_OUTPUT[loss]
    Z = draw(arrays(dtype, (n, o), preactivation_limit(out_activation, dtype)), label="Z")
    out = activate(Z, out_activation)
    rng = np.random.default_rng(draw(seeds, label="targets seed"))
    if loss == "squared_error":
        Y = draw(arrays(dtype, (n, o), y_limit), label="Y")
    elif loss == "poisson":  # counts up to 20, all zeros included (mean 0)
        Y = np.minimum(rng.poisson(draw(st.floats(0, 20), label="mean count"), (n, o)), 20).astype(dtype)
    elif loss == "log_loss":
        Y = np.eye(o, dtype=dtype)[rng.integers(0, o, n)]
    else:  # all zeros and all ones included
        Y = (rng.random((n, o)) < draw(st.floats(0, 1), label="fraction of ones")).astype(dtype)
    sw = None
    if draw(st.booleans(), label="weighted"):
        sw = rng.uniform(min_weight, 10, n)
        if min_weight == 0:  # zero weights too, up to all of them
            sw[rng.random(n) < draw(st.floats(0, 1), label="fraction of zero weights")] = 0.0
        assume(sw.sum() > 1e-3)
    return out, Y, sw


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSSES)
@FUZZ
@given(data=st.data(), n=dims, o=dims)
def test_output_delta(data, loss, dtype, n, o):
    out, Y, sw = data.draw(loss_batches(loss, dtype, n, o))
    got_delta, want_delta = np.empty_like(out), np.empty_like(out)
    got = NUMBA.output_delta(out, Y, sw, loss, got_delta)
    REFERENCE.output_delta(out, Y, sw, loss, want_delta)
    assert np.isfinite(got)
    assert_close_to_reference(got_delta, want_delta, dtype)
    # The value against the reference evaluated in float64 on the same numbers, with a
    # tolerance relative to the size of the terms that float32 arithmetic rounds (1 - p,
    # and y log(y/p), y and p, which cancel where p is close to y). Probabilities are
    # clipped at the dtype's eps first, as the float32 loss does; the float64 clip is
    # then a no-op.
    if loss in ("log_loss", "binary_log_loss"):
        eps = np.finfo(dtype).eps
        out = np.clip(out, eps, 1 - eps)
    out64, Y64 = out.astype(np.float64), Y.astype(np.float64)
    want = REFERENCE.output_delta(out64, Y64, sw, loss, np.empty(out.shape))
    assert_close_to_reference(got, want, dtype, scale=loss_term_magnitude(out64, Y64, sw, loss))


def loss_term_magnitude(out, Y, sw, loss):
    """The loss with every rounded piece of every term counted by its absolute value."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if loss == "squared_error":
            pieces = 0.5 * (np.abs(Y) + np.abs(out)) ** 2 / out.shape[1]
        elif loss == "poisson":
            pieces = np.abs(np.where(Y > 0, Y * np.log(Y / out), 0.0)) + Y + out
        elif loss == "log_loss":
            pieces = np.abs(np.where(Y > 0, Y * np.log(out), 0.0)) + 1.0
        else:
            pieces = np.abs(np.where(Y > 0, np.log(out), 0.0)) + np.abs(np.where(Y < 1, np.log1p(-out), 0.0)) + 1.0
    return float(np.average(pieces.sum(axis=1), weights=sw))


@pytest.mark.parametrize("dtype", DTYPES)
@FUZZ
@given(data=st.data(), n=dims, i=dims, o=dims, alpha=st.floats(0, 1), weighted=st.booleans())
def test_layer_grads(data, dtype, n, i, o, alpha, weighted):
    A_prev = data.draw(arrays(dtype, (n, i), 100.0), label="A_prev")
    delta = data.draw(arrays(dtype, (n, o), 100.0), label="delta")
    W = data.draw(arrays(dtype, (i, o), 10.0), label="W")
    denom = data.draw(st.floats(0.01, 400.0), label="weight sum") if weighted else float(n)
    gW, gb = np.empty((i, o), dtype), np.empty(o, dtype)
    NUMBA.layer_grads(A_prev, delta, W, alpha, denom, gW, gb)
    want_gW, want_gb = np.empty((i, o), dtype), np.empty(o, dtype)
    REFERENCE.layer_grads(A_prev, delta, W, alpha, denom, want_gW, want_gb)
    # GEMM summation order differs between the two BLAS calls: error relative to |A|.T @ |delta|.
    abs_A, abs_delta = np.abs(A_prev.astype(np.float64)), np.abs(delta.astype(np.float64))
    assert_close_to_reference(gW, want_gW, dtype, scale=(abs_A.T @ abs_delta + alpha * np.abs(W)) / denom)
    assert_close_to_reference(gb, want_gb, dtype, scale=abs_delta.sum(axis=0) / denom)


# -- optimizer steps ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@FUZZ
@given(data=st.data(), size=st.integers(1, 200), steps=st.integers(1, 3),
       lr=st.floats(1e-4, 0.5), momentum=st.floats(0, 0.99), nesterov=st.booleans())
def test_sgd_steps(data, dtype, size, steps, lr, momentum, nesterov):
    params = data.draw(arrays(dtype, size, 10.0), label="params")
    velocity = np.zeros(size, dtype)
    want_params, want_velocity = params.copy(), velocity.copy()
    for step in range(steps):
        g = data.draw(arrays(dtype, size, 1e4), label=f"grads {step}")
        v_scale = np.abs(momentum * want_velocity) + np.abs(lr * g)
        p_scale = np.abs(want_params) + (1 + momentum) * v_scale
        NUMBA.sgd_step(params, g, velocity, lr, momentum, nesterov)
        REFERENCE.sgd_step(want_params, g, want_velocity, lr, momentum, nesterov)
        assert_close_to_reference(velocity, want_velocity, dtype, v_scale)
        assert_close_to_reference(params, want_params, dtype, p_scale)
        want_params[...], want_velocity[...] = params, velocity


@pytest.mark.parametrize("dtype", DTYPES)
@FUZZ
@given(data=st.data(), size=st.integers(1, 200), steps=st.integers(1, 3),
       lr=st.floats(1e-5, 0.1), beta_1=st.floats(0, 0.99), beta_2=st.floats(0.9, 0.9999),
       epsilon=st.floats(1e-8, 1e-3))
def test_adam_steps(data, dtype, size, steps, lr, beta_1, beta_2, epsilon):
    params = data.draw(arrays(dtype, size, 10.0), label="params")
    m, v = np.zeros(size, dtype), np.zeros(size, dtype)
    want_params, want_m, want_v = params.copy(), m.copy(), v.copy()
    for t in range(1, steps + 1):
        g = data.draw(arrays(dtype, size, 1e4), label=f"grads {t}")
        lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m_scale = np.abs(beta_1 * want_m) + np.abs((1 - beta_1) * g)
        p_scale = np.abs(want_params)
        NUMBA.adam_step(params, g, m, v, lr_t, beta_1, beta_2, epsilon)
        REFERENCE.adam_step(want_params, g, want_m, want_v, lr_t, beta_1, beta_2, epsilon)
        p_scale = p_scale + np.abs(lr_t * want_m / (np.sqrt(want_v) + epsilon))
        assert_close_to_reference(m, want_m, dtype, m_scale)
        assert_close_to_reference(v, want_v, dtype)
        assert_close_to_reference(params, want_params, dtype, p_scale)
        want_params[...], want_m[...], want_v[...] = params, m, v


# -- a whole epoch -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSSES)
@FUZZ
@given(data=st.data(), activation=st.sampled_from(HIDDEN_ACTIVATIONS), n=dims, batch_size=st.integers(1, MAX_DIM + 5),
       adam=st.booleans(), hidden=st.lists(st.integers(1, 6), min_size=1, max_size=2), seed=st.integers(0, 2**32 - 1))
def test_train_epoch(data, activation, loss, dtype, n, batch_size, adam, hidden, seed):
    """Any architecture, batch size (dividing n or not, larger than n) and row order:
    one epoch gives the same parameters, loss sum and optimizer state."""
    # Positive weights: a minibatch whose weights sum to 0 has no defined loss. Targets
    # of training size: regression targets up to 1e4 drive float32 SGD into a regime
    # (weights ~100, losses ~1e5) where any rounding difference grows past the tolerance.
    out, Y, sw = data.draw(loss_batches(loss, dtype, n, 2 if loss != "log_loss" else 3, min_weight=0.01,
                                        y_limit=10.0))
    layer_units = (3, *hidden, Y.shape[1])
    rng = np.random.default_rng(seed)  # moderate inputs and weights: training-like values
    X = rng.normal(0, 1, (n, 3)).astype(dtype)
    theta = rng.uniform(-0.7, 0.7, param_offsets(layer_units)[-1]).astype(dtype)
    order = data.draw(st.permutations(range(n)), label="order")
    ref_theta = theta.copy()
    if adam:
        state, ref_state = AdamState(theta, 0.01, 0.9, 0.999, 1e-8), AdamState(ref_theta, 0.01, 0.9, 0.999, 1e-8)
    else:
        state = SGDState(theta, 0.01, "constant", 0.9, True, 0.5)
        ref_state = SGDState(ref_theta, 0.01, "constant", 0.9, True, 0.5)
    args = (X, Y, sw, np.array(order), batch_size, activation, CANONICAL_OUTPUT[loss], loss, 1e-3)
    total = NUMBA.train_epoch(theta, layer_units, *args, state)
    with np.errstate(all="ignore"):
        ref_total = REFERENCE.train_epoch(ref_theta, layer_units, *args, ref_state)
    # A diverging run (an unbounded network on Poisson counts, say) amplifies every
    # rounding difference; the property is about training, so such draws are discarded.
    assume(np.isfinite(ref_total) and np.isfinite(ref_theta).all())
    tol = training_tol(dtype)
    assert abs(total - ref_total) <= tol["atol"] * n + tol["rtol"] * abs(ref_total)
    np.testing.assert_allclose(theta, ref_theta, **tol)
    if adam:
        assert state.t == ref_state.t == -(-n // batch_size)
