"""``forward`` for a few rows, with fewer Python steps (prediction's fast path).

``numba_engine.forward`` checks every buffer and looks up its C kernel on every layer of
every call, and hands the kernel its arrays through ``ndarray.ctypes``; before it,
``_forward_pass_fast`` converts the weights. On one row that is most of the time. This is
the same computation for weights that need no conversion: per layer a new output array,
NumPy's ``matmul`` into it (the same BLAS call, so the same rounding), then the engine's
own C kernel of Z = f(Z + b), called by address from one small compiled function that
takes the arrays as they are (a Numba dispatcher call costs less than a pointer from
``ndarray.ctypes``). ``fastmlp._fast_predict`` imports it on first use only (it imports Numba).

Numba's cache does not see edits to ``_c_calls.call_address`` (numba#1833): after editing
it, delete the cached machine code as the README says.
"""

import functools

import numpy as np

from ..._numba_options import kernel
from .._names import ACTIVATION_CODES
from . import _c_kernels, _calls_numpy_loops, _numpy_loops
from ._c_calls import call_address

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


@kernel
def _bias_activation(address, Z, b, loops_address):
    """Z = f(Z + b) in place by the C kernel at ``address`` (``_c_kernels.activation``'s
    signature). Z (n, o) and b (o,) C-contiguous of the kernel's dtype; loops_address:
    the address of ``_numpy_loops.loops(dtype)``, passed as the pointer it is."""
    call_address(address, (Z, b, Z.shape[0], Z.shape[1], loops_address))


@functools.lru_cache(maxsize=None)
def _activation_kernel(name, dtype):
    """(kernel address, loops address, loops) for Z = f(Z + b) in ``dtype``: the C kernel
    ``numba_engine.dense_forward`` calls and the NumPy-loop table it passes (held here, so
    that its address stays valid); None for a name that is no activation."""
    if name not in ACTIVATION_CODES:
        return None
    loops = _numpy_loops.loops(dtype)
    address = _c_kernels.activation(ACTIVATION_CODES[name], dtype, _calls_numpy_loops(loops)).address
    return address, loops.ctypes.data, loops


def forward(coefs, intercepts, X, activation, out_activation):
    """``numba_engine.forward(coefs, intercepts, X, activation, out_activation)``, bit for
    bit, where every array is what its C kernels may be handed: X (n, i) and each weight
    matrix and intercept a C-contiguous ndarray of one float dtype, of matching shapes.
    Otherwise (or for an unknown activation) None: the caller converts and calls the
    engine, which raises what it raises."""
    dtype = X.dtype
    if dtype not in _FLOATS or X.ndim != 2 or not coefs or len(coefs) != len(intercepts):
        return None
    A = X
    last = len(coefs) - 1
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        if not (type(W) is np.ndarray and W.dtype == dtype and W.ndim == 2 and W.flags.c_contiguous
                and type(b) is np.ndarray and b.dtype == dtype and b.flags.c_contiguous
                and W.shape[0] == A.shape[1] and b.shape == W.shape[1:]):
            return None
        kernel = _activation_kernel(out_activation if layer == last else activation, dtype)
        if kernel is None:
            return None
        address, loops_address, _ = kernel
        Z = np.empty((A.shape[0], W.shape[1]), dtype)
        np.matmul(A, W, out=Z)
        _bias_activation(address, Z, b, loops_address)
        A = Z
    return A
