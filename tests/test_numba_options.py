"""One module owns Numba's compilation options (stumpy's ``check_fastmath``, numba-stats'
``_util``): no module under fastmlp/ but ``fastmlp/_numba_options.py`` imports Numba's
compiling decorators or calls them with options of its own, and every compiled kernel
carries ``KERNEL_OPTIONS``. Where no cache location is writable, kernels compile
without a cache and say so.
"""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from numba.core.caching import NullCache
from numba.core.dispatcher import Dispatcher

import fastmlp
from fastmlp._numba_options import KERNEL_OPTIONS, kernel

PACKAGE_DIR = Path(fastmlp.__file__).parent
OPTIONS_MODULE = PACKAGE_DIR / "_numba_options.py"
#: Numba's decorators (and decorator factories) that compile with options of their own.
COMPILING = {"jit", "njit", "vectorize", "guvectorize", "cfunc", "stencil", "generated_jit", "jitclass", "jit_module"}


def stray_numba_compilation(source, filename="<source>"):
    """Places in ``source`` that reach Numba's compiling decorators directly:
    ``from numba(...) import njit`` (or ``*``), and ``numba.njit`` / ``nb.jit`` /
    ``numba.experimental.jitclass`` through any name bound to numba or a submodule."""
    tree = ast.parse(source, filename)
    numba_names = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "numba":
                    numba_names.add(alias.asname or "numba")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "numba":
            for alias in node.names:
                if alias.name in COMPILING or alias.name == "*":
                    found.append(f"{filename}:{node.lineno}: from {node.module} import {alias.name}")
                else:
                    numba_names.add(alias.asname or alias.name)  # a submodule such as numba.experimental
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in COMPILING:
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in numba_names:
                found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
    return found


# -- the scanner itself: it must see what it is meant to see ---------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import numba\n@numba.njit(cache=True)\ndef f(x):\n    return x\n",
        "import numba\n@numba.njit\ndef f(x):\n    return x\n",
        "import numba as nb\nf = nb.jit(nopython=True)(g)\n",
        "from numba import njit\n",
        "from numba import jit as fast\n",
        "from numba import vectorize, float64\n",
        "from numba.core.decorators import njit\n",
        "from numba import *\n",
        "import numba.experimental\nC = numba.experimental.jitclass(spec)(C)\n",
        "from numba import experimental\nC = experimental.jitclass(spec)(C)\n",
        "def build():\n    import numba\n    return numba.njit(fastmath=True)(f)\n",
    ],
    ids=["decorator-with-options", "bare-decorator", "alias", "from-import", "from-import-as", "vectorize",
         "from-submodule", "star-import", "jitclass", "submodule-name", "local-import"],
)
def test_scanner_flags_direct_use_of_numba_decorators(source):
    assert stray_numba_compilation(source)


@pytest.mark.parametrize(
    "source",
    [
        "from .._numba_options import kernel\n@kernel\ndef f(x):\n    return x\n",
        "from numba import types\nfrom numba.extending import intrinsic\n",
        "import numba\nnumba.set_num_threads(1)\n",
        "import numpy as np\nnp.vectorize(f)\n",
    ],
    ids=["fastmlp-kernel", "types-and-intrinsic", "runtime-call", "numpy-vectorize"],
)
def test_scanner_leaves_other_code_alone(source):
    assert stray_numba_compilation(source) == []


# -- fastmlp's sources -------------------------------------------------------------------------


def package_sources():
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if p != OPTIONS_MODULE)


@pytest.mark.parametrize("path", package_sources(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_module_leaves_numba_options_to_numba_options_module(path):
    assert stray_numba_compilation(path.read_text(), str(path)) == []


def test_options_module_is_where_njit_is_called():
    """The exception above is real: the options module is the one that calls numba.njit."""
    assert stray_numba_compilation(OPTIONS_MODULE.read_text())


def test_kernel_options_keep_nan_checks_and_stay_serial():
    """fastmath without nnan/ninf (they fold isnan/isfinite to constants, numba#6217,
    breaking divergence detection); no parallel=True in the kernels (see the module)."""
    fastmath = KERNEL_OPTIONS.get("fastmath", False)
    assert fastmath is not True, "fastmath=True includes nnan and ninf"
    assert fastmath is False or not ({"nnan", "ninf", "fast"} & set(fastmath))
    assert not KERNEL_OPTIONS.get("parallel", False)
    assert KERNEL_OPTIONS.get("cache") is True


# -- the compiled kernels --------------------------------------------------------------------


def fastmlp_modules():
    return [importlib.import_module(info.name)
            for info in pkgutil.walk_packages(fastmlp.__path__, prefix="fastmlp.")]


def compiled_kernels():
    """Every Numba dispatcher defined at module level in fastmlp, once, by where it is defined."""
    kernels = {}
    for module in fastmlp_modules():
        for name, value in vars(module).items():
            if isinstance(value, Dispatcher) and value.py_func.__module__ == module.__name__:
                kernels[f"{module.__name__}.{name}"] = value
    return kernels


def kernel_decorated_functions(path):
    """Names of the module-level functions decorated with ``@kernel`` or
    ``@inlined_kernel`` in ``path``."""
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(isinstance(d, ast.Name) and d.id in ("kernel", "inlined_kernel") for d in node.decorator_list)
    }


KERNELS = compiled_kernels()


ENGINE_MODULES = [info.name for info in pkgutil.iter_modules(
    importlib.import_module("fastmlp.engines.numba_engine").__path__, prefix="fastmlp.engines.numba_engine.")]


def test_engine_kernels_are_found():
    names = set(KERNELS)
    assert {"fastmlp.engines.numba_engine._epoch.train_epoch", "fastmlp.engines.numba_engine._epoch._forward_backward",
            "fastmlp.engines.numba_engine._optimizer_steps.adam_step"} <= names
    assert {"fastmlp.engines.numba_engine._vector_math.exp", "fastmlp.engines.numba_engine._vector_math.tanh"} <= names


@pytest.mark.parametrize("module", [m for m in ENGINE_MODULES if kernel_decorated_functions(
    Path(importlib.import_module(m).__file__))])
def test_every_kernel_decorated_function_is_a_dispatcher(module):
    path = Path(importlib.import_module(module).__file__)
    decorated = kernel_decorated_functions(path)
    assert {f"{module}.{name}" for name in decorated} <= set(KERNELS)


def test_kernel_decorated_functions_are_found_in_the_engine():
    """The parametrization above is not empty: the engine's modules hold kernels."""
    with_kernels = [m for m in ENGINE_MODULES if kernel_decorated_functions(Path(importlib.import_module(m).__file__))]
    assert {"fastmlp.engines.numba_engine._epoch", "fastmlp.engines.numba_engine._sums"} <= set(with_kernels)


def c_kernel_samples():
    """One C kernel from each factory of ``_c_kernels`` (compiled, or loaded from the cache)."""
    from fastmlp.engines._names import ACTIVATION_CODES, LOSS_CODES, SGD
    from fastmlp.engines.numba_engine import _c_kernels

    return {
        "activation": _c_kernels.activation(ACTIVATION_CODES["relu"], "float64", True),
        "derivative": _c_kernels.derivative(ACTIVATION_CODES["relu"], "float64", "float64"),
        "loss": _c_kernels.loss(LOSS_CODES["squared_error"], "float64", "float64"),
        "optimizer_step": _c_kernels.optimizer_step(SGD, "float64", "float64"),
    }


@pytest.mark.parametrize("factory", ["activation", "derivative", "loss", "optimizer_step"])
def test_c_kernel_compiles_with_kernel_options(factory):
    c_function = c_kernel_samples()[factory]
    assert not isinstance(c_function._cache, NullCache), f"{factory} compiles without a cache"
    expected = {k: v for k, v in KERNEL_OPTIONS.items() if k != "cache"}
    assert {k: c_function._compiler.targetoptions.get(k) for k in expected} == expected


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernel_compiles_with_kernel_options(name):
    dispatcher = KERNELS[name]
    # ``cache`` is not a target option: numba.njit(cache=True) gives the dispatcher a
    # FunctionCache instead of a NullCache.
    assert not isinstance(dispatcher._cache, NullCache), f"{name} compiles without a cache"
    expected = {k: v for k, v in KERNEL_OPTIONS.items() if k != "cache"}
    got = {k: dispatcher.targetoptions.get(k) for k in expected}
    assert got == expected
    assert not dispatcher.targetoptions.get("parallel", False)


def test_no_writable_cache_location_falls_back_to_compiling(recwarn):
    # A function with no source file has no cache location, like a read-only install
    # with a read-only home: the kernel decorator warns and compiles without a cache.
    namespace = {}
    exec("def double(x):\n    return 2 * x\n", namespace)
    with pytest.warns(RuntimeWarning, match="no writable Numba cache location"):
        compiled = kernel(namespace["double"])
    assert compiled(21) == 42


def test_c_kernel_factories_make_one_kernel_per_key_across_threads():
    """The epoch holds bare addresses of C kernels: threads racing to make one must all get
    the same function, which stays alive (a second one would replace and free the first)."""
    from concurrent.futures import ThreadPoolExecutor

    from fastmlp.engines._names import ACTIVATION_CODES
    from fastmlp.engines.numba_engine import _c_kernels

    key = (ACTIVATION_CODES["softplus"], "float32", False)  # the fallback variant, rarely made elsewhere
    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda _: _c_kernels.activation(*key), range(8)))
    assert all(kernel is made[0] for kernel in made)
    assert _c_kernels.activation(*key) is made[0]


@pytest.mark.parametrize("module", ENGINE_MODULES + ["fastmlp.engines.numba_engine"])
def test_compiled_engine_imports_nothing_from_the_reference_engine(module):
    """The two engines are compared with each other: the compiled one must not be built
    from the reference's functions."""
    tree = ast.parse(Path(importlib.import_module(module).__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported.update(f"{node.module}.{alias.name}" if node.module else alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not {name for name in imported if "numpy_engine" in name}
