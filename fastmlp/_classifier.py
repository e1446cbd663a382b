"""fastmlp.MLPClassifier: scikit-learn's MLPClassifier, trained by fastmlp's engines."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import _check_sample_weight, validate_data

from . import _fast_predict
from ._base import BaseMultilayerPerceptron
from ._fit_lock import one_fit_at_a_time


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron classifier, a drop-in for scikit-learn's.

    Parameters, defaults, attributes and methods are scikit-learn 1.9's
    ``sklearn.neural_network.MLPClassifier``; with the same ``random_state`` it
    trains the same model (weights, ``loss_curve_``, ``n_iter_``) to rounding.
    See scikit-learn's documentation for each parameter. fastmlp adds:

    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'softplus'}
        ``leaky_relu`` (slope 0.01) and ``softplus`` go beyond scikit-learn.
    engine : {'numba', 'numpy'}, default='numba'
        ``'numba'`` runs compiled kernels; ``'numpy'`` runs the plain NumPy
        reference of the same math (slow, for checking and teaching).
    n_threads : int or None, default=None
        BLAS threads used while fitting. None: all cores, except a single thread
        when the minibatch products are too small to gain from a second one. BLAS
        thread counts are process-wide, so fits called from threads other than the
        main thread leave them as they are. With ``n_init > 1``: how many restarts
        run at once (in threads, BLAS then on one thread).
    n_init : int >= 1, default=1
        Train ``n_init`` networks from different initial weights and keep the best:
        the lowest final ``loss_``, or with ``early_stopping=True`` (sgd, adam) the
        highest ``best_validation_score_``, every restart validating on the same split;
        NaN never wins, ties go to the lowest index. Restart 0 is the fit with
        ``n_init=1`` (bit for bit); restart k >= 1 is the fit with the k-th seed derived
        from ``random_state`` (``fastmlp._restarts.restart_random_states``): its own
        initial weights and epoch shuffles, restart 0's validation split. Only a fit
        from scratch runs restarts: ``partial_fit`` and a warm-start refit of a fitted
        model continue the kept network. See the README, "Restarts (`n_init`)".
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, ``{class_label: weight}``, as in scikit-learn's
        linear models; classes not named weigh 1. ``'balanced'`` weighs each class by
        ``n_samples / (n_classes * np.bincount(y))``, counted over the (unweighted)
        ``y`` given to fit. Fitting with ``class_weight`` trains exactly the model that
        ``sample_weight=compute_sample_weight(class_weight, y)`` (from
        ``sklearn.utils.class_weight``) trains; a ``sample_weight`` given as well is
        multiplied by it. With ``early_stopping=True`` the weights are computed on the
        whole ``y``, before the validation split, and, as sample weights are, apply to
        the validation score and ``validation_loss_curve_`` as well as to training.
        Multilabel ``y``: ``'balanced'`` multiplies the balanced weights of every label
        column (``compute_sample_weight('balanced', Y)``); a dict raises a ValueError.
        ``partial_fit`` follows ``SGDClassifier``: a dict is applied to every call;
        ``'balanced'`` raises a ValueError on the first call (compute the weights with
        ``compute_class_weight('balanced', classes=classes, y=y)`` and pass them as a
        dict), and after a ``fit`` it weighs each call by the classes of its own ``y``.
        Any ``class_weight`` other than None gives the fit sample weights, so even
        all-ones weights round like ``sample_weight=np.ones(n)``, not like None (in
        float32 with ``solver='lbfgs'``, a different model, as in scikit-learn).

    Attributes
    ----------
    validation_loss_curve_ : list of float or None
        With ``early_stopping=True`` (sgd, adam): the loss on the validation split after
        each epoch, defined as ``loss_curve_``'s (scikit-learn's data loss, weighted by
        the validation split's sample weights if any, plus ``0.5 * alpha * sum of squared
        coefs_`` divided by the split's row count or weight sum), evaluated with the
        weights of that epoch, beside ``validation_scores_``. None otherwise.
    restart_losses_ : ndarray of shape (n_restarts,)
        After a fit with ``n_init > 1``: each restart's final ``loss_``, restart 0
        first (n_restarts is ``n_init``, fewer only if a callback stopped the fit).
    restart_validation_scores_ : ndarray of shape (n_restarts,) or None
        After a fit with ``n_init > 1`` and ``early_stopping=True`` (sgd, adam): each
        restart's ``best_validation_score_``, which chose the kept one. None otherwise.
    best_restart_ : int
        After a fit with ``n_init > 1``: the index of the kept restart. The three
        ``restart_*`` attributes are absent after a fit with ``n_init=1``; ``partial_fit``
        and warm-start refits leave them as they are.
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
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
        class_weight=None,
    ):
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
        self.class_weight = class_weight

    # The classifier's loss is fixed; scikit-learn stores it as ``loss`` too.
    loss = "log_loss"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True, dtype=(np.float64, np.float32), reset=reset
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the previous call to fit."
                        f" Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        # bool keeps float32 training in float32 (scikit-learn does the same).
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    @one_fit_at_a_time
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to X (n_samples, n_features) and labels y; returns self."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(lambda est: est._check_solver())
    @one_fit_at_a_time
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y); ``classes`` is required on the first call."""
        if not hasattr(self, "classes_") and self.class_weight == "balanced":
            # SGDClassifier.partial_fit's rule and message.
            raise ValueError(
                "class_weight '{0}' is not supported for partial_fit. In order to use 'balanced' weights, use"
                " compute_class_weight('{0}', classes=classes, y=y). In place of y you can use a large enough"
                " sample of the full training set target to properly estimate the class frequency distributions."
                " Pass the resulting weights as the class_weight parameter.".format(self.class_weight)
            )
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _weigh_samples(self, X, y, sample_weight):
        """``sample_weight`` (validated, or None) times the class weights of the rows of y
        (encoded, (n_samples, n_outputs) bool): the weights of
        ``compute_sample_weight(class_weight, y)``, computed once in float64."""
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_.startswith("multilabel"):
            if self.class_weight != "balanced":
                raise ValueError(
                    "class_weight as a dict is not supported for multilabel y: one weight per class cannot weigh a"
                    " sample that holds several labels. Use class_weight='balanced', or pass sample_weight, for"
                    " example sklearn.utils.class_weight.compute_sample_weight with one dict per label column."
                )
            weights = compute_sample_weight("balanced", y)
        else:
            # Row i's class: its column in the one-hot encoding, or the binary encoding's value.
            class_index = y[:, 0].astype(np.intp) if y.shape[1] == 1 else np.argmax(y, axis=1)
            per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=self.classes_[class_index])
            weights = per_class[class_index]
        if sample_weight is not None:
            weights = sample_weight * weights
        return _check_sample_weight(weights, X)

    def predict(self, X):
        """Predicted labels, shape (n_samples,) or (n_samples, n_classes) for multilabel."""
        _fast_predict.check_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return _fast_predict.labels(self._label_binarizer, y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight=sample_weight, score_function=accuracy_score)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), dtype of the model."""
        _fast_predict.check_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X):
        """Logarithm of ``predict_proba``."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
