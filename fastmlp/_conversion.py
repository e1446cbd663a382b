"""Moving fitted models between fastmlp and scikit-learn: ``from_sklearn`` and ``to_sklearn``.

Both libraries keep the same fitted attributes under the same names (``_FITTED``), so a
conversion copies them, with the parameters, into a new estimator of the other library.
The copy is deep, made in one ``copy.deepcopy`` so that the lists a fit shares stay
shared (after an early-stopped fit ``coefs_`` *is* ``_best_coefs`` in both libraries),
and the result shares no array or random state with its source. What differs:

- the optimizer state: scikit-learn's ``SGDOptimizer``/``AdamOptimizer`` hold one array
  per layer (``velocities``; ``ms``, ``vs``), fastmlp's ``SGDState``/``AdamState`` one
  flat vector in ``_params``' layout (``velocity``; ``m``, ``v``), same values;
- what only one library has: fastmlp's parameters (``engine``, ``n_threads``,
  ``class_weight``) and ``validation_loss_curve_``, scikit-learn's L-BFGS layout
  (``_SKLEARN_ONLY_FITTED``).
"""

import copy

import numpy as np
from sklearn import neural_network
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMultilayerPerceptron
from ._classifier import MLPClassifier
from ._optimizers import AdamState, SGDState, bias_corrected_rate
from ._params import pack, param_offsets, unpack
from ._regressor import MLPRegressor

#: Fitted attributes both libraries keep, under these names; a fit sets some of them only
#: (stochastic solvers, early stopping, the classifier, fitting on a DataFrame).
_FITTED = (
    "coefs_", "intercepts_", "n_features_in_", "feature_names_in_", "n_outputs_", "n_layers_", "out_activation_",
    "n_iter_", "t_", "loss_", "loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_",
    "classes_", "_label_binarizer", "_best_coefs", "_best_intercepts", "_no_improvement_count", "_random_state",
)
#: scikit-learn's L-BFGS layout of the packed parameters, recomputed by each of its L-BFGS fits.
_SKLEARN_ONLY_FITTED = ("_coef_indptr", "_intercept_indptr")
#: fastmlp-only parameters that change how fast a model trains, not which model.
_SPEED_PARAMS = ("engine", "n_threads")

_PAIRS = ((neural_network.MLPClassifier, MLPClassifier), (neural_network.MLPRegressor, MLPRegressor))


def from_sklearn(model):
    """A fastmlp copy of a fitted scikit-learn ``MLPClassifier`` or ``MLPRegressor``.

    Parameters, weights, classes and every fitted attribute that prediction, scoring and
    a later ``partial_fit`` or warm-start ``fit`` use (loss curve, iteration and sample
    counts, early-stopping state, the optimizer's state) are copied; ``engine`` and
    ``n_threads`` take their defaults (change them with ``set_params``). The copy shares
    no array with ``model``; it predicts what ``model`` predicts (to rounding: the
    arithmetic is fastmlp's) and trains on as ``model`` would. scikit-learn keeps no
    validation losses: a model fit with ``early_stopping=True`` gets NaN for each
    ``validation_loss_curve_`` entry of its past epochs.

    Raises TypeError if ``model`` is not a scikit-learn MLP, NotFittedError if unfitted.
    """
    target = next((ours for theirs, ours in _PAIRS if isinstance(model, theirs)), None)
    if target is None:
        hint = " (it is fastmlp's already; model.to_sklearn() goes the other way)" if isinstance(
            model, BaseMultilayerPerceptron) else ""
        raise TypeError("from_sklearn expects a fitted sklearn.neural_network.MLPClassifier or MLPRegressor, got "
                        f"{type(model).__module__}.{type(model).__qualname__}{hint}.")
    check_is_fitted(model)
    converted = target(**copy.deepcopy(model.get_params(deep=False)))
    state = _copied_state(model)
    if "_optimizer" in state:
        state["_optimizer"] = _fastmlp_optimizer(state["_optimizer"], len(state["coefs_"]))
    if "validation_scores_" in state:  # a stochastic fit's state
        scores = state["validation_scores_"]
        state["validation_loss_curve_"] = None if scores is None else [np.nan] * len(scores)
    vars(converted).update(state)
    return converted


def to_sklearn(model):
    """A scikit-learn copy of a fitted fastmlp model (``model.to_sklearn()``); see
    ``from_sklearn``, the other way. ``engine`` and ``n_threads`` are left out.

    Raises ValueError where scikit-learn cannot hold the model (an activation, or a
    non-default value of a parameter, that it does not have), TypeError if ``model`` is
    not fastmlp's, NotFittedError if unfitted.
    """
    target = next((theirs for theirs, ours in _PAIRS if isinstance(model, ours)), None)
    if target is None:
        raise TypeError(f"to_sklearn expects a fitted fastmlp model, got {type(model).__qualname__}.")
    check_is_fitted(model)
    activations = target._parameter_constraints["activation"][0].options
    if model.activation not in activations:
        raise ValueError(f"scikit-learn's {target.__name__} has no activation {model.activation!r} (it has "
                         f"{sorted(activations)}), so a model trained with it cannot be converted.")
    theirs = set(target().get_params())
    params = model.get_params(deep=False)
    defaults = type(model)().get_params()
    for name in params.keys() - theirs - set(_SPEED_PARAMS):
        if params[name] is not defaults[name] and params[name] != defaults[name]:
            raise ValueError(f"scikit-learn's {target.__name__} has no parameter {name!r}; set it back to "
                             f"{defaults[name]!r} first (model.set_params({name}={defaults[name]!r})) if a later fit "
                             "in scikit-learn may train without it.")
    converted = target(**copy.deepcopy({name: value for name, value in params.items() if name in theirs}))
    state = _copied_state(model)
    if "_optimizer" in state:
        state["_optimizer"] = _sklearn_optimizer(state["_optimizer"], _layer_units(state["coefs_"]))
    if model.solver == "lbfgs":
        state.update(_sklearn_lbfgs_layout(_layer_units(state["coefs_"])))
    vars(converted).update(state)
    return converted


def _copied_state(model):
    """Deep copies of the shared fitted attributes ``model`` has, and of its optimizer."""
    names = _FITTED + ("_optimizer",)
    return copy.deepcopy({name: vars(model)[name] for name in names if name in vars(model)})


def _layer_units(coefs):
    return [np.shape(coefs[0])[0]] + [np.shape(c)[1] for c in coefs]


def _flat(arrays, n_layers):
    """scikit-learn's per-layer vectors (coefficients then intercepts) as one vector of
    their common dtype."""
    return pack(arrays[:n_layers], arrays[n_layers:], np.result_type(*arrays))


def _per_layer(vector, layer_units):
    """One flat vector as scikit-learn's list of per-layer arrays (new arrays)."""
    coefs, intercepts = unpack(vector, layer_units)
    return [a.copy() for a in coefs + intercepts]


def _fastmlp_optimizer(optimizer, n_layers):
    """fastmlp's state of scikit-learn's optimizer, value for value."""
    if isinstance(optimizer, SGDOptimizer):
        velocity = _flat(optimizer.velocities, n_layers)
        state = SGDState(velocity, optimizer.learning_rate_init, optimizer.lr_schedule, optimizer.momentum,
                         optimizer.nesterov, optimizer.power_t)
        state.learning_rate = optimizer.learning_rate
        state.velocity = velocity
        return state
    if isinstance(optimizer, AdamOptimizer):
        m, v = _flat(optimizer.ms, n_layers), _flat(optimizer.vs, n_layers)
        state = AdamState(m, optimizer.learning_rate_init, optimizer.beta_1, optimizer.beta_2, optimizer.epsilon)
        state.t, state.m, state.v = optimizer.t, m, v
        return state
    raise TypeError(f"cannot convert an optimizer of type {type(optimizer).__qualname__}")


def _sklearn_optimizer(state, layer_units):
    """scikit-learn's optimizer holding fastmlp's state, value for value."""
    if isinstance(state, SGDState):
        optimizer = SGDOptimizer([], state.learning_rate_init, state.lr_schedule, state.momentum, state.nesterov,
                                 state.power_t)
        optimizer.learning_rate = state.learning_rate
        optimizer.velocities = _per_layer(state.velocity, layer_units)
        return optimizer
    if isinstance(state, AdamState):
        optimizer = AdamOptimizer([], state.learning_rate_init, state.beta_1, state.beta_2, state.epsilon)
        optimizer.t = state.t
        optimizer.ms, optimizer.vs = _per_layer(state.m, layer_units), _per_layer(state.v, layer_units)
        # scikit-learn keeps the last step's bias-corrected rate (fastmlp computes it per step).
        if state.t > 0:
            optimizer.learning_rate = bias_corrected_rate(float(state.learning_rate_init), float(state.beta_1),
                                                          float(state.beta_2), state.t)
        return optimizer
    raise TypeError(f"cannot convert an optimizer state of type {type(state).__qualname__}")


def _sklearn_lbfgs_layout(layer_units):
    """scikit-learn's ``_coef_indptr``/``_intercept_indptr`` for these layers."""
    offsets = [int(o) for o in param_offsets(layer_units)]
    n_layers = len(layer_units) - 1
    coef_indptr = [(offsets[i], offsets[i + 1], (layer_units[i], layer_units[i + 1])) for i in range(n_layers)]
    intercept_indptr = [(offsets[n_layers + i], offsets[n_layers + i + 1]) for i in range(n_layers)]
    return {"_coef_indptr": coef_indptr, "_intercept_indptr": intercept_indptr}
