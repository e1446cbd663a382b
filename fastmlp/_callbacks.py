"""scikit-learn 1.9's callbacks (``sklearn.callback``) in fastmlp's fits.

The estimators take ``set_callbacks(...)`` from scikit-learn's ``CallbackSupportMixin``,
as ``LogisticRegression`` does. The task tree of one ``fit`` (or ``partial_fit``):

- the root task, ``"fit"`` or ``"partial_fit"``, up to ``max_iter`` subtasks (one for a
  ``partial_fit`` of sgd/adam, which trains one epoch);
- sgd and adam: one ``"epoch"`` subtask per epoch; lbfgs: one ``"lbfgs-iter"`` subtask per
  L-BFGS iteration (scipy's ``callback``). Both end with the estimator's own stopping
  rules applied, so the ``fitted_estimator`` of the end of subtask k is, attribute for
  attribute, the model of a fit with ``max_iter=k`` (``stochastic_state``,
  ``LbfgsIterations``), and the beginning of subtask k+1 sees the same model.

Every hook gets the ``X`` and ``y`` given to fit (validated; the classifier's labels, not
their encoding) and ``metadata={"sample_weight": ...}`` when sample weights were given;
with ``early_stopping=True`` that is all of X, the validation split included. A subtask's
``on_fit_task_end`` returning True stops training after it, as ``max_iter`` would.

The ``fitted_estimator`` (``reconstruction_attributes``) and ``y`` are handed over lazily:
they are built only when a callback's hook asks for them. An estimator without callbacks
(and outside a meta-estimator's callback context) creates no context at all: its loops
test a local for None twice an epoch (L-BFGS: not at all).
"""

import copy

import numpy as np
from sklearn.base import is_classifier

from ._params import unpack


def fit_tasks(est, X, Y, sample_weight, incremental):
    """The callback tasks of this fit, its root task begun; None (no cost) without callbacks.

    X: the validated X; Y: the encoded targets (the classifier's label indicators);
    sample_weight: the validated ``sample_weight`` given to fit, or None.
    """
    if not (hasattr(est, "_skl_callbacks") or hasattr(est, "_parent_callback_ctx")):
        return None
    one_epoch = incremental and est.solver in ("sgd", "adam")
    return FitTasks(est, X, Y, sample_weight, "partial_fit" if incremental else "fit",
                    1 if one_epoch else est.max_iter)


class FitTasks:
    """The root task of one fit and its subtasks, one open at a time."""

    def __init__(self, est, X, Y, sample_weight, task_name, max_subtasks):
        self._est = est
        self._X = X
        self._Y = Y
        self._y = None
        self._metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self._root = est._init_callback_context(task_name=task_name, max_subtasks=max_subtasks)
        self._task = None
        self._root.call_on_fit_task_begin(**self._data())

    def _targets(self):
        """y as fit was given it, validated: the classifier's labels (decoded once, when a
        hook first asks), the regressor's targets."""
        if self._y is None:
            est = self._est
            self._y = est._label_binarizer.inverse_transform(self._Y) if is_classifier(est) else self._Y
        return self._y

    def _data(self):
        return dict(estimator=self._est, X=self._X, y=self._targets, metadata=self._metadata)

    def subtask_begins(self, task_name, state):
        """Begin the next subtask; ``state()``: the reconstruction attributes of the model
        so far (called only if a hook asks for ``fitted_estimator``)."""
        self._task = self._root.subcontext(task_name=task_name)
        self._task.call_on_fit_task_begin(**self._data(), reconstruction_attributes=state)

    def subtask_ends(self, state):
        """End the open subtask; True if a callback asks to stop training after it."""
        task, self._task = self._task, None
        return task.call_on_fit_task_end(**self._data(), reconstruction_attributes=state)

    def fit_ends(self):
        """End the root task (``fitted_estimator``: the fitted model itself), after ending
        a subtask left open (an interrupted epoch, an L-BFGS iteration that did not
        finish) as an empty task, as scikit-learn's L-BFGS bridge ends its last one."""
        if self._task is not None:
            task, self._task = self._task, None
            task.call_on_fit_task_end(estimator=self._est)
        self._root.call_on_fit_task_end(**self._data(), reconstruction_attributes={})


def stochastic_state(est, early_stopping):
    """The fitted attributes of a sgd/adam fit stopped here, that is of a fit with
    ``max_iter`` = the epochs run so far: copies of the weights (with early stopping the
    best ones so far, which a fit restores; the aliasing of ``coefs_`` and ``_best_coefs``
    kept), of the curves and of the optimizer's state, the counters. The
    ``fitted_estimator`` then predicts, scores and trains on like that fit, and nothing it
    does reaches the fit in progress. ``_random_state`` is left shared: every fit and
    partial_fit draws a new one from ``random_state`` before using it.

    Cost: the weights twice and the optimizer's vectors, per call (one per hook that asks
    for ``fitted_estimator``).
    """
    coefs, intercepts = _copies(est.coefs_), _copies(est.intercepts_)
    state = {"coefs_": coefs, "intercepts_": intercepts}
    if hasattr(est, "_best_coefs"):  # weights set by hand have none
        best = [coefs if est._best_coefs is est.coefs_ else _copies(est._best_coefs),
                intercepts if est._best_intercepts is est.intercepts_ else _copies(est._best_intercepts)]
        state.update(_best_coefs=best[0], _best_intercepts=best[1])
        if early_stopping:
            state.update(coefs_=best[0], intercepts_=best[1])
    state.update(n_iter_=est.n_iter_, t_=est.t_, loss_curve_=list(est.loss_curve_),
                 _optimizer=_copied_optimizer(est._optimizer))
    for name in ("loss_", "best_loss_", "_no_improvement_count", "best_validation_score_"):
        if hasattr(est, name):
            state[name] = getattr(est, name)
    for name in ("validation_scores_", "validation_loss_curve_"):
        if getattr(est, name, None) is not None:
            state[name] = list(getattr(est, name))
    return state


def _copies(arrays):
    return [np.array(a, copy=True) for a in arrays]


def _copied_optimizer(optimizer):
    """A copy of an ``SGDState``/``AdamState`` with its own vectors."""
    copied = copy.copy(optimizer)
    vars(copied).update({name: value.copy() for name, value in vars(optimizer).items()
                         if isinstance(value, np.ndarray)})
    return copied


class LbfgsIterations:
    """L-BFGS iterations as subtasks: scipy's ``callback`` ends one, the next evaluation of
    the objective begins the next.

    scikit-learn's ``LogisticRegression`` begins the next iteration in the callback and so
    ends every fit with an empty iteration that never ran; beginning it at its first
    evaluation gives one subtask per iteration that ran (and one left open, ended empty by
    ``FitTasks.fit_ends``, only where L-BFGS evaluated and then stopped without finishing an
    iteration: converged at its start, or a failed line search).

    A callback asking to stop raises StopIteration in scipy's callback, which makes L-BFGS-B
    return that iteration's point (``stopped`` is then True).
    """

    def __init__(self, tasks, x0, layer_units):
        self._tasks = tasks
        self._layer_units = layer_units
        self._x = np.array(x0)  # the start, in its own dtype; scipy's iterates are float64
        self._fun = None
        self._n_iter = 0
        self._iteration_pending = True
        self.stopped = False

    def objective(self, loss_grad):
        """``loss_grad``, beginning an iteration at its first evaluation."""

        def loss_grad_in_iteration(theta):
            if self._iteration_pending:
                self._iteration_pending = False
                self._tasks.subtask_begins("lbfgs-iter", self._state)
            return loss_grad(theta)

        return loss_grad_in_iteration

    def __call__(self, intermediate_result):
        """scipy's callback after each iteration (its ``intermediate_result`` form, which
        hands over the objective's value with the point)."""
        self._x = np.array(intermediate_result.x, dtype=np.float64)  # scipy overwrites its own
        self._fun = intermediate_result.fun
        self._n_iter += 1
        self._iteration_pending = True
        if self._tasks.subtask_ends(self._state):
            self.stopped = True
            raise StopIteration

    def _state(self):
        """The fitted attributes of a fit with ``max_iter`` = the iterations so far: its
        weights are ``opt_res.x`` (float64) unpacked, ``loss_`` ``opt_res.fun``."""
        coefs, intercepts = unpack(self._x.copy(), self._layer_units)
        state = {"coefs_": coefs, "intercepts_": intercepts, "n_iter_": self._n_iter}
        if self._fun is not None:
            state["loss_"] = self._fun
        return state
