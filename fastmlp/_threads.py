"""How many BLAS threads a fit uses.

fastmlp's kernels are serial (see ``_numba_options``); threads come from BLAS. NumPy
and SciPy each load their own OpenBLAS (Numba's ``np.dot`` calls SciPy's), so limits go
through threadpoolctl, which sees both. With ``n_threads=None`` a fit whose minibatch
GEMMs are small runs BLAS on one thread: measured on the 2-core target, digits
(100,)-relu adam epochs took 1.9 ms on one thread against 3.5 ms on two, because
waking the second thread costs more than it saves on 200x64x100 products.

An L-BFGS fit computes its GEMMs with NumPy's BLAS (see ``numba_engine.loss_and_grad``)
while SciPy's L-BFGS-B calls SciPy's BLAS for its vector updates, between every two
evaluations. Both pools on two threads kept idle workers spinning against each other:
measured on the 2-core target (8-iteration L-BFGS fits, 5 interleaved repeats), SciPy's
BLAS on one thread took the fit to 0.30-0.69 of its time, from 1797x64 (100,) to
8000x100 (512, 512); all BLAS on one thread only to 0.52-1.09.

BLAS thread counts are process-wide, and OpenBLAS ignored a restore made from another
thread than the one that set the limit (measured: 4 threads fitting at once left NumPy's
BLAS on one thread). So only fits running in the main thread set a limit; fits from
worker threads (a threaded grid search) leave BLAS as it is.
"""

import functools
import os
import threading
from contextlib import contextmanager, nullcontext

import scipy
from threadpoolctl import ThreadpoolController

#: Multiply-adds of one minibatch's forward GEMMs below which one BLAS thread wins.
SMALL_BATCH_MACS = 4_000_000
#: The same for L-BFGS's full-batch evaluations, whose GEMMs are separated by Python
#: and L-BFGS-B work that lets BLAS workers go idle: measured (SciPy's BLAS on one
#: thread), one thread won at 13M-108M multiply-adds (0.58-0.88 of the time), two at
#: 939M (0.74) and 2.5G (0.53).
SMALL_FULL_BATCH_MACS = 300_000_000


def available_cores():
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@functools.lru_cache(maxsize=1)
def _controller():
    # Building the controller scans the loaded libraries (~0.6 ms); do it once.
    return ThreadpoolController()


def fit_threads(n_threads, batch_rows, layer_units, small_macs=SMALL_BATCH_MACS):
    """BLAS threads for a fit, or None to leave BLAS as it is.

    n_threads : None or int >= 1
        None: all cores, except one thread when the batch's GEMMs are small.
    batch_rows : int
        Rows per minibatch (the whole training set for lbfgs).
    layer_units : sequence of int
        Units per layer, inputs first.
    small_macs : int
        Multiply-adds of the batch's forward GEMMs below which one thread is used.
    """
    if n_threads is not None:
        return n_threads
    macs = batch_rows * sum(a * b for a, b in zip(layer_units[:-1], layer_units[1:]))
    return None if macs >= small_macs else 1


@contextmanager
def blas_threads(n_threads, batch_rows, layer_units, small_macs=SMALL_BATCH_MACS):
    """Context manager: BLAS limited to ``fit_threads(...)`` threads inside it, when
    called from the main thread."""
    limit = fit_threads(n_threads, batch_rows, layer_units, small_macs)
    if limit is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    with _controller().limit(limits=limit, user_api="blas"):
        yield


@functools.lru_cache(maxsize=1)
def _scipy_own_blas():
    """Controller of the BLAS that SciPy's wheel carries for itself, or None where SciPy
    shares NumPy's (one library serves both: limiting it would limit the GEMMs too)."""
    root = os.path.dirname(scipy.__file__)  # .../scipy; its wheel's libraries are in .../scipy.libs
    paths = [lib.filepath for lib in _controller().lib_controllers
             if lib.user_api == "blas" and lib.filepath.startswith(root)]
    return _controller().select(filepath=paths) if paths else None


@contextmanager
def lbfgs_threads(n_threads, n_rows, layer_units):
    """Context manager for an L-BFGS fit over n_rows: ``blas_threads`` with the full-batch
    threshold, and SciPy's own BLAS on one thread, when called from the main thread."""
    scipy_blas = _scipy_own_blas() if threading.current_thread() is threading.main_thread() else None
    with (blas_threads(n_threads, n_rows, layer_units, SMALL_FULL_BATCH_MACS),
          scipy_blas.limit(limits=1) if scipy_blas else nullcontext()):
        yield
