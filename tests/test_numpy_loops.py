"""The compiled kernels' tanh, exp and softmax are NumPy's (``_numpy_loops``): the same
values as scikit-learn's ``np.tanh``/``np.exp`` formulas, bit for bit; and where NumPy's
loops cannot be used, the ``_vector_math`` fallback gives the reference's values to the
kernel tolerance. Every check of the discovery refuses when violated (simulated with
monkeypatch, never by following a bad pointer), and ``FASTMLP_NUMPY_LOOPS=0`` switches
the loops off. Each test starts with the variable unset (``loops_env``), so this file
passes whatever the caller's environment says."""

import ctypes
import json
import os
import subprocess
import sys
import sysconfig
import types
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification

import fastmlp
from fastmlp.engines import get_engine
from fastmlp.engines.numba_engine import _numpy_loops

from .tolerances import kernel_tol, training_tol

NUMBA = get_engine("numba")
REFERENCE = get_engine("numpy")
DTYPES = [np.float32, np.float64]


@pytest.fixture(autouse=True)
def loops_env(monkeypatch):
    """Start from an unset ``FASTMLP_NUMPY_LOOPS`` and a fresh discovery; leave no cached
    result behind for later tests (which then read their own environment again)."""
    monkeypatch.delenv(_numpy_loops.ENV_VAR, raising=False)
    _numpy_loops._discover.cache_clear()
    yield monkeypatch
    _numpy_loops._discover.cache_clear()


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


def sklearn_softmax(Z):
    """scikit-learn 1.9's ``softmax`` (``_base.py``), on a copy."""
    X = Z.copy()
    tmp = X - X.max(axis=1)[:, np.newaxis]
    np.exp(tmp, out=X)
    X /= X.sum(axis=1)[:, np.newaxis]
    return X


SKLEARN = {"tanh": np.tanh, "exp": np.exp, "softmax": sklearn_softmax}


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_loops_are_found(dtype):
    loops = _numpy_loops.loops(dtype)
    assert loops[_numpy_loops.TANH_LOOP] != 0 and loops[_numpy_loops.EXP_LOOP] != 0
    assert _numpy_loops.status(dtype) == {"tanh": "numpy", "exp": "numpy"}


@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (64, 10), (257, 129)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("activation", list(SKLEARN))
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_is_bit_for_bit_scikit_learns(dtype, activation, shape, rng):
    n, o = shape
    limit = 80.0 if activation == "exp" and dtype == np.float32 else 700.0 if activation == "exp" else 50.0
    A = rng.uniform(-1, 1, (n, o)).astype(dtype)
    b = rng.uniform(-limit / 2, limit / 2, o).astype(dtype)
    out = NUMBA.dense_forward(A, np.eye(o, dtype=dtype), b, activation, np.empty((n, o), dtype))
    np.testing.assert_array_equal(out, SKLEARN[activation](A @ np.eye(o, dtype=dtype) + b))


@pytest.mark.parametrize("activation", list(SKLEARN))
@pytest.mark.parametrize("dtype", DTYPES)
def test_fallback_without_numpy_loops_matches_the_reference(monkeypatch, dtype, activation, rng):
    # Zero addresses, however they come about, select the ``_vector_math`` fallback.
    asked = []
    monkeypatch.setattr(_numpy_loops, "loops", lambda dtype: asked.append(dtype) or np.zeros(4, dtype=np.int64))
    Z = rng.normal(0, 3, (33, 9)).astype(dtype)
    b = rng.normal(0, 1, 9).astype(dtype)
    got = NUMBA.dense_forward(Z, np.eye(9, dtype=dtype), b, activation, np.empty_like(Z))
    want = REFERENCE.dense_forward(Z, np.eye(9, dtype=dtype), b, activation, np.empty_like(Z))
    np.testing.assert_allclose(got, want, **kernel_tol(dtype))
    assert asked  # the engine took its addresses from ``loops``




# -- every check refuses when violated ------------------------------------------------
F64 = np.dtype(np.float64)


@pytest.fixture
def header_reads(monkeypatch):
    """Count reads of the ufunc structure, to show that a refusal came before any."""
    calls = []
    real = _numpy_loops._read_header

    def counting(ufunc):
        calls.append(ufunc)
        return real(ufunc)

    monkeypatch.setattr(_numpy_loops, "_read_header", counting)
    return calls


def _refused(ufunc, dtype, reason_part):
    loop, data, reason = _numpy_loops._probe(ufunc, dtype)
    assert (loop, data) == (0, 0)
    assert reason is not None and reason_part in reason, reason


def _refuses_before_reading(monkeypatch, header_reads, reason_part):
    _refused(np.tanh, F64, reason_part)
    assert header_reads == []
    assert _numpy_loops.loops(F64).tolist() == [0, 0, 0, 0]
    assert all(reason_part in text for text in _numpy_loops.status(F64).values())
    monkeypatch.undo()
    _numpy_loops._discover.cache_clear()
    assert _numpy_loops._find_loop(np.tanh, F64) != (0, 0)  # the same probe passes unpatched


def test_another_interpreter_is_refused(monkeypatch, header_reads):
    monkeypatch.setattr(sys, "implementation", types.SimpleNamespace(name="pypy"))
    _refuses_before_reading(monkeypatch, header_reads, "not CPython")


def test_a_free_threaded_build_is_refused(monkeypatch, header_reads):
    real = sysconfig.get_config_var
    monkeypatch.setattr(sysconfig, "get_config_var", lambda name: 1 if name == "Py_GIL_DISABLED" else real(name))
    _refuses_before_reading(monkeypatch, header_reads, "free-threaded")


def test_a_trace_refs_build_is_refused(monkeypatch, header_reads):
    monkeypatch.setattr(sys, "getobjects", lambda *args: [], raising=False)
    _refuses_before_reading(monkeypatch, header_reads, "Py_TRACE_REFS")


@pytest.mark.parametrize("version, reason", [("3.0.0", "only major versions"), ("0.9", "only major versions"),
                                             ("dev", "unparsable")])
def test_an_unknown_numpy_version_is_refused(monkeypatch, header_reads, version, reason):
    monkeypatch.setattr(np, "__version__", version)
    _refuses_before_reading(monkeypatch, header_reads, reason)


@pytest.mark.parametrize("version", ["1.26.4", "2.0.0rc1"])
def test_known_numpy_versions_pass_the_version_check(monkeypatch, version):
    monkeypatch.setattr(np, "__version__", version)
    assert _numpy_loops._runtime_problem() is None


@pytest.mark.parametrize("obj", [len, object(), np.add.reduce, np.vectorize(np.tanh), 3.0],
                         ids=["builtin", "object", "method", "vectorize", "float"])
def test_an_object_that_is_not_a_ufunc_is_refused_unread(header_reads, obj):
    _refused(obj, F64, "is not numpy.ufunc")
    assert header_reads == []


def test_a_dtype_without_a_wanted_signature_is_refused(header_reads):
    _refused(np.tanh, np.dtype(np.float16), "no float16 loop")
    _refused(np.isnan, F64, "no float64 loop")  # 'd->?': no 'd->d'
    assert header_reads == []


def test_a_structure_larger_than_the_object_is_refused(monkeypatch, header_reads):
    class Larger(ctypes.Structure):
        _fields_ = [("padding", ctypes.c_char * (np.ufunc.__basicsize__ + 8))]

    monkeypatch.setattr(_numpy_loops, "_PyUFuncObject", Larger)
    _refused(np.tanh, F64, "smaller than the structure")
    assert header_reads == []


def test_a_ufunc_of_another_shape_is_refused():
    assert _numpy_loops._find_loop(np.add, F64) == (0, 0)  # two inputs
    _refused(np.add, F64, "no float64 loop")  # 'dd->d': refused by signature, before any read
    _refused(np.modf, F64, "no float64 loop")  # two outputs, 'd->dd'


def _fake_header(monkeypatch, **fields):
    """Make ``_read_header`` return a copy of np.tanh's real structure with ``fields``
    changed. Pointers are only ever set to null or to real NumPy loops."""
    fake = _numpy_loops._PyUFuncObject.from_buffer_copy(_numpy_loops._read_header(np.tanh))
    for name, value in fields.items():
        setattr(fake, name, value(fake) if callable(value) else value)
    monkeypatch.setattr(_numpy_loops, "_read_header", lambda ufunc: fake)
    return fake


@pytest.mark.parametrize("fields, reason", [
    ({"ob_type": lambda h: id(np.ndarray)}, "type pointer"),
    ({"ob_type": lambda h: id(np.tanh)}, "type pointer"),
    ({"ob_refcnt": 0}, "reference count"),
    ({"ob_refcnt": -1}, "reference count"),
    ({"ob_refcnt": 1 << 46}, "reference count"),  # looks like an address
    ({"nin": 2}, "nin, nout, nargs"),
    ({"nout": 2}, "nin, nout, nargs"),
    ({"nargs": 3}, "nin, nout, nargs"),
    ({"ntypes": lambda h: h.ntypes + 1}, "ntypes"),
    ({"ntypes": 0}, "ntypes"),
    ({"name": b"exp"}, "name field"),
    ({"name": None}, "name field"),
    ({"functions": None}, "null functions array"),
], ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={v[k] if not callable(v[k]) else 'f'}" for k in v))
def test_a_structure_field_that_does_not_match_is_refused(monkeypatch, fields, reason):
    _fake_header(monkeypatch, **fields)
    _refused(np.tanh, F64, reason)


def test_the_unchanged_copy_of_the_structure_passes(monkeypatch):
    # The control for the test above: its fake headers differ from a passing one by the field only.
    _fake_header(monkeypatch)
    assert _numpy_loops._probe(np.tanh, F64)[2] is None


def test_the_integer_fields_are_checked_before_the_name_pointer_is_read(monkeypatch):
    # With a null name and a wrong field, the wrong field is reported: the name came later.
    _fake_header(monkeypatch, nargs=3, name=None)
    _refused(np.tanh, F64, "nin, nout, nargs")


def test_a_null_loop_is_refused(monkeypatch):
    zeros = (ctypes.c_void_p * len(np.tanh.types))()
    _fake_header(monkeypatch, functions=ctypes.cast(zeros, ctypes.POINTER(ctypes.c_void_p)))
    _refused(np.tanh, F64, "null loop")


def test_a_loop_that_does_not_compute_the_ufunc_is_refused(monkeypatch):
    tanh_loop, tanh_data = _numpy_loops._find_loop(np.tanh, F64)
    exp_loop, _ = _numpy_loops._find_loop(np.exp, F64)
    assert tanh_loop and exp_loop
    assert _numpy_loops._computes(tanh_loop, tanh_data, np.tanh, F64)
    assert not _numpy_loops._computes(tanh_loop, tanh_data, np.exp, F64)
    swapped = (ctypes.c_void_p * len(np.tanh.types))(*[exp_loop] * len(np.tanh.types))
    _fake_header(monkeypatch, functions=ctypes.cast(swapped, ctypes.POINTER(ctypes.c_void_p)), data=None)
    _refused(np.tanh, F64, "does not reproduce")


def _python_loop(compute):
    """A NumPy-style float64 inner loop written in Python (a real callable address):
    ``compute(src, same)`` gives the output, ``same`` telling whether it is in place."""
    def loop(args, dims, steps, data):
        src = np.ctypeslib.as_array(ctypes.cast(args[0], ctypes.POINTER(ctypes.c_double)), (dims[0],))
        dst = np.ctypeslib.as_array(ctypes.cast(args[1], ctypes.POINTER(ctypes.c_double)), (dims[0],))
        dst[:] = compute(src.copy(), args[0] == args[1])

    function = _numpy_loops._LOOP_TYPE(loop)
    return function, ctypes.cast(function, ctypes.c_void_p).value


@pytest.mark.parametrize("compute, right", [
    (lambda x, same: np.tanh(x), True),
    (lambda x, same: np.tanh(x) if not same else np.exp(x), False),  # wrong only in place
    (lambda x, same: np.where(np.isnan(x), 0.0, np.tanh(x)), False),  # wrong only on NaN
    (lambda x, same: np.where(np.isinf(x), 0.0, np.tanh(x)), False),  # wrong only on +-inf
    (lambda x, same: np.where(x == 0, 0.0, np.tanh(x)), False),  # wrong only on -0
    (lambda x, same: np.where(np.abs(x) < 2.3e-308, 0.0, np.tanh(x)), False),  # subnormals flushed
], ids=["tanh", "in-place", "nan", "inf", "negative-zero", "subnormal"])
def test_the_self_check_compares_bit_for_bit_out_of_place_and_in_place(compute, right):
    keep_alive, address = _python_loop(compute)
    assert _numpy_loops._computes(address, None, np.tanh, F64) is right
    del keep_alive


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_test_values_include_the_special_values(dtype):
    x = _numpy_loops._test_values(dtype)
    info = np.finfo(dtype)
    assert x.dtype == dtype
    assert np.isnan(x).any() and np.isposinf(x).any() and np.isneginf(x).any()
    assert (np.signbit(x) & (x == 0)).any() and (~np.signbit(x) & (x == 0)).any()
    subnormal = (x != 0) & (np.abs(x) < info.tiny)
    assert (subnormal & (x > 0)).any() and (subnormal & (x < 0)).any()
    with np.errstate(over="ignore"):
        e = np.exp(x)
    assert (np.isinf(e) & np.isfinite(x)).any()  # just past exp's overflow
    assert (np.isfinite(e) & (x > np.log(info.max) * 0.999)).any()  # just below it


@pytest.mark.parametrize("where", ["_read_header", "_computes", "_runtime_problem"])
def test_any_exception_during_discovery_falls_back(monkeypatch, where):
    def boom(*args):
        raise RuntimeError("simulated")

    monkeypatch.setattr(_numpy_loops, where, boom)
    _refused(np.tanh, F64, "RuntimeError during discovery")
    assert _numpy_loops.loops(F64).tolist() == [0, 0, 0, 0]


# -- the environment variable ---------------------------------------------------------
@pytest.mark.parametrize("value", ["0", "off", "OFF", "False", " no "])
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_environment_variable_switches_the_loops_off(loops_env, dtype, value):
    assert _numpy_loops.loops(dtype)[_numpy_loops.TANH_LOOP] != 0
    loops_env.setenv(_numpy_loops.ENV_VAR, value)
    assert _numpy_loops.loops(dtype)[_numpy_loops.TANH_LOOP] != 0  # cached: read at first use
    _numpy_loops._discover.cache_clear()
    assert _numpy_loops.loops(dtype).tolist() == [0, 0, 0, 0]
    assert all(f"switched off by {_numpy_loops.ENV_VAR}" in text for text in _numpy_loops.status(dtype).values())


@pytest.mark.parametrize("value", ["1", "on", "TRUE", "yes", ""])
def test_the_environment_variable_can_say_on(loops_env, value):
    loops_env.setenv(_numpy_loops.ENV_VAR, value)
    assert _numpy_loops.status(F64) == {"tanh": "numpy", "exp": "numpy"}


def test_an_unknown_environment_value_warns_and_leaves_the_loops_on(loops_env):
    loops_env.setenv(_numpy_loops.ENV_VAR, "disable")
    with pytest.warns(RuntimeWarning, match="not one of"):
        loops = _numpy_loops.loops(F64)
    assert loops[_numpy_loops.TANH_LOOP] != 0 and loops[_numpy_loops.EXP_LOOP] != 0


def test_an_unknown_environment_value_is_an_error_where_warnings_are(loops_env):
    # Not a silent switch either way: with warnings as errors, the first use raises.
    loops_env.setenv(_numpy_loops.ENV_VAR, "disable")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="not one of"):
            _numpy_loops.loops(F64)


@pytest.mark.parametrize("activation", list(SKLEARN))
@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_switched_off_by_the_environment_match_the_reference(loops_env, dtype, activation, rng):
    loops_env.setenv(_numpy_loops.ENV_VAR, "0")
    assert _numpy_loops.loops(dtype).tolist() == [0, 0, 0, 0]
    Z = rng.normal(0, 3, (33, 9)).astype(dtype)
    b = rng.normal(0, 1, 9).astype(dtype)
    got = NUMBA.dense_forward(Z, np.eye(9, dtype=dtype), b, activation, np.empty_like(Z))
    want = REFERENCE.dense_forward(Z, np.eye(9, dtype=dtype), b, activation, np.empty_like(Z))
    np.testing.assert_allclose(got, want, **kernel_tol(dtype))


def _fit(dtype):
    """A short tanh fit (and its X), in this process or in the child of the test below."""
    X, y = make_classification(n_samples=200, n_features=12, n_informative=6, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fastmlp.MLPClassifier((16,), activation="tanh", max_iter=3, random_state=0)
        model.fit(X.astype(dtype), y)
    return model, X.astype(dtype)


def _child_main():
    """Print, as JSON, ``_fit``'s result and ``status`` per dtype."""
    out = {}
    for name in ("float32", "float64"):
        model, X = _fit(np.dtype(name))
        out[name] = {"status": _numpy_loops.status(name), "coefs": [c.tolist() for c in model.coefs_],
                     "intercepts": [b.tolist() for b in model.intercepts_], "predict": model.predict(X).tolist()}
    json.dump(out, sys.stdout)


def test_a_fit_in_a_process_with_the_loops_switched_off():
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, **{_numpy_loops.ENV_VAR: "0"})
    child = subprocess.run([sys.executable, "-c", "from tests.test_numpy_loops import _child_main; _child_main()"],
                           capture_output=True, text=True, timeout=600, env=env, cwd=root, check=True)
    off = json.loads(child.stdout)
    for name in ("float32", "float64"):
        assert set(off[name]["status"]) == {"tanh", "exp"}
        status = off[name]["status"]
        assert all(f"switched off by {_numpy_loops.ENV_VAR}" in text for text in status.values()), status
        assert _numpy_loops.status(name) == {"tanh": "numpy", "exp": "numpy"}  # this process: on
        model, X = _fit(np.dtype(name))
        assert model.coefs_[0].dtype == name
        for got, want in zip(off[name]["coefs"] + off[name]["intercepts"], model.coefs_ + model.intercepts_):
            np.testing.assert_allclose(np.array(got, dtype=name), want, **training_tol(name))
        np.testing.assert_array_equal(off[name]["predict"], model.predict(X))


_SWITCH_IN_ONE_PROCESS = r"""
import os, sys, warnings
import numpy as np
import fastmlp
from fastmlp.engines.numba_engine import _numpy_loops
rng = np.random.default_rng(0)
X, y = rng.normal(size=(60, 5)).astype(np.float32), np.arange(60) % 3
for setting in sys.argv[1:]:
    os.environ[_numpy_loops.ENV_VAR] = setting
    _numpy_loops._discover.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fastmlp.MLPClassifier((6,), activation="tanh", solver="sgd", max_iter=2, random_state=0).fit(X, y).predict(X)
    print(setting, _numpy_loops.status(np.float32)["tanh"], flush=True)
"""


@pytest.mark.parametrize("settings", [("1", "0"), ("0", "1")], ids=["on-then-off", "off-then-on"])
def test_switching_the_loops_within_a_process_trains_on(settings):
    """The compiled epoch's kernels are chosen with the loop addresses it is given: a
    kernel that calls NumPy's loops must never receive the zeros of a switched-off process
    (that was a call to address 0, a segfault). Run in a child process so a crash is a
    failure, not the end of the test run."""
    child = subprocess.run([sys.executable, "-c", _SWITCH_IN_ONE_PROCESS, *settings], capture_output=True, text=True,
                           timeout=600)
    assert child.returncode == 0, child.stderr[-2000:]
    lines = child.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(settings)
    assert [("numpy" in line) for line in lines] == [s == "1" for s in settings]
