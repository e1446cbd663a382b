"""First fit in a fresh process: fastmlp with an empty and a warm Numba cache, beside
scikit-learn, and where fastmlp's compile time goes, kernel by kernel.

    python benchmarks/startup.py                 # 5 processes each, digits, default MLPClassifier(max_iter=2)
    python benchmarks/startup.py --processes 3 --estimator regressor --solver sgd

Each measurement is a new Python process timing ``fit(X, y).predict(X)`` after its imports
(import times are reported separately). "cold" runs get a new empty ``NUMBA_CACHE_DIR``
(once as a user gets it, its C kernels compiled by a helper process meanwhile, and once
with ``FASTMLP_COMPILE_HELPER=0``, everything compiled in the process: the per-kernel
tables come from those); "warm" runs reuse the cache a cold run filled. The runs are interleaved (cold, warm,
scikit-learn, cold, ...) so that a slow spell of the machine hits all three. Two more
rows give Numba's own floor under the same imports: the first call of a one-line
``@njit(cache=True)`` function with an empty and with a warm cache (Numba's one-off
set-up of its typing and target registries, then a tiny compile or load), what no
fastmlp change can go below. The per-kernel table comes from Numba's compile events in
the cold processes: a kernel's own time excludes the kernels compiled inside it; the
median over processes is shown.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict

_CHILD = r"""
import json, sys, time, warnings
spec = json.loads(sys.argv[1])
t0 = time.perf_counter()
import numpy as np
from sklearn.datasets import load_diabetes, load_digits
if spec["library"] == "sklearn":
    from sklearn.neural_network import MLPClassifier, MLPRegressor
else:
    from fastmlp import MLPClassifier, MLPRegressor
    from numba.core import event
import_s = time.perf_counter() - t0
if spec["estimator"] == "classifier":
    X, y = load_digits(return_X_y=True)
    model = MLPClassifier(max_iter=2, solver=spec["solver"], random_state=0)
else:
    X, y = load_diabetes(return_X_y=True)
    model = MLPRegressor(max_iter=2, solver=spec["solver"], random_state=0)
recorder = None
c_kernels = []
if spec["library"] != "sklearn":
    recorder = event.RecordingListener()
    event.register("numba:compile", recorder)
    try:
        from fastmlp.engines.numba_engine import _c_kernels
    except ImportError:  # a fastmlp from before the C kernels, measured for comparison
        _c_kernels = None

    def timed_c_kernel(signature, _make=getattr(_c_kernels, "c_kernel", None)):
        def compile_timed(func):
            start = time.perf_counter()
            made = _make(signature)(func)
            c_kernels.append((func.__qualname__, time.perf_counter() - start))
            return made
        return compile_timed

    if _c_kernels is not None:
        _c_kernels.c_kernel = timed_c_kernel
warnings.simplefilter("ignore")
t1 = time.perf_counter()
model.fit(X, y).predict(X)
fit_s = time.perf_counter() - t1
kernels = []
if recorder is not None:
    open_events, stack = {}, []
    for ts, ev in recorder.buffer:
        d = ev.data["dispatcher"]
        key = (d.py_func.__module__ + "." + d.py_func.__qualname__, str(ev.data["args"]))
        if ev.is_start:
            stack.append([key, ts, 0.0])
        else:
            name, start, children = stack.pop()
            total = ts - start
            if stack:
                stack[-1][2] += total
            kernels.append((name[0], name[1], total - children))
print(json.dumps({"import_s": import_s, "fit_s": fit_s, "kernels": kernels, "c_kernels": c_kernels}))
"""


#: Numba's own floor: the first call of a trivial function in a process with fastmlp's
#: imports, from an empty cache (compiled: Numba's one-off set-up plus a tiny compile) or
#: a warm one (loaded). No fastmlp code runs, so fastmlp's first fit cannot start faster.
_FLOOR_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from sklearn.datasets import load_digits
from fastmlp import MLPClassifier, MLPRegressor
from numba.core import event
import_s = time.perf_counter() - t0
sys.path.insert(0, sys.argv[1])
import fastmlp_startup_probe as probe
t1 = time.perf_counter()
probe.plus_one(1)
print(json.dumps({"import_s": import_s, "fit_s": time.perf_counter() - t1, "kernels": [], "c_kernels": []}))
"""
_PROBE = "import numba\n\n\n@numba.njit(cache=True)\ndef plus_one(x):\n    return x + 1\n"


def _run_floor(cache_dir):
    with open(os.path.join(cache_dir, "fastmlp_startup_probe.py"), "w") as f:
        f.write(_PROBE)
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, "-c", _FLOOR_CHILD, cache_dir], env=env, check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run(library, estimator, solver, cache_dir, helper=True):
    env = dict(os.environ)
    if not helper:
        env["FASTMLP_COMPILE_HELPER"] = "0"
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    spec = json.dumps({"library": library, "estimator": estimator, "solver": solver})
    out = subprocess.run([sys.executable, "-c", _CHILD, spec], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _short(name):
    for prefix in ("fastmlp.engines.numba_engine.", "fastmlp."):
        name = name.replace(prefix, "")
    return name.replace(".<locals>", "")


def measure(processes, estimator, solver, progress=print):
    """Interleaved fresh-process runs. Returns {"cold"|"warm"|"cold-alone"|"sklearn"|"floor-cold"|"floor-warm":
    [results]}."""
    runs = defaultdict(list)
    for i in range(processes):
        with tempfile.TemporaryDirectory(prefix="fastmlp-startup-") as cache:
            runs["cold"].append(_run("fastmlp", estimator, solver, cache))
            runs["warm"].append(_run("fastmlp", estimator, solver, cache))
        with tempfile.TemporaryDirectory(prefix="fastmlp-startup-") as cache:
            runs["cold-alone"].append(_run("fastmlp", estimator, solver, cache, helper=False))
        runs["sklearn"].append(_run("sklearn", estimator, solver, None))
        with tempfile.TemporaryDirectory(prefix="fastmlp-startup-floor-") as cache:
            runs["floor-cold"].append(_run_floor(cache))
            runs["floor-warm"].append(_run_floor(cache))
        progress(f"process {i + 1}/{processes}: cold {runs['cold'][-1]['fit_s']:.2f} s (without the helper "
                 f"{runs['cold-alone'][-1]['fit_s']:.2f} s), warm "
                 f"{runs['warm'][-1]['fit_s']:.3f} s, scikit-learn {runs['sklearn'][-1]['fit_s']:.3f} s")
    return runs


def report(runs, estimator, solver):
    """Markdown: the start-up table, then compile time per kernel (median over cold runs)."""
    lines = [f"First `fit(X, y).predict(X)` in a fresh process ({estimator}, solver={solver}, max_iter=2), "
             f"median (min-max) of {len(runs['cold'])} processes:", "",
             "| | fit + predict (s) | import (s) |", "|---|---|---|"]
    labels = {"cold": "fastmlp, empty Numba cache", "cold-alone": "fastmlp, empty cache, no compile helper",
              "warm": "fastmlp, warm cache", "sklearn": "scikit-learn",
              "floor-cold": "Numba's floor: a trivial function's first call, empty cache",
              "floor-warm": "Numba's floor: a trivial function's first call, warm cache"}
    for key, label in labels.items():
        if not runs.get(key):
            continue
        fit = [r["fit_s"] for r in runs[key]]
        imp = [r["import_s"] for r in runs[key]]
        lines.append(f"| {label} | {statistics.median(fit):.3f} ({min(fit):.3f}-{max(fit):.3f}) | "
                     f"{statistics.median(imp):.2f} |")
    # Compile times from the processes that compiled everything themselves.
    compiled = runs.get("cold-alone") or runs["cold"]
    per_kernel = defaultdict(list)
    for run in compiled:
        totals = defaultdict(float)
        counts = defaultdict(int)
        for name, args, own in run["kernels"]:
            totals[name] += own
            counts[name] += 1
        for name in totals:
            per_kernel[name].append((totals[name], counts[name]))
    rows = sorted(((statistics.median(t for t, _ in v), max(c for _, c in v), k) for k, v in per_kernel.items()),
                  reverse=True)
    total = statistics.median(sum(own for _, _, own in run["kernels"]) for run in compiled)
    lines += ["", "Compile time per kernel in the cold processes without the helper (own time, median; all "
              f"kernels: {total:.2f} s):", "",
              "| kernel | seconds | specializations |", "|---|---|---|"]
    for seconds, count, name in rows:
        if seconds >= 0.01:
            lines.append(f"| `{_short(name)}` | {seconds:.2f} | {count} |")
    c_totals = defaultdict(list)
    for run in compiled:
        per_run = defaultdict(float)
        for name, seconds in run["c_kernels"]:
            per_run[name] += seconds
        for name, seconds in per_run.items():
            c_totals[name].append(seconds)
    if c_totals:
        lines += ["", "The C kernels (`_c_kernels`), made or loaded when first used (seconds, the functions "
                  "compiled into them included, median):", "", "| C kernel | seconds |", "|---|---|"]
        for name, values in sorted(c_totals.items(), key=lambda item: -statistics.median(item[1])):
            lines.append(f"| `{_short(name)}` | {statistics.median(values):.2f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--estimator", choices=("classifier", "regressor"), default="classifier")
    parser.add_argument("--solver", choices=("adam", "sgd", "lbfgs"), default="adam")
    args = parser.parse_args(argv)
    runs = measure(args.processes, args.estimator, args.solver, progress=lambda s: print(s, file=sys.stderr))
    print(report(runs, args.estimator, args.solver))


if __name__ == "__main__":
    main()
