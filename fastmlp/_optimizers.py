"""Optimizer state and learning-rate schedules (scikit-learn's, on flat vectors).

The per-step arithmetic lives in the engines (``sgd_step``/``adam_step``); these
classes hold what persists between steps and epochs, and the per-epoch rules:
invscaling's learning rate and the adaptive schedule's division by 5.
"""

import numpy as np

from .engines._names import ADAM, SGD


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

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True

    def bias_corrected_rate(self):
        """The step's rate, computed as scikit-learn does (float64)."""
        return (
            self.learning_rate_init
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
