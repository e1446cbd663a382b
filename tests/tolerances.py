"""The one table of numerical tolerances the tests use, per dtype, with the reason.

Each tolerance is what the tests that use it observe, plus a stated margin (for other
BLAS builds and CPUs, whose GEMMs sum in another order, and for examples Hypothesis has
not drawn yet). "Used" below is the largest |got - want| / (atol + rtol * |want|) over
every comparison the tests make with that entry (for the scaled kernel comparisons,
|want| + scale), measured on the committed engine with NumPy's tanh/exp loops (the
default) and with ``FASTMLP_NUMPY_LOOPS=0`` (their ``_vector_math`` fallback, which CI
also runs), OpenBLAS 0.3.30/0.3.31 on AVX-512.

KERNEL: one kernel call, numba engine vs NumPy reference.
- float64: a few ulps from BLAS summation order and from the order of elementwise
  operations. Worst: the softplus -> exp network of test_kernels, 1.9e-15 relative (8
  ulps), 3.7% of 5e-14 either way: a 27x margin.
- float32: elementwise math in float64 rounded once (<= 1 ulp, 6e-8) plus sgemm's
  summation order. Worst with NumPy's loops: the softplus -> exp network, 6% of
  (1e-5, 1e-6), a 16x margin; without them the tanh network uses 21% (4.7x). Not
  tightened: the fallback's tanh leaves no room for it.

TRAINING: a whole fit compared with the other engine or with scikit-learn; rounding
differences grow through the epochs.
- float64: most fits agree bit for bit (tanh, exp and softmax run NumPy's own loops,
  L-BFGS evaluations are NumPy's arithmetic). Worst: the loss values of float32 X with
  float64 targets against scikit-learn's, 2.4e-11 relative, 2.2% of (1e-9, 1e-12) (a 45x
  margin); without NumPy's loops the worst is a warm-started adam refit, 2.3e-11
  relative, 1.3% of it (the tests named bit_for_bit assert NumPy's loops' values and
  are not run without them). The README promises scikit-learn's model to 1e-6.
- float32 with NumPy's loops: GEMMs, tanh, exp and the float64 backpropagation of
  float64 targets are scikit-learn's, some elementwise steps are not (the logistic,
  leaky_relu and softplus, densified sparse minibatches). In 182 of the 332 tests every
  compared value is equal; the worst, the sparse CSR adam parity case, differs by up to
  4e-7 absolute (3.1e-5 relative) and uses 4.6% of (5e-5, 5e-6): a 21x margin.
- float32 without NumPy's loops (``TRAINING_FLOAT32_FALLBACK``): one ulp of tanh or exp
  grows with training; worst, Nesterov SGD in minibatches of 7 rows (test_engines'
  batch-7 problem, 29 updates an epoch), 1.5e-4 relative and 1.4e-5 absolute, 6.5% of
  (1e-3, 1e-4): a 15x margin. Not tightened.

GRADIENT: central finite differences in float64 with step 1e-6 have truncation error
~h^2 and cancellation error ~eps/h, about 1e-8..1e-10 relative. Worst observed: a
Poisson loss with logistic units, 5.6% of (1e-6, 1e-8): an 18x margin.
"""

import numpy as np

from fastmlp.engines.numba_engine import _numpy_loops

KERNEL = {
    np.dtype(np.float64): {"rtol": 5e-14, "atol": 5e-14},
    np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-6},
}

TRAINING = {
    np.dtype(np.float64): {"rtol": 1e-9, "atol": 1e-12},
    np.dtype(np.float32): {"rtol": 5e-5, "atol": 5e-6},
}
TRAINING_FLOAT32_FALLBACK = {"rtol": 1e-3, "atol": 1e-4}

GRADIENT = {"rtol": 1e-6, "atol": 1e-8, "step": 1e-6}


def kernel_tol(dtype):
    return KERNEL[np.dtype(dtype)]


def numpy_loops_used(dtype):
    """Whether the kernels run NumPy's own tanh and exp loops for ``dtype`` (not switched
    off by ``FASTMLP_NUMPY_LOOPS=0``, found in this NumPy)."""
    return all(how == "numpy" for how in _numpy_loops.status(dtype).values())


def training_tol(dtype):
    if np.dtype(dtype) == np.float32 and not numpy_loops_used(dtype):
        return TRAINING_FLOAT32_FALLBACK
    return TRAINING[np.dtype(dtype)]
