"""scikit-learn's full-batch loss and gradient (its ``_backprop``), the function L-BFGS
minimizes, written once for both engines.

L-BFGS turns a one-ulp difference into another model within its default 200 iterations,
so every evaluation must round as scikit-learn's: its NumPy GEMMs (SciPy's sparse
products for sparse X), its dtypes and promotions, its sums. This module holds what both
engines evaluate identically: the structure (``loss_and_grad``), scikit-learn's data loss
and L2 term, and NumPy's evaluation of each activation and derivative, as scikit-learn
writes them. Each engine supplies its layer arithmetic through an ``ops`` object with

- ``activate(Z, b, activation)``: Z = f(Z + b) in place; Z a new C-contiguous array
  (n, o), b (o,);
- ``derivative(A, delta, activation)``: delta *= f'(Z), f' written from A = f(Z), in place;
- ``scale_gradient(g, W, alpha, denom)``: g = (g + alpha W) / denom in place, denom the
  row count (an int) or the weight sum (a float).

The reference engine's ops are NumPy's (``NUMPY_OPS``); the compiled engine's call its
kernels where those round as NumPy does and these functions elsewhere.
"""

import types

import numpy as np
from scipy.special import expit, xlogy

from .._params import unpack
from ._names import LEAKY_RELU_SLOPE


def _softmax(Z):
    tmp = Z - Z.max(axis=1)[:, np.newaxis]
    E = np.exp(tmp)
    return E / E.sum(axis=1)[:, np.newaxis]


_ACTIVATIONS = {
    "identity": lambda Z: Z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda Z: np.maximum(Z, 0),
    "leaky_relu": lambda Z: np.where(Z > 0, Z, LEAKY_RELU_SLOPE * Z),
    "softplus": lambda Z: np.logaddexp(0, Z),
    "softmax": _softmax,
    "exp": np.exp,
}

# Derivatives written in terms of the layer's output A = f(Z), for the activations that
# scikit-learn does not have (its own are applied in place as it writes them, below).
_DERIVATIVES = {
    "leaky_relu": lambda A: np.where(A > 0, 1, LEAKY_RELU_SLOPE).astype(A.dtype),
    "softplus": lambda A: -np.expm1(-A),  # sigmoid(Z) = 1 - exp(-softplus(Z))
}


def activate(Z, activation):
    """f(Z) as a new array (n, o), NumPy's and SciPy's functions (scikit-learn's for its
    activations); overflow to inf and NaN in -> NaN out are results, not warnings."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _ACTIVATIONS[activation](Z)


def activation_derivative(A, delta, activation):
    """delta *= f'(Z) in place, f' written from the layer output A. Both (n, o).

    scikit-learn's in-place operations in its order (``delta *= A; delta *= 1 - A`` for
    logistic), so that rounding is scikit-learn's. Returns delta.
    """
    with np.errstate(over="ignore"):
        if activation == "logistic":
            delta *= A
            delta *= 1 - A
        elif activation == "tanh":
            delta *= 1 - A**2
        elif activation == "relu":
            delta[A == 0] = 0
        elif activation != "identity":
            delta *= _DERIVATIVES[activation](A)
    return delta


def data_loss(out, Y, sw, loss):
    """scikit-learn's data loss of the batch, as the NumPy scalar its arithmetic gives.

    out (n, o); Y (n, o) of any numeric or bool dtype (scikit-learn's targets: bool
    labels, the regressor's y as given); sw (n,) float64 or None. The dtype follows
    NumPy's promotion (float32 for float32 outputs and float32 or bool targets).
    """
    if loss in ("log_loss", "binary_log_loss"):
        eps = np.finfo(out.dtype).eps
        p = np.clip(out, eps, 1 - eps)
        if loss == "log_loss":
            per_elem = xlogy(Y, p)
        else:
            per_elem = xlogy(Y, p) + xlogy(1 - Y, 1 - p)
        return -np.average(per_elem, weights=sw, axis=0).sum()
    if loss == "squared_error":
        return 0.5 * np.average((Y - out) ** 2, weights=sw, axis=0).mean()
    if loss == "poisson":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.average(xlogy(Y, Y / out) - Y + out, weights=sw, axis=0).sum()
    raise ValueError(f"unknown loss {loss!r}")


def with_l2_term(value, coefs, alpha, denom):
    """value + 0.5 * alpha * sum(||W||^2) / denom, in scikit-learn's order and dtypes
    (float32 coefficients give a float32 sum of squares)."""
    squares = 0
    for W in coefs:
        w = W.ravel()
        squares += np.dot(w, w)
    return value + (0.5 * alpha) * squares / denom


def _numpy_activate(Z, b, activation):
    Z += b
    Z[...] = activate(Z, activation)


def _numpy_scale_gradient(g, W, alpha, denom):
    g += alpha * W
    g /= denom


#: The reference engine's layer arithmetic: NumPy's, as scikit-learn's.
NUMPY_OPS = types.SimpleNamespace(
    activate=_numpy_activate, derivative=activation_derivative, scale_gradient=_numpy_scale_gradient
)


# A diverging L-BFGS run overflows: inf and NaN are its results here, not warnings.
@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def loss_and_grad(ops, theta, layer_units, X, Y, sw, activation, out_activation, loss, alpha, grad):
    """Regularized loss of (X, Y, sw) and its gradient, written into grad.

    Parameters
    ----------
    ops : the engine's layer arithmetic (see the module docstring)
    theta : ndarray, shape (p,), flat parameters (``fastmlp._params``), C-contiguous
    layer_units : sequence of int, units per layer, inputs first
    X : ndarray (n, i) C-contiguous, or a SciPy sparse matrix (its products are then
        SciPy's, as scikit-learn's)
    Y : ndarray (n, o), scikit-learn's target dtype (bool labels, the regressor's y):
        NumPy's promotion then decides the dtype of the deltas and gradients (float64
        targets with float32 X backpropagate in float64)
    sw : ndarray (n,) float64, or None
    activation, out_activation, loss : names; alpha : float or NumPy scalar
    grad : ndarray, shape (p,), float64 or theta's dtype; written

    Returns
    -------
    float
    """
    coefs, intercepts = unpack(theta, layer_units)
    gcoefs, gintercepts = unpack(grad, layer_units)
    n_layers = len(coefs)
    acts = [X]
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = np.ascontiguousarray(acts[-1] @ W)
        ops.activate(Z, b, out_activation if layer == n_layers - 1 else activation)
        acts.append(Z)
    denom = X.shape[0] if sw is None else sw.sum()
    value = with_l2_term(data_loss(acts[-1], Y, sw, loss), coefs, alpha, denom)
    delta = acts[-1] - Y
    if sw is not None:
        delta *= sw.reshape(-1, 1)
    for layer in range(n_layers - 1, -1, -1):
        g = np.ascontiguousarray(acts[layer].T @ delta)
        ops.scale_gradient(g, coefs[layer], alpha, denom)
        gcoefs[layer][...] = g
        gintercepts[layer][...] = np.sum(delta, axis=0) / denom
        if layer > 0:
            delta = np.matmul(delta, coefs[layer].T)
            ops.derivative(acts[layer], delta, activation)
    return float(value)
