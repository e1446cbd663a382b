"""The vectorizable scalar functions of ``fastmlp.engines.numba_engine._vector_math`` hold the accuracy
their module states, measured in units in the last place (ulp) of float64 against
x87 long double (64-bit mantissa) references, and give IEEE special values."""

import numpy as np
import pytest

from fastmlp._numba_options import kernel
from fastmlp.engines.numba_engine import _vector_math as vm

FUNCTIONS = {"exp": 0, "tanh": 1, "log": 2, "expm1": 3, "log1p": 4}
#: The module docstring's bounds.
MAX_ULP = {"exp": 2, "tanh": 2, "log": 1, "expm1": 5, "log1p": 2}
REFERENCE = {"exp": np.exp, "tanh": np.tanh, "log": np.log, "expm1": np.expm1, "log1p": np.log1p}

pytestmark = pytest.mark.skipif(np.finfo(np.longdouble).nmant < 60, reason="needs an extended-precision long double")


@kernel
def _apply(code, x, out):
    for k in range(x.shape[0]):
        v = x[k]
        if code == 0:
            out[k] = vm.exp(v)
        elif code == 1:
            out[k] = vm.tanh(v)
        elif code == 2:
            out[k] = vm.log(v)
        elif code == 3:
            out[k] = vm.expm1(v)
        else:
            out[k] = vm.log1p(v)


def apply(name, x):
    out = np.empty_like(x)
    _apply(FUNCTIONS[name], x, out)
    return out


def domain(name, rng):
    """Values over the function's whole finite range, log-uniform in magnitude, plus a
    dense sample where approximations switch (|x| < 1)."""
    spread = 10.0 ** rng.uniform(-310, 308, 20000)
    near = rng.uniform(-1.5, 1.5, 20000)
    if name in ("log", "log1p"):
        return np.concatenate([spread, np.abs(near), 10.0 ** rng.uniform(-20, 0, 5000)])
    limit = 709.0 if name in ("exp", "expm1") else 30.0
    signs = rng.choice([-1.0, 1.0], spread.size)
    return np.concatenate([np.clip(spread * signs, -745.0, limit), near, rng.uniform(-limit, limit, 20000)])


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_accuracy_in_ulp(name):
    rng = np.random.default_rng(FUNCTIONS[name])
    x = domain(name, rng)
    got = apply(name, x)
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        want = REFERENCE[name](x.astype(np.longdouble))
    # The reference rounded to float64 is the correctly rounded result (its own error,
    # ~1e-19 relative, is far below half an ulp of float64).
    want64 = want.astype(np.float64)
    normal = np.isfinite(want64) & (np.abs(want64) >= np.finfo(np.float64).tiny)
    ulps = np.abs(got[normal] - want64[normal]) / np.spacing(np.abs(want64[normal]))
    assert ulps.max() <= MAX_ULP[name], f"{name}: {ulps.max()} ulp at x = {x[normal][np.argmax(ulps)]!r}"


SPECIALS = {
    "exp": [(0.0, 1.0), (-np.inf, 0.0), (np.inf, np.inf), (710.0, np.inf), (-746.0, 0.0), (np.nan, np.nan)],
    "tanh": [(0.0, 0.0), (np.inf, 1.0), (-np.inf, -1.0), (40.0, 1.0), (5e-324, 5e-324), (np.nan, np.nan)],
    "log": [(1.0, 0.0), (0.0, -np.inf), (-1.0, np.nan), (np.inf, np.inf), (5e-324, np.log(5e-324)),
            (np.nan, np.nan)],
    "expm1": [(0.0, 0.0), (-np.inf, -1.0), (np.inf, np.inf), (-50.0, -1.0), (710.0, np.inf), (5e-324, 5e-324),
              (np.nan, np.nan)],
    "log1p": [(0.0, 0.0), (5e-324, 5e-324), (np.inf, np.inf), (1e-300, 1e-300), (np.nan, np.nan)],
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_special_values(name):
    x = np.array([v for v, _ in SPECIALS[name]])
    want = np.array([w for _, w in SPECIALS[name]])
    np.testing.assert_array_equal(apply(name, x), want)
