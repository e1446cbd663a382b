"""Kernel benchmarks: each engine function, NumPy reference against Numba, side by side.

Run: ``pytest benchmarks/test_bench_kernels.py --benchmark-enable``. Each group holds
the rivals for one kernel, shape and dtype (``@pytest.mark.benchmark(group=...)`` on
the parameter set), so one table compares them. Every test calls its kernel once
before ``benchmark(...)`` (Numba compiles or loads its cache there; not in the
``--benchmark-disable`` smoke run, where each body runs once). Kernels that
work in place on their input get a fresh copy before every timed call, outside the
timing (``benchmark.pedantic`` with ``setup``), so values do not drift to subnormals.

The ``bias+act parallel`` groups decide whether fastmlp's elementwise kernels should
use ``parallel=True``: a row-``prange`` bias+relu and bias+tanh compiled serially
(``fastmlp._numba_options.kernel``) and in parallel (``parallel_kernel``), next to
fastmlp's own kernel and NumPy, alone and right after the GEMM that feeds them in an
epoch (the case that matters: parallel regions next to threaded BLAS).
"""

import numpy as np
import pytest
from numba import prange

from fastmlp._numba_options import kernel, parallel_kernel
from fastmlp._optimizers import AdamState, SGDState
from fastmlp._params import param_offsets
from fastmlp.engines import get_engine
from fastmlp.engines._names import ACTIVATION_CODES, HIDDEN_ACTIVATIONS
from fastmlp.engines.numba_engine import _c_kernels
from fastmlp.engines.numba_engine import _vector_math as vm
from fastmlp.engines.numba_engine._c_calls import call_address
from fastmlp.engines.numba_engine._numpy_loops import loops

from ._helpers import cases, run
from .workloads import WORKLOADS

ENGINES = ("numpy", "numba")
DTYPES = (np.float32, np.float64)
#: (rows, inputs, outputs) of one layer on a minibatch: circles', digits' and wide-regression's.
LAYER_SHAPES = {"32x2x8": (32, 2, 8), "200x64x100": (200, 64, 100), "256x512x512": (256, 512, 512)}
#: (rows, outputs) of an output layer.
OUTPUT_SHAPES = {"32x1": (32, 1), "200x10": (200, 10), "256x100": (256, 100)}
#: Parameter counts of circles' (8,) net, digits' (100,) net and wide-regression's (512, 512) net.
PARAM_COUNTS = {str(n): n for n in (int(param_offsets(u)[-1]) for u in ([2, 8, 1], [64, 100, 10], [100, 512, 512, 1]))}


#: Every hidden activation and softmax (exp, the Poisson output, is left out).
FORWARD_ACTIVATIONS = HIDDEN_ACTIVATIONS + ("softmax",)


def dtype_axis():
    return {np.dtype(d).name: d for d in DTYPES}


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _layer(rng, shape, dtype):
    n, i, o = shape
    A = rng.standard_normal((n, i)).astype(dtype)
    W = (rng.standard_normal((i, o)) / np.sqrt(i)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    return A, W, b


def _activate(activation, Z):
    """A layer's output f(Z), same dtype and shape, from the reference engine."""
    o = Z.shape[1]
    return get_engine("numpy").dense_forward(Z, np.eye(o, dtype=Z.dtype), np.zeros(o, Z.dtype), activation,
                                             np.empty_like(Z))


# -- per-layer kernels -------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "activation, shape, dtype",
    cases("dense_forward", activation={a: a for a in FORWARD_ACTIVATIONS}, shape=LAYER_SHAPES, dtype=dtype_axis()),
)
def test_dense_forward(benchmark, rng, engine, activation, shape, dtype):
    A, W, b = _layer(rng, shape, dtype)
    out = np.empty((A.shape[0], W.shape[1]), dtype)
    run(benchmark, get_engine(engine).dense_forward, A, W, b, activation, out)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "activation, shape, dtype",
    cases("activation_derivative", activation={a: a for a in HIDDEN_ACTIVATIONS if a != "identity"},
          shape=LAYER_SHAPES, dtype=dtype_axis()),
)
def test_activation_derivative(benchmark, rng, engine, activation, shape, dtype):
    A, W, b = _layer(rng, shape, dtype)
    out = _activate(activation, A @ W + b)
    initial = rng.standard_normal(out.shape).astype(dtype)
    delta = initial.copy()
    run(benchmark, get_engine(engine).activation_derivative, out, delta, activation, fresh=[(delta, initial)])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "activation, shape, dtype",
    cases("backprop_delta", activation={a: a for a in ("relu", "tanh")}, shape=LAYER_SHAPES, dtype=dtype_axis()),
)
def test_backprop_delta(benchmark, rng, engine, activation, shape, dtype):
    Z_prev, W, _ = _layer(rng, shape, dtype)
    A_prev = _activate(activation, Z_prev)  # the previous layer's output, (n, i)
    delta = rng.standard_normal((A_prev.shape[0], W.shape[1])).astype(dtype)
    run(benchmark, get_engine(engine).backprop_delta, delta, W, A_prev, activation, np.empty_like(A_prev))


LOSSES = {
    # loss -> (output activation, targets maker)
    "log_loss": ("softmax", lambda rng, n, o: np.eye(o)[rng.integers(o, size=n)]),
    "binary_log_loss": ("logistic", lambda rng, n, o: rng.integers(2, size=(n, o))),
    "squared_error": ("identity", lambda rng, n, o: rng.standard_normal((n, o))),
    "poisson": ("exp", lambda rng, n, o: rng.poisson(2.0, size=(n, o))),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("loss, shape, dtype",
                         cases("output_delta", loss={k: k for k in LOSSES}, shape=OUTPUT_SHAPES, dtype=dtype_axis()))
def test_output_delta(benchmark, rng, engine, loss, shape, dtype):
    n, o = shape
    out_activation, make_targets = LOSSES[loss]
    out = _activate(out_activation, rng.standard_normal((n, o)).astype(dtype))
    Y = make_targets(rng, n, o).astype(dtype)
    run(benchmark, get_engine(engine).output_delta, out, Y, None, loss, np.empty_like(out))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape, dtype", cases("layer_grads", shape=LAYER_SHAPES, dtype=dtype_axis()))
def test_layer_grads(benchmark, rng, engine, shape, dtype):
    A_prev, W, _ = _layer(rng, shape, dtype)
    delta = rng.standard_normal((A_prev.shape[0], W.shape[1])).astype(dtype)
    gW, gb = np.empty_like(W), np.empty(W.shape[1], dtype)
    run(benchmark, get_engine(engine).layer_grads, A_prev, delta, W, 1e-4, float(A_prev.shape[0]), gW, gb)


# -- optimizer steps over the flat parameter vector ----------------------------------------
def _params(rng, size, dtype):
    theta = rng.uniform(-0.1, 0.1, size).astype(dtype)
    grads = (rng.standard_normal(size) * 1e-2).astype(dtype)
    return theta, grads


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("size, dtype", cases("sgd_step", size=PARAM_COUNTS, dtype=dtype_axis()))
def test_sgd_step(benchmark, rng, engine, size, dtype):
    theta, grads = _params(rng, size, dtype)
    run(benchmark, get_engine(engine).sgd_step, theta, grads, np.zeros_like(theta), 1e-3, 0.9, True)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("size, dtype", cases("adam_step", size=PARAM_COUNTS, dtype=dtype_axis()))
def test_adam_step(benchmark, rng, engine, size, dtype):
    theta, grads = _params(rng, size, dtype)
    run(benchmark, get_engine(engine).adam_step, theta, grads, np.zeros_like(theta), np.zeros_like(theta),
        1e-3, 0.9, 0.999, 1e-8)


# -- whole network -----------------------------------------------------------------------
def network_problem(workload, dtype, rows=None, seed=0):
    """Engine-level arguments for ``workload``'s network: (theta, layer_units, X, Y,
    activation, out_activation, loss), X cast to ``dtype``, Glorot-uniform weights."""
    X, y = workload.data()
    if rows is not None:
        X, y = X[:rows], y[:rows]
    X = np.ascontiguousarray(X, dtype=dtype)
    units = workload.layer_units(X, y)
    if workload.task == "regression":
        Y, out_activation, loss = y.reshape(-1, 1), "identity", "squared_error"
    elif units[-1] == 1:
        Y, out_activation, loss = (y == np.unique(y)[1]).reshape(-1, 1), "logistic", "binary_log_loss"
    else:
        Y, out_activation, loss = y.reshape(-1, 1) == np.unique(y), "softmax", "log_loss"
    rng = np.random.default_rng(seed)
    bounds = [np.sqrt(6.0 / (a + b)) for a, b in zip(units[:-1], units[1:])]
    theta = np.concatenate(
        [rng.uniform(-bd, bd, a * b) for bd, a, b in zip(bounds, units[:-1], units[1:])]
        + [rng.uniform(-bd, bd, b) for bd, b in zip(bounds, units[1:])]
    ).astype(dtype)
    assert theta.size == param_offsets(units)[-1]
    return theta, units, X, np.ascontiguousarray(Y, dtype=dtype), workload.activation, out_activation, loss


NETWORK_WORKLOADS = {name: WORKLOADS[name] for name in ("circles", "digits", "mnist-like", "wide-regression")}
#: Rows of the batch loss_and_grad sees (L-BFGS passes the whole training set).
LOSS_AND_GRAD_ROWS = 1000


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("workload, dtype", cases("loss_and_grad", workload=NETWORK_WORKLOADS, dtype=dtype_axis()))
def test_loss_and_grad(benchmark, engine, workload, dtype):
    theta, units, X, Y, activation, out_activation, loss = network_problem(workload, dtype, LOSS_AND_GRAD_ROWS)
    run(benchmark, get_engine(engine).loss_and_grad, theta, units, X, Y, None, activation, out_activation, loss,
        1e-4, np.empty_like(theta))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("workload, dtype", cases("train_epoch", workload=WORKLOADS, dtype=dtype_axis()))
def test_train_epoch(benchmark, engine, workload, dtype):
    """One epoch over the workload's data (rows in order, no shuffle), its batch size and
    optimizer; parameters keep training from call to call."""
    theta, units, X, Y, activation, out_activation, loss = network_problem(workload, dtype)
    if workload.solver == "sgd":
        optimizer = SGDState(theta, 0.001, "constant", workload.extra_params.get("momentum", 0.9), True, 0.5)
    else:
        optimizer = AdamState(theta, 0.001, 0.9, 0.999, 1e-8)
    order = np.arange(X.shape[0])
    run(benchmark, get_engine(engine).train_epoch, theta, units, X, Y, None, order, workload.batch_size,
        activation, out_activation, loss, 1e-4, optimizer)


# -- does parallel=True pay for elementwise kernels? ---------------------------------------
# Each variant is its own Python function: a function compiled by both ``kernel`` and
# ``parallel_kernel`` shares one entry in Numba's cache (the key has no ``parallel``
# flag), so the second one to compile silently loads the first one's code.
def _bias_relu_serial(Z, b):
    for i in prange(Z.shape[0]):
        for j in range(Z.shape[1]):
            v = Z[i, j] + b[j]
            Z[i, j] = v if v > 0 else 0.0


def _bias_relu_parallel(Z, b):
    for i in prange(Z.shape[0]):
        for j in range(Z.shape[1]):
            v = Z[i, j] + b[j]
            Z[i, j] = v if v > 0 else 0.0


def _bias_tanh_serial(Z, b):
    for i in prange(Z.shape[0]):
        for j in range(Z.shape[1]):
            Z[i, j] = vm.tanh(np.float64(Z[i, j] + b[j]))


def _bias_tanh_parallel(Z, b):
    for i in prange(Z.shape[0]):
        for j in range(Z.shape[1]):
            Z[i, j] = vm.tanh(np.float64(Z[i, j] + b[j]))


def _numpy_bias_relu(Z, b):
    np.add(Z, b, out=Z)
    np.maximum(Z, 0, out=Z)


def _numpy_bias_tanh(Z, b):
    np.add(Z, b, out=Z)
    np.tanh(Z, out=Z)


@kernel
def _call_activation_kernel(address, Z, b, loops):
    """The epoch's call of an activation's C kernel (``_c_kernels.activation``)."""
    call_address(address, (Z, b, Z.shape[0], Z.shape[1], loops))


def _fastmlp_bias_activation(code):
    def bias_activation(Z, b):
        c_kernel = _c_kernels.activation(code, Z.dtype, True)
        _call_activation_kernel(c_kernel.address, Z, b, loops(Z.dtype))

    return bias_activation


BIAS_ACTIVATION_VARIANTS = {
    "relu": {
        "serial": kernel(_bias_relu_serial),
        "parallel": parallel_kernel(_bias_relu_parallel),
        "fastmlp": _fastmlp_bias_activation(ACTIVATION_CODES["relu"]),
        "numpy": _numpy_bias_relu,
    },
    "tanh": {
        "serial": kernel(_bias_tanh_serial),
        "parallel": parallel_kernel(_bias_tanh_parallel),
        "fastmlp": _fastmlp_bias_activation(ACTIVATION_CODES["tanh"]),
        "numpy": _numpy_bias_tanh,
    },
}
#: (rows, outputs) of hidden layers: circles', digits', mnist-like's first and wide-regression's.
HIDDEN_SHAPES = {"32x8": (32, 8), "200x100": (200, 100), "256x256": (256, 256), "256x512": (256, 512)}


@kernel
def _gemm(A, W, out):
    """out = A @ W through Numba's np.dot (SciPy's BLAS), as fastmlp's epoch does."""
    np.dot(A, W, out)


@pytest.mark.parametrize("variant", ["serial", "parallel", "fastmlp", "numpy"])
@pytest.mark.parametrize("activation, shape, dtype",
                         cases("bias+act parallel", activation={"relu": "relu", "tanh": "tanh"},
                               shape=HIDDEN_SHAPES, dtype=dtype_axis()))
def test_bias_activation_parallel(benchmark, rng, variant, activation, shape, dtype):
    Z = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    run(benchmark, BIAS_ACTIVATION_VARIANTS[activation][variant], Z, b, fresh=[(Z, Z.copy())])


@pytest.mark.parametrize("variant", ["serial", "parallel", "fastmlp", "numpy"])
@pytest.mark.parametrize("activation, shape, dtype",
                         cases("gemm then bias+act parallel", activation={"relu": "relu", "tanh": "tanh"},
                               shape=HIDDEN_SHAPES, dtype=dtype_axis()))
def test_gemm_then_bias_activation_parallel(benchmark, rng, variant, activation, shape, dtype):
    """The GEMM of a layer (inner dimension 256, BLAS on all threads) then its bias and
    activation: what an epoch alternates, where parallel regions meet BLAS threads."""
    n, o = shape
    A = rng.standard_normal((n, 256)).astype(dtype)
    W = (rng.standard_normal((256, o)) / 16).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    Z = np.empty((n, o), dtype)
    apply = BIAS_ACTIVATION_VARIANTS[activation][variant]

    def layer():
        _gemm(A, W, Z)
        apply(Z, b)

    run(benchmark, layer)
