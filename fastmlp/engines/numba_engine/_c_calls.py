"""Calling a compiled C function by its address from a kernel.

The compiled epoch is compiled once per dtype combination and calls the kernels that
depend on the activation, loss and solver (``_c_kernels``) by address: those are Numba
``cfunc``s compiled only when a fit uses them, so adding an activation to a fit compiles
that activation, not another epoch. Addresses reach the epoch at run time (an int64
array), never as compile-time constants, so that Numba's cache stays valid in every
process.

C signature convention, shared with ``_c_kernels``: the function returns nothing; each
array argument is passed as a pointer to its first element (``void *``; C-contiguous
arrays or views only), each integer as ``intp`` and each float as ``double``.
"""

from llvmlite import ir
from numba import types
from numba.core import errors
from numba.extending import intrinsic


def _arg_kind(ty):
    if isinstance(ty, types.Array):
        return "array"
    if isinstance(ty, (types.Integer, types.Boolean)):
        return "int"
    if isinstance(ty, types.Float):
        return "float"
    raise errors.TypingError(f"call_address: unsupported argument type {ty}")


@intrinsic
def call_address(typingctx, address, args):
    """Call the C function at ``address`` (int) with the tuple ``args`` (arrays, integers,
    floats), converted by the convention above."""
    if not isinstance(args, types.BaseTuple):
        raise errors.TypingError("call_address: args must be a tuple")
    kinds = [_arg_kind(ty) for ty in args]
    sig = types.void(types.intp, args)

    def codegen(context, builder, signature, llargs):
        address_val, tuple_val = llargs
        byte_ptr = ir.IntType(8).as_pointer()
        intp = context.get_value_type(types.intp)
        values, ll_types = [], []
        for i, (kind, ty) in enumerate(zip(kinds, signature.args[1])):
            value = builder.extract_value(tuple_val, i)
            if kind == "array":
                array = context.make_array(ty)(context, builder, value)
                values.append(builder.bitcast(array.data, byte_ptr))
                ll_types.append(byte_ptr)
            elif kind == "int":
                values.append(context.cast(builder, value, ty, types.intp))
                ll_types.append(intp)
            else:
                values.append(context.cast(builder, value, ty, types.float64))
                ll_types.append(ir.DoubleType())
        fn_type = ir.FunctionType(ir.VoidType(), ll_types)
        fn = builder.inttoptr(context.cast(builder, address_val, signature.args[0], types.intp), fn_type.as_pointer())
        builder.call(fn, values)
        return context.get_dummy_value()

    return sig, codegen


