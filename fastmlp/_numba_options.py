"""The one place that owns Numba's compilation options.

Every compiled kernel in fastmlp is made by :func:`kernel` (or :func:`inlined_kernel`,
the same options plus inlining), :func:`c_kernel` (the same options, as a C function
called by address) or :func:`code_dispatch` (an implementation picked while compiling);
no other module passes options to Numba. ``tests/test_numba_options.py`` enforces this.

- ``cache=True``: compiled machine code is stored next to the module and reloaded in
  a fresh process in well under a second instead of recompiling (several seconds).
- ``nogil=True``: kernels release the GIL, so several Python threads (a threaded grid
  search) train different models at once. Kernels keep no global state.
- ``error_model="numpy"``: division by zero gives inf/nan like NumPy instead of raising,
  and lets LLVM vectorize loops that divide (an Adam update ran 9x faster than with the
  default ``"python"`` model; ``benchmarks/README.md``).
- ``fastmath=False``: no ``nnan``/``ninf`` (they turn ``isfinite`` checks into constants,
  breaking divergence detection) and no ``reassoc`` (it would change summation order
  and so rounding against the NumPy reference and scikit-learn).
- No ``parallel=True``: on the 2-core target machine serial fused loops between BLAS
  calls measured fastest. Whole fits with the activation, derivative and optimizer
  kernels split over threads (``benchmarks/parallel_epoch.py``, same weights bit for
  bit) took 0.97-1.04x (OpenMP, idle threads sleeping) to 6-19x (OpenMP spinning against
  OpenBLAS) the serial time on mnist-like and wide-regression, 1.07-1.19x on Numba's
  workqueue layer. Serial kernels also keep ``fork()`` safe (GNU OpenMP kills a forked
  child that enters a parallel region) and need no threading layer. Threads come from BLAS only;
  ``benchmarks/test_bench_kernels.py`` and ``parallel_epoch.py`` keep the measurements.
"""

import warnings

import numba
from numba.extending import overload

KERNEL_OPTIONS = {
    "cache": True,
    "nogil": True,
    "error_model": "numpy",
    "fastmath": False,
}

# Small helpers of the compiled epoch (the per-batch pass, gradients, sums) are inlined
# into their caller at Numba IR level: the array views they take then share one function
# with the caller's, Numba prunes their atomic reference-count updates (on small layers
# those cost more than the arithmetic), and a pass with one call site is not compiled a
# second time on its own. Only for helpers with few call sites: inlining everything into
# the epoch multiplied its compile time (measured 5x).
INLINED_KERNEL_OPTIONS = {**KERNEL_OPTIONS, "inline": "always"}

# ``code_dispatch``'s implementations: the kernel options that apply to code compiled
# into its caller (which caches it).
DISPATCH_OPTIONS = {k: v for k, v in KERNEL_OPTIONS.items() if k != "cache"}

# Only for the benchmark that measures whether parallel elementwise kernels pay.
PARALLEL_KERNEL_OPTIONS = {**KERNEL_OPTIONS, "parallel": True}


def _compile(func, options, signature=None):
    compile_with = numba.njit if signature is None else (lambda **opts: numba.cfunc(signature, **opts))
    try:
        return compile_with(**options)(func)
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
        return compile_with(**{**options, "cache": False})(func)


def kernel(func):
    """Compile ``func`` with fastmlp's kernel options (see module docstring)."""
    return _compile(func, KERNEL_OPTIONS)


def inlined_kernel(func):
    """``kernel``, inlined into compiled callers (see ``INLINED_KERNEL_OPTIONS``)."""
    return _compile(func, INLINED_KERNEL_OPTIONS)


def c_kernel(signature):
    """Decorator: compile ``func`` with the kernel options as a C function of
    ``signature`` (``numba.cfunc``, compiled at once or loaded from the cache), which
    compiled code calls by its address."""
    return lambda func: _compile(func, KERNEL_OPTIONS, signature)


def code_dispatch(stub):
    """Decorator of ``select(*arg_types) -> implementation``: compiled calls of ``stub``
    (a Python function that only documents the interface) run the implementation that
    ``select`` picks from the argument types. A compile-time constant integer argument
    reaches ``select`` as a ``numba.types.IntegerLiteral``, so the choice is made while
    compiling and only the chosen implementation is compiled."""

    def register(select):
        overload(stub, jit_options=DISPATCH_OPTIONS, prefer_literal=True)(select)
        return select

    return register


def parallel_kernel(func):
    """Compile ``func`` with ``parallel=True`` on top of the kernel options."""
    return _compile(func, PARALLEL_KERNEL_OPTIONS)
