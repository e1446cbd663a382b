"""scikit-learn 1.9's callbacks (``set_callbacks``, ``sklearn.callback``) in fastmlp's fits.

The oracle is fastmlp itself, fitted without callbacks: the ``fitted_estimator`` a
callback receives at the end of epoch (or L-BFGS iteration) k, and the model a callback
stops after epoch k, are the model of a fresh fit with ``max_iter=k``, every fitted
attribute bit for bit (weights, curves, counters, optimizer and random state); a
callback that does not stop changes nothing; ``ScoringMonitor``'s score at epoch k is
that fresh fit's score. The task tree and the hooks' arguments follow scikit-learn's
``LogisticRegression`` (``sklearn.callback``'s protocol).
"""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.callback import CallbackContext, ProgressBar, ScoringMonitor
from sklearn.callback._callback_context import get_context_path
from sklearn.datasets import load_digits, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fastmlp

from ._readme import readme_example


def _data(kind):
    if kind == "classifier":
        X, y = load_digits(return_X_y=True)
        return X[:300] / 16.0, y[:300]
    X, y = make_regression(n_samples=200, n_features=8, noise=1.0, random_state=0)
    return X, y / np.std(y)


SETUPS = {
    "classifier-sgd": ("classifier", dict(solver="sgd", learning_rate_init=0.1)),
    "classifier-adam": ("classifier", dict(solver="adam", learning_rate_init=0.01)),
    # The validation score of this fit peaks at epoch 7 and is lower at epochs 9 and 10.
    "classifier-adam-early-stopping": ("classifier", dict(solver="adam", learning_rate_init=0.05,
                                                          early_stopping=True, n_iter_no_change=100)),
    "classifier-lbfgs": ("classifier", dict(solver="lbfgs")),
    "regressor-sgd": ("regressor", dict(solver="sgd", learning_rate_init=0.01, learning_rate="invscaling")),
    "regressor-adam": ("regressor", dict(solver="adam", learning_rate_init=0.01)),
    "regressor-lbfgs": ("regressor", dict(solver="lbfgs")),
}
SUBTASK = {"sgd": "epoch", "adam": "epoch", "lbfgs": "lbfgs-iter"}


def _estimator(setup, **params):
    kind, setup_params = SETUPS[setup]
    cls = fastmlp.MLPClassifier if kind == "classifier" else fastmlp.MLPRegressor
    return cls(**{**dict(hidden_layer_sizes=(16,), random_state=0, max_iter=6), **setup_params, **params})


def _fit(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


class Recorder:
    """Records every hook call with the arguments it asked for (all of them)."""

    def __init__(self):
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", context, {}))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context, {}))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None):
        self.calls.append(("begin", context, dict(X=X, y=y, metadata=metadata, fitted_estimator=fitted_estimator)))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None):
        self.calls.append(("end", context, dict(X=X, y=y, metadata=metadata, fitted_estimator=fitted_estimator)))
        return False

    def hooks(self, hook, task_name=None):
        return [(context, kwargs) for name, context, kwargs in self.calls
                if name == hook and (task_name is None or context.task_name == task_name)]


class PropagatedRecorder(Recorder):
    """A Recorder that meta-estimators hand on to their sub-estimators."""

    max_propagation_depth = None


class StopAfter:
    """Stops training at the end of subtask ``k`` (1-based: after k epochs or iterations)."""

    def __init__(self, k):
        self.k = k

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        return context.parent is not None and context.task_id == self.k - 1


def _assert_same_model(ours, expected, random_state=True):
    """Every attribute a fit sets, bit for bit, and the predictions. ``random_state``:
    compare ``_random_state`` too (a fitted_estimator shares the fit's: every fit draws a
    new one before using it)."""
    for name in ("coefs_", "intercepts_", "_best_coefs", "_best_intercepts"):
        assert hasattr(ours, name) == hasattr(expected, name), name
        for a, b in zip(getattr(ours, name, []), getattr(expected, name, [])):
            assert a.dtype == b.dtype, name
            assert_array_equal(a, b, err_msg=name)
    for name in ("n_iter_", "t_", "loss_", "loss_curve_", "best_loss_", "validation_scores_",
                 "validation_loss_curve_", "best_validation_score_", "_no_improvement_count", "n_outputs_",
                 "n_layers_", "out_activation_"):
        assert hasattr(ours, name) == hasattr(expected, name), name
        assert getattr(ours, name, None) == getattr(expected, name, None), name
    if hasattr(expected, "_optimizer"):
        theirs_state = vars(expected._optimizer)
        assert vars(ours._optimizer).keys() == theirs_state.keys()
        for key, value in vars(ours._optimizer).items():
            assert_array_equal(value, theirs_state[key], err_msg=key)
    if random_state:
        for a, b in zip(ours._random_state.get_state(), expected._random_state.get_state()):
            assert_array_equal(a, b)
    X, _ = _data("classifier" if isinstance(ours, fastmlp.MLPClassifier) else "regressor")
    assert_array_equal(ours.predict(X), expected.predict(X))


# --------------------------------------------------------------------------------------
# set_callbacks: scikit-learn's CallbackSupportMixin.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [fastmlp.MLPClassifier, fastmlp.MLPRegressor])
def test_set_callbacks_is_sklearns(cls):
    est, callback = cls(), Recorder()
    assert est.set_callbacks(callback) is est
    assert est._skl_callbacks == [callback]
    with pytest.raises(TypeError, match="callbacks must be instances following the FitCallback protocol"):
        est.set_callbacks(Recorder)  # a class, not an instance
    with pytest.raises(TypeError, match="FitCallback protocol"):
        est.set_callbacks(object())
    est.set_callbacks()
    assert not hasattr(est, "_skl_callbacks")


def test_without_callbacks_no_callback_context_is_made(monkeypatch):
    # The cheap check: a fit without callbacks never reaches sklearn.callback.
    def refuse(*args, **kwargs):
        raise AssertionError("a callback context was made for a fit without callbacks")

    monkeypatch.setattr(CallbackContext, "_from_estimator", classmethod(refuse))
    X, y = _data("classifier")
    for setup in ("classifier-adam", "classifier-lbfgs"):
        _fit(_estimator(setup, max_iter=2), X, y)
    fastmlp.MLPClassifier(solver="sgd", random_state=0).partial_fit(X, y, classes=np.unique(y))


# --------------------------------------------------------------------------------------
# The task tree: a root task, one subtask per epoch (sgd, adam) or L-BFGS iteration.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", list(SETUPS))
def test_task_tree(setup):
    X, y = _data(SETUPS[setup][0])
    recorder = Recorder()
    est = _fit(_estimator(setup, max_iter=5).set_callbacks(recorder), X, y)
    subtask = SUBTASK[est.solver]
    names = [name for name, _, _ in recorder.calls]
    assert names[0] == "setup" and names[-1] == "teardown"
    assert names.count("setup") == names.count("teardown") == 1
    root = recorder.calls[0][1]
    assert (root.task_name, root.parent, root.max_subtasks) == ("fit", None, 5)
    assert [ctx for ctx, _ in recorder.hooks("begin")][0] is root
    assert [ctx for ctx, _ in recorder.hooks("end")][-1] is root
    # begin, end, begin, end, ...: one subtask per epoch or iteration, in order.
    subtasks = [(name, ctx.task_id) for name, ctx, _ in recorder.calls if ctx.task_name == subtask]
    assert subtasks == [(name, k) for k in range(est.n_iter_) for name in ("begin", "end")]
    assert all(ctx.parent is root for ctx, _ in recorder.hooks("begin", subtask))
    assert not hasattr(est, "_callback_fit_ctx")  # cleaned up by scikit-learn's fit context


def test_lbfgs_converged_at_its_start_ends_its_one_evaluation_empty():
    # L-BFGS evaluated x0 and stopped there (n_iter_ == 0): the iteration it began ends
    # as an empty task, as scikit-learn's L-BFGS bridge ends its last one.
    X, y = _data("classifier")
    recorder = Recorder()
    est = _fit(_estimator("classifier-lbfgs", tol=1e3).set_callbacks(recorder), X, y)
    assert est.n_iter_ == 0
    (_, begin), = recorder.hooks("begin", "lbfgs-iter")
    (_, end), = recorder.hooks("end", "lbfgs-iter")
    assert begin["fitted_estimator"].n_iter_ == 0
    assert end == dict(X=None, y=None, metadata=None, fitted_estimator=None)


# --------------------------------------------------------------------------------------
# fitted_estimator: the model of a fit with max_iter = the epochs so far.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", list(SETUPS))
def test_fitted_estimator_is_the_fit_with_that_max_iter(setup):
    X, y = _data(SETUPS[setup][0])
    recorder = Recorder()
    max_iter = 10 if "early-stopping" in setup else 6  # past the best epoch (7)
    est = _fit(_estimator(setup, max_iter=max_iter).set_callbacks(recorder), X, y)
    subtask = SUBTASK[est.solver]
    ends = [kwargs["fitted_estimator"] for _, kwargs in recorder.hooks("end", subtask)]
    begins = [kwargs["fitted_estimator"] for _, kwargs in recorder.hooks("begin", subtask)]
    assert len(ends) == len(begins) == est.n_iter_ == max_iter
    assert begins[0].n_iter_ == 0
    for k, fitted in enumerate(ends, start=1):
        expected = _fit(_estimator(setup, max_iter=k), X, y)
        _assert_same_model(fitted, expected, random_state=False)
        if k < len(begins):  # the next subtask begins from the same model
            _assert_same_model(begins[k], expected, random_state=False)
    # The root task ends with the fitted model itself.
    (_, root_end), = recorder.hooks("end", "fit")
    _assert_same_model(root_end["fitted_estimator"], est)


def test_fitted_estimator_trains_on_apart_from_the_fit():
    # Its own copies of the weights and of the optimizer: training it (partial_fit)
    # leaves the fit in progress alone, and it trains as the fit with that max_iter.
    X, y = _data("classifier")

    class TrainsTheCopy(Recorder):
        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            if context.task_name == "epoch" and context.task_id == 1:
                self.trained = fitted_estimator.partial_fit(X, y)

    callback = TrainsTheCopy()
    est = _fit(_estimator("classifier-sgd", max_iter=4).set_callbacks(callback), X, y)
    _assert_same_model(est, _fit(_estimator("classifier-sgd", max_iter=4), X, y))
    expected = _fit(_estimator("classifier-sgd", max_iter=2), X, y).partial_fit(X, y)
    assert_array_equal(callback.trained.coefs_[0], expected.coefs_[0])


# --------------------------------------------------------------------------------------
# Stopping: on_fit_task_end returning True ends training after that epoch.
# --------------------------------------------------------------------------------------

STOP_AT = {"classifier-adam-early-stopping": 9}


@pytest.mark.parametrize("setup", list(SETUPS))
def test_stopping_callback_gives_the_fit_with_that_max_iter(setup):
    X, y = _data(SETUPS[setup][0])
    k = STOP_AT.get(setup, 4)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        stopped = _estimator(setup, max_iter=12).set_callbacks(StopAfter(k)).fit(X, y)
    assert not [w for w in record if issubclass(w.category, ConvergenceWarning)]  # asked for, not a failure
    assert stopped.n_iter_ == k
    _assert_same_model(stopped, _fit(_estimator(setup, max_iter=k), X, y))
    if stopped.early_stopping:
        # The best weights are restored, as a fit with max_iter=k restores them.
        assert np.argmax(stopped.validation_scores_) < k - 1


def test_stopping_a_warm_start_refit():
    X, y = _data("classifier")
    stopped = _fit(_estimator("classifier-adam", max_iter=3, warm_start=True), X, y)
    _fit(stopped.set_params(max_iter=10).set_callbacks(StopAfter(2)), X, y)
    expected = _fit(_estimator("classifier-adam", max_iter=3, warm_start=True), X, y)
    _fit(expected.set_params(max_iter=2), X, y)
    assert stopped.n_iter_ == 2
    _assert_same_model(stopped, expected)


# --------------------------------------------------------------------------------------
# Callbacks that do not stop change nothing.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", list(SETUPS))
def test_callbacks_do_not_change_the_model(setup):
    kind = SETUPS[setup][0]
    X, y = _data(kind)
    monitor = ScoringMonitor(scoring="accuracy" if kind == "classifier" else "r2")
    with_callbacks = _estimator(setup, warm_start=True).set_callbacks(Recorder(), monitor)
    without = _estimator(setup, warm_start=True)
    for _ in range(2):  # a fit, then a warm-start refit
        _fit(with_callbacks, X, y)
        _fit(without, X, y)
        _assert_same_model(with_callbacks, without)


# --------------------------------------------------------------------------------------
# ScoringMonitor: the score at epoch k is the score of a fit with max_iter=k.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", ["classifier-adam", "classifier-adam-early-stopping", "classifier-lbfgs",
                                   "regressor-sgd", "regressor-lbfgs"])
def test_scoring_monitor_scores_are_fresh_fits_scores(setup):
    kind = SETUPS[setup][0]
    X, y = _data(kind)
    scoring = "accuracy" if kind == "classifier" else "r2"  # the estimators' own score
    monitor = ScoringMonitor(scoring=scoring)
    est = _fit(_estimator(setup, max_iter=5).set_callbacks(monitor), X, y)
    rows = monitor.get_logs().data
    per_epoch = sorted((row["task_id"], row[scoring]) for row in rows if row["task_name"] == SUBTASK[est.solver])
    assert [task_id for task_id, _ in per_epoch] == list(range(5))
    for task_id, score in per_epoch:
        assert score == _fit(_estimator(setup, max_iter=task_id + 1), X, y).score(X, y)
    (root_score,) = [row[scoring] for row in rows if row["task_name"] == "fit"]
    assert root_score == per_epoch[-1][1]


# --------------------------------------------------------------------------------------
# What the hooks receive.
# --------------------------------------------------------------------------------------


def test_hooks_receive_the_fit_data_and_sample_weight():
    X, y = _data("classifier")
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])[y]
    weights = np.linspace(0.5, 1.5, len(y))
    recorder = Recorder()
    # early_stopping: the hooks get the whole X, y given to fit, not the training split.
    _fit(_estimator("classifier-adam", max_iter=2, early_stopping=True,
                    class_weight="balanced").set_callbacks(recorder), X, labels, sample_weight=weights)
    calls = recorder.hooks("begin") + recorder.hooks("end")
    assert len(calls) == 6
    for _, kwargs in calls:
        assert_array_equal(kwargs["X"], X)
        assert_array_equal(kwargs["y"], labels)  # the labels, not their encoding
        assert kwargs["metadata"].keys() == {"sample_weight"}
        assert_array_equal(kwargs["metadata"]["sample_weight"], weights)  # as given: class weights are training's

    recorder = Recorder()
    _fit(_estimator("regressor-lbfgs", max_iter=2).set_callbacks(recorder), *_data("regressor"))
    for _, kwargs in recorder.hooks("end"):
        assert_array_equal(kwargs["y"], _data("regressor")[1])
        assert kwargs["metadata"] is None


def test_hooks_receive_multilabel_targets():
    X, Y = make_multilabel_classification(n_samples=80, n_features=6, n_classes=3, random_state=0)
    recorder = Recorder()
    _fit(fastmlp.MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0).set_callbacks(recorder), X, Y)
    for _, kwargs in recorder.hooks("end"):
        assert_array_equal(kwargs["y"], Y)


def test_callback_error_propagates_and_tears_down():
    X, y = _data("classifier")

    class Fails(Recorder):
        def on_fit_task_end(self, estimator, context):
            if context.task_id == 1:
                raise ValueError("callback failed")

    callback = Fails()
    est = _estimator("classifier-adam").set_callbacks(callback)
    with pytest.raises(ValueError, match="callback failed"):
        _fit(est, X, y)
    assert [name for name, _, _ in callback.calls].count("teardown") == 1
    assert not hasattr(est, "_callback_fit_ctx")


def test_interrupted_epoch_ends_empty():
    # Ctrl-C during an epoch: the fit keeps the epochs done (scikit-learn's rule), the
    # epoch it was in ends as an empty task and the fit's task ends.
    X, y = _data("classifier")

    class Interrupts(Recorder):
        def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
            super().on_fit_task_begin(estimator, context, fitted_estimator=fitted_estimator)
            if context.task_id == 2 and context.parent is not None:
                raise KeyboardInterrupt

    callback = Interrupts()
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        est = _fit(_estimator("classifier-adam").set_callbacks(callback), X, y)
    assert est.n_iter_ == 2
    assert [(name, ctx.task_id) for name, ctx, _ in callback.calls if ctx.task_name == "epoch"][-2:] == [
        ("begin", 2), ("end", 2)]
    assert callback.hooks("end", "epoch")[-1][1]["fitted_estimator"] is None
    assert [name for name, ctx, _ in callback.calls if ctx.parent is None][-2:] == ["end", "teardown"]


# --------------------------------------------------------------------------------------
# partial_fit, clone, pickle, meta-estimators.
# --------------------------------------------------------------------------------------


def test_partial_fit_is_a_task_of_one_epoch():
    # As StandardScaler.partial_fit in scikit-learn: every call is a callback run.
    X, y = _data("classifier")
    recorder = Recorder()
    est = _estimator("classifier-sgd").set_callbacks(recorder)
    est.partial_fit(X, y, classes=np.unique(y))
    est.partial_fit(X, y)
    names = [name for name, _, _ in recorder.calls]
    assert names == ["setup", "begin", "begin", "end", "end", "teardown"] * 2
    roots = [ctx for ctx, _ in recorder.hooks("begin") if ctx.parent is None]
    assert [(ctx.task_name, ctx.max_subtasks) for ctx in roots] == [("partial_fit", 1)] * 2
    (_, last_epoch) = recorder.hooks("end", "epoch")[-1]
    _assert_same_model(last_epoch["fitted_estimator"], est, random_state=False)
    assert est.n_iter_ == 1 and est.t_ == 2 * len(y)


def test_regressor_partial_fit_with_lbfgs_is_an_lbfgs_fit():
    X, y = _data("regressor")
    recorder = Recorder()
    est = _estimator("regressor-lbfgs").set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.partial_fit(X, y)
    (root, _), = [(ctx, kw) for ctx, kw in recorder.hooks("begin") if ctx.parent is None]
    assert (root.task_name, root.max_subtasks) == ("partial_fit", 6)
    assert len(recorder.hooks("end", "lbfgs-iter")) == est.n_iter_ == 6


def test_clone_shares_callbacks_and_pickle_keeps_them():
    # scikit-learn's semantics: clone passes the callback instances by reference; pickle
    # carries them with the estimator.
    X, y = _data("classifier")
    monitor = ScoringMonitor(scoring="accuracy")
    est = _estimator("classifier-adam", max_iter=3).set_callbacks(monitor)
    copy = clone(est)
    assert copy._skl_callbacks == [monitor]
    _fit(copy, X, y)
    assert len(monitor.get_logs().data) == 4  # 3 epochs and the fit

    restored = pickle.loads(pickle.dumps(copy))
    assert_array_equal(restored.predict(X), copy.predict(X))
    (restored_monitor,) = restored._skl_callbacks
    assert isinstance(restored_monitor, ScoringMonitor)
    _fit(restored, X, y)
    assert len(restored_monitor.get_logs(select="all")) == 2


def test_auto_propagated_callback_reaches_the_mlp_in_a_pipeline():
    X, y = _data("classifier")
    recorder = PropagatedRecorder()
    pipe = make_pipeline(StandardScaler(), _estimator("classifier-adam", max_iter=3)).set_callbacks(recorder)
    _fit(pipe, X, y)
    epochs = recorder.hooks("end", "epoch")
    assert len(epochs) == 3
    path = get_context_path(epochs[0][0])
    assert path[0].estimator_name == "Pipeline"
    assert path[-2].estimator_name == "MLPClassifier" and path[-2].source_estimator_name == "Pipeline"


# --------------------------------------------------------------------------------------
# ProgressBar (rich).
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", ["classifier-adam", "classifier-lbfgs"])
def test_progress_bar(setup, capsys):
    X, y = _data("classifier")
    est = _estimator(setup, max_iter=5).set_callbacks(ProgressBar())
    _fit(est, X, y)
    _fit(est, X, y)  # a second fit gets its own bar
    out = capsys.readouterr().out
    assert out.count("MLPClassifier - fit") >= 2
    assert "100%" in out


def test_readme_example():
    namespace = {}
    exec(readme_example("### Callbacks and progress"), namespace)  # the README's own code
    clf, scores = namespace["clf"], namespace["scores"]
    assert clf.n_iter_ == len(scores) < clf.max_iter  # stopped by the callback
    assert clf.loss_curve_[-1] < 0.1 <= clf.loss_curve_[-2]
    X, y = namespace["X"], namespace["y"]
    assert scores[-1] == fastmlp.MLPClassifier(max_iter=clf.n_iter_, random_state=0).fit(X, y).score(X, y)
