"""Compile fastmlp's kernels ahead of time into Numba's cache.

    python -m fastmlp.warmup                       # every variant (minutes; -j to use cores)
    python -m fastmlp.warmup -j 4 --solvers adam --activations relu tanh --dtypes float32

A fit compiles the kernels it runs the first time they are needed (seconds), and Numba
caches them next to the package, or in ``NUMBA_CACHE_DIR``. Run this once where the cache
will live (a container image build, each cluster node, a CI cache step) and later
processes load compiled code instead of compiling. Each variant is a tiny fit and
predict, so exactly the code a real fit of that kind runs is compiled: a hidden
activation, an output (binary/multiclass classification, squared-error or Poisson
regression), a solver, with and without sample weights, in float32 and float64 (and
float32 X with float64 y for the regressors).
"""

import argparse
import itertools
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .engines._names import HIDDEN_ACTIVATIONS

SOLVERS = ("sgd", "adam", "lbfgs")
OUTPUTS = ("binary", "multiclass", "squared_error", "poisson")
DTYPES = ("float32", "float64")


def variants(activations=HIDDEN_ACTIVATIONS, solvers=SOLVERS, outputs=OUTPUTS, dtypes=DTYPES, weighted=(False, True)):
    """The (activation, solver, output, dtype, y dtype, weighted) combinations to compile.
    The y dtype is X's, and also float64 for float32 regressions (scikit-learn then
    backpropagates in float64)."""
    combos = []
    for activation, solver, output, dtype, w in itertools.product(activations, solvers, outputs, dtypes, weighted):
        y_dtypes = [dtype]
        if dtype == "float32" and output in ("squared_error", "poisson"):
            y_dtypes.append("float64")
        combos.extend((activation, solver, output, dtype, y_dtype, w) for y_dtype in y_dtypes)
    return combos


def compile_variant(variant):
    """Fit and predict a tiny model of ``variant``'s kind; returns seconds taken."""
    from . import MLPClassifier, MLPRegressor

    activation, solver, output, dtype, y_dtype, weighted = variant
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3)).astype(dtype)
    if output == "binary":
        estimator, y = MLPClassifier, np.arange(12) % 2
    elif output == "multiclass":
        estimator, y = MLPClassifier, np.arange(12) % 3
    else:
        estimator = MLPRegressor
        y = rng.uniform(0.5, 2.0, size=12).astype(y_dtype)
    params = {"loss": output} if estimator is MLPRegressor else {}
    model = estimator(hidden_layer_sizes=(4,), activation=activation, solver=solver, max_iter=1, batch_size=5,
                      random_state=0, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one iteration does not converge
        model.fit(X, y, sample_weight=np.ones(12) if weighted else None)
    model.predict(X)
    return time.perf_counter() - start


def _without_compile_helper():
    # The pool's processes already compile side by side: no helper process each
    # (``engines/numba_engine/_compile_helper``) on top of them.
    from .engines.numba_engine._compile_helper import ENV

    os.environ[ENV] = "0"


def warm_up(selected, jobs=1, progress=None):
    """Compile every variant in ``selected``, in ``jobs`` processes. Returns total seconds."""
    start = time.perf_counter()
    if jobs == 1:
        results = map(compile_variant, selected)
    else:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_without_compile_helper)
        results = pool.map(compile_variant, selected)
    for i, (variant, seconds) in enumerate(zip(selected, results), 1):
        if progress:
            progress(f"[{i}/{len(selected)}] {' '.join(map(str, variant))}: {seconds:.1f} s")
    if jobs != 1:
        pool.shutdown()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastmlp.warmup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--activations", nargs="+", choices=HIDDEN_ACTIVATIONS, default=list(HIDDEN_ACTIVATIONS))
    parser.add_argument("--solvers", nargs="+", choices=SOLVERS, default=list(SOLVERS))
    parser.add_argument("--outputs", nargs="+", choices=OUTPUTS, default=list(OUTPUTS))
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    parser.add_argument("--unweighted-only", action="store_true", help="skip the sample-weight variants")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="processes compiling side by side")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    selected = variants(args.activations, args.solvers, args.outputs, args.dtypes,
                        (False,) if args.unweighted_only else (False, True))
    report = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    where = os.environ.get("NUMBA_CACHE_DIR") or "next to the package"
    if report:
        report(f"fastmlp.warmup: {len(selected)} variants, {args.jobs} process(es), cache {where}")
    total = warm_up(selected, max(1, args.jobs), report)
    print(f"fastmlp.warmup: compiled {len(selected)} variants in {total:.1f} s")


if __name__ == "__main__":
    main()
