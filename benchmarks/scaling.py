"""Thread scaling of a training epoch, split into phases, and Amdahl's projection.

    python benchmarks/scaling.py [--quick] [--workloads NAME ...] [--repeats N] [--epochs N]
                                 [--mnist-rows N] [--min-time S] [--out DIR]

For each workload (``benchmarks/workloads.py``) and each BLAS thread count t (1, 2, 4,
... and the cores this process may use, ``os.sched_getaffinity``), measured:

- the epoch: a fresh fastmlp fit of k epochs with ``n_threads=t`` (``max_iter=k, tol=0,
  n_iter_no_change=k+1``, as ``report.py``), its wall time over k;
- its phases, by replaying one minibatch's work with the workload's shapes and dtype,
  BLAS limited to t threads (threadpoolctl), times the minibatches of an epoch
  (rows / batch size):

  - GEMM: the forward (A W), backward (delta W^T, not for the input layer) and
    weight-gradient (A^T delta) products, NumPy's matmul;
  - elementwise: bias + activation of every layer, the output delta and loss
    (``output_delta``), the hidden derivatives (``activation_derivative``), the
    gradients' L2 term and scaling and the bias sums;
  - optimizer: one ``adam_step``/``sgd_step`` over the flat parameter vector;
  - other: the epoch less the three (Python, the fit's fixed cost, gathering the
    minibatch rows, cache effects between phases); clamped at 0, and said so, where
    the phases add up to more than the epoch.

  Each phase is the median of many replays (``--min-time`` seconds of them), net of
  its call overhead: the same calls on a 1-row network of 1-unit layers are timed the
  same way and subtracted (the compiled epoch calls its
  kernels without Python wrappers). The elementwise kernels run through the engine's
  own functions (``fastmlp.engines.numba_engine``: the C kernels its epoch calls).

Thread counts are interleaved within each repeat (1, 2, ..., then backwards in the next
repeat); every number is the median over ``--repeats``.

Serial fraction s = 1 - GEMM / epoch: today only BLAS uses more than one thread, every
fastmlp kernel is serial. Amdahl's projection from the 1-thread row: S(n) = 1 / (s +
(1 - s) / n), assuming the GEMMs scale perfectly to n cores and the rest stays serial
(today's code). A second projection takes only "other" as serial: what parallel
elementwise and optimizer kernels (issue 10's large-layer path) could at best bring.
Rows with t > 1 give the measured speedup epoch(1) / epoch(t) next to Amdahl's S(t),
so the projection is checked on whatever machine runs this, and the Karp-Flatt serial
fraction (1/S - 1/t) / (1 - 1/t) that the measured speedup implies, with the projection
from it ("KF"): that one also counts what threads cost beyond the GEMMs.

Prints a machine line and a markdown table; writes ``scaling.md`` and ``scaling.json``
to ``--out`` (default ``benchmarks/results/``).
"""

import argparse
import gc
import json
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.report import machine_line, settings  # noqa: E402
from benchmarks.workloads import MNIST_LIKE_MAX_ROWS, WORKLOADS, estimator_class, n_cores  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
#: The workloads measured unless ``--workloads`` says otherwise.
DEFAULT_WORKLOADS = ("circles", "digits", "mnist-like", "wide-regression")
#: Core counts of the Amdahl projection.
PROJECTED_CORES = (8, 16, 64)
PHASES = ("gemm", "elementwise", "optimizer")
ALPHA = 1e-4


def thread_counts(cores=None):
    """1, 2, 4, ... below ``cores``, and ``cores`` (default: the cores available)."""
    cores = n_cores() if cores is None else cores
    counts = []
    t = 1
    while t < cores:
        counts.append(t)
        t *= 2
    return [*counts, cores]


def amdahl(serial_fraction, n):
    """Amdahl's speedup on n cores: 1 / (s + (1 - s) / n)."""
    return 1.0 / (serial_fraction + (1.0 - serial_fraction) / n)


def karp_flatt(speedup, n):
    """The serial fraction that a measured speedup on n threads implies (Karp and Flatt,
    1990): (1/S - 1/n) / (1 - 1/n), clamped to [0, 1]. What threading costs beyond the
    GEMMs (waking BLAS workers between serial kernels) counts as serial here."""
    return min(1.0, max(0.0, (1.0 / speedup - 1.0 / n) / (1.0 - 1.0 / n)))


# -- one minibatch's work, phase by phase ---------------------------------------------
def output_layer(workload, units):
    """(output activation, loss) of the workload's network, as fastmlp picks them."""
    if workload.task == "regression":
        return "identity", "squared_error"
    return ("logistic", "binary_log_loss") if units[-1] == 1 else ("softmax", "log_loss")


class Minibatch:
    """Buffers of one minibatch of ``rows`` rows through a network of ``units``, and one
    callable per phase doing that phase's work for the minibatch (see the module
    docstring). ``setup_elementwise`` restores the in-place kernels' inputs (untimed),
    as an epoch gives them fresh values from the GEMMs: a tanh derivative applied again
    and again would drive deltas to subnormals."""

    def __init__(self, rows, units, dtype, activation, out_activation, loss, solver, seed=0):
        from fastmlp.engines import numba_engine as engine
        from fastmlp.engines._names import ACTIVATION_CODES

        rng = np.random.default_rng(seed)
        self.engine = engine
        n_layers = len(units) - 1
        self.Ws = [(rng.standard_normal((i, o)) / np.sqrt(i)).astype(dtype) for i, o in zip(units[:-1], units[1:])]
        self.bs = [(0.1 * rng.standard_normal(o)).astype(dtype) for o in units[1:]]
        self.acts = [rng.random((rows, u)).astype(dtype) for u in units]
        self.deltas = [(0.1 * rng.standard_normal((rows, o))).astype(dtype) for o in units[1:]]
        self.gWs = [np.zeros_like(W) for W in self.Ws]
        self.gbs = [np.zeros_like(b) for b in self.bs]
        Y = np.zeros((rows, units[-1]), dtype)
        if loss == "log_loss":
            Y[np.arange(rows), rng.integers(units[-1], size=rows)] = 1
        elif loss == "binary_log_loss":
            Y[:] = rng.integers(2, size=(rows, 1))
        else:
            Y[:] = rng.standard_normal((rows, units[-1]))
        self.Y = Y
        self.initial_acts = [a.copy() for a in self.acts]
        self.initial_deltas = [d.copy() for d in self.deltas]
        self.codes = [ACTIVATION_CODES[activation]] * (n_layers - 1) + [ACTIVATION_CODES[out_activation]]
        self.activation, self.loss, self.rows = activation, loss, rows
        n_params = sum(W.size for W in self.Ws) + sum(b.size for b in self.bs)
        self.params = rng.uniform(-0.1, 0.1, n_params).astype(dtype)
        self.grads = (1e-2 * rng.standard_normal(n_params)).astype(dtype)
        self.state = [np.zeros_like(self.params), np.zeros_like(self.params)]
        self.solver = solver

    def gemm(self):
        acts, deltas, Ws = self.acts, self.deltas, self.Ws
        last = len(Ws) - 1
        for layer, W in enumerate(Ws):
            np.matmul(acts[layer], W, out=acts[layer + 1])
        for layer in range(last, -1, -1):
            np.matmul(acts[layer].T, deltas[layer], out=self.gWs[layer])
            if layer > 0:
                np.matmul(deltas[layer], Ws[layer].T, out=deltas[layer - 1])

    def setup_elementwise(self):
        for a, a0 in zip(self.acts[1:], self.initial_acts[1:]):
            np.copyto(a, a0)
        for d, d0 in zip(self.deltas[:-1], self.initial_deltas[:-1]):
            np.copyto(d, d0)

    def elementwise(self):
        engine, acts, deltas = self.engine, self.acts, self.deltas
        last = len(self.Ws) - 1
        for layer, code in enumerate(self.codes):
            engine._activate(acts[layer + 1], self.bs[layer], code)  # dense_forward's bias + activation
        engine.output_delta(acts[-1], self.Y, None, self.loss, deltas[last])
        for layer in range(last, -1, -1):
            engine._add_l2_and_scale(self.gWs[layer], self.Ws[layer], ALPHA, float(self.rows), True)
            np.add.reduce(deltas[layer], axis=0, out=self.gbs[layer])
            self.gbs[layer] /= self.rows
            if layer > 0:
                engine.activation_derivative(acts[layer], deltas[layer - 1], self.activation)

    def optimizer(self):
        m, v = self.state
        if self.solver == "sgd":
            self.engine.sgd_step(self.params, self.grads, m, 1e-3, 0.9, True)
        else:
            self.engine.adam_step(self.params, self.grads, m, v, 1e-3, 0.9, 0.999, 1e-8)


def time_per_call(fn, setup=None, min_seconds=0.1, min_calls=5):
    """Median seconds of ``fn()`` over as many calls as fill ``min_seconds`` (at least
    ``min_calls``), ``setup()`` before each call outside the timing. The median: on a
    machine shared with other jobs, a call that waited for a core says nothing of the
    code."""
    if setup is not None:
        setup()
    fn()  # warm: caches, compiled code
    times = []
    total = 0.0
    while len(times) < min_calls or total < min_seconds:
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        total += times[-1]
    return statistics.median(times)


def phase_seconds(batch, null, min_seconds):
    """Seconds per minibatch of each phase, net of the same calls on the null network."""
    out = {}
    for phase in PHASES:
        times = []
        for mb, seconds in ((batch, min_seconds), (null, min_seconds / 4)):
            setup = mb.setup_elementwise if phase == "elementwise" else None
            times.append(time_per_call(getattr(mb, phase), setup, seconds))
        out[phase] = times[0] - times[1]
    return out


def fit_epoch_seconds(workload, X, y, epochs, threads):
    """Seconds per epoch of a fresh fastmlp fit of ``epochs`` epochs on BLAS ``threads``."""
    from sklearn.exceptions import ConvergenceWarning

    est = estimator_class(workload, "fastmlp")(**workload.estimator_params(epochs), n_threads=threads)
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # every run stops at max_iter on purpose
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
    assert est.n_iter_ == epochs, (workload.name, est.n_iter_, epochs)
    return seconds / epochs


# -- the measurement -------------------------------------------------------------------
def measure(workload, X, y, epochs, counts, repeats, min_seconds, log):
    """Per-repeat timings: {threads: {"epoch": [...], "gemm": [...], ...}} (seconds per
    epoch), thread counts interleaved within each repeat."""
    from threadpoolctl import threadpool_limits

    units = workload.layer_units(X, y)
    out_activation, loss = output_layer(workload, units)
    rows = min(workload.batch_size, X.shape[0])
    batches = X.shape[0] / rows
    args = (X.dtype, workload.activation, out_activation, loss, workload.solver)
    batch = Minibatch(rows, units, *args)
    null = Minibatch(1, [1] * len(units), *args)
    for t in counts:  # warm-up: Numba loads or compiles, BLAS starts its threads
        fit_epoch_seconds(workload, X, y, 1, t)
        with threadpool_limits(limits=t, user_api="blas"):
            phase_seconds(batch, null, 0.0)
    times = {t: {key: [] for key in ("epoch", *PHASES)} for t in counts}
    for rep in range(repeats):
        for t in counts if rep % 2 == 0 else counts[::-1]:
            with threadpool_limits(limits=t, user_api="blas"):
                phases = phase_seconds(batch, null, min_seconds)
            for phase, seconds in phases.items():
                times[t][phase].append(seconds * batches)
            times[t]["epoch"].append(fit_epoch_seconds(workload, X, y, epochs, t))
        log(f"  {workload.name} repeat {rep + 1}/{repeats}: "
            + ", ".join(f"{t} thr {times[t]['epoch'][-1] * 1e3:.3g} ms" for t in counts))
    return times


def summarize(times):
    """Medians per thread count, the serial fractions and Amdahl's projections."""
    rows = {}
    for t, ts in times.items():
        med = {key: statistics.median(values) for key, values in ts.items()}
        med = {key: max(0.0, value) if key in PHASES else value for key, value in med.items()}
        other = med["epoch"] - sum(med[phase] for phase in PHASES)
        med["other"] = max(0.0, other)
        med["other_clamped"] = other < 0
        med["serial_fraction"] = min(1.0, max(0.0, 1.0 - med["gemm"] / med["epoch"]))
        med["other_fraction"] = med["other"] / med["epoch"]
        rows[t] = med
    one = rows[min(rows)]
    for t, med in rows.items():
        med["speedup"] = one["epoch"] / med["epoch"]
        med["amdahl_speedup"] = amdahl(one["serial_fraction"], t)
        if t > 1:
            med["karp_flatt"] = karp_flatt(med["speedup"], t)
            med["projected_from_karp_flatt"] = {n: amdahl(med["karp_flatt"], n) for n in PROJECTED_CORES}
    projection = {
        "serial_fraction": one["serial_fraction"],
        "today": {n: amdahl(one["serial_fraction"], n) for n in PROJECTED_CORES},
        "other_fraction": one["other_fraction"],
        "parallel_elementwise_optimizer": {n: amdahl(one["other_fraction"], n) for n in PROJECTED_CORES},
    }
    return rows, projection


def run(args, log):
    counts = thread_counts(args.cores)
    results = {"machine": machine_line(), "cores": n_cores(), "thread_counts": counts, "repeats": args.repeats,
               "quick": args.quick, "workloads": []}
    log(results["machine"])
    for workload, n_rows, epochs in settings(args):
        name = workload.name
        X, y = workload.data(n_rows)
        log(f"{name}: {X.shape[0]}x{X.shape[1]} {X.dtype}, {epochs} epochs per fit, threads {counts}")
        times = measure(workload, X, y, epochs, counts, args.repeats, args.min_time, log)
        rows, projection = summarize(times)
        results["workloads"].append({
            "name": name, "description": workload.description, "rows": X.shape[0], "dtype": X.dtype.name,
            "epochs": epochs, "batches_per_epoch": X.shape[0] / min(workload.batch_size, X.shape[0]),
            "seconds": {str(t): ts for t, ts in times.items()},
            "median": {str(t): med for t, med in rows.items()},
            "projection": projection,
        })
    return results


# -- output ----------------------------------------------------------------------------
COLUMNS = ("workload", "threads", "epoch ms", "GEMM ms", "elementwise ms", "optimizer ms", "other ms",
           "serial fraction", "speedup vs 1 thread (Amdahl)", "S(8/16/64) today",
           "S(8/16/64) parallel elementwise+optimizer")


def _ms(seconds):
    return f"{seconds * 1e3:.3g}"


def _speedups(values):
    return " / ".join(f"{values[n]:.2f}" for n in PROJECTED_CORES)


def markdown_table(results):
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for w in results["workloads"]:
        label = f"{w['name']} ({w['rows']} rows, {w['dtype']})"
        first = True
        for t, med in w["median"].items():
            other = _ms(med["other"]) + ("*" if med["other_clamped"] else "")
            if first:
                speed = "1"
                serial = f"{med['serial_fraction']:.2f}"
                today = _speedups(w["projection"]["today"])
                parallel = _speedups(w["projection"]["parallel_elementwise_optimizer"])
            else:
                speed = f"{med['speedup']:.2f} ({med['amdahl_speedup']:.2f})"
                serial = f"{med['serial_fraction']:.2f} (KF {med['karp_flatt']:.2f})"
                today = f"KF: {_speedups(med['projected_from_karp_flatt'])}"
                parallel = "—"
            lines.append(f"| {label} | {t} | {_ms(med['epoch'])} | {_ms(med['gemm'])} | {_ms(med['elementwise'])} "
                         f"| {_ms(med['optimizer'])} | {other} | {serial} | {speed} | {today} | {parallel} |")
            first = False
    return "\n".join(lines)


def header(results):
    return (
        f"{results['machine']}\n\n"
        f"Thread counts {results['thread_counts']} ({results['cores']} cores available); medians of "
        f"{results['repeats']} repeats, thread counts interleaved{' (--quick)' if results['quick'] else ''}. "
        "Phases are per epoch, net of call overhead; other = epoch - GEMM - elementwise - optimizer "
        "(* clamped at 0: the phases timed alone added up to more than the epoch). "
        "Serial fraction s = 1 - GEMM / epoch; in rows t > 1, in brackets, the Karp-Flatt serial fraction "
        "(1/S - 1/t) / (1 - 1/t) that the measured speedup S implies. Speedup vs 1 thread: measured "
        "epoch(1) / epoch(t), in brackets Amdahl's S(t) from the 1-thread s.\n\n"
        "Projection S(n) = 1 / (s + (1 - s) / n) from the 1-thread row. 'today' assumes the GEMMs scale "
        "perfectly to n cores and everything else stays serial (today's code: only BLAS is threaded); "
        "'parallel elementwise+optimizer' takes only 'other' as serial, the best that parallel elementwise "
        "and optimizer kernels could bring. In rows t > 1, 'KF:' projects from the Karp-Flatt fraction "
        "instead, which also counts what threading costs beyond the GEMMs.\n"
    )


def summary_lines(results):
    lines = []
    for w in results["workloads"]:
        p = w["projection"]
        lines.append(f"- {w['name']}: s = {p['serial_fraction']:.2f} (elementwise + optimizer + other), "
                     f"S(8/16/64) = {_speedups(p['today'])} today; s = {p['other_fraction']:.2f} (other only), "
                     f"S(8/16/64) = {_speedups(p['parallel_elementwise_optimizer'])} with parallel elementwise "
                     "and optimizer kernels.")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats, fewer epochs, a 4000-row mnist-like, shorter phase timings")
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(DEFAULT_WORKLOADS),
                        metavar="NAME", help=f"any of {', '.join(WORKLOADS)} (default: {', '.join(DEFAULT_WORKLOADS)})")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats per thread count (default 5, 3 with --quick)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per timed fit for every workload "
                        "(default: the workload's, as report.py)")
    parser.add_argument("--mnist-rows", type=int, default=None,
                        help=f"rows of mnist-like, up to {MNIST_LIKE_MAX_ROWS} (default 12000, 4000 with --quick)")
    parser.add_argument("--min-time", type=float, default=None, help="seconds each phase is replayed per "
                        "measurement (default 0.2, 0.05 with --quick)")
    parser.add_argument("--cores", type=int, default=None, help="largest thread count (default: the cores "
                        "available to this process)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for scaling.md and scaling.json "
                        "(default: benchmarks/results)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.min_time is None:
        args.min_time = 0.05 if args.quick else 0.2
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be >= 1")
    if args.cores is not None and args.cores < 1:
        parser.error("--cores must be >= 1")
    if args.min_time < 0:
        parser.error("--min-time must be >= 0")
    if args.mnist_rows is not None and not 1 <= args.mnist_rows <= MNIST_LIKE_MAX_ROWS:
        parser.error(f"--mnist-rows must be between 1 and {MNIST_LIKE_MAX_ROWS}")
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    results = run(args, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    text = header(results) + "\n" + markdown_table(results) + "\n\n" + summary_lines(results) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scaling.md").write_text(text)
    (args.out / "scaling.json").write_text(json.dumps(results, indent=2, default=_json_default))
    print(f"Wrote {args.out / 'scaling.md'}, {args.out / 'scaling.json'} in {time.perf_counter() - started:.0f} s.")


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


if __name__ == "__main__":
    main()
