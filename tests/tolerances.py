"""The one table of numerical tolerances the tests use, per dtype, with the reason.

KERNEL: one kernel call, numba engine vs NumPy reference. float64 differs only by BLAS
summation order and by the order of a few elementwise operations: a few ulps, hence
1e-12. float32 kernels do elementwise math in float64 and round once (<= 1 ulp of
float32, 6e-8) while sgemm's summation order adds ~sqrt(k) ulps, hence 1e-5.

TRAINING: a whole fit compared with the other engine or with scikit-learn. The brief
asks for 1e-6 relative in float64 (rounding differences grow through the epochs; most
fits here now agree bit for bit: tanh, exp and softmax run NumPy's own loops, L-BFGS
evaluations are NumPy's arithmetic). float32: GEMMs, tanh, exp and the float64
backpropagation of float64 targets are scikit-learn's too, but some elementwise steps
are not: the logistic in ~2e-4 of values, the compiled leaky_relu/softplus against the
reference's NumPy calls, densified sparse minibatches. Training amplifies a 1-ulp (6e-8)
difference: Adam divides tiny gradients by their own RMS and large learning rates feed
errors back; measured after 30 epochs: 6e-8 absolute on the float32 multilabel parity
case (0.0 on the others), while with compiled exp/tanh it had reached 6e-5 (digits,
adam). Hence 1e-3 relative, 1e-4 absolute: the float32 bound, with room for harder fits.

GRADIENT: central finite differences in float64 with step 1e-6 have truncation error
~h^2 and cancellation error ~eps/h, about 1e-8..1e-10 relative: 1e-5 is safe.
"""

import numpy as np

KERNEL = {
    np.dtype(np.float64): {"rtol": 1e-12, "atol": 1e-12},
    np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-6},
}

TRAINING = {
    np.dtype(np.float64): {"rtol": 1e-6, "atol": 1e-9},
    np.dtype(np.float32): {"rtol": 1e-3, "atol": 1e-4},
}

GRADIENT = {"rtol": 1e-5, "atol": 1e-8, "step": 1e-6}


def kernel_tol(dtype):
    return KERNEL[np.dtype(dtype)]


def training_tol(dtype):
    return TRAINING[np.dtype(dtype)]
