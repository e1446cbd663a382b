"""Whole trainings: engine="numba" and engine="numpy" train the same model.

Both engines run under the same Python training loop, so any difference in coefs_,
intercepts_, loss_curve_ or n_iter_ comes from the engines' arithmetic. Every solver
(SGD plain / momentum / Nesterov with constant / invscaling / adaptive rates, Adam,
L-BFGS) x every hidden activation x float32 / float64, then every kind of problem
(binary, multiclass, multilabel, multi-output regression, Poisson, sample weights,
early stopping, a batch size that does not divide n). Fits are small (200 rows, at
most 15 epochs). Below them, one ``train_epoch`` and one ``loss_and_grad`` call
compared directly.
"""

import functools
import zlib

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.preprocessing import StandardScaler

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._optimizers import AdamState, SGDState
from fastmlp._params import param_offsets
from fastmlp.engines import get_engine
from fastmlp.engines._names import CANONICAL_OUTPUT, HIDDEN_ACTIVATIONS

from .tolerances import training_tol

NUMBA = get_engine("numba")
REFERENCE = get_engine("numpy")

DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
N_ROWS = 200
#: 200 = 3 x 64 + 8: every epoch ends with a short batch.
BATCH = 64

# Stopping settings under which the loss curve stalls within max_iter, so that
# constant/invscaling runs stop early (n_iter_ < max_iter) and adaptive runs divide
# their rate: the stopping rules and the schedules are exercised, not just the epochs.
STALLING = dict(tol=0.02, n_iter_no_change=2, max_iter=15)

SOLVERS = {
    **{
        f"sgd-{kind}-{schedule}": dict(
            solver="sgd", learning_rate=schedule, learning_rate_init=0.05, power_t=0.25,
            momentum=0.0 if kind == "plain" else 0.9, nesterovs_momentum=kind == "nesterov", **STALLING,
        )
        for kind in ("plain", "momentum", "nesterov")
        for schedule in ("constant", "invscaling", "adaptive")
    },
    "adam": dict(solver="adam", learning_rate_init=0.01, **STALLING),
    "lbfgs": dict(solver="lbfgs", max_iter=15),
}
#: L-BFGS-B on float32 evaluations: its line search compares loss values that differ in
#: their last bits between the engines, and the difference grows with every iteration
#: (measured on the grid below: within a third of the float32 tolerance after 5
#: iterations, over it after 15 for logistic and softplus). Compare the part of the run
#: where the comparison is about the engines, not about the optimizer's sensitivity.
LBFGS_FLOAT32_MAX_ITER = 5


@pytest.fixture
def rng(request):
    """A generator seeded by the test id: reproducible and independent of test order."""
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


# -- data (generated on first use, seeded) ---------------------------------------------


def _standardized(X):
    return StandardScaler().fit_transform(X)


@functools.lru_cache(maxsize=None)
def classification(n_classes):
    X, y = make_classification(n_samples=N_ROWS, n_features=8, n_informative=5, n_classes=n_classes,
                               random_state=0)
    return _standardized(X), y


@functools.lru_cache(maxsize=None)
def multilabel():
    X, Y = make_multilabel_classification(n_samples=N_ROWS, n_features=8, n_classes=3, random_state=0)
    return _standardized(X), Y


@functools.lru_cache(maxsize=None)
def regression(n_targets):
    X, y = make_regression(n_samples=N_ROWS, n_features=8, n_informative=5, n_targets=n_targets, noise=1.0,
                           random_state=0)
    return _standardized(X), y / y.std(axis=0)


@functools.lru_cache(maxsize=None)
def counts():
    X, _ = make_regression(n_samples=N_ROWS, n_features=8, random_state=1)
    X = _standardized(X)
    rate = np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.5)
    return X, np.random.default_rng(1).poisson(rate).astype(np.float64)


def weights():
    return np.random.default_rng(2).uniform(0.2, 3.0, N_ROWS)


#: name -> (estimator class, data, extra parameters, sample weights?)
PROBLEMS = {
    "binary": (MLPClassifier, lambda: classification(2), {}, False),
    "multiclass": (MLPClassifier, lambda: classification(3), {}, False),
    "multilabel": (MLPClassifier, multilabel, {}, False),
    "regression": (MLPRegressor, lambda: regression(1), {}, False),
    "multi-output-regression": (MLPRegressor, lambda: regression(3), {}, False),
    "poisson": (MLPRegressor, counts, {"loss": "poisson"}, False),
    "weighted-classifier": (MLPClassifier, lambda: classification(3), {}, True),
    "weighted-regressor": (MLPRegressor, lambda: regression(2), {}, True),
    "weighted-poisson": (MLPRegressor, counts, {"loss": "poisson"}, True),
    "batch-7": (MLPClassifier, lambda: classification(3), {"batch_size": 7}, False),  # 200 = 28 x 7 + 4
}


def fit_both(estimator, X, y, dtype, sample_weight=None, **params):
    if params.get("solver") == "lbfgs" and np.dtype(dtype) == np.float32:
        params["max_iter"] = min(params["max_iter"], LBFGS_FLOAT32_MAX_ITER)
    X = np.ascontiguousarray(X, dtype=dtype)
    if estimator is MLPRegressor:
        y = np.asarray(y, dtype=dtype)
    models = {}
    for engine in ("numba", "numpy"):
        model = estimator(engine=engine, random_state=0, **params)
        models[engine] = model.fit(X, y, sample_weight=sample_weight)
    return models["numba"], models["numpy"]


def approx(value, tol):
    """pytest.approx with a tolerance entry from the table."""
    return pytest.approx(value, rel=tol["rtol"], abs=tol["atol"])


def assert_same_model(ours, ref, dtype):
    tol = training_tol(dtype)
    assert ours.n_iter_ == ref.n_iter_
    assert len(ours.coefs_) == len(ref.coefs_)
    for got, want in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, **tol)
    if ours.solver == "lbfgs":
        assert ours.loss_ == approx(ref.loss_, tol)
    else:
        np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, **tol)


def expected_param_dtype(solver, dtype):
    # L-BFGS returns float64 coefs_ whatever X's dtype (as scikit-learn); SGD and Adam keep X's.
    return np.float64 if solver == "lbfgs" else dtype


# -- every solver x activation x dtype ----------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_solver_activation_dtype(solver, activation, dtype):
    X, y = classification(3)
    ours, ref = fit_both(MLPClassifier, X, y, dtype, hidden_layer_sizes=(9, 5), activation=activation,
                         batch_size=BATCH, **SOLVERS[solver])
    assert ours.coefs_[0].dtype == expected_param_dtype(ours.solver, dtype)
    assert_same_model(ours, ref, dtype)


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
def test_stalling_settings_exercise_the_stopping_rules(schedule):
    """The grid above is only worth its name if its stopping rules fire: constant and
    invscaling stop before max_iter, adaptive divides its rate by 5 at least once."""
    X, y = classification(3)
    params = SOLVERS[f"sgd-momentum-{schedule}"]
    model = MLPClassifier(hidden_layer_sizes=(9, 5), activation="tanh", batch_size=BATCH, random_state=0,
                          **params).fit(X, y)
    if schedule == "adaptive":
        assert model._optimizer.learning_rate < params["learning_rate_init"] / 4
    else:
        assert model.n_iter_ < params["max_iter"]


# -- every kind of problem -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["sgd-nesterov-constant", "adam", "lbfgs"])
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_problem(problem, solver, dtype):
    estimator, data, extra, weighted = PROBLEMS[problem]
    X, y = data()
    params = {"hidden_layer_sizes": (7, 4), "activation": "tanh", "batch_size": BATCH, **SOLVERS[solver], **extra}
    ours, ref = fit_both(estimator, X, y, dtype, sample_weight=weights() if weighted else None, **params)
    assert_same_model(ours, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["sgd-momentum-adaptive", "adam"])
@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor], ids=["classifier", "regressor"])
def test_early_stopping(estimator, solver, dtype):
    X, y = classification(3) if estimator is MLPClassifier else regression(2)
    params = {**SOLVERS[solver], "tol": 1e-3, "n_iter_no_change": 3, "max_iter": 20}
    ours, ref = fit_both(estimator, X, y, dtype, sample_weight=weights(), hidden_layer_sizes=(7,),
                         activation="relu", batch_size=BATCH, early_stopping=True, validation_fraction=0.2,
                         **params)
    assert_same_model(ours, ref, dtype)
    np.testing.assert_allclose(ours.validation_scores_, ref.validation_scores_, **training_tol(dtype))
    assert ours.best_validation_score_ == approx(ref.best_validation_score_, training_tol(dtype))


# -- one epoch, one gradient ---------------------------------------------------------------


def epoch_problem(rng, loss, dtype, weighted, n_rows=53):
    n_out = {"squared_error": 2, "poisson": 2, "log_loss": 3, "binary_log_loss": 2}[loss]
    layer_units = (6, 7, 4, n_out)
    X = rng.normal(0, 1, (n_rows, 6)).astype(dtype)
    if loss == "squared_error":
        Y = rng.normal(0, 1, (n_rows, n_out))
    elif loss == "poisson":
        Y = rng.poisson(2.0, (n_rows, n_out))
    elif loss == "log_loss":
        Y = np.eye(n_out)[rng.integers(0, n_out, n_rows)]
    else:
        Y = rng.integers(0, 2, (n_rows, n_out))
    Y = np.ascontiguousarray(Y, dtype=dtype)
    sw = rng.uniform(0.2, 3.0, n_rows) if weighted else None
    theta = rng.uniform(-0.6, 0.6, param_offsets(layer_units)[-1]).astype(dtype)
    return layer_units, X, Y, sw, theta


def make_state(optimizer, theta):
    if optimizer == "adam":
        return AdamState(theta, 0.01, 0.9, 0.999, 1e-8)
    return SGDState(theta, 0.05, "constant", 0.0 if optimizer == "sgd-plain" else 0.9, optimizer == "sgd-nesterov",
                    0.5)


def state_arrays(state):
    return [state.velocity] if isinstance(state, SGDState) else [state.m, state.v]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("optimizer", ["sgd-plain", "sgd-momentum", "sgd-nesterov", "adam"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", list(CANONICAL_OUTPUT))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_train_epoch(activation, loss, dtype, optimizer, weighted, rng):
    """Two consecutive epochs of 53 rows in batches of 10 (the last one 3 rows), in a
    shuffled order: parameters, returned loss sums and optimizer state agree."""
    layer_units, X, Y, sw, theta = epoch_problem(rng, loss, dtype, weighted)
    out_activation = CANONICAL_OUTPUT[loss]
    ref_theta = theta.copy()
    state, ref_state = make_state(optimizer, theta), make_state(optimizer, ref_theta)
    tol = training_tol(dtype)
    for _ in range(2):
        order = rng.permutation(X.shape[0])
        args = (X, Y, sw, order, 10, activation, out_activation, loss, 1e-3)
        total = NUMBA.train_epoch(theta, layer_units, *args, state)
        ref_total = REFERENCE.train_epoch(ref_theta, layer_units, *args, ref_state)
        assert isinstance(total, float)
        assert total == approx(ref_total, tol)
        assert theta.dtype == dtype
        np.testing.assert_allclose(theta, ref_theta, **tol)
        for got, want in zip(state_arrays(state), state_arrays(ref_state)):
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, **tol)
        if optimizer == "adam":
            assert state.t == ref_state.t
    if optimizer == "adam":
        assert state.t == 2 * 6  # ceil(53 / 10) steps per epoch


@pytest.mark.parametrize("batch_size", [1, 53, 500], ids=["batch1", "batch-all", "batch-over-n"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_train_epoch_batch_extremes(batch_size, dtype, rng):
    layer_units, X, Y, sw, theta = epoch_problem(rng, "log_loss", dtype, weighted=True)
    ref_theta = theta.copy()
    state, ref_state = make_state("adam", theta), make_state("adam", ref_theta)
    order = rng.permutation(X.shape[0])
    args = (X, Y, sw, order, batch_size, "relu", "softmax", "log_loss", 1e-3)
    total = NUMBA.train_epoch(theta, layer_units, *args, state)
    ref_total = REFERENCE.train_epoch(ref_theta, layer_units, *args, ref_state)
    assert total == approx(ref_total, training_tol(dtype))
    np.testing.assert_allclose(theta, ref_theta, **training_tol(dtype))
    assert state.t == ref_state.t == -(-53 // batch_size)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", list(CANONICAL_OUTPUT))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_loss_and_grad(activation, loss, dtype, weighted, rng):
    layer_units, X, Y, sw, theta = epoch_problem(rng, loss, dtype, weighted, n_rows=37)
    out_activation = CANONICAL_OUTPUT[loss]
    grad, ref_grad = np.full_like(theta, np.nan), np.full_like(theta, np.nan)
    value = NUMBA.loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss, 0.01, grad)
    ref_value = REFERENCE.loss_and_grad(theta, layer_units, X, Y, sw, activation, out_activation, loss, 0.01, ref_grad)
    # Bit for bit, not to a tolerance: both engines' L-BFGS fits must follow one path
    # (the numba engine's evaluation rounds as NumPy does, fastmlp's own activations included).
    assert isinstance(value, float)
    assert value == ref_value
    assert grad.dtype == dtype
    np.testing.assert_array_equal(grad, ref_grad)
