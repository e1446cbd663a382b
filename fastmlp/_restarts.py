"""``n_init``: train several networks from different initial weights and keep the best.

A fit with ``n_init > 1`` (from scratch: not ``partial_fit``, not a warm-start refit of a
fitted model) trains ``n_init`` restarts, each a fit of its own with ``n_init=1``, and
keeps the best; ``n_init=1`` never comes here (``_base._fit``).

- **Restart 0** is the fit with ``n_init=1``: the estimator's own ``random_state`` (the
  same RandomState instance, or NumPy's global one for None, consumed as that fit
  consumes it).
- **Restart k >= 1** is the fit with ``random_state=restart_random_states(...)[k]``, an
  int derived from the state of restart 0's random stream at the start of the fit
  (``np.random.SeedSequence`` of that state, spawn key k): its initial weights and its
  epoch shuffles are its own. An int ``random_state`` and ``RandomState(int)`` give the
  same restarts; None and a RandomState instance give restarts fixed by the stream's state
  (so ``np.random.seed`` makes a fit with ``random_state=None`` repeatable).
- **The early-stopping split** is restart 0's in every restart, so that validation scores
  compare on the same rows: restarts k >= 1 draw it from a copy of restart 0's stream
  (``_split_random_state``), advanced past restart 0's initial weights
  (``advance_past_initialization``); everything else they draw from their own stream.
- **The best**: the lowest ``loss_`` (sgd, adam, lbfgs), or with ``early_stopping=True``
  (sgd, adam) the highest ``best_validation_score_``; NaN never wins, ties go to the
  lowest index, restart 0 if every value is NaN. Its fitted state (every attribute its
  fit set) is the estimator's, and ``restart_losses_``, ``restart_validation_scores_``
  and ``best_restart_`` record the restarts.

Side by side: the input is validated once (restart 0's validation, its results copied to
every restart), then each restart trains on its own state from there, so restarts run in
Python threads (the compiled kernels release the GIL) with BLAS on one thread for the
whole fit, ``min(n_init, n_threads or the cores available)`` at a time, and give the
same weights, bit for bit, as run one after another. Measured on the 2-core development
machine (medians of interleaved fits; ``benchmarks/README.md``): 2 restarts in threads
took 0.57-0.66 of the time of 2 one after another (digits, (64,), batch 64, 30 epochs:
adam and lbfgs; mnist-like and wide-regression epochs 0.79 and 0.84, against restarts
one after another with BLAS on both cores).

Why Python threads, not a compiled ``prange`` over restarts: a thread per restart is one
parallel region for the whole fit (never one per minibatch or epoch) and needs no Numba
threading layer, so nothing changes for fork or for callers' threads. A ``prange`` would
need one (measured with Numba 0.68.1, ``benchmarks/README.md``): GNU OpenMP kills a
forked child that enters a parallel region; the workqueue layer aborts when two threads
enter parallel code at once and cost 0.2-0.4 ms a region here; and a cached function
calling a cached ``parallel=True`` one crashes when loaded from the cache
(numba/numba#8578). It would also have to move the whole fit loop (schedules, early
stopping, callbacks) into compiled code. They run one after another:

- ``engine="numpy"`` with sgd or adam: NumPy's per-minibatch calls hold the GIL (two
  restarts in threads took 1.6x the time of one after another); its lbfgs runs in threads
  (full-batch products release the GIL: 0.53);
- with one worker (``n_threads=1``, one core);
- when the fit is called from a thread other than the main one: BLAS limits are
  process-wide and only the main thread sets them (``_threads``), and the caller (a
  threaded grid search) already keeps the cores busy;
- when the estimator has callbacks, whose hooks then run in order.

Callbacks (``sklearn.callback``): the fit's task ``"fit"`` has one subtask
``"restart"`` per restart, into which scikit-learn's meta-estimator mechanism
(``propagate_callback_context``) merges the restart's own task tree: auto-propagated
callbacks (``ProgressBar``) follow each restart's epochs, the others see the restarts,
with the restart's model as ``fitted_estimator``; one returning True at the end of a
restart stops there (the best of the restarts run is kept).
"""

import copy
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from sklearn import config_context, get_config
from sklearn.base import clone
from sklearn.callback._callback_support import callback_management_context
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight

from ._threads import _controller, available_cores

#: The fitted attributes that record the restarts; set by a fit that ran restarts.
RESTART_ATTRIBUTES = ("restart_losses_", "restart_validation_scores_", "best_restart_")
#: scikit-learn's callback bookkeeping on an estimator: not part of a fitted model.
_CALLBACK_STATE = ("_skl_callbacks", "_parent_callback_ctx", "_callback_fit_ctx", "_skl_callbacks_to_teardown")


def restart_random_states(random_state, n_init):
    """The ``random_state`` of each restart of a fit with ``random_state`` and ``n_init``:
    ``[random_state, seed_1, ..., seed_{n_init-1}]``, the seeds ints in [0, 2**32).

    For a RandomState instance (and None: NumPy's global one) the seeds derive from its
    current state, so call this before the fit, which advances it. Restart k alone (k >=
    1) is the fit with ``random_state=seed_k`` and ``n_init=1``, except that with
    ``early_stopping=True`` its validation split is restart 0's.
    """
    if n_init == 1:
        return [random_state]
    entropy = _state_entropy(check_random_state(random_state))
    return [random_state] + [int(np.random.SeedSequence(entropy, spawn_key=(k,)).generate_state(1)[0])
                             for k in range(1, n_init)]


def _state_entropy(stream):
    """A RandomState's whole state as a list of ints (SeedSequence entropy)."""
    _, key, pos, has_gauss, cached_gaussian = stream.get_state()
    return [*np.asarray(key, dtype=np.uint32).tolist(), int(pos), int(has_gauss),
            int(np.float64(cached_gaussian).view(np.uint64))]


def forget_restarts(est):
    """A fit of one network from scratch (``n_init=1``): no restarts to record."""
    for name in RESTART_ATTRIBUTES:
        vars(est).pop(name, None)


def advance_past_initialization(est, layer_units, dtype):
    """Advance ``est._split_random_state`` (a copy of restart 0's stream as it was before
    its fit) by the draws of restart 0's initial weights, so that the early-stopping split
    drawn from it next is restart 0's."""
    own = est._random_state
    est._random_state = est._split_random_state
    try:
        est._initial_weights(layer_units, dtype)
    finally:
        est._random_state = own


def fit_restarts(est, X, y, sample_weight, hidden_layer_sizes):
    """Fit ``est`` (``n_init > 1``, a fit from scratch) as its best restart; returns est.
    X, y, sample_weight: as given to fit; hidden_layer_sizes: ``_fit``'s checked list."""
    n_init = est.n_init
    random_states = restart_random_states(est.random_state, n_init)
    shares_split = est.early_stopping and est.solver in ("sgd", "adam")
    # Restart 0's stream before its fit: copied now, before restart 0 consumes it.
    split_source = copy.deepcopy(check_random_state(est.random_state)) if shares_split else None
    restarts = [_restart(est, k, random_states[k], split_source) for k in range(n_init)]
    inputs = _validated_once(restarts, X, y, sample_weight) + (hidden_layer_sizes,)
    tasks = _RestartTasks(est, X, y, sample_weight, n_init)
    workers = _workers(est, tasks)
    if workers == 1:
        ran = []
        for k, restart in enumerate(restarts):
            stop = _fit_restart(restart, inputs, tasks, k)
            ran.append(restart)
            if stop:
                break
    else:
        ran = _fit_side_by_side(restarts, inputs, tasks, workers)

    losses = np.array([r.fitted.loss_ for r in ran], dtype=np.float64)
    scores = np.array([r.fitted.best_validation_score_ for r in ran], dtype=np.float64) if shares_split else None
    best = _best(scores, higher_is_better=True) if shares_split else _best(losses, higher_is_better=False)
    state = ran[best].state()
    if "feature_names_in_" not in state:  # as validate_data(reset=True) on est would
        vars(est).pop("feature_names_in_", None)
    vars(est).update(state)
    est.restart_losses_, est.restart_validation_scores_, est.best_restart_ = losses, scores, best
    tasks.fit_ends()
    return est


def _best(values, higher_is_better):
    """Index of the best value: NaN never wins, ties go to the lowest index, 0 if all NaN."""
    best = None
    for k, value in enumerate(values):
        if np.isnan(value):
            continue
        if best is None or (value > values[best] if higher_is_better else value < values[best]):
            best = k
    return 0 if best is None else best


class _Restart:
    """One restart: its estimator (a clone with ``n_init=1``) and what fitting it added."""

    def __init__(self, fitted):
        self.fitted = fitted
        self._unfitted = set(vars(fitted)) | set(_CALLBACK_STATE)

    def state(self):
        """Every attribute the restart's fit set: its fitted model."""
        return {name: value for name, value in vars(self.fitted).items() if name not in self._unfitted}


def _restart(est, k, random_state, split_source):
    """Restart k's estimator: est's unfitted clone with ``n_init=1`` and its own random_state."""
    restart = clone(est)
    restart.set_params(n_init=1, random_state=random_state)  # restart 0: est's own object (clone copied it)
    if hasattr(restart, "_skl_callbacks"):
        restart.set_callbacks()  # est's callbacks reach the restarts through est's task tree (_RestartTasks)
    if split_source is not None and k > 0:
        restart._split_random_state = copy.deepcopy(split_source)
    return _Restart(restart)


def _validated_once(restarts, X, y, sample_weight):
    """X, y and sample_weight validated as restart 0's fit validates them, and what that
    set on it (``n_features_in_``, the classifier's classes) copied to every restart: the
    inputs of ``_fit_validated``, shared read-only by the restarts (a lone fit's
    validation takes a few milliseconds, with the GIL)."""
    first = restarts[0].fitted
    X, y = first._validate_input(X, y, incremental=False, reset=True)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X)
    validated = restarts[0].state()
    for restart in restarts[1:]:
        vars(restart.fitted).update(copy.deepcopy(validated))
    return X, y, sample_weight


def _workers(est, tasks):
    """How many restarts run at once (see the module's docstring for the measurements)."""
    if ((est.engine == "numpy" and est.solver in ("sgd", "adam")) or tasks.has_callbacks
            or threading.current_thread() is not threading.main_thread()):
        return 1
    cores = available_cores() if est.n_threads is None else est.n_threads
    return max(1, min(est.n_init, cores))


def _fit_side_by_side(restarts, inputs, tasks, workers):
    """Fit the restarts in ``workers`` threads, BLAS on one thread meanwhile (called from
    the main thread); the first failure, by restart index, is raised after all ended."""
    config = get_config()  # scikit-learn's configuration is per thread

    def fit(k):
        with config_context(**config):
            _fit_restart(restarts[k], inputs, tasks, k)

    for k in range(len(restarts)):
        tasks.subtask(k)  # made here, in order; the threads only fill them
    with _controller().limit(limits=1, user_api="blas"):
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fastmlp-restart") as pool:
            futures = [pool.submit(fit, k) for k in range(len(restarts))]
            try:
                wait(futures)
            except BaseException:  # KeyboardInterrupt: start no more restarts
                for future in futures:
                    future.cancel()
                raise
    for future in futures:
        if future.exception() is not None:
            raise future.exception()
    return restarts


def _fit_restart(restart, inputs, tasks, k):
    """Fit restart k on ``inputs`` (``_fit_validated``'s X, y, sample_weight and
    hidden_layer_sizes); True if a callback asks to stop after it."""
    subtask = tasks.subtask(k)
    if subtask is None:
        _fit_validated(restart.fitted, inputs)
        return False
    with subtask.propagate_callback_context(restart.fitted):
        subtask.call_on_fit_task_begin(**tasks.data())
        _fit_validated(restart.fitted, inputs)
        return subtask.call_on_fit_task_end(**tasks.data(), reconstruction_attributes=restart.state)


def _fit_validated(est, inputs):
    """What ``est.fit`` does after validating its input (a fit from scratch), with the
    teardown of its callbacks that ``fit``'s decorator does."""
    X, y, sample_weight, hidden_layer_sizes = inputs
    with callback_management_context(est):
        est._fit_validated(X, y, sample_weight, False, True, hidden_layer_sizes)


class _RestartTasks:
    """The callback tasks of a fit with restarts: ``"fit"``, one ``"restart"`` subtask per
    restart, made in order. Without a callback context (no callbacks, no meta-estimator's
    context) it makes nothing."""

    def __init__(self, est, X, y, sample_weight, n_init):
        self._est = est
        self._data = dict(X=X, y=y, metadata=None if sample_weight is None else {"sample_weight": sample_weight})
        self.has_callbacks = bool(getattr(est, "_skl_callbacks", None))
        self._root = None
        self._subtasks = []
        if hasattr(est, "_skl_callbacks") or hasattr(est, "_parent_callback_ctx"):
            self._root = est._init_callback_context(task_name="fit", max_subtasks=n_init)
            self._root.call_on_fit_task_begin(**self.data())

    def data(self):
        return dict(estimator=self._est, **self._data)

    def subtask(self, k):
        """Restart k's task (made at the first call for k, in order of k), or None."""
        if self._root is None:
            return None
        while len(self._subtasks) <= k:
            self._subtasks.append(self._root.subcontext(task_name="restart"))
        return self._subtasks[k]

    def fit_ends(self):
        if self._root is not None:
            self._root.call_on_fit_task_end(**self.data(), reconstruction_attributes={})
