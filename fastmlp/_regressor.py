"""fastmlp.MLPRegressor: scikit-learn's MLPRegressor, trained by fastmlp's engines."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import validate_data

from . import _fast_predict
from ._base import BaseMultilayerPerceptron
from ._fit_lock import one_fit_at_a_time


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron regressor, a drop-in for scikit-learn's.

    Parameters, defaults, attributes and methods are scikit-learn 1.9's
    ``sklearn.neural_network.MLPRegressor`` (note: its first positional parameter is
    ``loss``); with the same ``random_state`` it trains the same model to rounding.
    fastmlp adds the ``leaky_relu``/``softplus`` activations, ``engine``, ``n_threads`` and
    ``n_init`` (restarts from different initial weights, the best kept; with it the fitted
    ``restart_losses_``, ``restart_validation_scores_`` and ``best_restart_``), as
    :class:`fastmlp.MLPClassifier` does.

    With float32 X and a float64 (or integer) y, the weights and activations stay float32
    while deltas, gradients and the optimizer's vectors are float64, as in scikit-learn.

    Attributes
    ----------
    validation_loss_curve_ : list of float or None
        With ``early_stopping=True`` (sgd, adam): the loss on the validation split after
        each epoch, defined as ``loss_curve_``'s (scikit-learn's squared-error or Poisson
        data loss, weighted by the validation split's sample weights if any, plus
        ``0.5 * alpha * sum of squared coefs_`` divided by the split's row count or
        weight sum), evaluated with the weights of that epoch, beside
        ``validation_scores_``. None otherwise.
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        engine="numba",
        n_threads=None,
        n_init=1,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.engine = engine
        self.n_threads = n_threads
        self.n_init = n_init

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
            dtype=(np.float64, np.float32), reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.dtype.kind not in "biuf":
            # scikit-learn fails on the first minibatch with NumPy's TypeError.
            raise TypeError(f"MLPRegressor needs numeric targets, got y of dtype {y.dtype}.")
        if y.dtype.kind == "f" and y.dtype.itemsize > 8:
            # The engines compute in float32 or float64; scikit-learn's NumPy arithmetic
            # would follow longdouble targets.
            y = y.astype(np.float64)
        if self.loss == "poisson" and np.any(y < 0):
            # scikit-learn's MLP trains on with a NaN loss; its other Poisson estimators
            # raise this error.
            raise ValueError("Some value(s) of y are negative which is not allowed for Poisson regression.")
        return X, y

    @one_fit_at_a_time
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to X (n_samples, n_features) and targets y; returns self."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    # scikit-learn 1.9 passes the method itself (always truthy) to available_if, so
    # MLPRegressor.partial_fit exists for every solver; with lbfgs it runs one lbfgs fit.
    @available_if(lambda est: est._check_solver)
    @one_fit_at_a_time
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y) (a whole L-BFGS fit with solver='lbfgs', as in scikit-learn)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predictions, shape (n_samples,) or (n_samples, n_outputs)."""
        _fast_predict.check_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight=sample_weight, score_function=r2_score)
