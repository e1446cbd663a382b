"""How many BLAS threads a fit uses.

fastmlp's kernels are serial (see ``_numba_options``); threads come from BLAS. NumPy
and SciPy each load their own OpenBLAS (Numba's ``np.dot`` calls SciPy's), so limits go
through threadpoolctl, which sees both. With ``n_threads=None`` a fit whose minibatch
GEMMs are small runs BLAS on one thread: measured on the 2-core target, digits
(100,)-relu adam epochs took 1.9 ms on one thread against 3.5 ms on two, because
waking the second thread costs more than it saves on 200x64x100 products.
"""

import functools
import threading
from contextlib import nullcontext

from threadpoolctl import ThreadpoolController

#: Multiply-adds of one minibatch's forward GEMMs below which one BLAS thread wins.
SMALL_BATCH_MACS = 4_000_000

_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _controller():
    # Building the controller scans the loaded libraries (~0.6 ms); do it once.
    with _lock:
        return ThreadpoolController()


def blas_threads(n_threads, batch_rows, layer_units):
    """Context manager limiting BLAS threads for a fit.

    n_threads : None or int >= 1
        None: all cores, except one thread when the batch's GEMMs are small.
    batch_rows : int
        Rows per minibatch (the whole training set for lbfgs).
    layer_units : sequence of int
        Units per layer, inputs first.
    """
    if n_threads is None:
        macs = batch_rows * sum(a * b for a, b in zip(layer_units[:-1], layer_units[1:]))
        if macs >= SMALL_BATCH_MACS:
            return nullcontext()
        n_threads = 1
    return _controller().limit(limits=n_threads, user_api="blas")
