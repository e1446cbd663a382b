"""``engines/numba_engine/_compile_helper``: on an empty Numba cache the first fit's C
kernels are compiled by a helper process while the fit compiles its epoch. Each case is a
fresh Python process on its own cache folder (the kernels must really be missing): the
helper starts on an empty cache and not on a warm one, is not started when switched off,
and a helper that fails leaves this process to compile on its own; every model is the
same bit for bit."""

import json
import os
import subprocess
import sys

from fastmlp._threads import available_cores

_CHILD = r"""
import hashlib, json, sys, warnings
import numpy as np
from sklearn.datasets import load_digits
from fastmlp import MLPClassifier
from fastmlp.engines.numba_engine import _compile_helper
if sys.argv[1] == "failing":
    _compile_helper._HELPER = "raise SystemExit(3)"
X, y = load_digits(return_X_y=True)
warnings.simplefilter("ignore")
model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0).fit(X / 16, y)
digest = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in model.coefs_ + model.intercepts_))
print(json.dumps({"started": _compile_helper.started, "weights": digest.hexdigest()}))
"""


def _fit(cache, mode="normal", helper="1"):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "FASTMLP_COMPILE_HELPER": helper}
    done = subprocess.run([sys.executable, "-c", _CHILD, mode], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_helper_on_a_cold_cache_only_and_the_same_model(tmp_path):
    cold = _fit(tmp_path / "a")
    warm = _fit(tmp_path / "a")
    off = _fit(tmp_path / "b", helper="0")
    failing = _fit(tmp_path / "c", mode="failing")
    expected = 1 if available_cores() >= 2 else 0
    assert cold["started"] == expected
    assert warm["started"] == 0
    assert off["started"] == 0
    assert failing["started"] == expected
    assert cold["weights"] == warm["weights"] == off["weights"] == failing["weights"]
