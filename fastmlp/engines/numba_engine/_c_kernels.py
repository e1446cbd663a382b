"""The kernels that depend on an activation, a loss or a solver, as C functions.

Each factory compiles one choice for one dtype combination, on first use, as a Numba
``cfunc`` (cached like every kernel), and returns it: the compiled epoch calls it by
address (``_c_calls.call_address``), the public wrappers through ctypes. The epoch itself
is compiled once per dtype combination, so a fit compiles the epoch and the few kernels
of its own activation, loss and solver, and nothing else (a default classifier: relu,
softmax, log-loss, relu's derivative, Adam).

Signatures (the convention of ``_c_calls``: arrays as ``void *`` to C-contiguous data,
integers as ``intp``, floats as ``double``, no return value):

- ``activation``: ``(Z, b, n, o, loops)``: Z (n, o) = f(Z + b) in place, b (o,);
  loops (4,) int64 ``_numpy_loops.loops(dtype)``, read only by the NumPy-loops variants.
- ``derivative``: ``(A, delta, size)``: delta *= f'(A) in place, both of ``size`` elements.
- ``loss``: ``(out, Y, sw, n, o, weighted, clip_eps, delta, result)``: out, Y and delta
  (n, o), sw (n,) float64 read where weighted != 0; writes delta = (out - Y) * sw and the
  batch's loss into result (1,) float64.
- ``optimizer_step``: ``(params, grads, state1, state2, n, hyperparameters, t)``: one
  update of params (n,); SGD: state1 the velocity, hyperparameters (lr, momentum,
  nesterov); Adam: state1 and state2 its moments, hyperparameters (learning_rate_init,
  beta_1, beta_2, epsilon), t the step count after this step.
"""

import functools
import threading

import numpy as np
from numba import carray, types

from ..._numba_options import c_kernel
from .._names import SGD
from ._activations import apply_derivative, bias_activation
from ._losses import output_delta
from ._optimizer_steps import adam_step, bias_corrected_rate, sgd_step

_PTR, _INT, _FLOAT = types.voidptr, types.intp, types.float64


_LOCK = threading.Lock()


def _compiled_once(factory):
    """``factory`` memoized under a lock: one C function per key for the life of the
    process. The epoch holds bare addresses, so the function behind an address must
    never be freed, nor compiled twice by threads racing (``functools.lru_cache`` would
    let the second overwrite the first while an address of the first is in use)."""
    made = {}

    @functools.wraps(factory)
    def get(*key):
        try:
            return made[key]
        except KeyError:
            pass
        with _LOCK:
            if key not in made:
                made[key] = factory(*key)
            return made[key]

    return get


def _scalar(dtype):
    """The NumPy scalar type of ``dtype`` (a closure constant that pickles by name, so
    that Numba's cache recognises the kernel in every process). Factories take dtypes
    (``np.dtype`` objects or names) and are cached by them: ``dtype.name`` costs
    microseconds, a dtype's hash does not."""
    return np.dtype(dtype).type


@_compiled_once
def activation(code, dtype, numpy_loops):
    """C kernel for Z = f(Z + b); numpy_loops: call NumPy's tanh/exp loops (else the
    ``_vector_math`` fallback is compiled in)."""
    dt = _scalar(dtype)

    if numpy_loops:
        def activation_kernel(Z_ptr, b_ptr, n, o, loops_ptr):
            bias_activation(carray(Z_ptr, (n, o), dt), carray(b_ptr, (o,), dt), code,
                            carray(loops_ptr, (4,), np.int64))
    else:
        def activation_kernel(Z_ptr, b_ptr, n, o, loops_ptr):
            bias_activation(carray(Z_ptr, (n, o), dt), carray(b_ptr, (o,), dt), code, None)

    return c_kernel(types.void(_PTR, _PTR, _INT, _INT, _PTR))(activation_kernel)


@_compiled_once
def derivative(code, a_dtype, delta_dtype):
    """C kernel for delta *= f'(A), A of a_dtype, delta of delta_dtype."""
    a_dt, d_dt = _scalar(a_dtype), _scalar(delta_dtype)

    def derivative_kernel(A_ptr, delta_ptr, size):
        apply_derivative(carray(A_ptr, (1, size), a_dt), carray(delta_ptr, (1, size), d_dt), code)

    return c_kernel(types.void(_PTR, _PTR, _INT))(derivative_kernel)


@_compiled_once
def loss(loss_code, out_dtype, delta_dtype):
    """C kernel for the batch's loss and output delta; Y and delta of delta_dtype."""
    o_dt, d_dt = _scalar(out_dtype), _scalar(delta_dtype)

    def loss_kernel(out_ptr, Y_ptr, sw_ptr, n, o, weighted, clip_eps, delta_ptr, result_ptr):
        out = carray(out_ptr, (n, o), o_dt)
        Y = carray(Y_ptr, (n, o), d_dt)
        delta = carray(delta_ptr, (n, o), d_dt)
        result = carray(result_ptr, (1,), np.float64)
        if weighted != 0:
            result[0] = output_delta(out, Y, carray(sw_ptr, (n,), np.float64), loss_code, clip_eps, delta)
        else:
            result[0] = output_delta(out, Y, None, loss_code, clip_eps, delta)

    signature = types.void(_PTR, _PTR, _PTR, _INT, _INT, _INT, _FLOAT, _PTR, _PTR)
    return c_kernel(signature)(loss_kernel)


@_compiled_once
def optimizer_step(solver, params_dtype, state_dtype):
    """C kernel for one SGD or Adam update; grads and state of state_dtype."""
    p_dt, s_dt = _scalar(params_dtype), _scalar(state_dtype)

    if solver == SGD:
        def step_kernel(params_ptr, grads_ptr, state1_ptr, state2_ptr, n, hyper_ptr, t):
            hyper = carray(hyper_ptr, (4,), np.float64)
            sgd_step(carray(params_ptr, (n,), p_dt), carray(grads_ptr, (n,), s_dt), carray(state1_ptr, (n,), s_dt),
                     hyper[0], hyper[1], hyper[2] != 0.0)
    else:
        def step_kernel(params_ptr, grads_ptr, state1_ptr, state2_ptr, n, hyper_ptr, t):
            hyper = carray(hyper_ptr, (4,), np.float64)
            rate = bias_corrected_rate(hyper[0], hyper[1], hyper[2], t)
            adam_step(carray(params_ptr, (n,), p_dt), carray(grads_ptr, (n,), s_dt), carray(state1_ptr, (n,), s_dt),
                      carray(state2_ptr, (n,), s_dt), rate, hyper[1], hyper[2], hyper[3])

    return c_kernel(types.void(_PTR, _PTR, _PTR, _PTR, _INT, _PTR, _INT))(step_kernel)
