"""engine.loss_and_grad against central finite differences of its own loss (float64).

Full backpropagation through two hidden layers, for every hidden activation and every
(loss, output activation) pair, with and without L2 regularization and sample weights,
in both engines (scikit-learn's ``test_gradient``, extended). Together with
``test_kernels``' check of the loss values against scikit-learn's definitions, this
pins the gradient to the right function, not just a self-consistent one.
"""

import zlib

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

from fastmlp._params import param_offsets, unpack
from fastmlp.engines import ENGINES, get_engine
from fastmlp.engines._names import CANONICAL_OUTPUT, HIDDEN_ACTIVATIONS

from .tolerances import GRADIENT, kernel_tol

REFERENCE = get_engine("numpy")

N_ROWS = 7
N_INPUTS = 4
HIDDEN = (5, 3)
#: Outputs per loss: one regression target (see the multi-output test below), three
#: classes, two labels, two count targets.
N_OUTPUTS = {"squared_error": 1, "poisson": 2, "log_loss": 3, "binary_log_loss": 2}


@pytest.fixture
def rng(request):
    """A generator seeded by the test id: reproducible and independent of test order."""
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


def make_problem(rng, loss, weighted, n_outputs=None, n_rows=N_ROWS):
    n_out = N_OUTPUTS[loss] if n_outputs is None else n_outputs
    layer_units = (N_INPUTS, *HIDDEN, n_out)
    X = rng.normal(0, 1, (n_rows, N_INPUTS))
    if loss == "squared_error":
        Y = rng.normal(0, 1, (n_rows, n_out))
    elif loss == "poisson":
        Y = rng.poisson(2.0, (n_rows, n_out)).astype(np.float64)
    elif loss == "log_loss":
        Y = np.eye(n_out)[rng.integers(0, n_out, n_rows)]
    else:
        Y = rng.integers(0, 2, (n_rows, n_out)).astype(np.float64)
    sw = rng.uniform(0.2, 2.0, n_rows) if weighted else None
    theta = rng.uniform(-0.8, 0.8, param_offsets(layer_units)[-1])
    return layer_units, X, Y, sw, theta


def hidden_preactivations(theta, layer_units, X, activation):
    """Every hidden unit's Z for every row, by the reference engine."""
    coefs, intercepts = unpack(theta, layer_units)
    A, zs = X, []
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        Z = REFERENCE.dense_forward(A, W, b, "identity", np.empty((A.shape[0], W.shape[1])))
        zs.append(Z.ravel())
        A = REFERENCE.dense_forward(A, W, b, activation, np.empty_like(Z))
    return np.concatenate(zs)


def assert_clear_of_kinks(theta, layer_units, X, activation):
    """The relu family has a kink at Z = 0; a difference quotient with step h moves a
    pre-activation by a few h, so it straddles the kink only if some |Z| < ~1e-5
    (probability ~1e-5 per unit and row). The seeded problems keep clear of it; this
    says so if a change to the test data breaks that."""
    if activation in ("relu", "leaky_relu"):
        margin = np.abs(hidden_preactivations(theta, layer_units, X, activation)).min()
        assert margin > 100 * GRADIENT["step"], f"test data puts a pre-activation at {margin:.2g} from the kink"


def central_differences(f, theta):
    h = GRADIENT["step"]
    numeric = np.empty_like(theta)
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = h
        numeric[k] = (f(theta + step) - f(theta - step)) / (2 * h)
    return numeric


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.0, 0.3], ids=["alpha0", "alpha0.3"])
@pytest.mark.parametrize("loss", list(CANONICAL_OUTPUT))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("engine_name", ENGINES)
def test_loss_and_grad_matches_central_differences(engine_name, activation, loss, alpha, weighted, rng):
    engine = get_engine(engine_name)
    out_activation = CANONICAL_OUTPUT[loss]
    layer_units, X, Y, sw, theta = make_problem(rng, loss, weighted)
    assert_clear_of_kinks(theta, layer_units, X, activation)

    def loss_at(t):
        return engine.loss_and_grad(t, layer_units, X, Y, sw, activation, out_activation, loss, alpha,
                                    np.empty_like(t))

    grad = np.full_like(theta, np.nan)
    value = engine.loss_and_grad(theta.copy(), layer_units, X, Y, sw, activation, out_activation, loss, alpha, grad)
    assert isinstance(value, float)
    assert value == pytest.approx(loss_at(theta), rel=1e-15), "loss_and_grad must not depend on grad's contents"
    np.testing.assert_allclose(grad, central_differences(loss_at, theta), rtol=GRADIENT["rtol"], atol=GRADIENT["atol"])
    assert np.abs(grad).max() > 1e-3, "a vanishing gradient would make the check vacuous"


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("engine_name", ENGINES)
def test_multi_output_squared_error_gradient_is_scikit_learns(engine_name, activation, weighted, rng):
    """scikit-learn 1.9 averages the squared error over outputs but backpropagates
    delta = out - Y, so with o outputs its gradient is that of o x the data loss plus
    the L2 term (scikit-learn#8349, open). fastmlp trains scikit-learn's model, so its
    gradient must be the same function; this pins that down, and will flag the day the
    convention changes."""
    engine = get_engine(engine_name)
    n_outputs, alpha = 3, 0.3
    layer_units, X, Y, sw, theta = make_problem(rng, "squared_error", weighted, n_outputs=n_outputs)
    assert_clear_of_kinks(theta, layer_units, X, activation)
    n_coefs = param_offsets(layer_units)[len(layer_units) - 1]
    denom = N_ROWS if sw is None else sw.sum()

    def gradient_objective(t):
        value = engine.loss_and_grad(t, layer_units, X, Y, sw, activation, "identity", "squared_error", alpha,
                                     np.empty_like(t))
        l2 = 0.5 * alpha * np.dot(t[:n_coefs], t[:n_coefs]) / denom
        return n_outputs * (value - l2) + l2

    grad = np.empty_like(theta)
    engine.loss_and_grad(theta, layer_units, X, Y, sw, activation, "identity", "squared_error", alpha, grad)
    np.testing.assert_allclose(grad, central_differences(gradient_objective, theta), rtol=GRADIENT["rtol"],
                               atol=GRADIENT["atol"])


def sklearn_loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss, alpha):
    """scikit-learn 1.9's own (loss, gradient) for the same network: the function its
    lbfgs solver minimizes, reached through its private ``_loss_grad_lbfgs``."""
    if loss in ("log_loss", "binary_log_loss"):
        est = MLPClassifier(activation=activation, alpha=alpha)
    else:
        est = MLPRegressor(loss=loss, activation=activation, alpha=alpha)
    n_layers = len(layer_units) - 1
    offsets = param_offsets(layer_units)
    est.n_layers_ = n_layers + 1
    est.out_activation_ = out_activation
    est.coefs_, est.intercepts_ = [None] * n_layers, [None] * n_layers
    est._coef_indptr = [(offsets[i], offsets[i + 1], (layer_units[i], layer_units[i + 1])) for i in range(n_layers)]
    est._intercept_indptr = [(offsets[n_layers + i], offsets[n_layers + i + 1]) for i in range(n_layers)]
    activations = [X] + [None] * n_layers
    deltas = [None] * n_layers
    coef_grads = [np.empty((a, b)) for a, b in zip(layer_units[:-1], layer_units[1:])]
    intercept_grads = [np.empty(b) for b in layer_units[1:]]
    return est._loss_grad_lbfgs(theta, X, Y, sw, activations, deltas, coef_grads, intercept_grads)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss", list(CANONICAL_OUTPUT))
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])  # scikit-learn's
@pytest.mark.parametrize("engine_name", ENGINES)
def test_loss_and_grad_is_scikit_learns(engine_name, activation, loss, weighted, rng):
    n_outputs = 3 if loss == "squared_error" else None  # multi-output, convention included
    layer_units, X, Y, sw, theta = make_problem(rng, loss, weighted, n_outputs=n_outputs)
    out_activation = CANONICAL_OUTPUT[loss]
    grad = np.empty_like(theta)
    value = get_engine(engine_name).loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss,
                                                   0.3, grad)
    want_value, want_grad = sklearn_loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss, 0.3)
    assert value == pytest.approx(want_value, rel=kernel_tol(np.float64)["rtol"])
    np.testing.assert_allclose(grad, want_grad, **kernel_tol(np.float64))


def sklearn_targets(Y, loss):
    """Targets as scikit-learn's estimators hold them: bool labels, float targets."""
    return Y.astype(bool) if loss in ("log_loss", "binary_log_loss") else Y


# (X dtype, target dtype): float32 X with float64 regression targets is what a float32
# MLPRegressor fit with a float64 y sees; scikit-learn then backpropagates in float64.
# Classifier targets are labels, so that case is the regression losses' only.
PRECISIONS = {"float64": (np.float64, np.float64), "float32": (np.float32, np.float32),
              "float32-x": (np.float32, np.float64)}
PRECISION_CASES = [(loss, precision) for loss in CANONICAL_OUTPUT for precision in PRECISIONS
                   if precision != "float32-x" or loss in ("squared_error", "poisson")]


@pytest.mark.parametrize("n_rows", [40, 64])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("loss, precision", PRECISION_CASES, ids=[f"{name}-{p}" for name, p in PRECISION_CASES])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])  # scikit-learn's
@pytest.mark.parametrize("engine_name", ENGINES)
def test_loss_and_grad_is_bit_for_bit_scikit_learns(engine_name, activation, loss, precision, weighted, n_rows, rng):
    """What L-BFGS minimizes, to the last bit: L-BFGS amplifies any rounding difference
    into another model within its 200 default iterations, so a tolerance is not enough
    here. Targets in scikit-learn's dtypes (bool labels); 40 and 64 rows (NumPy's
    pairwise sums start at 8; a power of two is applied as its reciprocal), one output
    for the single-column sums."""
    x_dtype, y_dtype = PRECISIONS[precision]
    n_outputs = 1 if loss == "squared_error" else None
    layer_units, X, Y, sw, theta = make_problem(rng, loss, weighted, n_outputs=n_outputs, n_rows=n_rows)
    X, theta, Y = X.astype(x_dtype), theta.astype(x_dtype), sklearn_targets(Y.astype(y_dtype), loss)
    out_activation = CANONICAL_OUTPUT[loss]
    grad = np.full(theta.shape, np.nan)
    value = get_engine(engine_name).loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss,
                                                   0.3, grad)
    want_value, want_grad = sklearn_loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss, 0.3)
    assert value == float(want_value)
    np.testing.assert_array_equal(grad, want_grad)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_loss_and_grad_with_numpy_scalar_alpha_is_bit_for_bit_scikit_learns(engine_name, rng):
    # alpha from np.logspace in a grid search is a NumPy float64: times float32
    # coefficients NumPy promotes to float64, a Python float would not.
    layer_units, X, Y, sw, theta = make_problem(rng, "log_loss", weighted=False, n_rows=40)
    X, theta, Y = X.astype(np.float32), theta.astype(np.float32), sklearn_targets(Y, "log_loss")
    alpha = np.float64(0.3)
    grad = np.full(theta.shape, np.nan)
    value = get_engine(engine_name).loss_and_grad(theta, layer_units, X, Y, sw, "tanh", "softmax", "log_loss", alpha,
                                                   grad)
    want_value, want_grad = sklearn_loss_and_grad(theta, layer_units, X, Y, sw, "tanh", "softmax", "log_loss", alpha)
    assert value == float(want_value)
    np.testing.assert_array_equal(grad, want_grad)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_l2_term_is_half_alpha_squared_coefs_over_weight_sum(engine_name, rng):
    """The alpha term: loss grows by 0.5 * alpha * sum(W**2) / sum(sw), intercepts excluded."""
    engine = get_engine(engine_name)
    layer_units, X, Y, sw, theta = make_problem(rng, "squared_error", weighted=True)
    n_coefs = param_offsets(layer_units)[len(layer_units) - 1]
    args = (layer_units, X, Y, sw, "tanh", "identity", "squared_error")
    base = engine.loss_and_grad(theta, *args, 0.0, np.empty_like(theta))
    regularized = engine.loss_and_grad(theta, *args, 0.3, np.empty_like(theta))
    expected = 0.5 * 0.3 * np.sum(theta[:n_coefs] ** 2) / sw.sum()
    assert regularized - base == pytest.approx(expected, rel=1e-12)
