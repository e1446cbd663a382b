"""Views of a flat buffer that hold no reference, for compiled code.

The compiled epoch keeps every activation, delta and parameter of a network in a few flat
buffers and takes per-layer views of them with these. A NumPy-style view (a slice, a
reshape) carries a reference to its buffer whose count is updated atomically whenever the
view is made or dropped; these views carry none, so making one is a few register moves,
and compiling one is cheap (the epoch built lists of per-layer slices before, which took
about a quarter of its compile time). The caller keeps the buffer alive for as long as
the view is used and keeps offset and shape inside it: nothing is checked.
"""

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


def _view(context, builder, signature, args, shape):
    buf_type = signature.args[0]
    view_type = signature.return_type
    buf = make_array(buf_type)(context, builder, args[0])
    intp = types.intp
    offset = context.cast(builder, args[1], signature.args[1], intp)
    dims = [context.cast(builder, value, ty, intp) for value, ty in shape]
    itemsize = context.get_constant(intp, context.get_abi_sizeof(context.get_data_type(view_type.dtype)))
    strides = [itemsize]
    for dim in reversed(dims[1:]):
        strides.insert(0, builder.mul(strides[0], dim))
    view = make_array(view_type)(context, builder)
    populate_array(view, data=builder.gep(buf.data, [offset]), shape=cgutils.pack_array(builder, dims),
                   strides=cgutils.pack_array(builder, strides), itemsize=itemsize, meminfo=None)
    return view._getvalue()


@intrinsic
def view1d(typingctx, buf, offset, n):
    """``buf[offset:offset + n]``, C-contiguous, without a reference to ``buf``.

    buf : 1-D C-contiguous array; offset, n : integers (elements).
    """
    sig = types.Array(buf.dtype, 1, "C")(buf, offset, n)

    def codegen(context, builder, signature, args):
        return _view(context, builder, signature, args, [(args[2], signature.args[2])])

    return sig, codegen


@intrinsic
def view2d(typingctx, buf, offset, rows, cols):
    """``buf[offset:offset + rows * cols].reshape(rows, cols)``, C-contiguous, without a
    reference to ``buf``.

    buf : 1-D C-contiguous array; offset, rows, cols : integers (elements).
    """
    sig = types.Array(buf.dtype, 2, "C")(buf, offset, rows, cols)

    def codegen(context, builder, signature, args):
        return _view(context, builder, signature, args,
                     [(args[2], signature.args[2]), (args[3], signature.args[3])])

    return sig, codegen
