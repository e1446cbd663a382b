"""End-to-end training benchmarks: every workload, every implementation, plus the cost
of a first fit in a fresh process (Numba's cache warm and cold) and a peak-memory check.

Run: ``pytest benchmarks/test_bench_training.py --benchmark-enable``. One group per
workload (``train <workload>``) holds fastmlp, its NumPy engine, scikit-learn and PyTorch
(skipped when torch is not installed); a benchmark round is a fresh ``fit`` of the
workload's ``epochs`` epochs, and ``extra_info`` carries seconds per epoch. With
``--benchmark-disable`` (the smoke run) each fit runs once, for one epoch, without
warm-up.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ._helpers import cases
from .workloads import IMPLEMENTATIONS, WORKLOADS, applies, make_runner, unavailable_reason

REPO_ROOT = Path(__file__).resolve().parent.parent


def _train_cases():
    """(workload, implementation) pairs, grouped by workload (torch-fused: Adam only)."""
    return [
        pytest.param(workload, impl, id=f"{name}-{impl}", marks=pytest.mark.benchmark(group=f"train {name}"))
        for name, workload in WORKLOADS.items()
        for impl in IMPLEMENTATIONS
        if applies(workload, impl)
    ]


@pytest.mark.parametrize("workload, impl", _train_cases())
def test_train(benchmark, workload, impl):
    reason = unavailable_reason(workload, impl)
    if reason is not None:
        pytest.skip(reason)
    X, y = workload.data()
    epochs = 1 if benchmark.disabled else workload.epochs
    if not benchmark.disabled:
        make_runner(workload, impl, X, y, 1)()  # warm-up: compile or load Numba's cache, torch's first call
    benchmark.extra_info.update(workload=workload.name, impl=impl, rows=X.shape[0], dtype=X.dtype.name,
                                epochs=epochs, flops_per_epoch=workload.flops_per_epoch(X, y))
    benchmark(make_runner(workload, impl, X, y, epochs))
    if benchmark.stats is not None:
        benchmark.extra_info["seconds_per_epoch_median"] = benchmark.stats.stats.median / epochs


# -- first fit in a fresh process --------------------------------------------------------
FIRST_FIT_WORKLOAD = WORKLOADS["circles"]

_CHILD_PRELUDE = f"""
import time
_start = time.perf_counter()
import json, sys, warnings
sys.path.insert(0, {str(REPO_ROOT)!r})
warnings.simplefilter("ignore")
from benchmarks.workloads import WORKLOADS, estimator_class
"""


def _run_child(code, env_updates=None):
    """Run ``code`` (after the prelude) in a fresh interpreter; returns its last stdout
    line parsed as JSON."""
    env = dict(os.environ, **(env_updates or {}))
    proc = subprocess.run([sys.executable, "-c", _CHILD_PRELUDE + textwrap.dedent(code)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _first_fit_code(impl, workload):
    """A default fit (the workload's architecture and solver, scikit-learn's defaults
    for the rest: max_iter=200, tol=1e-4) in the child; prints its own timings."""
    params = dict(hidden_layer_sizes=workload.hidden_layer_sizes, activation=workload.activation,
                  solver=workload.solver, batch_size=workload.batch_size, random_state=0, **workload.extra_params)
    return f"""
    w = WORKLOADS[{workload.name!r}]
    cls = estimator_class(w, {impl!r})
    X, y = w.data()
    _fit_start = time.perf_counter()
    est = cls(**{params!r}).fit(X, y)
    _end = time.perf_counter()
    print(json.dumps({{"startup_s": _fit_start - _start, "fit_s": _end - _fit_start, "n_iter": est.n_iter_}}))
    """


FIRST_FIT_VARIANTS = {"fastmlp-warm-cache": "fastmlp", "fastmlp-cold-cache": "fastmlp", "sklearn": "sklearn"}


@pytest.mark.parametrize("variant", list(FIRST_FIT_VARIANTS))
@pytest.mark.parametrize("workload", cases("first fit (fresh process)", workload={FIRST_FIT_WORKLOAD.name:
                                                                                  FIRST_FIT_WORKLOAD}))
def test_first_fit(benchmark, tmp_path, variant, workload):
    """Wall-clock time of a whole process that imports, builds the data and fits once.
    Cold cache: ``NUMBA_CACHE_DIR`` is a new empty folder, so every kernel compiles."""
    code = _first_fit_code(FIRST_FIT_VARIANTS[variant], workload)
    cold = variant.endswith("cold-cache")
    if not benchmark.disabled:
        # Warm-up (untimed): fills Numba's cache for the warm variant, and the OS's file
        # cache for all; the cold variant warms up in a cache folder of its own.
        _run_child(code, {"NUMBA_CACHE_DIR": str(tmp_path / "warm-up-cache")} if cold else None)
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cold-cache")} if cold else None
    child = benchmark.pedantic(_run_child, args=(code, env), warmup_rounds=0, rounds=1, iterations=1)
    benchmark.extra_info.update(child)


# -- memory ------------------------------------------------------------------------------
MEMORY_WORKLOAD = WORKLOADS["mnist-like"]
MEMORY_EPOCHS = 1
#: How much more a fastmlp fit may add to the peak RSS than scikit-learn's fit does.
MEMORY_MARGIN_MB = 8.0

# Peak RSS is read from /proc/self/status (VmHWM), not from getrusage's ru_maxrss: a
# process started by fork/vfork + exec inherits its parent's maxrss (Linux keeps it across
# exec), so a child of a 600 MB pytest process reports at least 600 MB there.
_MEMORY_PRELUDE = """
import gc, resource

def _status_mb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None

def peak_mb():
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def current_mb():
    return _status_mb("VmRSS")

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM := VmRSS (Linux >= 4.0)
        return True
    except OSError:
        return False

w = WORKLOADS[{name!r}]
cls = estimator_class(w, {impl!r})
X, y = w.data()
params = w.estimator_params({epochs})
"""

_FIT_MEMORY_CODE = _MEMORY_PRELUDE + """
# One small fit first: Numba's runtime and the float32 kernels (loaded once per process)
# are then in the baseline, so the measured fit shows the training's own memory.
cls(**{{**params, "max_iter": 1}}).fit(X[:500], y[:500])
gc.collect()
before = current_mb()
reset = before is not None and reset_peak()
cls(**params).fit(X, y)
print(json.dumps({{"fit_peak_above_baseline_mb": peak_mb() - before if reset else None, "baseline_mb": before}}))
"""

_PROCESS_PEAK_CODE = _MEMORY_PRELUDE + """
cls(**params).fit(X, y)
print(json.dumps({{"process_peak_mb": peak_mb()}}))
"""


def _memory(impl):
    fmt = dict(name=MEMORY_WORKLOAD.name, impl=impl, epochs=MEMORY_EPOCHS)
    return {**_run_child(_FIT_MEMORY_CODE.format(**fmt)), **_run_child(_PROCESS_PEAK_CODE.format(**fmt))}


def test_fit_peak_memory(capsys):
    """Peak RSS of an mnist-like fit (float32, 12000x784) in a fresh process, fastmlp
    against scikit-learn. Asserted: the fit's own peak above the process's RSS before
    it (the training's memory). Reported too: the whole process's peak for a single
    fit, where fastmlp also pays for Numba's runtime and for loading its kernels."""
    ours, theirs = _memory("fastmlp"), _memory("sklearn")

    def mb(value):
        return "n/a" if value is None else f"{value:.1f} MB"

    with capsys.disabled():
        print(f"\npeak RSS, {MEMORY_WORKLOAD.name} fit ({MEMORY_EPOCHS} epoch): "
              f"fit above baseline fastmlp {mb(ours['fit_peak_above_baseline_mb'])}, "
              f"scikit-learn {mb(theirs['fit_peak_above_baseline_mb'])}; "
              f"whole one-fit process fastmlp {mb(ours['process_peak_mb'])}, "
              f"scikit-learn {mb(theirs['process_peak_mb'])}")
    if ours["fit_peak_above_baseline_mb"] is None or theirs["fit_peak_above_baseline_mb"] is None:
        pytest.skip("peak RSS cannot be read and reset here (/proc/self/status, clear_refs); only process peaks "
                    "were measured")
    assert ours["fit_peak_above_baseline_mb"] <= theirs["fit_peak_above_baseline_mb"] + MEMORY_MARGIN_MB, (ours, theirs)
