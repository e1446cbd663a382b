"""The one place that owns Numba's compilation options.

Every compiled kernel in fastmlp is decorated with :func:`kernel` (or
:func:`inlined_kernel`, the same options plus inlining); no other module passes options
to ``numba.njit``. ``tests/test_numba_options.py`` enforces this.

- ``cache=True``: compiled machine code is stored next to the module and reloaded in
  a fresh process in well under a second instead of recompiling (several seconds).
- ``nogil=True``: kernels release the GIL, so several Python threads (a threaded grid
  search) train different models at once. Kernels keep no global state.
- ``error_model="numpy"``: division by zero gives inf/nan like NumPy instead of raising,
  and, measured in ``../shared/PERF_NOTES.md``, lets LLVM vectorize loops that divide
  (an Adam update ran 9x faster than with the default ``"python"`` model).
- ``fastmath=False``: no ``nnan``/``ninf`` (they turn ``isfinite`` checks into constants,
  breaking divergence detection) and no ``reassoc`` (it would change summation order
  and so rounding against the NumPy reference and scikit-learn).
- No ``parallel=True``: on the 2-core target machine serial fused loops between BLAS
  calls measured fastest (parallel regions next to threaded BLAS cost ~8 ms each under
  OpenMP), and serial kernels keep results independent of the thread count and keep
  ``fork()`` safe (GNU OpenMP kills a forked child after any parallel region).
  Threads come from BLAS only; ``benchmarks/test_bench_kernels.py`` keeps the
  measurement of a parallel variant that justifies this.
"""

import warnings

import numba

KERNEL_OPTIONS = {
    "cache": True,
    "nogil": True,
    "error_model": "numpy",
    "fastmath": False,
}

# The small per-minibatch kernels of the compiled epoch (bias + activation, derivative,
# loss, gradients, SGD step) are inlined into their caller at Numba IR level: the array
# views they take then share one function with the caller's, and Numba prunes their
# atomic reference-count updates, which on small layers cost more than the arithmetic.
# Measured: circles (1000x2, (8,) tanh, batch 32) compiled epoch 116 -> 90 us; cold
# compile of a default fit 7.0 -> 6.5 s.
INLINED_KERNEL_OPTIONS = {**KERNEL_OPTIONS, "inline": "always"}

# Only for the benchmark that measures whether parallel elementwise kernels pay.
PARALLEL_KERNEL_OPTIONS = {**KERNEL_OPTIONS, "parallel": True}


def _compile(func, options):
    try:
        return numba.njit(**options)(func)
    except RuntimeError as exc:
        # Numba raises at decoration when no cache location is writable (a read-only
        # install and a read-only home); compile without a cache rather than fail.
        if "cannot cache" not in str(exc):
            raise
        warnings.warn(
            f"fastmlp: no writable Numba cache location for {func.__qualname__} ({exc}); kernels will be "
            "compiled in every process. Set NUMBA_CACHE_DIR to a writable directory to cache them.",
            RuntimeWarning,
            stacklevel=3,
        )
        return numba.njit(**{**options, "cache": False})(func)


def kernel(func):
    """Compile ``func`` with fastmlp's kernel options (see module docstring)."""
    return _compile(func, KERNEL_OPTIONS)


def inlined_kernel(func):
    """``kernel``, inlined into compiled callers (see ``INLINED_KERNEL_OPTIONS``)."""
    return _compile(func, INLINED_KERNEL_OPTIONS)


def parallel_kernel(func):
    """Compile ``func`` with ``parallel=True`` on top of the kernel options."""
    return _compile(func, PARALLEL_KERNEL_OPTIONS)
