"""Side-by-side training speed of fastmlp and its rivals, with the machine's GEMM peak.

    python benchmarks/report.py [--quick] [--workloads NAME ...] [--implementations NAME ...]
                                [--repeats N] [--mnist-rows N] [--out DIR]

For each workload (``benchmarks/workloads.py``) every available implementation
(fastmlp, fastmlp's NumPy engine, scikit-learn, PyTorch and its fused Adam when torch
is installed) trains a fresh model for a fixed number of epochs; after one untimed
warm-up run each (Numba compiles or loads its cache there), the timed runs are
interleaved, A B C D A B C D ..., so that the machine's slow spells hit every
implementation alike. Reported: the median seconds per epoch, and fastmlp's speedup
over each rival as the median of the per-repeat ratios (rival time / fastmlp time).

fastmlp's GFLOP/s (the epoch's GEMM FLOPs over its time) is compared with two
measured ceilings: numpy's matmul on 2048x2048 matrices (all BLAS threads), and the
*workload-shaped* GEMM rate, i.e. one minibatch's GEMMs (forward, input-gradient and
weight-gradient shapes of the workload) timed alone with numpy's matmul, best of 1 and
all BLAS threads. Ceilings are the fastest call seen, measured before and after the
timed runs. The ``>= 90% of peak`` target is judged against the workload-shaped
ceiling. For tiny layers (circles) numpy's per-call overhead dominates that ceiling and
fastmlp, which calls BLAS from compiled code, can exceed it.

Prints a machine line and a markdown table; writes ``report.md``, ``results.json`` and
``speedup.png`` (fastmlp's speedup over each rival against FLOPs per epoch; skipped
without matplotlib) to ``--out`` (default ``benchmarks/results/``). ``--quick`` (3 repeats, fewer epochs,
a 4000-row mnist-like) takes about a minute once Numba's cache is warm.
"""

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.workloads import (  # noqa: E402
    IMPLEMENTATIONS,
    MNIST_LIKE_MAX_ROWS,
    RIVALS,
    WORKLOADS,
    applies,
    make_runner,
    n_cores,
    torch_available,
    unavailable_reason,
)

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


# -- the machine -----------------------------------------------------------------------
def cpu_model():
    """CPU model name and its widest x86 vector extension, from /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    model = fields.get("model name", platform.machine())
    flags = fields.get("flags", "").split()
    simd = next((name for name in ("avx512f", "avx2", "avx", "sse4_2") if name in flags), None)
    return f"{model} ({simd})" if simd else model


def library_versions():
    import numba
    import scipy
    import sklearn

    import fastmlp

    versions = {
        "python": platform.python_version(),
        "fastmlp": fastmlp.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "scikit-learn": sklearn.__version__,
    }
    if torch_available():
        import torch

        versions["torch"] = torch.__version__
    else:
        versions["torch"] = "not installed"
    return versions


def blas_description():
    from threadpoolctl import threadpool_info

    libs = [
        f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')}, "
        f"{info.get('num_threads')} threads, {Path(info.get('filepath', '')).parent.parent.name})"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return "; ".join(libs) or "unknown"


def machine_line():
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    return (f"Machine: {cpu_model()}, {n_cores()} cores available ({os.cpu_count()} online), "
            f"{platform.system()} {platform.release()}; {versions}; BLAS: {blas_description()}")


# -- GEMM ceilings ---------------------------------------------------------------------
def _best_rate(fn, flops, min_seconds):
    """GFLOP/s of fn()'s fastest call among as many as fit in ``min_seconds`` (>= 5): a
    ceiling, so the best call, not the typical one (noise only ever slows a call)."""
    fn()
    best = float("inf")
    calls = 0
    start = time.perf_counter()
    while calls < 5 or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        calls += 1
    return flops / best / 1e9


def _thread_counts():
    return sorted({1, n_cores()})


def gemm_peak(dtype, size=2048, min_seconds=0.5):
    """numpy matmul GFLOP/s on square ``size`` matrices, all BLAS threads."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size)).astype(dtype)
    b = rng.standard_normal((size, size)).astype(dtype)
    out = np.empty((size, size), dtype)
    return _best_rate(lambda: np.matmul(a, b, out=out), 2.0 * size**3, min_seconds)


def shaped_gemm_rate(shapes, dtype, min_seconds=0.2):
    """numpy matmul GFLOP/s on one minibatch's GEMMs (``shapes``: (m, k, n) triples),
    operands laid out as the training loop has them; best of 1 and all BLAS threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    products = []
    for m, k, n in shapes:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        products.append((a, b, np.empty((m, n), dtype)))
    flops = sum(2.0 * m * k * n for m, k, n in shapes)

    def batch():
        for a, b, out in products:
            np.matmul(a, b, out=out)

    rates = []
    for threads in _thread_counts():
        with threadpool_limits(limits=threads, user_api="blas"):
            rates.append(_best_rate(batch, flops, min_seconds))
    return max(rates)


# -- the comparison --------------------------------------------------------------------
def settings(args):
    """(workload, rows, epochs) for each selected workload."""
    runs = []
    for name in args.workloads:
        w = WORKLOADS[name]
        rows = w.quick_rows if args.quick else None
        if name == "mnist-like" and args.mnist_rows is not None:
            rows = args.mnist_rows
        epochs = args.epochs or (w.quick_epochs if args.quick else w.epochs)
        runs.append((w, rows, epochs))
    return runs


def compare(workload, X, y, epochs, implementations, repeats, log):
    """Seconds per epoch of each implementation, ``repeats`` interleaved runs each."""
    runners = {impl: make_runner(workload, impl, X, y, epochs) for impl in implementations}
    for impl in implementations:  # warm-up: compile or load caches, touch the data
        make_runner(workload, impl, X, y, 1)()
    times = {impl: [] for impl in implementations}
    for rep in range(repeats):
        for impl, run in runners.items():
            gc.collect()
            start = time.perf_counter()
            run()
            times[impl].append((time.perf_counter() - start) / epochs)
        log(f"  {workload.name} repeat {rep + 1}/{repeats}: "
            + ", ".join(f"{impl} {times[impl][-1] * 1e3:.3g} ms" for impl in implementations))
    return times


def speedups(times):
    """Median over repeats of rival time / fastmlp time, per rival."""
    if "fastmlp" not in times:
        return {}
    ours = times["fastmlp"]
    return {impl: statistics.median(t / o for t, o in zip(ts, ours)) for impl, ts in times.items() if impl != "fastmlp"}


def run_report(args, log=print):
    results = {"machine": machine_line(), "quick": args.quick, "repeats": args.repeats,
               "gemm_peak_gflops": {}, "workloads": []}
    log(results["machine"])

    def measure_peaks():  # at the start and the end; the best counts (noise only slows)
        for dtype in ("float32", "float64"):
            rate = gemm_peak(np.dtype(dtype), min_seconds=0.3 if args.quick else 1.0)
            results["gemm_peak_gflops"][dtype] = max(rate, results["gemm_peak_gflops"].get(dtype, 0.0))

    measure_peaks()
    for workload, rows, epochs in settings(args):
        X, y = workload.data(rows)
        wanted = [impl for impl in args.implementations if applies(workload, impl)]
        implementations = [impl for impl in wanted if unavailable_reason(workload, impl) is None]
        skipped = {impl: unavailable_reason(workload, impl) for impl in wanted if impl not in implementations}
        shapes = workload.gemm_shapes(X, y)
        gemm_seconds = 0.1 if args.quick else 0.3
        log(f"{workload.name}: {X.shape[0]}x{X.shape[1]} {X.dtype}, {epochs} epochs per run")
        shaped = shaped_gemm_rate(shapes, X.dtype, gemm_seconds)
        times = compare(workload, X, y, epochs, implementations, args.repeats, log)
        shaped = max(shaped, shaped_gemm_rate(shapes, X.dtype, gemm_seconds))  # before and after: the best
        log(f"  {workload.name}: workload-shaped GEMM {shaped:.0f} GFLOP/s")
        results["workloads"].append({
            "name": workload.name,
            "description": workload.description,
            "rows": X.shape[0],
            "dtype": X.dtype.name,
            "epochs": epochs,
            "flops_per_epoch": workload.flops_per_epoch(X, y),
            "shaped_gemm_gflops": shaped,
            "seconds_per_epoch": times,
            "speedup": speedups(times),
            "skipped": skipped,
            "targets": workload.targets,
            "peak_target": workload.peak_target,
        })
    measure_peaks()
    log("GEMM peak, numpy matmul 2048x2048: "
        + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in results["gemm_peak_gflops"].items()))
    return results


# -- output ----------------------------------------------------------------------------
def _verdict(ok):
    return "met" if ok else "**not met**"


def _fmt_seconds(s):
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def markdown_table(results):
    lines = [
        "| workload | implementation | s/epoch median (min–max) | fastmlp speedup | GFLOP/s "
        "| % of GEMM peak (shaped / 2048²) | target | |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in results["workloads"]:
        peak = results["gemm_peak_gflops"][w["dtype"]]
        label = f"{w['name']} ({w['rows']} rows, {w['dtype']})"
        for impl, ts in w["seconds_per_epoch"].items():
            med = statistics.median(ts)
            gflops = w["flops_per_epoch"] / med / 1e9
            speed = target = verdict = "—"
            fraction = f"{100 * gflops / w['shaped_gemm_gflops']:.0f}% / {100 * gflops / peak:.0f}%"
            if impl == "fastmlp":
                if w["peak_target"] is not None:
                    target = f"≥{100 * w['peak_target']:.0f}% of peak"
                    verdict = _verdict(gflops >= w["peak_target"] * w["shaped_gemm_gflops"])
            elif impl in w["speedup"]:
                ratio = w["speedup"][impl]
                speed = f"{ratio:.2f}×"
                if impl in w["targets"]:
                    target = f"≥{w['targets'][impl]:g}×"
                    verdict = _verdict(ratio >= w["targets"][impl])
            lines.append(f"| {label} | {impl} | {_fmt_seconds(med)} ({_fmt_seconds(min(ts))}–{_fmt_seconds(max(ts))}) "
                         f"| {speed} | {gflops:.1f} | {fraction} | {target} | {verdict} |")
        for impl, reason in w["skipped"].items():
            lines.append(f"| {label} | {impl} | skipped: {reason} | | | | | |")
    return "\n".join(lines)


def plot_speedups(results, path):
    """Draw fastmlp's speedup over each rival against FLOPs per epoch (log-log) into
    ``path``; return False, drawing nothing, where matplotlib is not installed (it comes
    with the ``bench`` extra, not with fastmlp)."""
    try:
        import matplotlib
    except ImportError:
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(8, 5))
    markers = dict(zip(RIVALS, "osD^v"))
    for rival in RIVALS:
        points = sorted((w["flops_per_epoch"], w["speedup"][rival], w["name"])
                        for w in results["workloads"] if rival in w["speedup"])
        if points:
            xs, ys, _ = zip(*points)
            ax.plot(xs, ys, marker=markers[rival], label=f"over {rival}")
    for w in results["workloads"]:
        if w["speedup"]:
            top = max(w["speedup"].values())
            ax.annotate(w["name"], (w["flops_per_epoch"], top), textcoords="offset points", xytext=(4, 6),
                        fontsize=8, rotation=30)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.margins(x=0.15, y=0.15)
    ax.set_xlabel("GEMM FLOPs per epoch")
    ax.set_ylabel("fastmlp speedup (rival time / fastmlp time)")
    ax.set_title("fastmlp speedup by problem size" + (" (--quick)" if results["quick"] else ""))
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats, fewer epochs, a 4000-row mnist-like (about a minute)")
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS), metavar="NAME",
                        help=f"any of {', '.join(WORKLOADS)} (default: all)")
    parser.add_argument("--implementations", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS),
                        metavar="NAME", help=f"any of {', '.join(IMPLEMENTATIONS)} (default: all; torch ones are "
                        "skipped when torch is not installed)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved timed runs per implementation "
                        "(default 5, 3 with --quick)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run for every workload "
                        "(default: the workload's)")
    parser.add_argument("--mnist-rows", type=int, default=None,
                        help=f"rows of mnist-like, up to {MNIST_LIKE_MAX_ROWS} (default 12000, 4000 with --quick)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for report.md, results.json, "
                        "speedup.png (default: benchmarks/results)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be >= 1")
    if args.mnist_rows is not None and not 1 <= args.mnist_rows <= MNIST_LIKE_MAX_ROWS:
        parser.error(f"--mnist-rows must be between 1 and {MNIST_LIKE_MAX_ROWS}")
    if "fastmlp" not in args.implementations:
        args.implementations.insert(0, "fastmlp")  # speedups are relative to it
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    results = run_report(args, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    table = markdown_table(results)
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in results["gemm_peak_gflops"].items())
    header = (f"{results['machine']}\n\nGEMM peak (numpy matmul 2048², GFLOP/s): {peaks}. "
              f"Speedup = rival time / fastmlp time, median of {args.repeats} interleaved repeats"
              f"{' (--quick)' if args.quick else ''}.\n")
    print(header)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.md").write_text(header + "\n" + table + "\n")
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    written = [args.out / "report.md", args.out / "results.json"]
    plot_path = args.out / "speedup.png"
    if plot_speedups(results, plot_path):
        written.append(plot_path)
    else:
        print(f"\nPlot skipped: matplotlib is not installed (pip install -e '.[bench]'), no {plot_path.name}.")
    print(f"\nWrote {', '.join(map(str, written))} in {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
