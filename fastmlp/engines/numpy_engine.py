"""The reference engine: backprop written as plain NumPy, one line per equation.

It states the math (``A @ W + b``, ``delta @ W.T``, ``A.T @ delta``) rather than
copying the compiled kernels' loops, so that tests comparing the two engines can
catch a mistake in either. Signatures are identical to ``numba_engine``'s. Where
scikit-learn's own expressions fix the rounding (the activations, the loss, the in-place
derivatives, the L2 term, the full-batch loss and gradient of L-BFGS), they come from
``_full_batch``, written there once as scikit-learn writes them, so that this engine trains
scikit-learn's model bit for bit wherever its NumPy calls are the same.

Shapes: ``n`` rows in a batch, ``i`` inputs and ``o`` outputs of a layer. Arrays are
float32 or float64; outputs are preallocated by the caller and overwritten.
"""

import numpy as np

from . import _full_batch
from ._full_batch import activate, activation_derivative, data_loss
from ._names import SGD


def dense_forward(A, W, b, activation, out):
    """out = activation(A @ W + b). A (n, i), W (i, o), b (o,), out (n, o). Returns out."""
    out[...] = activate(A @ W + b, activation)
    return out


def backprop_delta(delta, W, A_prev, activation, out):
    """out = (delta @ W.T) * f'(A_prev). delta (n, o), W (i, o), A_prev and out (n, i)."""
    out[...] = delta @ W.T
    return activation_derivative(A_prev, out, activation)


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


def loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss, alpha, grad):
    """Regularized loss of the batch (X, Y, sw) and its gradient, written into grad:
    scikit-learn's ``_backprop`` with NumPy's arithmetic (``_full_batch.loss_and_grad``,
    whose docstring gives the arguments). Returns a float."""
    return _full_batch.loss_and_grad(_full_batch.NUMPY_OPS, theta, layer_units, X, Y, sw, activation, out_activation,
                                     loss, alpha, grad)


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
        value = loss_and_grad(theta, layer_units, X[idx], Y[idx], sw_b, activation, out_activation, loss, alpha, grad)
        total += value * len(idx)
        if optimizer.solver == SGD:
            sgd_step(theta, grad, optimizer.velocity, optimizer.learning_rate, optimizer.momentum, optimizer.nesterov)
        else:
            optimizer.t += 1
            adam_step(theta, grad, optimizer.m, optimizer.v, optimizer.bias_corrected_rate(), optimizer.beta_1,
                      optimizer.beta_2, optimizer.epsilon)
    return total
