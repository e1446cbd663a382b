"""The reference engine: backprop written as plain NumPy, one line per equation.

It states the math (``A @ W + b``, ``delta @ W.T``, ``A.T @ delta``) rather than
copying the compiled kernels' loops, so that tests comparing the two engines can
catch a mistake in either. Signatures are identical to ``numba_engine``'s. Where
scikit-learn's own expressions fix the rounding (the loss, the in-place derivatives, the
L2 term), they are written as scikit-learn writes them, so that this engine trains
scikit-learn's model bit for bit wherever its NumPy calls are the same.

Shapes: ``n`` rows in a batch, ``i`` inputs and ``o`` outputs of a layer. Arrays are
float32 or float64; outputs are preallocated by the caller and overwritten.
"""

import numpy as np
from scipy.special import expit, xlogy

from .._params import unpack
from ._names import LEAKY_RELU_SLOPE, SGD


def _softplus(Z):
    return np.logaddexp(0, Z)


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
    "softplus": _softplus,
    "softmax": _softmax,
    "exp": np.exp,
}

# Derivatives written in terms of the layer's output A = f(Z), for the other activations
# (logistic, tanh and relu are applied in place as scikit-learn writes them, below).
_DERIVATIVES = {
    "leaky_relu": lambda A: np.where(A > 0, 1, LEAKY_RELU_SLOPE).astype(A.dtype),
    "softplus": lambda A: -np.expm1(-A),  # sigmoid(Z) = 1 - exp(-softplus(Z))
}


def activate(Z, activation):
    """f(Z) as a new array (n, o); overflow to inf and NaN in -> NaN out are the intended
    results, not warnings."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _ACTIVATIONS[activation](Z)


def dense_forward(A, W, b, activation, out):
    """out = activation(A @ W + b). A (n, i), W (i, o), b (o,), out (n, o). Returns out."""
    out[...] = activate(A @ W + b, activation)
    return out


def activation_derivative(A, delta, activation):
    """delta *= f'(Z), with f' written from the layer output A. Both (n, o).

    scikit-learn's in-place operations, in its order (``delta *= A; delta *= 1 - A`` for
    logistic), so that float rounding is the same as scikit-learn's.
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


def backprop_delta(delta, W, A_prev, activation, out):
    """out = (delta @ W.T) * f'(A_prev). delta (n, o), W (i, o), A_prev and out (n, i)."""
    out[...] = delta @ W.T
    return activation_derivative(A_prev, out, activation)


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


def output_delta(out, Y, sw, loss, delta):
    """Data loss of the batch (scikit-learn's definitions); delta = (out - Y) * sw.

    out, Y, delta (n, o); sw (n,) float64 or None. Returns a Python float.
    """
    value = data_loss(out, Y, sw, loss)
    delta[...] = out - Y
    if sw is not None:
        delta *= sw.reshape(-1, 1)
    return float(value)


def layer_grads(A_prev, delta, W, alpha, denom, gW, gb):
    """gW = (A_prev.T @ delta + alpha * W) / denom; gb = delta.sum(axis=0) / denom.

    A_prev (n, i), delta (n, o), W and gW (i, o), gb (o,); denom: rows or weight sum.
    """
    gW[...] = (A_prev.T @ delta + alpha * W) / denom
    gb[...] = delta.sum(axis=0) / denom


def sgd_step(params, grads, velocity, lr, momentum, nesterov):
    """In place: v = momentum * v - lr * g; params += v (Nesterov: momentum * v - lr * g).

    All 1-D of the same length and dtype.
    """
    velocity[...] = momentum * velocity - lr * grads
    if nesterov:
        params += momentum * velocity - lr * grads
    else:
        params += velocity


def adam_step(params, grads, m, v, lr, beta_1, beta_2, epsilon):
    """In place: Adam moments and update; lr is the bias-corrected rate for this step."""
    m[...] = beta_1 * m + (1 - beta_1) * grads
    v[...] = beta_2 * v + (1 - beta_2) * grads**2
    params += -lr * m / (np.sqrt(v) + epsilon)


# -- whole network -----------------------------------------------------------------


def forward(coefs, intercepts, X, activation, out_activation):
    """Output of the network for X (n, i): hidden layers ``activation``, last layer
    ``out_activation``. Returns a new (n, o) array of X's dtype."""
    A = X
    last = len(coefs) - 1
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        act = out_activation if layer == last else activation
        A = dense_forward(A, W, b, act, np.empty((A.shape[0], W.shape[1]), X.dtype))
    return A


# A diverging L-BFGS run overflows: inf and NaN are its results here, not warnings.
@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss, alpha, grad):
    """Regularized loss of the batch (X, Y, sw) and its gradient, written into grad.

    scikit-learn's ``_backprop`` operation for operation: L-BFGS follows the same path
    only if every evaluation rounds the same way. theta: flat parameters (see
    ``fastmlp._params``); grad: a flat vector, float64 or theta's dtype. Y may be bool
    or of another dtype than X: NumPy's promotion then decides the dtype of the deltas
    and gradients, as in scikit-learn (float64 targets with float32 X backpropagate in
    float64). Returns a float.
    """
    coefs, intercepts = unpack(theta, layer_units)
    gcoefs, gintercepts = unpack(grad, layer_units)
    n_layers = len(coefs)
    acts = [X]
    for layer in range(n_layers):
        act = out_activation if layer == n_layers - 1 else activation
        W = coefs[layer]
        acts.append(dense_forward(acts[-1], W, intercepts[layer], act, np.empty((X.shape[0], W.shape[1]), X.dtype)))
    denom = X.shape[0] if sw is None else sw.sum()
    value = with_l2_term(data_loss(acts[-1], Y, sw, loss), coefs, alpha, denom)
    delta = acts[-1] - Y
    if sw is not None:
        delta *= sw.reshape(-1, 1)
    for layer in range(n_layers - 1, -1, -1):
        g = acts[layer].T @ delta
        g += alpha * coefs[layer]
        g /= denom
        gcoefs[layer][...] = g
        gintercepts[layer][...] = np.sum(delta, axis=0) / denom
        if layer > 0:
            delta = activation_derivative(acts[layer], delta @ coefs[layer].T, activation)
    return float(value)


def train_epoch(theta, layer_units, X, Y, sw, order, batch_size, activation, out_activation, loss, alpha, optimizer):
    """One pass over the rows ``order`` of (X, Y, sw) in minibatches of batch_size.

    Updates theta and the optimizer state in place. Returns the sum over batches of
    batch loss times batch length (scikit-learn's ``accumulated_loss``). Gradients have
    the dtype NumPy gives ``output - Y`` (float64 for float64 targets of float32 X).
    """
    grad = np.empty(theta.shape, dtype=np.result_type(theta.dtype, Y.dtype))
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        sw_b = None if sw is None else sw[idx]
        total += loss_and_grad(theta, layer_units, X[idx], Y[idx], sw_b, activation, out_activation, loss, alpha, grad) * len(idx)
        if optimizer.solver == SGD:
            sgd_step(theta, grad, optimizer.velocity, optimizer.learning_rate, optimizer.momentum, optimizer.nesterov)
        else:
            optimizer.t += 1
            adam_step(theta, grad, optimizer.m, optimizer.v, optimizer.bias_corrected_rate(), optimizer.beta_1, optimizer.beta_2, optimizer.epsilon)
    return total
