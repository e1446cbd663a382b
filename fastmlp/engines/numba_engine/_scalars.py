"""Scalar and dtype helpers of the kernels: NumPy's conversion of Python scalars, a
dtype-converting view, and exact reciprocals of powers of two."""

import numpy as np
from numba import errors, types
from numba.extending import intrinsic, overload

from ..._numba_options import inlined_kernel


@intrinsic
def like(typingctx, value, array):
    """``value`` converted to ``array``'s dtype, as NumPy converts a Python scalar in
    ``array * value``, without allocating."""
    sig = array.dtype(value, array)

    def codegen(context, builder, signature, args):
        return context.cast(builder, args[0], signature.args[0], signature.return_type)

    return sig, codegen


def as_dtype_of(a, buffer):
    """``a`` where it already has ``buffer``'s dtype (no copy), else ``buffer`` (of a's
    shape, 2-D) holding a's values converted. Compiled code only: the overload below picks
    the branch from the types, so the common same-dtype case costs nothing."""
    raise NotImplementedError("for compiled code")


@overload(as_dtype_of)
def _as_dtype_of_overload(a, buffer):
    if a.dtype == buffer.dtype:
        return lambda a, buffer: a

    def convert(a, buffer):
        n, m = a.shape
        for i in range(n):
            for j in range(m):
                buffer[i, j] = a[i, j]
        return buffer

    return convert


@inlined_kernel
def exact_reciprocal(denom):
    """1 / denom (float64) when that is exact, denom a power of two as batch sizes often
    are, so that multiplying by it rounds as dividing by denom; 0.0 otherwise."""
    n = np.int64(denom)
    return 1.0 / denom if n > 0 and np.float64(n) == denom and (n & (n - 1)) == 0 else 0.0


def same_dtype(a, b):
    """Whether arrays a and b have one dtype, a constant of compiled code (Numba cannot
    compare dtypes at run time). Compiled code only."""
    raise NotImplementedError("for compiled code")


@overload(same_dtype)
def _same_dtype_overload(a, b):
    same = a.dtype == b.dtype
    return lambda a, b: same


def literal_code(code, what):
    """The value of a compile-time constant integer argument's type ``code``; a typing
    error naming ``what`` when the argument is not a constant."""
    if not isinstance(code, types.IntegerLiteral):
        raise errors.TypingError(f"the {what} code must be a compile-time constant, got {code}")
    return code.literal_value
