"""``python -m fastmlp.warmup`` compiles what later fits load: after it ran, a fit of a
warmed-up kind in a fresh process compiles nothing of fastmlp's."""

import json
import os
import subprocess
import sys

from fastmlp import warmup
from fastmlp.engines._names import HIDDEN_ACTIVATIONS

_FIT_AND_COUNT_COMPILES = r"""
import json, sys, warnings
from numba.core import event
import numpy as np
from fastmlp import MLPClassifier
recorder = event.RecordingListener()
event.register("numba:compile", recorder)
rng = np.random.default_rng(1)
X = rng.normal(size=(40, 5))
y = np.arange(40) % 3
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model = MLPClassifier(hidden_layer_sizes=(7, 6), activation="tanh", solver="adam", max_iter=3).fit(X, y)
model.predict(X)
compiled = sorted({ev.data["dispatcher"].py_func.__module__ + "." + ev.data["dispatcher"].py_func.__qualname__
                   for _, ev in recorder.buffer if ev.is_start})
print(json.dumps([name for name in compiled if name.startswith("fastmlp")]))
"""


def _run(args, cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    return subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True, text=True)


def test_variants_cover_every_choice_and_float64_targets_of_float32_regressions():
    combos = warmup.variants()
    assert {c[0] for c in combos} == set(HIDDEN_ACTIVATIONS)
    assert {c[1] for c in combos} == set(warmup.SOLVERS)
    assert {(c[2], c[3], c[4]) for c in combos if c[2] in ("squared_error", "poisson")} == {
        (output, dtype, y_dtype) for output in ("squared_error", "poisson")
        for dtype, y_dtype in (("float32", "float32"), ("float32", "float64"), ("float64", "float64"))}
    assert all(c[3] == c[4] for c in combos if c[2] in ("binary", "multiclass"))
    assert len(combos) == len(set(combos))


def test_a_warmed_up_fit_compiles_nothing_in_a_fresh_process(tmp_path):
    cold = _run(["-c", _FIT_AND_COUNT_COMPILES], tmp_path / "cold")
    assert json.loads(cold.stdout.strip().splitlines()[-1]), "a cold fit compiles fastmlp's kernels"

    cache = tmp_path / "warm"
    done = _run(["-m", "fastmlp.warmup", "-q", "--activations", "tanh", "--solvers", "adam", "--outputs", "multiclass",
                 "--dtypes", "float64", "--unweighted-only"], cache)
    assert "compiled 1 variants" in done.stdout
    warm = _run(["-c", _FIT_AND_COUNT_COMPILES], cache)
    assert json.loads(warm.stdout.strip().splitlines()[-1]) == []
