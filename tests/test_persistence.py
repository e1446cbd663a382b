"""Fitted models saved with pickle or joblib predict identically when loaded, in this
process and in a fresh one (which loads the compiled kernels from Numba's cache or
compiles them anew)."""

import hashlib
import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression

import fastmlp

# Loads a model saved by the test, predicts on the saved X, prints a digest.
_LOAD_SCRIPT = """
import hashlib, pickle, sys
import joblib, numpy as np
path, how = sys.argv[1], sys.argv[2]
if how == "pickle":
    with open(path, "rb") as f:
        model, X = pickle.load(f)
else:
    model, X = joblib.load(path)
out = model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)
print(hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest())
"""


def _fitted(kind, activation, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "classifier":
            X, y = load_digits(return_X_y=True)
            X = (X[:400] / 16).astype(dtype)
            return fastmlp.MLPClassifier((16,), activation, max_iter=5, random_state=0).fit(X, y[:400]), X
        X, y = make_regression(n_samples=300, n_features=8, random_state=0)
        X = X.astype(dtype)
        return fastmlp.MLPRegressor("squared_error", (16,), activation, max_iter=5, random_state=0).fit(X, y / 100), X


def _digest(model, X):
    out = model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)
    return hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest()


def _save(model, X, path, how):
    if how == "pickle":
        with open(path, "wb") as f:
            pickle.dump((model, X), f)
    else:
        joblib.dump((model, X), path)


def _load(path, how):
    if how == "pickle":
        with open(path, "rb") as f:
            return pickle.load(f)
    return joblib.load(path)


CASES = [("classifier", "relu", np.float64), ("classifier", "tanh", np.float32), ("regressor", "logistic", np.float64)]
IDS = [f"{k}-{a}-{np.dtype(d).name}" for k, a, d in CASES]


@pytest.mark.parametrize("how", ["pickle", "joblib"])
@pytest.mark.parametrize("kind, activation, dtype", CASES, ids=IDS)
def test_saved_model_predicts_identically_here_and_in_a_fresh_process(kind, activation, dtype, how, tmp_path):
    model, X = _fitted(kind, activation, dtype)
    path = tmp_path / "model.bin"
    _save(model, X, path, how)
    loaded, X_loaded = _load(path, how)
    assert _digest(loaded, X_loaded) == _digest(model, X)
    assert all(a.dtype == b.dtype for a, b in zip(loaded.coefs_, model.coefs_))
    child = subprocess.run([sys.executable, "-c", _LOAD_SCRIPT, str(path), how], capture_output=True, text=True,
                           timeout=300, check=True)
    assert child.stdout.strip() == _digest(model, X)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_partial_fit_of_a_memory_mapped_model_continues_training(solver, dtype, tmp_path):
    """``joblib.load(path, mmap_mode="r")`` gives the optimizer's state as read-only memory
    maps; partial_fit must train on (copying them), exactly as the in-memory model does,
    rather than fail in the compiler or write into read-only memory."""
    X, y = load_digits(return_X_y=True)
    X = (X[:300] / 16).astype(dtype)
    y = y[:300]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fastmlp.MLPClassifier((12,), solver=solver, max_iter=2, random_state=0).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib", mmap_mode="r")
    state = loaded._optimizer.m if solver == "adam" else loaded._optimizer.velocity
    assert isinstance(state, np.memmap) and not state.flags.writeable  # the case under test
    loaded.partial_fit(X, y)
    model.partial_fit(X, y)
    for got, want in zip(loaded.coefs_ + loaded.intercepts_, model.coefs_ + model.intercepts_):
        np.testing.assert_array_equal(got, want)
