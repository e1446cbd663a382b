"""Every public kernel of the Numba engine against the NumPy reference, one call each.

Cases: every activation (forward and derivative), every loss, float32 and float64,
shapes with one row, one unit, one input and odd sizes, pre-activations up to 1e4 in
magnitude (exp up to where it stays finite), exact and negative zeros, NaN inputs, and
the optimizer steps. The reference itself is checked against scikit-learn's own
activation and loss functions, so that the two engines cannot agree on a wrong formula.
"""

import inspect
import zlib

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network import _base as sklearn_base

from fastmlp._optimizers import SGDState
from fastmlp._params import param_offsets
from fastmlp.engines import ENGINES, get_engine
from fastmlp.engines._names import CANONICAL_OUTPUT, HIDDEN_ACTIVATIONS, LEAKY_RELU_SLOPE

from .tolerances import kernel_tol

NUMBA = get_engine("numba")
REFERENCE = get_engine("numpy")

DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
FORWARD_ACTIVATIONS = HIDDEN_ACTIVATIONS + ("softmax", "exp")
LOSSES = tuple(CANONICAL_OUTPUT)

#: (rows, units) of an elementwise kernel's arrays.
ELEMENT_SHAPES = [
    pytest.param((1, 1), id="1x1"),
    pytest.param((1, 17), id="1x17"),
    pytest.param((17, 1), id="17x1"),
    pytest.param((257, 129), id="257x129"),
]
#: (rows, inputs, outputs) of a dense layer.
LAYER_SHAPES = [
    pytest.param((1, 1, 1), id="1x1x1"),
    pytest.param((1, 13, 7), id="1x13x7"),
    pytest.param((13, 7, 1), id="13x7x1"),
    pytest.param((13, 1, 7), id="13x1x7"),
    pytest.param((257, 31, 129), id="257x31x129"),
]
OPTIMIZER_SIZES = [pytest.param(n, id=f"n{n}") for n in (1, 7, 1001)]


@pytest.fixture
def rng(request):
    """A generator seeded by the test id: reproducible and independent of test order."""
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


def preactivation_limit(activation, dtype):
    """Largest |z| at which ``activation`` is finite in ``dtype``; 1e4 for the others.

    exp overflows above log(max) (88.7 in float32, 709.8 in float64); stay a margin
    below so that both engines round to a finite number.
    """
    if activation == "exp":
        return 80.0 if np.dtype(dtype) == np.float32 else 700.0
    return 1e4


def stress_values(rng, shape, dtype, limit):
    """Values of both signs spread log-uniformly over 1e-6..limit, with exact 0, -0,
    +-1 and +-limit among them (unless the array is tiny)."""
    size = int(np.prod(shape))
    values = 10.0 ** rng.uniform(-6, np.log10(limit), size) * rng.choice([-1.0, 1.0], size)
    specials = np.array([0.0, -0.0, 1.0, -1.0, limit, -limit])
    k = min(len(specials), size // 2)
    values[:k] = specials[:k]
    rng.shuffle(values)
    return values.reshape(shape).astype(dtype)


def activate(Z, activation):
    """activation(Z) by the reference engine, as a new array of Z's dtype."""
    n, o = Z.shape
    eye = np.eye(o, dtype=Z.dtype)  # Z @ I == Z exactly for finite Z
    return REFERENCE.dense_forward(Z, eye, np.zeros(o, Z.dtype), activation, np.empty_like(Z))


def layer_outputs(rng, shape, dtype, activation):
    """A plausible hidden-layer output f(Z) for stress pre-activations Z; relu-family
    outputs get extra exact and negative zeros (the derivative's kink)."""
    A = activate(stress_values(rng, shape, dtype, 1e4), activation)
    if activation in ("relu", "leaky_relu") and A.size >= 4:
        flat = A.reshape(-1)
        flat[: A.size // 4] = 0.0
        flat[A.size // 4 : A.size // 2] = -0.0
        rng.shuffle(flat)
    return A


def targets_and_outputs(rng, loss, shape, dtype):
    """(out, Y) as the loss sees them: out from its canonical output activation applied
    to stress pre-activations, Y in the loss's domain."""
    n, o = shape
    out_activation = CANONICAL_OUTPUT[loss]
    Z = stress_values(rng, shape, dtype, preactivation_limit(out_activation, dtype))
    out = activate(Z, out_activation)
    if loss == "squared_error":
        Y = rng.normal(0, 100, shape)
    elif loss == "poisson":
        Y = rng.poisson(3.0, shape)
    elif loss == "log_loss":
        Y = np.eye(o)[rng.integers(0, o, n)]
    else:
        Y = rng.integers(0, 2, shape)
    return out, np.ascontiguousarray(Y, dtype=dtype)


def sample_weights(rng, n):
    """Positive weights with one exact zero (rows scikit-learn lets one switch off)."""
    sw = rng.uniform(0.1, 3.0, n)
    if n > 1:
        sw[rng.integers(n)] = 0.0
    return sw


def assert_close_to_reference(got, want, dtype, scale=0.0):
    """|got - want| <= atol + rtol * (|want| + scale), tolerances from the table.

    ``scale``: magnitude of the operands of a sum the float32 reference rounds term by
    term (momentum * v - lr * g); where the terms cancel, its rounding error is relative
    to them, not to the small result, while the Numba kernel sums in float64.
    """
    tol = kernel_tol(dtype)
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    bound = tol["atol"] + tol["rtol"] * (np.abs(want) + scale)
    err = np.abs(got - want)
    bad = ~(err <= bound)
    assert not bad.any(), (
        f"{bad.sum()} of {bad.size} elements differ; worst at {np.unravel_index(np.argmax(err - bound), err.shape)}: "
        f"got {got[bad][:5]}, want {want[bad][:5]}"
    )


# -- the reference against scikit-learn's definitions ----------------------------------


@pytest.mark.parametrize("activation", sorted(set(FORWARD_ACTIVATIONS) & set(sklearn_base.ACTIVATIONS)))
def test_reference_activation_is_scikit_learns(activation, rng):
    Z = rng.normal(0, 3, (9, 4))
    want = Z.copy()
    sklearn_base.ACTIVATIONS[activation](want)  # in place
    assert_allclose(activate(Z, activation), want, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("activation", sorted(set(HIDDEN_ACTIVATIONS) & set(sklearn_base.DERIVATIVES)))
def test_reference_derivative_is_scikit_learns(activation, rng):
    A = activate(rng.normal(0, 3, (9, 4)), activation)
    delta = rng.normal(size=A.shape)
    want = delta.copy()
    sklearn_base.DERIVATIVES[activation](A, want)  # in place
    assert_allclose(REFERENCE.activation_derivative(A, delta, activation), want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss", LOSSES)
def test_reference_loss_is_scikit_learns(loss, weighted, rng):
    out, Y = targets_and_outputs(rng, loss, (11, 3), np.float64)
    sw = sample_weights(rng, 11) if weighted else None
    want = sklearn_base.LOSS_FUNCTIONS[loss](Y, out, sample_weight=sw)
    got = REFERENCE.output_delta(out, Y, sw, loss, np.empty_like(out))
    assert got == pytest.approx(want, rel=1e-14)


# -- forward -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ELEMENT_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", FORWARD_ACTIVATIONS)
def test_dense_forward_extreme_preactivations(activation, dtype, shape, rng):
    """A @ I + 0 puts chosen pre-activations (up to 1e4) through the activation."""
    Z = stress_values(rng, shape, dtype, preactivation_limit(activation, dtype))
    eye = np.eye(shape[1], dtype=dtype)
    b = np.zeros(shape[1], dtype=dtype)
    out = np.empty(shape, dtype)
    got = NUMBA.dense_forward(Z, eye, b, activation, out)
    want = REFERENCE.dense_forward(Z, eye, b, activation, np.empty(shape, dtype))
    assert got is out
    assert got.dtype == dtype
    assert np.isfinite(got).all(), "finite pre-activations must give finite outputs"
    assert_allclose(got, want, **kernel_tol(dtype))


@pytest.mark.parametrize("shape", LAYER_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", FORWARD_ACTIVATIONS)
def test_dense_forward_layer(activation, dtype, shape, rng):
    n, i, o = shape
    A = rng.normal(0, 1, (n, i)).astype(dtype)
    W = rng.normal(0, 2 / np.sqrt(i), (i, o)).astype(dtype)
    b = rng.normal(0, 1, o).astype(dtype)
    got = NUMBA.dense_forward(A, W, b, activation, np.empty((n, o), dtype))
    want = REFERENCE.dense_forward(A, W, b, activation, np.empty((n, o), dtype))
    assert got.dtype == dtype
    assert_allclose(got, want, **kernel_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["logistic", "tanh", "softplus", "softmax"])
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["pos", "neg"])
def test_saturating_activations_stay_finite_at_1e4(activation, dtype, sign):
    """No overflow to inf or NaN at |z| = 1e4 (exp(1e4) overflows; these must not)."""
    Z = np.full((3, 4), sign * 1e4, dtype=dtype)
    Z[:, 0] = 0.0  # softmax rows then hold one moderate and three extreme logits
    eye = np.eye(4, dtype=dtype)
    got = NUMBA.dense_forward(Z, eye, np.zeros(4, dtype), activation, np.empty_like(Z))
    assert np.isfinite(got).all()
    assert_allclose(got, REFERENCE.dense_forward(Z, eye, np.zeros(4, dtype), activation, np.empty_like(Z)),
                    **kernel_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", FORWARD_ACTIVATIONS)
@pytest.mark.parametrize("engine_name", ENGINES)
def test_dense_forward_propagates_nan(engine_name, activation, dtype, rng):
    """A NaN input gives NaN outputs in its row (divergence detection relies on it)."""
    engine = get_engine(engine_name)
    n, i, o = 6, 4, 5
    A = rng.normal(0, 1, (n, i)).astype(dtype)
    A[1, 0] = np.nan
    A[4, 3] = np.nan
    W = rng.uniform(0.5, 1.0, (i, o)).astype(dtype)  # no zero weight: NaN reaches every unit
    b = rng.normal(0, 1, o).astype(dtype)
    got = engine.dense_forward(A, W, b, activation, np.empty((n, o), dtype))
    nan_rows = np.zeros(n, dtype=bool)
    nan_rows[[1, 4]] = True
    assert np.isnan(got[nan_rows]).all()
    assert np.isfinite(got[~nan_rows]).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_relu_family_forward_at_signed_zeros(activation, dtype):
    z = np.array([0.0, -0.0, 1e-30, -1e-30, 2.0, -2.0], dtype=dtype).reshape(-1, 1)
    one = np.ones((1, 1), dtype)
    neg_zero = np.array([-0.0], dtype)  # z + (-0) == z for every z, signed zeros included
    got = NUMBA.dense_forward(z, one, neg_zero, activation, np.empty_like(z))
    want = REFERENCE.dense_forward(z, one, neg_zero, activation, np.empty_like(z))
    assert_allclose(got, want, **kernel_tol(dtype))
    assert_array_equal(got[:2], 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("out_activation", ["identity", "logistic", "softmax", "exp"])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_forward_network(activation, out_activation, dtype, rng):
    units = (6, 9, 5, 3)
    coefs = [rng.normal(0, 1, (a, b)).astype(dtype) for a, b in zip(units[:-1], units[1:])]
    intercepts = [rng.normal(0, 1, b).astype(dtype) for b in units[1:]]
    X = rng.normal(0, 1, (21, units[0])).astype(dtype)
    got = NUMBA.forward(coefs, intercepts, X, activation, out_activation)
    want = REFERENCE.forward(coefs, intercepts, X, activation, out_activation)
    assert got.shape == (21, 3)
    assert got.dtype == dtype
    assert_allclose(got, want, **kernel_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("out_activation", ["identity", "logistic", "softmax", "exp"])
@pytest.mark.parametrize("engine_name", ENGINES)
def test_forward_network_propagates_nan(engine_name, out_activation, dtype, rng):
    units = (4, 6, 3)
    coefs = [rng.uniform(0.1, 1, (a, b)).astype(dtype) for a, b in zip(units[:-1], units[1:])]
    intercepts = [rng.normal(0, 1, b).astype(dtype) for b in units[1:]]
    X = rng.normal(0, 1, (5, 4)).astype(dtype)
    X[2, 1] = np.nan
    got = get_engine(engine_name).forward(coefs, intercepts, X, "tanh", out_activation)
    assert np.isnan(got[2]).all()
    assert np.isfinite(np.delete(got, 2, axis=0)).all()


# -- backward ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ELEMENT_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_activation_derivative(activation, dtype, shape, rng):
    A = layer_outputs(rng, shape, dtype, activation)
    # |delta| <= 10: float32 reference's 1 - A**2 near |A| = 1 errs by ~3e-8 absolute.
    delta = rng.uniform(-10, 10, shape).astype(dtype)
    want = REFERENCE.activation_derivative(A, delta.copy(), activation)
    got_delta = delta.copy()
    got = NUMBA.activation_derivative(A, got_delta, activation)
    assert got is got_delta
    assert got.dtype == dtype
    assert_allclose(got, want, **kernel_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_relu_family_derivative_at_signed_zeros(activation, dtype):
    """f'(0) is 0 for relu (scikit-learn's convention) and the slope for leaky_relu,
    whichever sign the zero has."""
    A = np.array([[0.0, -0.0, 1e-30, 3.0], [-0.0, 0.0, 7.0, 1e-30]], dtype=dtype)
    if activation == "leaky_relu":
        A[:, 2] *= -LEAKY_RELU_SLOPE  # leaky outputs can be negative
    delta = np.full(A.shape, 2.0, dtype)
    got = NUMBA.activation_derivative(A, delta.copy(), activation)
    assert_array_equal(got, REFERENCE.activation_derivative(A, delta.copy(), activation))
    at_zero = 0.0 if activation == "relu" else 2.0 * dtype(LEAKY_RELU_SLOPE)
    assert_array_equal(got[A == 0], at_zero)
    assert_array_equal(got[A > 0], 2.0)


@pytest.mark.parametrize("shape", LAYER_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_backprop_delta(activation, dtype, shape, rng):
    n, i, o = shape
    delta = rng.uniform(-1, 1, (n, o)).astype(dtype)
    W = rng.uniform(-1, 1, (i, o)).astype(dtype) / np.sqrt(o).astype(dtype)
    A_prev = layer_outputs(rng, (n, i), dtype, activation)
    out = np.empty((n, i), dtype)
    got = NUMBA.backprop_delta(delta, W, A_prev, activation, out)
    want = REFERENCE.backprop_delta(delta, W, A_prev, activation, np.empty((n, i), dtype))
    assert got is out
    assert_allclose(got, want, **kernel_tol(dtype))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("shape", ELEMENT_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSSES)
def test_output_delta(loss, dtype, shape, weighted, rng):
    out, Y = targets_and_outputs(rng, loss, shape, dtype)
    sw = sample_weights(rng, shape[0]) if weighted else None
    want_delta = np.empty(shape, dtype)
    want = REFERENCE.output_delta(out, Y, sw, loss, want_delta)
    got_delta = np.empty(shape, dtype)
    got = NUMBA.output_delta(out, Y, sw, loss, got_delta)
    assert type(got) is float
    assert np.isfinite(got), "clipped log losses and bounded outputs give a finite loss"
    assert got == pytest.approx(want, rel=kernel_tol(dtype)["rtol"], abs=kernel_tol(dtype)["atol"])
    assert_allclose(got_delta, want_delta, **kernel_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", ["log_loss", "binary_log_loss"])
def test_log_losses_clip_certain_predictions(loss, dtype):
    """Predicted probabilities of exactly 0 and 1 are clipped to [eps, 1 - eps]: a wrong
    certain prediction costs -log(eps), not inf."""
    out = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=dtype)  # row 0 certain and wrong, row 1 certain and right
    Y = np.array([[0.0, 1.0], [0.0, 1.0]], dtype=dtype)
    got = NUMBA.output_delta(out, Y, None, loss, np.empty_like(out))
    want = REFERENCE.output_delta(out, Y, None, loss, np.empty_like(out))
    assert got == pytest.approx(want, rel=kernel_tol(dtype)["rtol"])
    # Mean over the two rows; binary_log_loss also counts row 0's wrong first column.
    wrong_cells = 1 if loss == "log_loss" else 2
    assert got == pytest.approx(wrong_cells * -np.log(np.finfo(dtype).eps) / 2, rel=1e-5)


@pytest.mark.parametrize("alpha", [0.0, 0.01], ids=["alpha0", "alpha0.01"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("shape", LAYER_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_grads(dtype, shape, weighted, alpha, rng):
    n, i, o = shape
    A_prev = rng.uniform(-1, 1, (n, i)).astype(dtype)
    delta = rng.uniform(-1, 1, (n, o)).astype(dtype)
    W = rng.normal(0, 1, (i, o)).astype(dtype)
    denom = float(sample_weights(rng, n).sum()) if weighted else n
    gW, gb = np.full((i, o), np.nan, dtype), np.full(o, np.nan, dtype)
    NUMBA.layer_grads(A_prev, delta, W, alpha, denom, gW, gb)
    want_gW, want_gb = np.empty((i, o), dtype), np.empty(o, dtype)
    REFERENCE.layer_grads(A_prev, delta, W, alpha, denom, want_gW, want_gb)
    assert gW.dtype == dtype and gb.dtype == dtype
    assert_allclose(gW, want_gW, **kernel_tol(dtype))
    assert_allclose(gb, want_gb, **kernel_tol(dtype))


# -- optimizer steps ---------------------------------------------------------------------


def gradient_steps(rng, n, dtype, steps=3):
    """Gradients of successive steps: normal, with exact zeros and a few large ones."""
    grads = rng.normal(0, 1, (steps, n))
    grads[:, rng.integers(0, n, max(1, n // 10))] = 0.0
    grads[:, rng.integers(0, n, max(1, n // 100))] *= 1e3
    return grads.astype(dtype)


@pytest.mark.parametrize("size", OPTIMIZER_SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)], ids=["plain", "momentum", "nesterov"]
)
def test_sgd_step(momentum, nesterov, dtype, size, rng):
    lr = 0.05
    params = rng.normal(0, 1, size).astype(dtype)
    velocity = np.zeros(size, dtype)
    want_params, want_velocity = params.copy(), velocity.copy()
    for g in gradient_steps(rng, size, dtype):
        # The float32 reference rounds each term; where they cancel its error is relative to them.
        v_scale = np.abs(momentum * want_velocity) + np.abs(lr * g)
        p_scale = np.abs(want_params) + (1 + momentum) * v_scale
        NUMBA.sgd_step(params, g, velocity, lr, momentum, nesterov)
        REFERENCE.sgd_step(want_params, g, want_velocity, lr, momentum, nesterov)
        assert params.dtype == dtype and velocity.dtype == dtype
        assert_close_to_reference(velocity, want_velocity, dtype, v_scale)
        assert_close_to_reference(params, want_params, dtype, p_scale)
        # Continue both from the same state so that differences do not compound.
        want_params[...], want_velocity[...] = params, velocity


@pytest.mark.parametrize("size", OPTIMIZER_SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("epsilon", [1e-8, 1e-3], ids=["eps1e-8", "eps1e-3"])
def test_adam_step(epsilon, dtype, size, rng):
    lr0, beta_1, beta_2 = 0.01, 0.9, 0.999
    params = rng.normal(0, 1, size).astype(dtype)
    m, v = np.zeros(size, dtype), np.zeros(size, dtype)
    want_params, want_m, want_v = params.copy(), m.copy(), v.copy()
    for t, g in enumerate(gradient_steps(rng, size, dtype), start=1):
        lr = lr0 * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m_scale = np.abs(beta_1 * want_m) + np.abs((1 - beta_1) * g)
        p_scale = np.abs(want_params)
        NUMBA.adam_step(params, g, m, v, lr, beta_1, beta_2, epsilon)
        REFERENCE.adam_step(want_params, g, want_m, want_v, lr, beta_1, beta_2, epsilon)
        p_scale = p_scale + np.abs(lr * want_m / (np.sqrt(want_v) + epsilon))
        assert params.dtype == dtype and m.dtype == dtype and v.dtype == dtype
        assert_close_to_reference(m, want_m, dtype, m_scale)
        assert_close_to_reference(v, want_v, dtype)
        assert_close_to_reference(params, want_params, dtype, p_scale)
        want_params[...], want_m[...], want_v[...] = params, m, v


# -- interface contract --------------------------------------------------------------------


def kernel_arguments(kernel, rng):
    """Valid float64 keyword arguments for one call of ``kernel``, all C-contiguous."""
    n, i, o = 5, 3, 4
    layer_units = (i, 6, o)
    theta = rng.uniform(-1, 1, param_offsets(layer_units)[-1])
    A, W, b = rng.normal(size=(n, i)), rng.normal(size=(i, o)), rng.normal(size=o)
    delta, Y = rng.normal(size=(n, o)), rng.normal(size=(n, o))
    net = dict(theta=theta, layer_units=layer_units, X=A, Y=Y, sw=None, activation="tanh", out_activation="identity",
               loss="squared_error", alpha=1e-3)
    return {
        "dense_forward": dict(A=A, W=W, b=b, activation="tanh", out=np.empty((n, o))),
        "activation_derivative": dict(A=np.tanh(delta), delta=delta, activation="tanh"),
        "backprop_delta": dict(delta=delta, W=W, A_prev=np.tanh(A), activation="tanh", out=np.empty((n, i))),
        "output_delta": dict(out=np.tanh(delta), Y=Y, sw=None, loss="squared_error", delta=np.empty((n, o))),
        "layer_grads": dict(A_prev=A, delta=delta, W=W, alpha=1e-3, denom=n, gW=np.empty((i, o)), gb=np.empty(o)),
        "loss_and_grad": dict(**net, grad=np.empty_like(theta)),
        "train_epoch": dict(**net, order=np.arange(n), batch_size=2,
                            optimizer=SGDState(theta, 0.1, "constant", 0.9, True, 0.5)),
    }[kernel]


def non_contiguous(a):
    """The same values in a view that is not C-contiguous."""
    return np.asfortranarray(a) if a.ndim == 2 else np.repeat(a, 2)[::2]


@pytest.mark.parametrize(
    "kernel, argument",
    [
        ("dense_forward", "out"),
        ("activation_derivative", "A"),
        ("activation_derivative", "delta"),
        ("backprop_delta", "A_prev"),
        ("backprop_delta", "out"),
        ("output_delta", "out"),
        ("output_delta", "Y"),
        ("output_delta", "delta"),
        ("layer_grads", "gW"),
        ("loss_and_grad", "X"),
        ("loss_and_grad", "Y"),
        ("loss_and_grad", "theta"),
        ("loss_and_grad", "grad"),
        ("train_epoch", "theta"),
    ],
)
def test_numba_engine_names_a_non_contiguous_buffer(kernel, argument, rng):
    """The compiled kernels view buffers as flat C-ordered memory; the engine says which
    argument is not, rather than failing inside Numba (a bare AssertionError or a
    TypingError after a compile attempt)."""
    args = kernel_arguments(kernel, rng)
    args[argument] = non_contiguous(args[argument])
    assert not args[argument].flags.c_contiguous
    with pytest.raises(ValueError, match=f"{argument} must be C-contiguous"):
        getattr(NUMBA, kernel)(**args)


def read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


#: (kernel, argument, how it is spoiled, what the engine says): the C kernels read and
#: write through bare pointers, so every argument they touch is checked first.
SPOILED_ARGUMENTS = [
    ("dense_forward", "out", read_only, "out is written in place and must be writable"),
    ("dense_forward", "b", lambda b: b[:-1], r"b must have shape \(4,\)"),
    ("activation_derivative", "delta", read_only, "delta is written in place and must be writable"),
    ("activation_derivative", "delta", lambda d: d[:-1], r"delta must have shape \(5, 4\)"),
    ("activation_derivative", "A", lambda a: a.astype(np.int64), "A must have dtype float32 or float64"),
    ("backprop_delta", "out", read_only, "out is written in place and must be writable"),
    ("output_delta", "delta", read_only, "delta is written in place and must be writable"),
    ("output_delta", "Y", lambda y: y[:-1], r"Y must have shape \(5, 4\)"),
    ("output_delta", "Y", lambda y: y.astype(np.float32), "Y must have dtype float64"),
    ("output_delta", "sw", lambda _: np.ones(3), r"sw must have shape \(5,\)"),
    ("train_epoch", "theta", read_only, "theta is written in place and must be writable"),
    ("train_epoch", "theta", lambda t: t[:-1], "theta must have shape"),
    ("train_epoch", "X", lambda x: np.ascontiguousarray(x[:, :-1]), r"X must have shape \(n, 3\)"),
    ("train_epoch", "Y", lambda y: y[:, :-1], r"Y must have shape \(5, 4\)"),
    ("train_epoch", "order", lambda o: o + 10, "order must index X's 5 rows"),
    ("train_epoch", "sw", lambda _: np.ones(4), r"sw must have shape \(5,\)"),
]


@pytest.mark.parametrize("kernel, argument, spoil, message", SPOILED_ARGUMENTS,
                         ids=[f"{k}-{a}-{i}" for i, (k, a, _, _) in enumerate(SPOILED_ARGUMENTS)])
def test_numba_engine_checks_what_its_c_kernels_read_and_write(kernel, argument, spoil, message, rng):
    args = kernel_arguments(kernel, rng)
    args[argument] = spoil(args[argument] if args.get(argument) is not None else None)
    before = {k: v.copy() for k, v in args.items() if isinstance(v, np.ndarray)}
    with pytest.raises(ValueError, match=message):
        getattr(NUMBA, kernel)(**args)
    for k, v in before.items():  # refused before touching anything
        np.testing.assert_array_equal(args[k], v)


def test_train_epoch_refuses_read_only_optimizer_state(rng):
    args = kernel_arguments("train_epoch", rng)
    args["optimizer"].velocity = read_only(args["optimizer"].velocity)
    with pytest.raises(ValueError, match="the optimizer's first state vector is written in place and must be writable"):
        NUMBA.train_epoch(**args)


@pytest.mark.parametrize(
    "name",
    ["dense_forward", "activation_derivative", "backprop_delta", "output_delta", "layer_grads", "sgd_step",
     "adam_step", "forward", "loss_and_grad", "train_epoch"],
)
def test_engines_share_public_signature(name):
    assert inspect.signature(getattr(NUMBA, name)) == inspect.signature(getattr(REFERENCE, name))
