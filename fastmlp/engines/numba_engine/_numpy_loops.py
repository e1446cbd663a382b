"""NumPy's own inner loops for tanh and exp, called from compiled kernels.

scikit-learn computes tanh layers and softmax with ``np.tanh``/``np.exp``, whose loops
are SIMD code chosen for the CPU at import. Calling those same loops from the kernels
gives scikit-learn's values bit for bit, at NumPy's speed. A ufunc's loops are found
through NumPy's C structure ``PyUFuncObject`` (its ``functions`` and ``data`` arrays,
indexed like ``ufunc.types``), read with ctypes at first use of ``loops()``, never at
import. Kernels get the addresses at run time, never as compile-time constants, so that
Numba's cache stays valid in every process.

Validated, in this order, before any pointer read from the structure is followed: the
interpreter is CPython, neither free-threaded (``Py_GIL_DISABLED``) nor built with
``Py_TRACE_REFS`` (both change the object header); NumPy's major version is 1 or 2; the
object is exactly an ``np.ufunc`` and its type is at least as large as the structure
read; the header's ``ob_type`` is ``type(ufunc)`` and ``ob_refcnt`` is positive and
plausible; ``nin == 1``, ``nout == 1``, ``nargs == 2``, ``ntypes == len(ufunc.types)``
and the wanted signature is among ``ufunc.types``. Only then are the ``name`` field
(which must equal the ufunc's name) and the loop pointer (which must be non-null) read.
Last, the loop is run on a test array (wide range, ±0, ±inf, NaN, subnormals, values
around exp's overflow), out of place and in place, and must reproduce the ufunc bit for bit.

Fallback: any failed check, and any exception during discovery, gives address 0 for that
ufunc and dtype; the kernels then use ``_vector_math`` (the reference's values to the
kernel tolerance, not bit for bit). Nothing is raised to the user. ``status(dtype)``
says, per ufunc, whether NumPy's loop is used and, if not, why.

Environment variable ``FASTMLP_NUMPY_LOOPS``: ``0``, ``off``, ``false`` or ``no``
(case-insensitive, surrounding spaces ignored) switch NumPy's loops off, so every kernel
uses the fallback; unset, empty, ``1``, ``on``, ``true`` or ``yes`` leave them on; any
other value also leaves them on, and emits a ``RuntimeWarning`` (an error where warnings
are errors). It is read at first use of ``loops()`` in a process (the result is cached;
``_discover.cache_clear()`` re-reads it).
"""

import ctypes
import functools
import os
import sys
import sysconfig
import warnings

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: Positions in the array ``loops(dtype)`` returns: (loop, data) address pairs.
TANH_LOOP, EXP_LOOP = 0, 2

#: The environment variable that switches NumPy's loops off, and its values.
ENV_VAR = "FASTMLP_NUMPY_LOOPS"
_OFF_VALUES = frozenset({"0", "off", "false", "no"})
_ON_VALUES = frozenset({"", "1", "on", "true", "yes"})

#: NumPy major versions whose ``PyUFuncObject`` starts with the fields below.
_KNOWN_NUMPY_MAJORS = (1, 2)

_SIGNATURES = {np.dtype(np.float32): "f->f", np.dtype(np.float64): "d->d"}
_UFUNCS = {"tanh": np.tanh, "exp": np.exp}  # in the order of the slots of ``loops()``


class _PyUFuncObject(ctypes.Structure):
    """The leading fields of NumPy's ``PyUFuncObject`` (numpy/ufuncobject.h, NumPy 1 and
    2), after a default-build CPython ``PyObject_HEAD``."""

    _fields_ = [
        ("ob_refcnt", ctypes.c_ssize_t),
        ("ob_type", ctypes.c_void_p),
        ("nin", ctypes.c_int),
        ("nout", ctypes.c_int),
        ("nargs", ctypes.c_int),
        ("identity", ctypes.c_int),
        ("functions", ctypes.POINTER(ctypes.c_void_p)),
        ("data", ctypes.POINTER(ctypes.c_void_p)),
        ("ntypes", ctypes.c_int),
        ("reserved1", ctypes.c_int),
        ("name", ctypes.c_char_p),
    ]


_LOOP_TYPE = ctypes.CFUNCTYPE(None, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_ssize_t),
                              ctypes.POINTER(ctypes.c_ssize_t), ctypes.c_void_p)


def _read_environment():
    """(why ``FASTMLP_NUMPY_LOOPS`` switches NumPy's loops off or None, a warning for an
    unknown value or None)."""
    raw = os.environ.get(ENV_VAR)
    value = "" if raw is None else raw.strip().lower()
    if value in _OFF_VALUES:
        return f"switched off by {ENV_VAR}={raw!r}", None
    if value not in _ON_VALUES:
        return None, (f"{ENV_VAR}={raw!r} is not one of 0/off/false/no (off) or 1/on/true/yes (on); "
                      "NumPy's loops stay on")
    return None, None


def _runtime_problem():
    """Why this interpreter or NumPy cannot be trusted with the structure, or None."""
    if sys.implementation.name != "cpython":
        return f"interpreter is {sys.implementation.name}, not CPython"
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return "free-threaded CPython build (different object header)"
    if hasattr(sys, "getobjects"):
        return "CPython built with Py_TRACE_REFS (different object header)"
    try:
        major = int(np.__version__.split(".")[0])
    except ValueError:
        return f"unparsable NumPy version {np.__version__!r}"
    if major not in _KNOWN_NUMPY_MAJORS:
        return f"NumPy {np.__version__}: only major versions {_KNOWN_NUMPY_MAJORS} are known"
    return None


def _read_header(ufunc):
    """The structure at ``ufunc``'s address (a view, not a copy). A seam for the tests."""
    return _PyUFuncObject.from_address(id(ufunc))


def _test_values(dtype):
    """Values the loop must reproduce bit for bit: a wide range, then special values."""
    info = np.finfo(dtype)
    log_max = float(np.log(info.max))
    wide = np.linspace(-30.0, 30.0, 1001)
    with np.errstate(all="ignore"):
        scales = np.geomspace(float(info.smallest_subnormal), float(info.max), 257)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, float(info.smallest_subnormal),
               -float(info.smallest_subnormal), float(info.tiny), -float(info.tiny), float(info.tiny) / 3,
               float(info.max), -float(info.max), float(info.eps), 1.0, -1.0, 0.5, -0.5,
               log_max, -log_max, 745.2, -745.2, 103.0, -103.0, 88.7, 88.8, 709.7, 709.8, 19.0, -19.0, 9.0, -9.0]
    with np.errstate(over="ignore"):
        values = np.concatenate([wide, scales, -scales, special]).astype(dtype)
        near = np.array([log_max, -log_max, np.log(float(info.tiny))], dtype)
        around = [np.nextafter(near, np.full_like(near, direction)) for direction in (np.inf, -np.inf)]
    return np.concatenate([values, near, *around])


def _run(loop, data, src, dst):
    args = (ctypes.c_void_p * 2)(src.ctypes.data, dst.ctypes.data)
    dims = (ctypes.c_ssize_t * 1)(src.size)
    steps = (ctypes.c_ssize_t * 2)(src.itemsize, dst.itemsize)
    _LOOP_TYPE(loop)(args, dims, steps, data)


def _computes(loop, data, ufunc, dtype):
    """Whether the inner loop at ``loop`` computes what ``ufunc`` does, bit for bit, on
    ``_test_values``, out of place and in place (as the kernels call it)."""
    x = _test_values(dtype)
    with np.errstate(all="ignore"):
        want = ufunc(x)
        out = np.empty_like(x)
        _run(loop, data, x, out)
        inplace = x.copy()
        _run(loop, data, inplace, inplace)
    return bool(np.array_equal(out.view(np.uint8), want.view(np.uint8))
                and np.array_equal(inplace.view(np.uint8), want.view(np.uint8)))


def _probe(ufunc, dtype):
    """(loop address, data address, None) of ``ufunc``'s loop for ``dtype``, or
    (0, 0, reason) unless every check of the module docstring passes."""
    try:
        problem = _runtime_problem()
        if problem:
            return 0, 0, problem
        if type(ufunc) is not np.ufunc:
            return 0, 0, f"{type(ufunc).__name__} is not numpy.ufunc"
        if type(ufunc).__basicsize__ < ctypes.sizeof(_PyUFuncObject):
            return 0, 0, "numpy.ufunc objects are smaller than the structure read"
        signature = _SIGNATURES.get(np.dtype(dtype))
        if signature is None or signature not in ufunc.types:
            return 0, 0, f"{ufunc.__name__} has no {np.dtype(dtype)} loop"
        index = ufunc.types.index(signature)
        header = _read_header(ufunc)
        if header.ob_type != id(type(ufunc)):
            return 0, 0, "object header's type pointer is not numpy.ufunc"
        if not 0 < header.ob_refcnt <= max(sys.getrefcount(ufunc), 1 << 32):
            return 0, 0, f"implausible reference count {header.ob_refcnt}"
        if (header.nin, header.nout, header.nargs) != (1, 1, 2):
            return 0, 0, f"nin, nout, nargs = {header.nin, header.nout, header.nargs}, not (1, 1, 2)"
        if header.ntypes != len(ufunc.types) or not 0 <= index < header.ntypes:
            return 0, 0, f"ntypes = {header.ntypes}, not len(ufunc.types) = {len(ufunc.types)}"
        # Integer fields passed: now the pointers may be followed.
        if header.name != ufunc.__name__.encode():
            return 0, 0, f"name field {header.name!r} is not {ufunc.__name__!r}"
        if not header.functions:
            return 0, 0, "null functions array"
        loop = header.functions[index] or 0
        data = (header.data[index] or 0) if header.data else 0
        if not loop:
            return 0, 0, f"null loop for {signature}"
        if not _computes(loop, data, ufunc, dtype):
            return 0, 0, f"loop for {signature} does not reproduce {ufunc.__name__} bit for bit"
        return loop, data, None
    except Exception as error:  # noqa: BLE001 -- discovery must never reach the user
        return 0, 0, f"{type(error).__name__} during discovery: {error}"


def _find_loop(ufunc, dtype):
    """(loop address, data address) of ``ufunc``'s loop for ``dtype``, or (0, 0)."""
    return _probe(ufunc, dtype)[:2]


@functools.cache
def _discover(dtype):
    """(the array ``loops`` returns, {ufunc name: None or why not}) for a dtype."""
    try:
        off, unknown = _read_environment()
    except Exception as error:  # noqa: BLE001
        off, unknown = f"{type(error).__name__} reading {ENV_VAR}: {error}", None
    found = {name: (0, 0, off) if off else _probe(ufunc, dtype) for name, ufunc in _UFUNCS.items()}
    addresses = np.array([address for loop, data, _ in found.values() for address in (loop, data)], dtype=np.int64)
    if unknown:  # outside any try: the warning filters decide, the decision above stands
        warnings.warn(unknown, RuntimeWarning, stacklevel=3)
    return addresses, {name: reason for name, (_, _, reason) in found.items()}


def loops(dtype):
    """int64 array (4,): tanh's loop and data addresses at ``TANH_LOOP``, exp's at
    ``EXP_LOOP`` (0 where NumPy's loop is not used), for float32 or float64."""
    return _discover(np.dtype(dtype))[0]


def status(dtype):
    """{"tanh": ..., "exp": ...} for ``dtype``: "numpy" where the kernels run NumPy's own
    loop, else "fallback: " and the reason (the kernels then use ``_vector_math``)."""
    reasons = _discover(np.dtype(dtype))[1]
    return {name: "numpy" if reason is None else f"fallback: {reason}" for name, reason in reasons.items()}


@intrinsic
def call_unary_loop(typingctx, loop, data, src, dst):
    """Run the NumPy inner loop at address ``loop`` (with its ``data``) from the 1-D
    contiguous array src into dst (the same length; dst may be src)."""
    sig = types.void(types.intp, types.intp, src, dst)

    def codegen(context, builder, signature, args):
        loop_addr, data_addr, src_val, dst_val = args
        src_arr = context.make_array(signature.args[2])(context, builder, src_val)
        dst_arr = context.make_array(signature.args[3])(context, builder, dst_val)
        byte_ptr = ir.IntType(8).as_pointer()
        intp = context.get_value_type(types.intp)
        index = [ir.Constant(ir.IntType(32), i) for i in range(2)]
        argv = cgutils.alloca_once(builder, byte_ptr, size=2)
        builder.store(builder.bitcast(src_arr.data, byte_ptr), builder.gep(argv, [index[0]]))
        builder.store(builder.bitcast(dst_arr.data, byte_ptr), builder.gep(argv, [index[1]]))
        dims = cgutils.alloca_once(builder, intp, size=1)
        builder.store(builder.extract_value(src_arr.shape, 0), dims)
        steps = cgutils.alloca_once(builder, intp, size=2)
        for i, array_type in enumerate(signature.args[2:]):
            itemsize = context.get_abi_sizeof(context.get_data_type(array_type.dtype))
            builder.store(context.get_constant(types.intp, itemsize), builder.gep(steps, [index[i]]))
        fn_type = ir.FunctionType(ir.VoidType(), [byte_ptr.as_pointer(), intp.as_pointer(), intp.as_pointer(),
                                                  byte_ptr])
        fn = builder.inttoptr(loop_addr, fn_type.as_pointer())
        builder.call(fn, [argv, dims, steps, builder.inttoptr(data_addr, byte_ptr)])
        return context.get_dummy_value()

    return sig, codegen
