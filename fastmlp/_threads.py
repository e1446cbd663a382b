"""How many BLAS threads a fit uses.

fastmlp's kernels are serial (see ``_numba_options``); threads come from BLAS. NumPy
and SciPy each load their own OpenBLAS (Numba's ``np.dot`` calls SciPy's), so limits go
through threadpoolctl, which sees both. With ``n_threads=None`` a fit whose minibatch
GEMMs are small runs BLAS on one thread: measured on the 2-core target, digits
(100,)-relu adam epochs took 1.9 ms on one thread against 3.5 ms on two, because
waking the second thread costs more than it saves on 200x64x100 products.

BLAS thread counts are process-wide, and OpenBLAS ignored a restore made from another
thread than the one that set the limit (measured: 4 threads fitting at once left NumPy's
BLAS on one thread). So only fits running in the main thread set a limit; fits from
worker threads (a threaded grid search) leave BLAS as it is.
"""

import functools
import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

#: Multiply-adds of one minibatch's forward GEMMs below which one BLAS thread wins.
SMALL_BATCH_MACS = 4_000_000


@functools.lru_cache(maxsize=1)
def _controller():
    # Building the controller scans the loaded libraries (~0.6 ms); do it once.
    return ThreadpoolController()


def fit_threads(n_threads, batch_rows, layer_units):
    """BLAS threads for a fit, or None to leave BLAS as it is.

    n_threads : None or int >= 1
        None: all cores, except one thread when the batch's GEMMs are small.
    batch_rows : int
        Rows per minibatch (the whole training set for lbfgs).
    layer_units : sequence of int
        Units per layer, inputs first.
    """
    if n_threads is not None:
        return n_threads
    macs = batch_rows * sum(a * b for a, b in zip(layer_units[:-1], layer_units[1:]))
    return None if macs >= SMALL_BATCH_MACS else 1


@contextmanager
def blas_threads(n_threads, batch_rows, layer_units):
    """Context manager: BLAS limited to ``fit_threads(...)`` threads inside it, when
    called from the main thread."""
    limit = fit_threads(n_threads, batch_rows, layer_units)
    if limit is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    with _controller().limit(limits=limit, user_api="blas"):
        yield
