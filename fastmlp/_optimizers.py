"""Optimizer state and learning-rate schedules (scikit-learn's, on flat vectors).

The per-step arithmetic lives in the engines (``sgd_step``/``adam_step``); these
classes hold what persists between steps and epochs, the per-epoch rules (invscaling's
learning rate, the adaptive schedule's division by 5), and hand a compiled epoch its
arguments (``kernel_args``). Adam's bias-corrected step size is ``bias_corrected_rate``,
which the compiled engine compiles as it is.
"""

import math

import numpy as np

from .engines._names import ADAM, SGD


def _usable(vector, dtype):
    """``vector`` as the engines write it: C-contiguous, writable, of ``dtype`` (a copy
    only where it is not, e.g. state loaded with ``joblib.load(..., mmap_mode="r")``)."""
    if vector.dtype != dtype or not vector.flags.c_contiguous or not vector.flags.writeable:
        return np.array(vector, dtype=dtype, order="C")
    return vector


def bias_corrected_rate(learning_rate_init, beta_1, beta_2, t):
    """Adam's step size at step ``t``, scikit-learn's
    ``learning_rate_init * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` for float arguments.

    A NumPy float64, as in scikit-learn, so that NumPy's promotion computes the update in
    float64 for float32 parameters too. Compiles unchanged in Numba (``float(t)``: a float
    power, as Python's, not Numba's integer power by repeated squaring).
    """
    return np.float64(learning_rate_init * math.sqrt(1.0 - beta_2 ** float(t)) / (1.0 - beta_1 ** float(t)))


class SGDState:
    """Plain, momentum or Nesterov SGD.

    Attributes
    ----------
    velocity : ndarray, shape (n_params,), dtype of the gradients (``dtype``, default
        the parameters')
    learning_rate : float
        Current rate; ``iteration_ends`` and ``trigger_stopping`` change it.
    """

    solver = SGD

    def __init__(self, theta, learning_rate_init, lr_schedule, momentum, nesterov, power_t, dtype=None):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros_like(theta, dtype=dtype)

    def make_usable(self, dtype):
        """Give the state vectors ``dtype``, C order and write access, copying only where
        needed (state loaded read-only or memory-mapped, or set by a user)."""
        self.velocity = _usable(self.velocity, dtype)

    def kernel_args(self):
        """(hyperparameters, state vectors, step count) as the compiled engine's optimizer
        step takes them: float64 (lr, momentum, nesterov, 0), (velocity, velocity), 0."""
        hyperparameters = np.array([self.learning_rate, self.momentum, float(bool(self.nesterov)), 0.0],
                                   dtype=np.float64)
        return hyperparameters, (self.velocity, self.velocity), 0

    def iteration_ends(self, time_step):
        """Update invscaling's rate; ``time_step`` is samples seen so far (``t_``)."""
        if self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose):
        """Return True to stop; the adaptive schedule first divides the rate by 5."""
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class AdamState:
    """Adam; ``t`` counts minibatch steps, ``m``/``v`` are the moment vectors (of the
    gradients' dtype, ``dtype``, default the parameters')."""

    solver = ADAM

    def __init__(self, theta, learning_rate_init, beta_1, beta_2, epsilon, dtype=None):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.m = np.zeros_like(theta, dtype=dtype)
        self.v = np.zeros_like(theta, dtype=dtype)

    def make_usable(self, dtype):
        """Give the moment vectors ``dtype``, C order and write access, copying only where
        needed (state loaded read-only or memory-mapped, or set by a user)."""
        self.m = _usable(self.m, dtype)
        self.v = _usable(self.v, dtype)

    def kernel_args(self):
        """(hyperparameters, state vectors, step count) as the compiled engine's optimizer
        step takes them: float64 (learning_rate_init, beta_1, beta_2, epsilon), (m, v), t."""
        hyperparameters = np.array([self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon], dtype=np.float64)
        return hyperparameters, (self.m, self.v), int(self.t)

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True

    def bias_corrected_rate(self):
        """The current step's rate (``bias_corrected_rate``)."""
        return bias_corrected_rate(float(self.learning_rate_init), float(self.beta_1), float(self.beta_2), self.t)
