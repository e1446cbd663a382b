"""The benchmark workloads, defined once for the pytest-benchmark suite and ``report.py``.

A workload is seeded data, the estimator's parameters, a FLOP count per epoch and a
runner per implementation:

- ``"fastmlp"``: ``fastmlp`` with ``engine="numba"`` (the default);
- ``"numpy"``: ``fastmlp`` with ``engine="numpy"``, the plain NumPy reference;
- ``"sklearn"``: ``sklearn.neural_network``'s estimator;
- ``"torch"``: an eager PyTorch loop with the same architecture, loss, optimizer,
  batch size and dtype (``torch.set_num_threads`` = the cores this process may use);
- ``"torch-fused"``: the same loop with ``Adam(fused=True)`` (Adam workloads only).

Every runner trains a fresh model for exactly ``epochs`` epochs: scikit-learn and
fastmlp get ``max_iter=epochs, tol=0, n_iter_no_change=epochs + 1`` so no stopping
rule fires. Time a runner and divide by ``epochs`` for seconds per epoch; the estimator's
fixed cost per ``fit`` (validation, initialisation) is included, so use enough epochs
for it to vanish where an epoch is short.
"""

import functools
import os
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.datasets import load_digits, make_circles, make_regression
from sklearn.exceptions import ConvergenceWarning

IMPLEMENTATIONS = ("fastmlp", "numpy", "sklearn", "torch", "torch-fused")
#: Implementations fastmlp is compared against.
RIVALS = IMPLEMENTATIONS[1:]

#: The largest mnist-like data set (MNIST's training set size).
MNIST_LIKE_MAX_ROWS = 60_000


def n_cores():
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# -- data (seeded; cached per process, callers must not modify the arrays) ------------
def _circles(n_samples, seed):
    X, y = make_circles(n_samples=n_samples, noise=0.1, random_state=seed)
    return X, y


def _digits(n_samples, seed):
    X, y = load_digits(return_X_y=True)
    if n_samples is not None and n_samples < X.shape[0]:
        rows = np.random.default_rng(seed).choice(X.shape[0], n_samples, replace=False)
        X, y = X[rows], y[rows]
    return np.ascontiguousarray(X / 16.0), y


def _mnist_like(n_samples, seed):
    """Ten classes of 784 'pixels' in [0, 1], float32: a sparse random stroke pattern
    per class plus noise, clipped. Generated in float32 (no float64 temporaries)."""
    if n_samples > MNIST_LIKE_MAX_ROWS:
        raise ValueError(f"mnist-like has at most {MNIST_LIKE_MAX_ROWS} rows, asked for {n_samples}")
    rng = np.random.default_rng(seed)
    n_classes, n_pixels = 10, 784
    prototypes = (rng.random((n_classes, n_pixels), dtype=np.float32) < 0.2).astype(np.float32)
    y = rng.integers(n_classes, size=n_samples)
    X = rng.standard_normal((n_samples, n_pixels), dtype=np.float32)
    X *= np.float32(0.3)
    X += prototypes[y]
    np.clip(X, 0.0, 1.0, out=X)
    return X, y


def _wide_regression(n_samples, seed):
    X, y = make_regression(n_samples=n_samples, n_features=100, n_informative=50, noise=1.0, random_state=seed)
    return np.ascontiguousarray(X), (y - y.mean()) / y.std()


# -- workloads -------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    """One benchmark problem. ``epochs``/``quick_epochs``: epochs per timed run in the
    full and ``--quick`` report; ``quick_rows``: rows in ``--quick`` (None: all)."""

    name: str
    description: str
    task: str  # "classification" or "regression"
    make_data: object  # (n_samples or None, seed) -> (X, y)
    n_samples: int | None  # default rows; None: the whole data set
    hidden_layer_sizes: tuple
    activation: str
    solver: str
    batch_size: int
    epochs: int
    quick_epochs: int
    quick_rows: int | None = None
    extra_params: dict = field(default_factory=dict)
    #: minimum speedup (rival time / fastmlp time) per rival
    targets: dict = field(default_factory=dict)
    #: minimum fraction of the GEMM peak fastmlp should reach (None: no target)
    peak_target: float | None = None

    def data(self, n_samples=None, seed=0):
        """(X, y) with ``n_samples`` rows (default: the workload's), seeded."""
        return _cached_data(self.name, self.n_samples if n_samples is None else n_samples, seed)

    def estimator_params(self, epochs, random_state=0):
        """Keyword arguments shared by scikit-learn's and fastmlp's estimator."""
        return dict(
            hidden_layer_sizes=self.hidden_layer_sizes,
            activation=self.activation,
            solver=self.solver,
            batch_size=self.batch_size,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            random_state=random_state,
            **self.extra_params,
        )

    def layer_units(self, X, y):
        """Units per layer, inputs first (scikit-learn's ``layer_units``)."""
        if self.task == "classification":
            n_classes = len(np.unique(y))
            n_out = 1 if n_classes == 2 else n_classes
        else:
            n_out = 1 if y.ndim == 1 else y.shape[1]
        return [X.shape[1], *self.hidden_layer_sizes, n_out]

    def flops_per_epoch(self, X, y):
        """Floating-point operations of one epoch's GEMMs: 2 per multiply-add, forward
        (A W), backward (delta W^T, skipped for the input layer) and weight gradients
        (A^T delta): ~6 n weights, less the input layer's gradient GEMM."""
        units = self.layer_units(X, y)
        weights = [a * b for a, b in zip(units[:-1], units[1:])]
        return X.shape[0] * (6 * sum(weights) - 2 * weights[0])

    def gemm_shapes(self, X, y):
        """(m, k, n) of each GEMM one full minibatch does (``batch_size`` rows)."""
        units = self.layer_units(X, y)
        b = min(self.batch_size, X.shape[0])
        shapes = []
        for layer, (i, o) in enumerate(zip(units[:-1], units[1:])):
            shapes.append((b, i, o))  # forward: A (b, i) @ W (i, o)
            shapes.append((i, b, o))  # gradient: A.T (i, b) @ delta (b, o)
            if layer > 0:
                shapes.append((b, o, i))  # backward: delta (b, o) @ W.T (o, i)
        return shapes


WORKLOADS = {
    w.name: w
    for w in [
        Workload(
            name="circles",
            description="make_circles 1000x2 noise 0.1, (8,) tanh, sgd momentum 0.9, batch 32",
            task="classification",
            make_data=_circles,
            n_samples=1000,
            hidden_layer_sizes=(8,),
            activation="tanh",
            solver="sgd",
            batch_size=32,
            epochs=200,
            quick_epochs=100,
            extra_params={"momentum": 0.9},
            targets={"sklearn": 50.0, "torch": 100.0},
        ),
        Workload(
            name="digits",
            description="load_digits/16 1797x64, (100,) relu, adam, batch 200",
            task="classification",
            make_data=_digits,
            n_samples=None,
            hidden_layer_sizes=(100,),
            activation="relu",
            solver="adam",
            batch_size=200,
            epochs=50,
            quick_epochs=20,
            targets={"sklearn": 3.0, "torch": 3.0},
        ),
        Workload(
            name="digits-tanh",
            description="load_digits/16 1797x64, (256,) tanh, sgd momentum 0.9, batch 64",
            task="classification",
            make_data=_digits,
            n_samples=None,
            hidden_layer_sizes=(256,),
            activation="tanh",
            solver="sgd",
            batch_size=64,
            epochs=30,
            quick_epochs=10,
            extra_params={"momentum": 0.9},
            targets={"sklearn": 3.0, "torch": 2.0},
        ),
        Workload(
            name="mnist-like",
            description="synthetic 12000x784 float32, 10 classes, (256, 128) relu, adam, batch 256",
            task="classification",
            make_data=_mnist_like,
            n_samples=12_000,
            hidden_layer_sizes=(256, 128),
            activation="relu",
            solver="adam",
            batch_size=256,
            epochs=3,
            quick_epochs=2,
            quick_rows=4_000,
            targets={"sklearn": 1.8, "torch": 1.5},
            peak_target=0.9,
        ),
        Workload(
            name="wide-regression",
            description="synthetic 8000x100 float64 regression, (512, 512) relu, adam, batch 256",
            task="regression",
            make_data=_wide_regression,
            n_samples=8_000,
            hidden_layer_sizes=(512, 512),
            activation="relu",
            solver="adam",
            batch_size=256,
            epochs=3,
            quick_epochs=1,
            targets={"sklearn": 2.0, "torch": 1.6},
        ),
    ]
}


@functools.lru_cache(maxsize=16)
def _cached_data(name, n_samples, seed):
    return WORKLOADS[name].make_data(n_samples, seed)


# -- runners ---------------------------------------------------------------------------
def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def applies(workload, impl):
    """Whether ``impl`` has a version of ``workload`` (torch-fused is Adam only)."""
    if impl not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {impl!r}")
    return impl != "torch-fused" or workload.solver == "adam"


def unavailable_reason(workload, impl):
    """Why ``impl`` cannot run ``workload`` here, or None when it can."""
    if not applies(workload, impl):
        return f"{impl} is fused Adam; this workload uses {workload.solver}"
    if impl.startswith("torch") and not torch_available():
        return "torch is not installed"
    return None


def make_runner(workload, impl, X, y, epochs, random_state=0):
    """A callable that trains a fresh model on (X, y) for ``epochs`` epochs with ``impl``
    and returns its last epoch's training loss."""
    reason = unavailable_reason(workload, impl)
    if reason is not None:
        raise RuntimeError(f"{impl} cannot run {workload.name}: {reason}")
    if impl.startswith("torch"):
        return _torch_runner(workload, X, y, epochs, random_state, fused=impl == "torch-fused")
    return _estimator_runner(workload, impl, X, y, epochs, random_state)


def estimator_class(workload, impl):
    """The estimator class ``impl`` ("fastmlp", "numpy" or "sklearn") fits."""
    if impl == "sklearn":
        from sklearn import neural_network as module
    else:
        import fastmlp as module
    return module.MLPClassifier if workload.task == "classification" else module.MLPRegressor


def _estimator_runner(workload, impl, X, y, epochs, random_state):
    cls = estimator_class(workload, impl)
    params = workload.estimator_params(epochs, random_state)
    if impl != "sklearn":
        params["engine"] = "numba" if impl == "fastmlp" else "numpy"

    def run():
        with warnings.catch_warnings():
            # Every run stops at max_iter on purpose.
            warnings.simplefilter("ignore", ConvergenceWarning)
            est = cls(**params).fit(X, y)
        assert est.n_iter_ == epochs, (impl, est.n_iter_, epochs)
        return est.loss_

    return run


def _torch_runner(workload, X, y, epochs, random_state, fused):
    """Eager PyTorch: nn.Linear layers with scikit-learn's Glorot-uniform initialisation,
    the loss scikit-learn uses (binary/multiclass cross-entropy on logits, squared error),
    its optimizer with the same hyper-parameters, and its L2 penalty (``alpha / batch``
    weight decay on weights, none on biases)."""
    import torch

    torch.set_num_threads(n_cores())
    dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[X.dtype]
    units = workload.layer_units(X, y)
    Xt = torch.from_numpy(np.ascontiguousarray(X))
    if workload.task == "classification":
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) == 2:
            Yt = torch.from_numpy(codes.astype(X.dtype).reshape(-1, 1))
            loss_fn = torch.nn.BCEWithLogitsLoss()
        else:
            Yt = torch.from_numpy(codes.astype(np.int64))
            loss_fn = torch.nn.CrossEntropyLoss()
    else:
        Yt = torch.from_numpy(np.asarray(y, dtype=X.dtype).reshape(len(y), -1))
        mse = torch.nn.MSELoss()

        def loss_fn(out, target):  # scikit-learn's squared_error is half the mean squared error
            return 0.5 * mse(out, target)
    activations = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "logistic": torch.nn.Sigmoid,
                   "identity": torch.nn.Identity}
    params = workload.estimator_params(epochs)
    lr = params.get("learning_rate_init", 0.001)
    alpha = params.get("alpha", 0.0001)
    batch = min(workload.batch_size, X.shape[0])
    n = X.shape[0]

    def build_model():
        layers = []
        for layer, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
            linear = torch.nn.Linear(fan_in, fan_out, dtype=dtype)
            bound = float(np.sqrt((2.0 if workload.activation == "logistic" else 6.0) / (fan_in + fan_out)))
            with torch.no_grad():
                linear.weight.uniform_(-bound, bound)
                linear.bias.uniform_(-bound, bound)
            layers.append(linear)
            if layer < len(units) - 2:
                layers.append(activations[workload.activation]())
        return torch.nn.Sequential(*layers)

    def run():
        torch.manual_seed(random_state)
        model = build_model()
        weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
        groups = [{"params": weights, "weight_decay": alpha / batch}, {"params": biases, "weight_decay": 0.0}]
        if workload.solver == "sgd":
            opt = torch.optim.SGD(groups, lr=lr, momentum=params.get("momentum", 0.9),
                                  nesterov=params.get("nesterovs_momentum", True))
        else:
            opt = torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8, fused=fused)
        generator = torch.Generator().manual_seed(random_state)
        loss_value = float("nan")
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator)
            total = 0.0
            for start in range(0, n, batch):
                idx = order[start:start + batch]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(Xt[idx]), Yt[idx])
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            loss_value = total / n
        return loss_value

    return run
