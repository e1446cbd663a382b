"""Naming a training loss that is not finite, and the usual remedy.

scikit-learn trains on with an inf or NaN loss and says only that the solver did not
converge (or leaks NumPy's overflow warning). fastmlp says what happened: the check is
one ``math.isfinite`` per epoch (per L-BFGS run), and the message is built only when the
loss is not finite.

- sgd/adam, weights still finite: a RuntimeWarning, once per fit; training goes on as in
  scikit-learn (same model), but its loss curve and stopping rules mean nothing.
- sgd/adam, weights no longer finite: a ValueError at once (scikit-learn raises its
  "non-finite parameter weights" ValueError only after the remaining epochs); with early
  stopping a warning, and the best weights before are kept, as in scikit-learn.
- lbfgs: a ValueError (scikit-learn returns a model with ``loss_ = nan``): L-BFGS cannot
  step from a point whose loss is not finite, so the "model" would be its initial weights.
"""

import math
import os
import sys
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.base import is_classifier

# Frames of these files are fastmlp's or scikit-learn's fit wrapper, not the user's.
_INTERNAL = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.join(os.path.dirname(sklearn.__file__), "base.py"),
)

# scikit-learn's message for non-finite weights; fastmlp's errors start with it, so that
# code matching scikit-learn's message still matches.
NON_FINITE_WEIGHTS = (
    "Solver produced non-finite parameter weights. The input data may contain large values and need to be preprocessed."
)


def _largest_magnitude(a):
    data = a.data if sp.issparse(a) else np.asarray(a)
    if data.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        return float(np.max(np.abs(data)))


def _message(est, what, X, Y):
    """``what`` happened; the magnitudes of X (and y for a regressor) and the remedy."""
    scale = f"largest |X| = {_largest_magnitude(X):.3g}"
    remedy = "Scale X (e.g. sklearn.preprocessing.StandardScaler)"
    if not is_classifier(est):
        scale += f", largest |y| = {_largest_magnitude(Y):.3g}"
        remedy += " and y (e.g. sklearn.compose.TransformedTargetRegressor with a StandardScaler)"
    if est.solver != "lbfgs":
        remedy += f", or lower learning_rate_init (now {est.learning_rate_init})"
    return f"{type(est).__name__}: {what}. Values overflow float arithmetic ({scale}). {remedy}."


def _user_stacklevel():
    """The stack level of the first caller outside fastmlp (and scikit-learn's fit
    wrapper), so that a warning points at the user's line."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        level += 1
        frame = frame.f_back
    return level


def check_epoch_loss(est, loss, theta, X, Y, warned):
    """After an sgd/adam epoch whose mean loss is ``loss``; ``theta`` holds the weights.

    Warns once a fit for a non-finite loss, and once more if the weights then stop being
    finite (``warned``, a set this function fills, remembers which). Raises ValueError when
    the weights are no longer finite and nothing can bring them back (without early
    stopping: NaN weights stay NaN through every later update); with early stopping the
    best weights so far are restored at the end, as in scikit-learn."""
    if math.isfinite(loss):
        return
    what = f"the training loss is {loss} at epoch {est.n_iter_}"
    weights_finite = bool(np.isfinite(theta).all())
    if not weights_finite and not est.early_stopping:
        raise ValueError(f"{NON_FINITE_WEIGHTS} {_message(est, what, X, Y)}")
    kind = "loss" if weights_finite else "weights"
    if kind in warned:
        return
    warned.add(kind)
    then = ("Training goes on, but its loss curve and stopping rules are meaningless while the loss is not finite."
            if weights_finite else
            "The weights are no longer finite; early stopping keeps the best weights found before.")
    warnings.warn(f"{_message(est, what, X, Y)} {then}", RuntimeWarning, stacklevel=_user_stacklevel())


def check_lbfgs_loss(est, loss, X, Y):
    """After L-BFGS: a ValueError when its final loss is not finite."""
    if not math.isfinite(loss):
        raise ValueError(
            _message(est, f"the training loss is {loss} where L-BFGS stopped", X, Y) + " L-BFGS cannot step from a"
            " point where the loss is not finite, so no model was trained."
        )


def non_finite_weights_error(est, X, Y):
    """The ValueError for weights that a fit left non-finite (scikit-learn's message, then
    the magnitudes and the remedy)."""
    return ValueError(f"{NON_FINITE_WEIGHTS} {_message(est, 'the weights are not finite after training', X, Y)}")
