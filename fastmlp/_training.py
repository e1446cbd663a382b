"""Solvers and stopping rules shared by both estimators (scikit-learn 1.9's, step for step).

Python runs once per epoch: shuffling with scikit-learn's random stream, the loss curve,
stopping rules, early-stopping scores, verbose output. Each epoch's minibatches run
inside ``engine.train_epoch``. Nothing here knows which engine it drives.
"""

import functools
import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches
from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
from sklearn.utils.optimize import _check_optimize_result

from ._callbacks import LbfgsIterations, stochastic_state
from ._divergence import check_epoch_loss, check_lbfgs_loss
from ._optimizers import AdamState, SGDState
from ._params import pack, unpack
from ._threads import blas_threads, lbfgs_threads
from .engines._full_batch import data_loss, with_l2_term


def make_optimizer(est, theta, dtype=None):
    """A fresh optimizer state for ``est``'s solver, sized like ``theta``, its vectors of
    ``dtype`` (the gradients'; default theta's)."""
    if est.solver == "sgd":
        return SGDState(theta, est.learning_rate_init, est.learning_rate, est.momentum,
                        est.nesterovs_momentum, est.power_t, dtype=dtype)
    return AdamState(theta, est.learning_rate_init, est.beta_1, est.beta_2, est.epsilon, dtype=dtype)


def _shuffled(sample_idx, random_state):
    """``sklearn.utils.shuffle(sample_idx, random_state=random_state)`` without its input
    checks (100 us an epoch): the same single ``random_state.shuffle`` draw."""
    perm = np.arange(sample_idx.shape[0])
    random_state.shuffle(perm)
    return sample_idx[perm]


def _gradient_dtype(x_dtype, y):
    """The dtype NumPy gives ``output - y``, and so the deltas, gradients and optimizer
    vectors: X's for bool labels and same-precision targets, float64 for float64 or
    integer targets of float32 X (scikit-learn then backpropagates in float64)."""
    return np.result_type(x_dtype, y.dtype)


def _epoch(engine, est, theta, layer_units, X, Y, sw, order, batch_size, optimizer):
    """One epoch; sparse X is densified one minibatch at a time."""
    args = (est.activation, est.out_activation_, est._loss_name(), est.alpha)
    if not sp.issparse(X):
        return engine.train_epoch(theta, layer_units, X, Y, sw, order, batch_size, *args, optimizer)
    total = 0.0
    for batch in gen_batches(len(order), batch_size):
        idx = order[batch]
        Xb = np.ascontiguousarray(X[idx].toarray())
        swb = None if sw is None else sw[idx]
        total += engine.train_epoch(theta, layer_units, Xb, Y[idx], swb, np.arange(len(idx)), len(idx), *args,
                                    optimizer)
    return total


def _early_stopping_split(est, X, y, sample_weight):
    """scikit-learn's validation split: same random stream, same stratification.

    Returns X_train, y_train, sw_train, X_val, y_val, Y_val, sw_val: y_val as the score
    takes it (the classifier's labels), Y_val as the loss does (the encoded targets)."""
    stratify = y if (is_classifier(est) and est.n_outputs_ == 1) else None
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    # Restarts 1, 2, ... of n_init > 1 draw restart 0's split from their own copy of its stream (``_restarts``).
    split_stream = getattr(est, "_split_random_state", est._random_state)
    parts = train_test_split(*arrays, random_state=split_stream, test_size=est.validation_fraction,
                             stratify=stratify)
    X_train, X_val, y_train, y_val = parts[:4]
    sw_train, sw_val = (None, None) if sample_weight is None else parts[4:]
    if X_val.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
        )
    Y_val = y_val
    if is_classifier(est):
        y_val = est._label_binarizer.inverse_transform(y_val)
    return X_train, y_train, sw_train, X_val, y_val, Y_val, sw_val


def fit_stochastic(est, engine, X, y, sample_weight, layer_units, incremental, tasks=None):
    """scikit-learn's ``_fit_stochastic``: sgd or adam epochs with its stopping rules.
    ``tasks``: the fit's callback tasks (``_callbacks.FitTasks``), None without callbacks."""
    dtype = X.dtype
    # After an early-stopped fit scikit-learn's coefs_ *is* its _best_coefs list, so a
    # warm-start refit trains the "best" arrays in place until a new best is copied. A
    # model whose weights were set by hand (transplanted) has no _best_coefs.
    aliased = est.coefs_ is getattr(est, "_best_coefs", None)
    theta = pack(est.coefs_, est.intercepts_, dtype)
    est.coefs_, est.intercepts_ = unpack(theta, layer_units)
    if aliased:
        est._best_coefs, est._best_intercepts = est.coefs_, est.intercepts_
    gradient_dtype = _gradient_dtype(dtype, y)
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = make_optimizer(est, theta, gradient_dtype)
    optimizer = est._optimizer
    optimizer.make_usable(gradient_dtype)

    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    early_stopping = est.early_stopping
    if early_stopping:
        X_train, y_train, sw_train, X_val, y_val, Y_val, sw_val = _early_stopping_split(est, X, y, sample_weight)
    else:
        X_train, y_train, sw_train = X, y, sample_weight
        X_val = y_val = Y_val = sw_val = None
    Y_train = np.ascontiguousarray(y_train, dtype=gradient_dtype)
    if sw_train is not None:
        sw_train = np.ascontiguousarray(sw_train, dtype=np.float64)

    n_samples = X_train.shape[0]
    if est.batch_size == "auto":
        batch_size = min(200, n_samples)
    else:
        if est.batch_size > n_samples:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
        batch_size = int(np.clip(est.batch_size, 1, n_samples))

    with blas_threads(est.n_threads, batch_size, layer_units):
        _run_epochs(est, engine, theta, layer_units, X_train, Y_train, sw_train, batch_size, optimizer,
                    early_stopping, X_val, y_val, Y_val, sw_val, incremental, tasks)

    if early_stopping:
        est.coefs_ = est._best_coefs
        est.intercepts_ = est._best_intercepts


def _run_epochs(est, engine, theta, layer_units, X_train, Y_train, sw_train, batch_size, optimizer,
                early_stopping, X_val, y_val, Y_val, sw_val, incremental, tasks=None):
    """The epoch loop of scikit-learn's ``_fit_stochastic``; with callbacks (``tasks``) each
    epoch is a subtask, ended after the stopping rules, and may be the last one."""
    n_samples = X_train.shape[0]
    sample_idx = np.arange(n_samples, dtype=int)
    warned = set()  # the non-finite-loss warnings given in this fit
    state = None if tasks is None else functools.partial(stochastic_state, est, early_stopping)
    try:
        est.n_iter_ = 0
        for _ in range(est.max_iter):
            if tasks is not None:
                tasks.subtask_begins("epoch", state)
            if est.shuffle:
                sample_idx = _shuffled(sample_idx, est._random_state)
            accumulated_loss = _epoch(engine, est, theta, layer_units, X_train, Y_train, sw_train, sample_idx,
                                      batch_size, optimizer)
            est.n_iter_ += 1
            est.loss_ = np.float64(accumulated_loss / X_train.shape[0])
            est.t_ += n_samples
            est.loss_curve_.append(est.loss_)
            check_epoch_loss(est, est.loss_, theta, X_train, Y_train, warned)
            if est.verbose:
                print("Iteration %d, loss = %.8f" % (est.n_iter_, est.loss_))
            _update_no_improvement_count(est, early_stopping, X_val, y_val, Y_val, sw_val)
            optimizer.iteration_ends(est.t_)
            converged = False
            if est._no_improvement_count > est.n_iter_no_change:
                if early_stopping:
                    msg = ("Validation score did not improve more than tol=%f for %d consecutive epochs."
                           % (est.tol, est.n_iter_no_change))
                else:
                    msg = ("Training loss did not improve more than tol=%f for %d consecutive epochs."
                           % (est.tol, est.n_iter_no_change))
                converged = optimizer.trigger_stopping(msg, est.verbose)
                if not converged:
                    est._no_improvement_count = 0
            if tasks is not None and tasks.subtask_ends(state):
                break  # asked by a callback: the model of a fit with max_iter=n_iter_, no warning
            if converged or incremental:
                break
            if est.n_iter_ == est.max_iter:
                warnings.warn(
                    "Stochastic Optimizer: Maximum iterations (%d) reached and the optimization hasn't converged yet."
                    % est.max_iter,
                    ConvergenceWarning,
                )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.")


def _update_no_improvement_count(est, early_stopping, X_val, y_val, Y_val, sw_val):
    if early_stopping:
        val_score = est._score(X_val, y_val, sample_weight=sw_val)
        est.validation_scores_.append(val_score)
        est.validation_loss_curve_.append(_validation_loss(est, X_val, Y_val, sw_val))
        if est.verbose:
            print("Validation score: %f" % est.validation_scores_[-1])
        last_valid_score = est.validation_scores_[-1]
        if last_valid_score < (est.best_validation_score_ + est.tol):
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if last_valid_score > est.best_validation_score_:
            est.best_validation_score_ = last_valid_score
            est._best_coefs = [c.copy() for c in est.coefs_]
            est._best_intercepts = [i.copy() for i in est.intercepts_]
    else:
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]


def _validation_loss(est, X_val, Y_val, sw_val):
    """The loss of ``loss_curve_`` on the validation split, with the current weights:
    scikit-learn's ``_backprop`` loss of the whole split as one batch (data loss weighted
    by sw_val, L2 term over its row count or weight sum). Y_val: encoded targets.

    Its own forward pass (the one of prediction) beside the score's, which stays
    ``est._score``'s whatever path ``predict`` takes: a pass over validation_fraction of
    the rows, forward only, next to an epoch's forward and backward passes."""
    out = est._forward_pass_fast(X_val, check_input=False)
    sw = None if sw_val is None else np.asarray(sw_val, dtype=np.float64)
    denom = X_val.shape[0] if sw is None else sw.sum()
    # A diverging model's outputs overflow: inf and NaN are values of the curve here.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value = with_l2_term(data_loss(out, Y_val, sw, est._loss_name()), est.coefs_, est.alpha, denom)
    return np.float64(value)


def fit_lbfgs(est, engine, X, y, sample_weight, layer_units, tasks=None):
    """scikit-learn's ``_fit_lbfgs``: L-BFGS-B over the packed parameters; with callbacks
    (``tasks``) each iteration is a subtask (``_callbacks.LbfgsIterations``).

    SciPy hands ``fun`` its vector in x0's dtype, the coefficients' (X's on a first
    fit), so each evaluation runs in that dtype, while the result ``opt_res.x`` is
    float64: after an L-BFGS fit coefs_ are float64 even for float32 X, and a warm-start
    refit then evaluates in float64, as in scikit-learn.
    """
    # Sparse X stays sparse: its products are then SciPy's sparse ones, as scikit-learn's.
    if not sp.issparse(X):
        X = np.ascontiguousarray(X)
    x0 = pack(est.coefs_, est.intercepts_)
    # Targets in scikit-learn's own dtype (bool labels; the regressor's y as given), and
    # a float64 gradient: each evaluation then rounds exactly as scikit-learn's does,
    # including the float64 deltas of float32 X with float64 y and the float64
    # intercept gradients that sample weights give a float32 network.
    Y = np.ascontiguousarray(y)
    sw = None if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float64)
    args = (est.activation, est.out_activation_, est._loss_name(), est.alpha)

    def loss_grad(theta):
        theta = np.ascontiguousarray(theta, dtype=x0.dtype)
        grad = np.empty(theta.shape, dtype=np.float64)
        value = engine.loss_and_grad(theta, layer_units, X, Y, sw, *args, grad)
        return np.float64(value), grad

    iterations = None if tasks is None else LbfgsIterations(tasks, x0, layer_units)
    if iterations is not None:
        loss_grad = iterations.objective(loss_grad)
    iprint = 1 if (est.verbose is True or est.verbose >= 1) else -1
    with lbfgs_threads(est.n_threads, X.shape[0], layer_units):
        opt_res = _minimize(loss_grad, x0, est, iprint, iterations)
    check_lbfgs_loss(est, opt_res.fun, X, Y)
    if iterations is not None and iterations.stopped:
        est.n_iter_ = min(opt_res.nit, est.max_iter)  # asked by a callback: no convergence warning
    else:
        est.n_iter_ = _check_optimize_result("lbfgs", opt_res, est.max_iter)
    est.loss_ = opt_res.fun
    est.coefs_, est.intercepts_ = unpack(opt_res.x, layer_units)


def _minimize(loss_grad, x0, est, iprint, callback=None):
    return scipy.optimize.minimize(
        loss_grad,
        x0,
        method="L-BFGS-B",
        jac=True,
        options={
            "maxfun": est.max_fun,
            "maxiter": est.max_iter,
            "gtol": est.tol,
            **_get_additional_lbfgs_options_dict("iprint", iprint),
        },
        callback=callback,
    )
