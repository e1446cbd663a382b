"""fastmlp on a Dask cluster: a worker plugin that warms the compiled kernels and sets
BLAS threads once per worker.

    from distributed import Client
    from fastmlp.dask import WarmUpPlugin

    client = Client("tcp://scheduler:8786")
    client.register_plugin(WarmUpPlugin(activations=("relu", "tanh"), solvers=("adam",)))

Needs ``pip install 'fastmlp[dask]'``; ``import fastmlp`` does not import Dask.

What a worker's first fastmlp task would otherwise pay: compiling the kernels of its kind
of fit (seconds, once per machine while Numba's cache is empty) or loading them from the
cache (a fraction of a second per process, Numba's own start included). ``setup`` runs
``fastmlp.warmup``'s tiny fit and predict for every selected variant on each worker
(every worker that joins later too), off the worker's event loop: the first worker of a
machine compiles into the cache, the others load it, and after ``register_plugin``
returns no task of a warmed kind compiles or loads anything.

Threads. fastmlp's kernels are serial; its only threads are BLAS's, and a fit called from
a worker thread (every Dask task) leaves BLAS as it is (``fastmlp/_threads.py``). So on
each machine: worker processes x threads per worker x BLAS threads <= cores. Dask's
nanny starts workers with ``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1``;
the plugin sets BLAS to ``blas_threads`` (default 1) in the worker process with
threadpoolctl as well, so that the rule also holds for workers started without a nanny
or with other variables. Give ``blas_threads=k`` for workers that run fewer task threads
than their cores (e.g. one process of 2 threads on 8 cores: ``blas_threads=4``), or None
to leave BLAS alone.
"""

import asyncio

from distributed import WorkerPlugin

from .warmup import variants, warm_up


class WarmUpPlugin(WorkerPlugin):
    """Warm fastmlp's compiled kernels and set BLAS threads on every worker.

    activations, solvers, outputs, dtypes, weighted
        The variants to warm, as ``fastmlp.warmup.variants`` (and ``python -m
        fastmlp.warmup``) take them: hidden activations, solvers, outputs ("binary",
        "multiclass", "squared_error", "poisson"), X dtypes, with/without sample weights.
        The defaults are the default classifier on float64 data.
    blas_threads : int or None, default 1
        BLAS threads of the worker process (threadpoolctl, process-wide), or None to leave
        them as the worker started.

    After ``setup``, the worker's copy holds ``seconds`` (the warm-up's wall time) and
    ``variants`` (what it warmed); read them with
    ``client.run(lambda dask_worker: dask_worker.plugins["fastmlp-warmup"].seconds)``.
    """

    name = "fastmlp-warmup"

    def __init__(self, activations=("relu",), solvers=("adam",), outputs=("binary", "multiclass"),
                 dtypes=("float64",), weighted=(False,), blas_threads=1):
        self.variants = variants(tuple(activations), tuple(solvers), tuple(outputs), tuple(dtypes), tuple(weighted))
        if blas_threads is not None and (not isinstance(blas_threads, int) or blas_threads < 1):
            raise ValueError(f"blas_threads must be None or an int >= 1, got {blas_threads!r}")
        self.blas_threads = blas_threads
        self.seconds = None

    async def setup(self, worker):
        if self.blas_threads is not None:
            set_blas_threads(self.blas_threads)
        # Compiling takes seconds: off the event loop, so the worker keeps answering.
        self.seconds = await asyncio.get_running_loop().run_in_executor(None, warm_up, self.variants)


def set_blas_threads(n):
    """Limit every BLAS library of this process to ``n`` threads, for good (NumPy's and
    SciPy's OpenBLAS, the one Numba's ``np.dot`` calls, both loaded first)."""
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, so that the limit reaches it)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n, user_api="blas")
