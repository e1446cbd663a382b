"""The scikit-learn surface shared by MLPClassifier and MLPRegressor: parameters and
their validation, weight initialisation, fitted attributes, prediction. No numerics:
training is in ``_training``, arithmetic in the engines."""

from itertools import chain
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.callback import CallbackSupportMixin
from sklearn.neural_network import MLPClassifier as _SklearnMLPClassifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from . import _callbacks, _fast_predict, _params, _restarts, _training
from ._divergence import non_finite_weights_error
from ._input_forms import compute_dtype, sparse_for_engine, usable_parameters
from .engines import ENGINES, get_engine
from .engines._names import HIDDEN_ACTIVATIONS

_STOCHASTIC_SOLVERS = ("sgd", "adam")

# Rows per chunk when a sparse X is densified for prediction.
_SPARSE_PREDICT_CHUNK = 1024


class BaseMultilayerPerceptron(CallbackSupportMixin, BaseEstimator):
    """Shared base; use :class:`fastmlp.MLPClassifier` or :class:`fastmlp.MLPRegressor`."""

    _parameter_constraints: dict = {
        **{k: v for k, v in _SklearnMLPClassifier._parameter_constraints.items()},
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "engine": [StrOptions(set(ENGINES))],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "n_init": [Interval(Integral, 1, None, closed="left")],
    }

    # -- engine and names ------------------------------------------------------------
    def _engine(self):
        return get_engine(self.engine)

    def _loss_name(self):
        if self.loss == "log_loss" and self.out_activation_ == "logistic":
            return "binary_log_loss"
        return self.loss

    # -- initialisation (scikit-learn's random stream order) ----------------------------
    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        self.coefs_, self.intercepts_ = self._initial_weights(layer_units, dtype)
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]
        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    def _initial_weights(self, layer_units, dtype):
        """coefs and intercepts (lists, one array per layer) drawn from ``_random_state``:
        every draw a fit makes before training (``_restarts`` replays them)."""
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            coef, intercept = self._init_coef(fan_in, fan_out, dtype)
            coefs.append(coef)
            intercepts.append(intercept)
        return coefs, intercepts

    def _init_coef(self, fan_in, fan_out, dtype):
        # Glorot uniform, drawn in float64 then cast, exactly as scikit-learn does.
        factor = 2.0 if self.activation == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = self._random_state.uniform(-bound, bound, fan_out)
        return coef.astype(dtype, copy=False), intercept.astype(dtype, copy=False)

    # -- fitting ------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes)
        if not all(isinstance(h, Integral) for h in hidden_layer_sizes):
            # scikit-learn fails later with NumPy's TypeError; same type, clearer message.
            raise TypeError("hidden_layer_sizes must hold integers, got %s." % hidden_layer_sizes)

        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        if first_pass and not incremental:
            if self.n_init > 1:  # several networks, the best kept (``_restarts``)
                return _restarts.fit_restarts(self, X, y, sample_weight, hidden_layer_sizes)
            _restarts.forget_restarts(self)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        return self._fit_validated(X, y, sample_weight, incremental, first_pass, hidden_layer_sizes)

    def _fit_validated(self, X, y, sample_weight, incremental, first_pass, hidden_layer_sizes):
        """``_fit`` after the input checks: X, y as ``_validate_input`` returns them (its
        fitted attributes set), sample_weight checked or None. ``_restarts`` validates once
        for all restarts and fits each one from here."""
        n_samples, n_features = X.shape
        # scikit-learn's callbacks (set_callbacks): the fit's root task; None without callbacks.
        tasks = _callbacks.fit_tasks(self, X, y, sample_weight, incremental)
        sample_weight = self._weigh_samples(X, y, sample_weight)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [n_features] + hidden_layer_sizes + [self.n_outputs_]

        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
            if hasattr(self, "_split_random_state"):  # a restart of n_init > 1 with restart 0's split
                _restarts.advance_past_initialization(self, layer_units, X.dtype)
        else:
            self.coefs_, self.intercepts_ = usable_parameters(self.coefs_, self.intercepts_)
            self._check_warm_start_shapes(layer_units)

        if not sp.issparse(X):
            X = np.ascontiguousarray(X)
        engine = self._engine()
        if self.solver in _STOCHASTIC_SOLVERS:
            _training.fit_stochastic(self, engine, X, y, sample_weight, layer_units, incremental, tasks)
        else:
            _training.fit_lbfgs(self, engine, X, y, sample_weight, layer_units, tasks)

        if not all(np.isfinite(w).all() for w in chain(self.coefs_, self.intercepts_)):
            raise non_finite_weights_error(self, X, y)
        if tasks is not None:
            tasks.fit_ends()
        return self

    def _weigh_samples(self, X, y, sample_weight):
        """The sample weights training uses, given the validated ``sample_weight`` (or
        None) and the encoded targets; the classifier multiplies in ``class_weight``."""
        return sample_weight

    def _check_warm_start_shapes(self, layer_units):
        shapes = [c.shape for c in self.coefs_]
        expected = list(zip(layer_units[:-1], layer_units[1:]))
        if shapes != expected:
            raise ValueError(
                f"warm_start/partial_fit needs the fitted layer shapes {shapes}, but the current "
                f"parameters and data give {expected}; refit with warm_start=False."
            )

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. %s is not stochastic." % self.solver
            )
        return True

    def _loss_grad_lbfgs(self, packed_coef_inter, X, y, sample_weight, activations, deltas, coef_grads,
                         intercept_grads):
        """scikit-learn's L-BFGS objective, its signature and effects, on the engine's ``loss_and_grad``.

        packed_coef_inter (n_params,): the parameters, ``coefs_`` then ``intercepts_``
        (their entries become views of it, as in scikit-learn); X (n_samples, n_features),
        dense or sparse; y (n_samples, n_outputs), encoded targets; sample_weight
        (n_samples,) or None. ``coef_grads``/``intercept_grads`` (lists, one entry per
        layer) receive the gradients; ``activations``/``deltas``, scikit-learn's scratch
        lists, are left as they are. Returns (loss, grad): a float64 and (n_params,); each
        gradient has scikit-learn's dtype (X's, theta's and y's promoted; float64
        intercept gradients with sample weights).
        """
        theta = np.ascontiguousarray(packed_coef_inter)
        layer_units = [X.shape[1]] + [np.shape(c)[1] for c in self.coefs_]
        coefs, intercepts = _params.unpack(theta, layer_units)
        for i, (coef, intercept) in enumerate(zip(coefs, intercepts)):
            self.coefs_[i], self.intercepts_[i] = coef, intercept
        Y = np.ascontiguousarray(y).reshape(X.shape[0], -1)
        sw = None if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float64)
        if not sp.issparse(X):
            X = np.ascontiguousarray(X)
        grad = np.empty(theta.shape, dtype=np.float64)
        value = self._engine().loss_and_grad(theta, layer_units, X, Y, sw, self.activation, self.out_activation_,
                                             self._loss_name(), self.alpha, grad)
        # scikit-learn's dtypes: the deltas' for coefficients, float64 intercepts with weights.
        coef_dtype = np.result_type(X.dtype, theta.dtype, Y.dtype)
        intercept_dtype = coef_dtype if sw is None else np.result_type(coef_dtype, sw.dtype)
        grad_coefs, grad_intercepts = _params.unpack(grad, layer_units)
        coef_grads[:] = [g.astype(coef_dtype) for g in grad_coefs]
        intercept_grads[:] = [g.astype(intercept_dtype) for g in grad_intercepts]
        return np.float64(value), grad.astype(np.result_type(coef_dtype, intercept_dtype), copy=False)

    def to_sklearn(self):
        """A scikit-learn copy of this fitted model, ready to predict and to train on
        (``fastmlp.from_sklearn`` goes the other way; see ``fastmlp._conversion``)."""
        from ._conversion import to_sklearn

        return to_sklearn(self)

    # -- prediction ---------------------------------------------------------------------
    def _forward_pass_fast(self, X, check_input=True):
        """Network output for X, (n_samples, n_outputs_)."""
        if check_input:
            # A few plain rows skip validate_data, which would return them as they are, and
            # where nothing needs converting take a shorter forward pass (``_fast_predict``).
            if _fast_predict.is_plain_rows(self, X):
                y_pred = _fast_predict.forward_plain_rows(self, X)
                if y_pred is not None:
                    return y_pred
            else:
                X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        coefs, intercepts = usable_parameters(self.coefs_, self.intercepts_)
        dtype = compute_dtype(X.dtype, coefs[0].dtype)
        coefs = [np.ascontiguousarray(c, dtype=dtype) for c in coefs]
        intercepts = [np.ascontiguousarray(b, dtype=dtype) for b in intercepts]
        engine = self._engine()
        if not sp.issparse(X):
            X = np.ascontiguousarray(X, dtype=dtype)
            return engine.forward(coefs, intercepts, X, self.activation, self.out_activation_)
        X = sparse_for_engine(X, dtype)
        parts = [
            engine.forward(coefs, intercepts, np.ascontiguousarray(X[start:start + _SPARSE_PREDICT_CHUNK].toarray(),
                                                                   dtype=dtype),
                           self.activation, self.out_activation_)
            for start in range(0, X.shape[0], _SPARSE_PREDICT_CHUNK)
        ]
        return np.concatenate(parts) if parts else np.empty((0, self.n_outputs_), dtype)

    def _score_with_function(self, X, y, sample_weight, score_function):
        """Validation score without input validation (scikit-learn's ``_score``)."""
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
