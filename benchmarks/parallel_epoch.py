"""Would parallel elementwise kernels pay inside a training epoch? Measured in situ.

    python benchmarks/parallel_epoch.py                       # mnist-like and wide-regression, every layer
    python benchmarks/parallel_epoch.py --workloads mnist-like --rounds 9 --layers omp omp-passive

fastmlp's kernels are serial; only BLAS uses threads (``fastmlp/_numba_options.py``).
This measures, on the machine that runs it, what issue 10's large-layer path would bring:
the epoch's C kernels (``engines/numba_engine/_c_kernels``: bias + activation, the hidden
derivative, the optimizer step) replaced by ``parallel=True`` versions that split the
same work into fixed chunks of ``CHUNK`` elements (whole rows for the activations) and
run the serial kernel on each chunk. Elementwise work split so rounds exactly as before:
the weights must come out bit for bit the same (checked, reported as "same weights").
The GEMMs stay with BLAS, as today.

Each threading layer runs in its own process (Numba picks one per process): ``omp``
(OpenMP, threads spin between regions), ``omp-passive`` (the same with
``OMP_WAIT_POLICY=PASSIVE``: idle threads sleep), ``workqueue`` (Numba's own), ``tbb``
where the ``tbb`` package is installed. Inside a process, for each thread count t (1, 2,
4, ... and the cores available; ``--threads``: BLAS through ``n_threads=t``, Numba through
``numba.set_num_threads(t)``), whole fits (``--epochs`` epochs, ``tol=0``) alternate serial
and parallel kernels, ``--rounds`` times each (the order flipped every round); the table
gives medians, parallel / serial, and both epochs' speedup over the serial one at 1
thread (the scaling that a machine with many cores is to show).

The parallel kernels are compiled without Numba's disk cache: a cached C function that
calls a cached ``parallel=True`` function crashes when both are loaded from the cache
(numba/numba#8578, reproduced here with Numba 0.68.1), so the first fit of each process
compiles them (a few seconds, not timed).
"""

import argparse
import functools
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.scaling import thread_counts
from benchmarks.workloads import WORKLOADS, _cached_data

#: Elements per chunk: a chunk is one task of the parallel loop. Fixed, never derived
#: from the thread count, so that the work and its rounding do not depend on it.
CHUNK = 16384
LAYERS = {
    "omp": ("omp", {}),
    "omp-passive": ("omp", {"OMP_WAIT_POLICY": "PASSIVE"}),
    "workqueue": ("workqueue", {}),
    "tbb": ("tbb", {}),
}
DEFAULT_WORKLOADS = ("mnist-like", "wide-regression")
COLUMNS = ("workload", "layer", "threads", "serial (ms)", "parallel (ms)", "parallel / serial",
           "speedup over serial at 1 thread (serial / parallel)", "same weights")


def _tbb_installed():
    try:
        import importlib.metadata as metadata

        metadata.version("tbb")
    except Exception:
        return False
    return True


# -- the parallel kernels (child process only) -----------------------------------------
def _parallel_factories():
    """(activation, derivative, optimizer_step): factories with ``_c_kernels``' signatures
    that return C functions running the serial kernels over fixed chunks in a ``prange``."""
    import numba
    from numba import carray, prange, types

    from fastmlp._numba_options import KERNEL_OPTIONS
    from fastmlp.engines._names import SGD
    from fastmlp.engines.numba_engine._activations import apply_derivative, bias_activation
    from fastmlp.engines.numba_engine._optimizer_steps import adam_step, bias_corrected_rate, sgd_step

    uncached = {**KERNEL_OPTIONS, "cache": False}  # numba#8578: see the module docstring
    parallel = numba.njit(**{**uncached, "parallel": True})
    ptr, intp = types.voidptr, types.intp

    @functools.cache  # one C function per choice for the life of the process (its address is in use)
    def activation(code, dtype, numpy_loops):
        dt = np.dtype(dtype).type

        @parallel
        def rows_in_chunks(Z, b, loops):
            n, o = Z.shape
            step = max(1, CHUNK // o)
            for c in prange((n + step - 1) // step):
                lo = c * step
                bias_activation(Z[lo:min(n, lo + step)], b, code, loops)

        if numpy_loops:
            def kernel(Z_ptr, b_ptr, n, o, loops_ptr):
                rows_in_chunks(carray(Z_ptr, (n, o), dt), carray(b_ptr, (o,), dt),
                               carray(loops_ptr, (4,), np.int64))
        else:
            def kernel(Z_ptr, b_ptr, n, o, loops_ptr):
                rows_in_chunks(carray(Z_ptr, (n, o), dt), carray(b_ptr, (o,), dt), None)
        return numba.cfunc(types.void(ptr, ptr, intp, intp, ptr), **uncached)(kernel)

    @functools.cache
    def derivative(code, a_dtype, delta_dtype):
        a_dt, d_dt = np.dtype(a_dtype).type, np.dtype(delta_dtype).type

        @parallel
        def in_chunks(A, delta):
            n = A.shape[0]
            for c in prange((n + CHUNK - 1) // CHUNK):
                lo = c * CHUNK
                hi = min(n, lo + CHUNK)
                apply_derivative(A[lo:hi].reshape((1, hi - lo)), delta[lo:hi].reshape((1, hi - lo)), code)

        def kernel(A_ptr, delta_ptr, size):
            in_chunks(carray(A_ptr, (size,), a_dt), carray(delta_ptr, (size,), d_dt))

        return numba.cfunc(types.void(ptr, ptr, intp), **uncached)(kernel)

    @functools.cache
    def optimizer_step(solver, params_dtype, state_dtype):
        p_dt, s_dt = np.dtype(params_dtype).type, np.dtype(state_dtype).type

        @parallel
        def sgd_chunks(params, grads, velocity, lr, momentum, nesterov):
            n = params.shape[0]
            for c in prange((n + CHUNK - 1) // CHUNK):
                lo = c * CHUNK
                hi = min(n, lo + CHUNK)
                sgd_step(params[lo:hi], grads[lo:hi], velocity[lo:hi], lr, momentum, nesterov)

        @parallel
        def adam_chunks(params, grads, m, v, lr, beta_1, beta_2, epsilon):
            n = params.shape[0]
            for c in prange((n + CHUNK - 1) // CHUNK):
                lo = c * CHUNK
                hi = min(n, lo + CHUNK)
                adam_step(params[lo:hi], grads[lo:hi], m[lo:hi], v[lo:hi], lr, beta_1, beta_2, epsilon)

        if solver == SGD:
            def kernel(params_ptr, grads_ptr, state1_ptr, state2_ptr, n, hyper_ptr, t):
                hyper = carray(hyper_ptr, (4,), np.float64)
                sgd_chunks(carray(params_ptr, (n,), p_dt), carray(grads_ptr, (n,), s_dt),
                           carray(state1_ptr, (n,), s_dt), hyper[0], hyper[1], hyper[2] != 0.0)
        else:
            def kernel(params_ptr, grads_ptr, state1_ptr, state2_ptr, n, hyper_ptr, t):
                hyper = carray(hyper_ptr, (4,), np.float64)
                rate = bias_corrected_rate(hyper[0], hyper[1], hyper[2], t)
                adam_chunks(carray(params_ptr, (n,), p_dt), carray(grads_ptr, (n,), s_dt),
                            carray(state1_ptr, (n,), s_dt), carray(state2_ptr, (n,), s_dt), rate, hyper[1],
                            hyper[2], hyper[3])
        return numba.cfunc(types.void(ptr, ptr, ptr, ptr, intp, ptr, intp), **uncached)(kernel)

    return activation, derivative, optimizer_step


def _child(spec):
    """Run in a fresh process: interleaved serial / parallel fits; prints one JSON line."""
    import numba

    numba.config.THREADING_LAYER = spec["layer"]
    from fastmlp import MLPClassifier, MLPRegressor
    from fastmlp.engines import numba_engine
    from fastmlp.engines.numba_engine import _c_kernels

    serial = (_c_kernels.activation, _c_kernels.derivative, _c_kernels.optimizer_step)
    parallel = _parallel_factories()

    def use(kernels):
        _c_kernels.activation, _c_kernels.derivative, _c_kernels.optimizer_step = kernels
        numba_engine._EPOCH_KERNELS.clear()

    warnings.simplefilter("ignore")
    out = {"layer": None, "rows": []}
    for name in spec["workloads"]:
        workload = WORKLOADS[name]
        X, y = _cached_data(name, spec["rows"] or workload.n_samples, 0)
        estimator = MLPClassifier if workload.task == "classification" else MLPRegressor
        params = dict(hidden_layer_sizes=workload.hidden_layer_sizes, activation=workload.activation,
                      solver=workload.solver, batch_size=workload.batch_size, random_state=0, tol=0,
                      n_iter_no_change=spec["epochs"] + 1, **workload.extra_params)
        for kind in ("serial", "parallel"):  # compile (parallel: not cached) outside the timing
            use(serial if kind == "serial" else parallel)
            estimator(max_iter=1, **params).fit(X[:2 * workload.batch_size], y[:2 * workload.batch_size])
        for threads in spec["threads"]:
            numba.set_num_threads(threads)  # Numba's threads; n_threads sets BLAS's
            times, digests = {"serial": [], "parallel": []}, {}
            for round_ in range(spec["rounds"]):
                for kind in ("serial", "parallel") if round_ % 2 == 0 else ("parallel", "serial"):
                    use(serial if kind == "serial" else parallel)
                    start = time.perf_counter()
                    model = estimator(max_iter=spec["epochs"], n_threads=threads, **params).fit(X, y)
                    times[kind].append(time.perf_counter() - start)
                    digest = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes()
                                                     for a in model.coefs_ + model.intercepts_)).hexdigest()
                    digests.setdefault(kind, set()).add(digest)
            out["rows"].append({"workload": name, "rows": int(X.shape[0]), "threads": threads, **times,
                                "same_weights": digests["serial"] == digests["parallel"]
                                and len(digests["serial"]) == 1})
    out["layer"] = numba.threading_layer()
    print(json.dumps(out))


def run_layer(label, args):
    layer, env = LAYERS[label]
    spec = {"layer": layer, "workloads": args.workloads, "rounds": args.rounds, "epochs": args.epochs,
            "rows": args.rows, "threads": args.threads}
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)],
                          env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": f"exit status {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results):
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for label, result in results.items():
        if "error" in result:
            lines.append(f"| - | {label} | - | failed: {result['error']} |" + " |" * (len(COLUMNS) - 4))
            continue
        one_thread = {row["workload"]: statistics.median(row["serial"]) for row in result["rows"]
                      if row["threads"] == 1}
        for row in result["rows"]:
            serial, parallel = statistics.median(row["serial"]), statistics.median(row["parallel"])
            base = one_thread.get(row["workload"])
            speedups = f"{base / serial:.2f} / {base / parallel:.2f}" if base else "-"
            lines.append(f"| {row['workload']} ({row['rows']} rows) | {label} ({result['layer']}) | "
                         f"{row['threads']} | {1000 * serial:.0f} | {1000 * parallel:.0f} | {parallel / serial:.3f} | "
                         f"{speedups} | {'yes' if row['same_weights'] else 'NO'} |")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(DEFAULT_WORKLOADS))
    parser.add_argument("--layers", nargs="+", choices=list(LAYERS), default=None,
                        help="threading layers (default: all; tbb only where the tbb package is installed)")
    parser.add_argument("--rounds", type=int, default=5, help="timed fits of each kind per workload (default 5)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed fit (default 2)")
    parser.add_argument("--rows", type=int, default=None, help="rows of every workload (default: its own)")
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="thread counts, for BLAS (n_threads) and Numba alike (default: 1, 2, 4, ... and the "
                             "cores available)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads is None:
        args.threads = thread_counts()
    if args.child:
        _child(json.loads(args.child))
        return
    layers = args.layers or [label for label in LAYERS if label != "tbb" or _tbb_installed()]
    print(f"threads {args.threads}, {args.rounds} rounds of {args.epochs}-epoch fits per kind and thread count, "
          f"chunks of {CHUNK} elements", flush=True)
    results = {label: run_layer(label, args) for label in layers}
    print(table(results))


if __name__ == "__main__":
    main()
