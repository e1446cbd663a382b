"""Optimizer updates over the flat parameter vector, one fused pass each.

As scikit-learn's NumPy arithmetic with Python floats: the state vectors have the
gradients' dtype (float64 for a float32 network trained on float64 targets), the update
is added to the parameters and rounded to their dtype. Adam's bias-corrected step size
is ``fastmlp._optimizers.bias_corrected_rate``, compiled here as it is.
"""

import numpy as np

from ..._numba_options import inlined_kernel, kernel
from ..._optimizers import bias_corrected_rate as _bias_corrected_rate
from ._scalars import like

#: Adam's step size at step t, the Python function compiled (one formula for both engines).
bias_corrected_rate = inlined_kernel(_bias_corrected_rate)


@inlined_kernel
def sgd_step(params, grads, velocity, lr, momentum, nesterov):
    """velocity = momentum velocity - lr grads; params += velocity, or with Nesterov
    params += momentum velocity - lr grads.

    Parameters
    ----------
    params : ndarray, shape (p,), float32 or float64; written
    grads : ndarray, shape (p,), velocity's dtype
    velocity : ndarray, shape (p,), params' dtype or float64; written
    lr, momentum : float
    nesterov : bool
    """
    lr_t = like(lr, velocity)
    mom_t = like(momentum, velocity)
    for k in range(params.shape[0]):
        g = grads[k]
        velocity[k] = mom_t * velocity[k] - lr_t * g
        if nesterov:
            params[k] = params[k] + (mom_t * velocity[k] - lr_t * g)
        else:
            params[k] = params[k] + velocity[k]


@kernel
def adam_step(params, grads, m, v, lr, beta_1, beta_2, epsilon):
    """Adam's moments and update.

    Parameters
    ----------
    params : ndarray, shape (p,), float32 or float64; written
    grads : ndarray, shape (p,), m's dtype
    m, v : ndarray, shape (p,), params' dtype or float64; written
    lr : float
        The step's bias-corrected rate (``bias_corrected_rate``).
    beta_1, beta_2, epsilon : float

    The moments in their own dtype; the step in float64 (scikit-learn's rate is a NumPy
    float64), added and rounded back into params.
    """
    b1 = like(beta_1, m)
    b2 = like(beta_2, v)
    one_minus_b1 = like(1.0 - beta_1, m)
    one_minus_b2 = like(1.0 - beta_2, v)
    eps = like(epsilon, v)
    for k in range(params.shape[0]):
        g = grads[k]
        m[k] = b1 * m[k] + one_minus_b1 * g
        v[k] = b2 * v[k] + one_minus_b2 * (g * g)
        params[k] = np.float64(params[k]) + (-lr * np.float64(m[k])) / np.float64(np.sqrt(v[k]) + eps)
