"""A cold first fit: its C kernels compiled by a helper process while this one compiles
the epoch.

Numba compiles in one thread at a time, so on an empty cache a default fit compiles the
epoch (~4 s on the 2-core development machine) and then its five C kernels (~5 s). When
the epoch a fit needs is neither compiled in this process nor in Numba's disk cache, one
helper process (``python -c``; it imports this package's engine without its estimators
and scikit-learn, ~0.7 s) compiles the fit's C kernels into the cache while this process
compiles the epoch; this process then loads them. Measured on 2 cores
(``benchmarks/startup.py --processes 5``: digits, default ``fit(X, y).predict(X)``, empty
cache, interleaved fresh processes): 7.3 s with the helper against 11.3 s without. One
helper: on 2 cores the epoch is then what the fit waits for.

Only then: on a warm cache, or once the epoch is compiled here, nothing is started. The
helper compiles exactly what this process would (same code, same Numba, same cache), so
the models are the same bit for bit; it inherits the environment and Numba's cache
folder. If it cannot start,
fails or takes longer than ``TIMEOUT_S``, this process compiles what is missing itself,
as it would without it.

Off with ``FASTMLP_COMPILE_HELPER=0``, and where it cannot help or work: one CPU, no
``sys.executable``, a frozen application, no disk cache (kernels compiled in every
process). Whether the epoch is on disk is read from Numba's cache index through private
attributes (``_cache._cache_file._load_index``, ``_cache._index_key``); anything
unexpected there counts as "not known" and no helper is started.
"""

import json
import os
import subprocess
import sys

from numba.core import config as numba_config

from ..._threads import available_cores

#: ``FASTMLP_COMPILE_HELPER=0`` turns the helper off.
ENV = "FASTMLP_COMPILE_HELPER"
#: Seconds to wait for the helper before compiling here (it needs ~5 s on 2 cores).
TIMEOUT_S = 120
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The helper: the package's top level stubbed (its __init__ imports the estimators and
# scikit-learn, ~2 s), then each factory of ``_c_kernels`` called as this process would.
_HELPER = r"""
import json, sys, types
package = types.ModuleType("fastmlp")
package.__path__ = [sys.argv[1]]
sys.modules["fastmlp"] = package
from fastmlp.engines.numba_engine import _c_kernels
for name, args in json.loads(sys.argv[2]):
    getattr(_c_kernels, name)(*args)
"""

#: Helpers started in this process (read by the tests).
started = 0


def _usable():
    if os.environ.get(ENV, "1") == "0" or getattr(sys, "frozen", False) or not sys.executable:
        return False
    return available_cores() >= 2


def _on_disk(dispatcher, arg_types):
    """Whether Numba's disk cache holds ``dispatcher`` compiled for ``arg_types``: True,
    False, or None where the cache cannot be read as expected."""
    try:
        cache = dispatcher._cache
        index = cache._cache_file._load_index()
        key = cache._index_key(tuple(arg_types), dispatcher.targetctx.codegen())
    except Exception:  # NullCache (no cache), or Numba's private layout changed
        return None
    if not isinstance(index, dict):
        return None
    return key in index


def compile_alongside(kernel_calls, dispatcher, arg_types):
    """Compile ``dispatcher`` for ``arg_types`` here, and ``kernel_calls`` (``[(factory
    name, args)]`` of ``_c_kernels``, arguments JSON-able) in a helper process at the same
    time when it pays (module docstring); return once both are done. Afterwards the caller
    calls the factories as usual: they load from the cache, or compile what the helper did
    not."""
    global started
    arg_types = tuple(arg_types)
    if arg_types in dispatcher.overloads or not _usable() or _on_disk(dispatcher, arg_types) is not False:
        return
    env = dict(os.environ)
    if numba_config.CACHE_DIR:  # also where it was set in code, not through the environment
        env["NUMBA_CACHE_DIR"] = numba_config.CACHE_DIR
    try:
        helper = subprocess.Popen([sys.executable, "-c", _HELPER, _PACKAGE_DIR, json.dumps(kernel_calls)], env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return
    started += 1
    try:
        dispatcher.compile(arg_types)
        helper.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if helper.poll() is None:
            helper.kill()
            helper.wait()
