"""Fit a small model and print a hash of its parameters: run as a script by the
determinism and process tests (``python tests/_fit_hash.py SOLVER``), imported for the
same fit in the parent process."""

import hashlib
import sys
import warnings

import numpy as np
from sklearn.datasets import load_digits


def fit_hash(solver):
    """sha256 of coefs_ and intercepts_ of a fixed-seed fit on digits."""
    from fastmlp import MLPClassifier

    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(32,), solver=solver, max_iter=5, random_state=0).fit(X / 16, y)
    digest = hashlib.sha256()
    for array in model.coefs_ + model.intercepts_:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


if __name__ == "__main__":
    print(fit_hash(sys.argv[1]))
