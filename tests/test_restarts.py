"""``n_init`` (beyond scikit-learn): restarts from different initial weights, the best kept.

The oracle is a fit of one network: restart k alone is the fit with ``n_init=1`` and
``random_state=restart_random_states(random_state, n_init)[k]`` (restart 0: the
estimator's own ``random_state``), and with ``early_stopping=True`` restart 0's
validation split (given here by replaying the ``train_test_split`` of restart 0's fit).
The kept model must equal the chosen restart alone, attribute for attribute and bit for
bit; the choice must follow the recorded losses or validation scores.
"""

import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_info

import fastmlp
from fastmlp import _restarts, _training
from fastmlp._restarts import RESTART_ATTRIBUTES, restart_random_states

from ._readme import readme_example
from .tolerances import training_tol

KINDS = ["classifier", "regressor"]
SOLVERS = ["sgd", "adam", "lbfgs"]
N_INIT = 3


def _data(kind):
    if kind == "classifier":
        X, y = load_digits(return_X_y=True)
        return X[:300] / 16, y[:300]
    X, y = make_regression(n_samples=120, n_features=5, noise=1.0, random_state=0)
    return X, y / np.std(y)


def _est(kind, **params):
    params = {**dict(hidden_layer_sizes=(8,), max_iter=10, learning_rate_init=0.01, random_state=0), **params}
    return (fastmlp.MLPClassifier if kind == "classifier" else fastmlp.MLPRegressor)(**params)


def _fitted_state(est):
    """Everything a fit set: the instance's attributes that are not parameters (the record
    of the restarts and the callbacks that ``set_callbacks`` set aside)."""
    skipped = set(est.get_params(deep=False)) | set(RESTART_ATTRIBUTES) | {"_skl_callbacks"}
    return {name: value for name, value in vars(est).items() if name not in skipped}


def _assert_equal(a, b, where):
    if isinstance(a, np.random.RandomState):
        _assert_equal(a.get_state(), b.get_state(), where)
    elif isinstance(a, (np.ndarray, np.generic, float)):
        assert type(a) is type(b), where
        assert_array_equal(a, b, err_msg=where, strict=True)
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_equal(x, y, f"{where}[{i}]")
    elif hasattr(a, "__dict__"):  # the optimizer's state, the label binarizer
        assert type(a) is type(b), where
        _assert_equal(vars(a), vars(b), where)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), (where, a.keys() ^ b.keys())
        for name in a:
            _assert_equal(a[name], b[name], f"{where}.{name}")
    else:
        assert a == b, (where, a, b)


def _assert_same_model(a, b):
    """The same fitted model, attribute for attribute, bit for bit (the aliasing of
    ``coefs_`` and ``_best_coefs`` too)."""
    _assert_equal(_fitted_state(a), _fitted_state(b), type(a).__name__)
    assert (a.coefs_ is getattr(a, "_best_coefs", None)) == (b.coefs_ is getattr(b, "_best_coefs", None))


@pytest.fixture
def restart_0_split(monkeypatch):
    """``record(est, X, y)``: fit ``est`` (n_init=1) and record its ``train_test_split``;
    from then on every fit gets that split, drawing nothing from its random stream, as
    restarts k >= 1 get restart 0's."""
    recorded = []

    def record(est, X, y):
        original = _training.train_test_split

        def recording(*arrays, **kwargs):
            parts = original(*arrays, **kwargs)
            recorded.append(parts)
            return parts

        monkeypatch.setattr(_training, "train_test_split", recording)
        est.fit(X, y)
        monkeypatch.setattr(_training, "train_test_split", lambda *arrays, **kwargs: [p.copy() for p in recorded[0]])
        return est

    return record


def _restarts_alone(kind, X, y, random_state=0, **params):
    states = restart_random_states(random_state, N_INIT)
    return [_est(kind, random_state=state, **params).fit(X, y) for state in states]


# --------------------------------------------------------------------------------------
# n_init=1, restart 0, the kept restart.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", KINDS)
def test_n_init_1_is_the_default_fit(kind, solver):
    X, y = _data(kind)
    default = _est(kind, solver=solver).fit(X, y)
    explicit = _est(kind, solver=solver, n_init=1).fit(X, y)
    _assert_same_model(default, explicit)
    assert not any(hasattr(explicit, name) for name in RESTART_ATTRIBUTES)
    # A fit with n_init=1 after one with restarts: the default model, no record left.
    refit = _est(kind, solver=solver, n_init=N_INIT).fit(X, y).set_params(n_init=1).fit(X, y)
    _assert_same_model(default, refit)
    assert not any(hasattr(refit, name) for name in RESTART_ATTRIBUTES)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", KINDS)
def test_kept_restart_is_that_restart_fit_alone(kind, solver, seed):
    X, y = _data(kind)
    est = _est(kind, solver=solver, random_state=seed, n_init=N_INIT).fit(X, y)
    alone = _restarts_alone(kind, X, y, random_state=seed, solver=solver)
    # Restart 0 is the n_init=1 fit (its random_state is the estimator's own).
    assert restart_random_states(seed, N_INIT)[0] == seed
    assert_array_equal(est.restart_losses_, [a.loss_ for a in alone], strict=False)
    assert est.restart_losses_.dtype == np.float64 and est.restart_losses_.shape == (N_INIT,)
    assert est.restart_validation_scores_ is None
    assert est.best_restart_ == int(np.argmin(est.restart_losses_)) and type(est.best_restart_) is int
    _assert_same_model(est, alone[est.best_restart_])
    assert_array_equal(est.predict(X), alone[est.best_restart_].predict(X))


def test_the_examples_keep_restart_0_and_later_restarts():
    # The seeds of test_kept_restart_is_that_restart_fit_alone cover both cases.
    X, y = _data("classifier")
    kept = {seed: _est("classifier", solver="adam", random_state=seed, n_init=N_INIT).fit(X, y).best_restart_
            for seed in (0, 1, 2)}
    assert kept == {0: 2, 1: 1, 2: 0}
    _assert_same_model(_est("classifier", solver="adam", random_state=2, n_init=N_INIT).fit(X, y),
                       _est("classifier", solver="adam", random_state=2).fit(X, y))


def test_restart_seeds_are_distinct_ints_derived_from_the_stream():
    states = restart_random_states(0, 5)
    assert states[0] == 0 and len(set(states)) == 5
    assert all(type(s) is int and 0 <= s < 2**32 for s in states)
    assert restart_random_states(0, 5) == states  # deterministic
    assert restart_random_states(np.random.RandomState(0), 5)[1:] == states[1:]  # int s == RandomState(s)
    assert restart_random_states(1, 5)[1:] != states[1:]
    assert restart_random_states(0, 3) == states[:3]  # a restart's seed does not depend on n_init
    assert restart_random_states(0, 1) == [0]


@pytest.mark.parametrize(
    "values, higher_is_better, best",
    [
        ([1.0, 0.5, 0.5], False, 1),  # tie: the lowest index
        ([np.nan, 2.0, 1.0], False, 2),
        ([np.nan, np.nan], False, 0),  # all NaN: restart 0
        ([np.inf, np.nan], False, 0),  # NaN never wins, inf is a value
        ([0.5, 0.9, 0.9], True, 1),
        ([-np.inf, np.nan, -np.inf], True, 0),
        ([np.nan, 0.1], True, 1),
    ],
)
def test_choice_rules(values, higher_is_better, best):
    assert _restarts._best(np.array(values), higher_is_better) == best


# --------------------------------------------------------------------------------------
# Early stopping: one split, the best validation score.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_early_stopping_restarts_validate_on_restart_0s_split(kind, solver, monkeypatch):
    X, y = _data(kind)
    splits = []
    original = _training._early_stopping_split

    def recording(est, X, y, sample_weight):
        parts = original(est, X, y, sample_weight)
        splits.append((parts[0], parts[3]))  # X_train, X_val
        return parts

    monkeypatch.setattr(_training, "_early_stopping_split", recording)
    _est(kind, solver=solver, early_stopping=True).fit(X, y)  # restart 0's split
    assert len(splits) == 1
    _est(kind, solver=solver, early_stopping=True, n_init=N_INIT).fit(X, y)
    assert len(splits) == 1 + N_INIT
    for X_train, X_val in splits[1:]:
        assert_array_equal(X_train, splits[0][0])
        assert_array_equal(X_val, splits[0][1])


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_early_stopping_keeps_the_best_validation_score(kind, solver, seed, restart_0_split):
    X, y = _data(kind)
    params = dict(solver=solver, early_stopping=True, random_state=seed)
    est = _est(kind, n_init=N_INIT, **params).fit(X, y)
    restart_0 = restart_0_split(_est(kind, **params), X, y)
    alone = [restart_0] + [_est(kind, **{**params, "random_state": state}).fit(X, y)
                           for state in restart_random_states(seed, N_INIT)[1:]]
    assert_array_equal(est.restart_validation_scores_, [a.best_validation_score_ for a in alone], strict=False)
    assert_array_equal(est.restart_losses_, [a.loss_ for a in alone], strict=False)
    assert est.best_restart_ == int(np.argmax(est.restart_validation_scores_))
    _assert_same_model(est, alone[est.best_restart_])


def test_early_stopping_choice_is_the_score_not_the_loss():
    X, y = _data("classifier")
    est = _est("classifier", solver="adam", early_stopping=True, random_state=3, n_init=N_INIT).fit(X, y)
    assert est.best_restart_ == int(np.argmax(est.restart_validation_scores_))
    assert est.best_restart_ != int(np.argmin(est.restart_losses_))  # the case exercised


# --------------------------------------------------------------------------------------
# Side by side: threads, engines.
# --------------------------------------------------------------------------------------


def _threads_of_restarts(monkeypatch):
    names = []
    original = _restarts._fit_restart

    def recording(*args, **kwargs):
        names.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(_restarts, "_fit_restart", recording)
    return names


@pytest.mark.parametrize("solver, early_stopping",
                         [(s, e) for s in SOLVERS for e in (False, True) if not (e and s == "lbfgs")])  # no lbfgs ES
@pytest.mark.parametrize("kind", KINDS)
def test_threads_and_one_after_another_give_the_same_model(kind, solver, early_stopping, monkeypatch):
    X, y = _data(kind)
    names = _threads_of_restarts(monkeypatch)
    params = dict(solver=solver, early_stopping=early_stopping, n_init=N_INIT)
    serial = _est(kind, n_threads=1, **params).fit(X, y)
    assert names == ["MainThread"] * N_INIT
    names.clear()
    threaded = _est(kind, n_threads=2, **params).fit(X, y)
    assert len(names) == N_INIT and all(name.startswith("fastmlp-restart") for name in names)
    _assert_same_model(serial, threaded)
    assert_array_equal(serial.restart_losses_, threaded.restart_losses_, strict=True)
    assert serial.best_restart_ == threaded.best_restart_


_FRESH_PROCESS_FIT = """
import hashlib, sys, warnings
import numpy as np
from sklearn.datasets import load_digits
import fastmlp
warnings.simplefilter("ignore")
X, y = load_digits(return_X_y=True)
est = fastmlp.MLPClassifier((16,), solver=sys.argv[1], max_iter=5, random_state=0, n_init=3,
                            n_threads=int(sys.argv[2])).fit(X / 16, y)
digest = hashlib.sha256()
for array in est.coefs_ + est.intercepts_:
    digest.update(np.ascontiguousarray(array).tobytes())
print(est.best_restart_, digest.hexdigest())
"""


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_first_fit_of_a_process_in_threads_equals_one_after_another(solver):
    # The process's first fit: its restarts load the compiled kernels in two threads at once.
    outputs = [subprocess.run([sys.executable, "-c", _FRESH_PROCESS_FIT, solver, str(n_threads)], capture_output=True,
                              text=True, timeout=300) for n_threads in (2, 1)]
    for proc in outputs:
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert outputs[0].stdout == outputs[1].stdout


def test_blas_thread_counts_are_restored_after_restarts_in_threads():
    X, y = _data("classifier")
    before = [lib["num_threads"] for lib in threadpool_info()]
    _est("classifier", n_init=N_INIT, n_threads=2).fit(X, y)
    assert [lib["num_threads"] for lib in threadpool_info()] == before


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_engine_runs_restarts_one_after_another(kind, monkeypatch):
    X, y = _data(kind)
    names = _threads_of_restarts(monkeypatch)
    est = _est(kind, engine="numpy", n_threads=2, n_init=N_INIT).fit(X, y)
    assert names == ["MainThread"] * N_INIT
    alone = _restarts_alone(kind, X, y, engine="numpy")
    _assert_same_model(est, alone[est.best_restart_])
    compiled = _est(kind, n_init=N_INIT).fit(X, y)
    assert_allclose(est.restart_losses_, compiled.restart_losses_, **training_tol(np.float64))


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_engine_runs_lbfgs_restarts_in_threads(kind, monkeypatch):
    X, y = _data(kind)
    names = _threads_of_restarts(monkeypatch)
    threaded = _est(kind, engine="numpy", solver="lbfgs", n_threads=2, n_init=N_INIT).fit(X, y)
    assert len(names) == N_INIT and all(name.startswith("fastmlp-restart") for name in names)
    alone = _restarts_alone(kind, X, y, engine="numpy", solver="lbfgs")
    _assert_same_model(threaded, alone[threaded.best_restart_])


def test_fit_from_a_worker_thread_runs_restarts_one_after_another(monkeypatch):
    X, y = _data("classifier")
    names = _threads_of_restarts(monkeypatch)
    est = _est("classifier", n_threads=2, n_init=N_INIT)
    worker = threading.Thread(target=est.fit, args=(X, y), name="user-worker")
    worker.start()
    worker.join()
    assert names == ["user-worker"] * N_INIT
    _assert_same_model(est, _est("classifier", n_init=N_INIT, n_threads=1).fit(X, y))


@pytest.mark.filterwarnings("ignore:MLPRegressor. the training loss is:RuntimeWarning")
@pytest.mark.parametrize("n_threads", [1, 2])
def test_failing_restart_raises(n_threads):
    X, y = _data("regressor")
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        _est("regressor", solver="sgd", learning_rate_init=0.1, n_init=2, n_threads=n_threads).fit(X * 1e100, y)


# --------------------------------------------------------------------------------------
# random_state: RandomState instances, None.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("early_stopping", [False, True])
def test_random_state_instance_is_consumed_as_by_n_init_1(early_stopping):
    X, y = _data("classifier")
    params = dict(solver="adam", early_stopping=early_stopping)
    rs_single, rs_restarts = np.random.RandomState(7), np.random.RandomState(7)
    single = _est("classifier", random_state=rs_single, **params).fit(X, y)
    restarts = _est("classifier", random_state=rs_restarts, n_init=N_INIT, **params).fit(X, y)
    assert restarts.restart_losses_[0] == single.loss_
    _assert_equal(rs_restarts.get_state(), rs_single.get_state(), "the instance after the fit")
    # The same fit as the int seed 7: restart k's seed derives from the stream's state.
    _assert_same_model(restarts, _est("classifier", random_state=7, n_init=N_INIT, **params).fit(X, y))


def test_random_state_none_follows_numpys_global_stream():
    X, y = _data("classifier")
    stream = check_random_state(None)  # NumPy's global RandomState, np.random.seed's
    saved = stream.get_state()
    try:
        stream.seed(7)
        first = _est("classifier", random_state=None, n_init=N_INIT).fit(X, y)
        stream.seed(7)
        again = _est("classifier", random_state=None, n_init=N_INIT).fit(X, y)
    finally:
        stream.set_state(saved)
    _assert_same_model(first, again)
    seeded = _est("classifier", random_state=7, n_init=N_INIT).fit(X, y)
    assert_array_equal(first.restart_losses_, seeded.restart_losses_)
    _assert_equal(first.coefs_, seeded.coefs_, "coefs_")


# --------------------------------------------------------------------------------------
# warm_start, partial_fit: the kept network goes on, alone.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", KINDS)
def test_warm_start_refit_continues_the_kept_network(kind, solver):
    X, y = _data(kind)
    est = _est(kind, solver=solver, n_init=N_INIT).fit(X, y)
    record = {name: getattr(est, name) for name in RESTART_ATTRIBUTES}
    kept = _est(kind, solver=solver, random_state=restart_random_states(0, N_INIT)[est.best_restart_]).fit(X, y)
    est.set_params(warm_start=True, max_iter=4).fit(X, y)
    kept.set_params(warm_start=True, max_iter=4, random_state=0).fit(X, y)  # shuffles from the estimator's own
    _assert_same_model(est, kept)
    assert all(getattr(est, name) is value for name, value in record.items())


@pytest.mark.parametrize("kind", KINDS)
def test_warm_start_first_fit_runs_restarts(kind):
    X, y = _data(kind)
    warm = _est(kind, warm_start=True, n_init=N_INIT).fit(X, y)
    cold = _est(kind, n_init=N_INIT).fit(X, y)
    _assert_same_model(warm, cold)
    assert_array_equal(warm.restart_losses_, cold.restart_losses_)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_partial_fit_continues_the_kept_network(kind, solver):
    X, y = _data(kind)
    est = _est(kind, solver=solver, n_init=N_INIT).fit(X, y)
    kept = _est(kind, solver=solver, random_state=restart_random_states(0, N_INIT)[est.best_restart_]).fit(X, y)
    est.partial_fit(X, y)
    kept.set_params(random_state=0).partial_fit(X, y)
    _assert_same_model(est, kept)
    assert est.restart_losses_.shape == (N_INIT,)


@pytest.mark.parametrize("kind", KINDS)
def test_partial_fit_from_scratch_trains_one_network(kind):
    X, y = _data(kind)
    extra = {"classes": np.unique(y)} if kind == "classifier" else {}
    one = _est(kind, solver="sgd").partial_fit(X, y, **extra)
    restarts = _est(kind, solver="sgd", n_init=N_INIT).partial_fit(X, y, **extra)
    _assert_same_model(one, restarts)
    assert not any(hasattr(restarts, name) for name in RESTART_ATTRIBUTES)


# --------------------------------------------------------------------------------------
# Parameters, persistence, scikit-learn's machinery.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", None])
@pytest.mark.parametrize("kind", KINDS)
def test_invalid_n_init_raises_sklearns_error(kind, value):
    X, y = _data(kind)
    with pytest.raises(InvalidParameterError, match="The 'n_init' parameter of MLP"):
        _est(kind, n_init=value).fit(X, y)


@pytest.mark.parametrize("kind", KINDS)
def test_get_params_clone_and_pickle(kind):
    X, y = _data(kind)
    est = _est(kind, n_init=N_INIT).fit(X, y)
    assert est.get_params()["n_init"] == N_INIT and clone(est).n_init == N_INIT
    restored = pickle.loads(pickle.dumps(est))
    _assert_same_model(est, restored)
    assert_array_equal(restored.restart_losses_, est.restart_losses_)
    assert restored.best_restart_ == est.best_restart_


def test_feature_names_are_those_of_the_last_fit():
    pd = pytest.importorskip("pandas")
    X, y = _data("classifier")
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    est = _est("classifier", n_init=N_INIT).fit(frame, y)
    assert_array_equal(est.feature_names_in_, frame.columns)
    est.fit(X, y)
    assert not hasattr(est, "feature_names_in_")
    _assert_same_model(est, _est("classifier", n_init=N_INIT).fit(X, y))


def test_to_sklearn_asks_for_n_init_1():
    X, y = _data("classifier")
    est = _est("classifier", n_init=N_INIT).fit(X, y)
    with pytest.raises(ValueError, match=r"no parameter 'n_init'; set it back to 1"):
        est.to_sklearn()
    theirs = est.set_params(n_init=1).to_sklearn()
    assert_array_equal(theirs.coefs_[0], est.coefs_[0])


def test_fit_inside_a_pipeline():
    # A Pipeline hands its final estimator a callback context (scikit-learn's meta-estimator
    # mechanism) even without callbacks; the restarts still run side by side.
    X, y = _data("classifier")
    pipe = make_pipeline(StandardScaler(), _est("classifier", n_init=N_INIT, n_threads=2)).fit(X, y)
    alone = _est("classifier", n_init=N_INIT, n_threads=2).fit(StandardScaler().fit_transform(X), y)
    _assert_same_model(pipe[-1], alone)


@parametrize_with_checks([fastmlp.MLPClassifier(max_iter=100, n_init=2), fastmlp.MLPRegressor(max_iter=100, n_init=2)])
def test_sklearn_estimator_checks_with_restarts(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------
# Callbacks: one "restart" task per restart.
# --------------------------------------------------------------------------------------


class _Recorder:
    """Records the end of every task it sees: (task name, task id, fitted_estimator's loss_)."""

    def __init__(self, stop_after_restart=None, propagate=False):
        self.ends = []
        self.stop_after_restart = stop_after_restart
        if propagate:
            self.max_propagation_depth = None  # an auto-propagated callback (sklearn.callback)

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.ends.append((context.task_name, context.task_id, fitted_estimator.loss_))
        return context.task_name == "restart" and context.task_id == self.stop_after_restart

    def teardown(self, estimator, context):
        pass


def test_callbacks_see_one_task_per_restart(monkeypatch):
    X, y = _data("classifier")
    names = _threads_of_restarts(monkeypatch)
    recorder = _Recorder()
    est = _est("classifier", n_init=N_INIT, n_threads=2).set_callbacks(recorder).fit(X, y)
    assert names == ["MainThread"] * N_INIT  # with callbacks, one after another
    assert recorder.ends == [("restart", k, loss) for k, loss in enumerate(est.restart_losses_)] + [
        ("fit", 0, est.loss_)]
    _assert_same_model(est, _est("classifier", n_init=N_INIT).fit(X, y))


def test_auto_propagated_callback_follows_each_restarts_epochs():
    X, y = _data("classifier")
    recorder = _Recorder(propagate=True)
    est = _est("classifier", n_init=N_INIT).set_callbacks(recorder).fit(X, y)
    epochs = [end for end in recorder.ends if end[0] == "epoch"]
    assert len(epochs) == N_INIT * est.n_iter_
    restart_ends = [end for end in recorder.ends if end[0] == "fit"][:N_INIT]  # each restart's own fit task
    assert [end[2] for end in restart_ends] == list(est.restart_losses_)


def test_callback_stopping_after_a_restart_keeps_the_best_so_far():
    X, y = _data("classifier")
    est = _est("classifier", n_init=N_INIT).set_callbacks(_Recorder(stop_after_restart=0)).fit(X, y)
    assert est.restart_losses_.shape == (1,) and est.best_restart_ == 0
    _assert_same_model(est, _est("classifier").fit(X, y))


# --------------------------------------------------------------------------------------
# The README's example.
# --------------------------------------------------------------------------------------


def test_readme_example_keeps_the_lowest_loss():
    namespace = {}
    exec(readme_example("### Restarts (`n_init`)"), namespace)  # the README's own code
    clf, first, X, y = namespace["clf"], namespace["first"], namespace["X"], namespace["y"]
    assert namespace["kept"] == clf.best_restart_ == int(np.argmin(namespace["losses"]))
    assert clf.restart_losses_[0] == first.loss_
    seed = restart_random_states(0, clf.n_init)[clf.best_restart_]
    _assert_same_model(clf, clone(first).set_params(random_state=seed).fit(X, y))
